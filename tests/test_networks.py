"""Networks: noisy layers, dueling heads, categorical heads, torsos."""

import pytest
import torch

from dqnlab.config import Config, NetworkConfig
from dqnlab.heads.categorical import CategoricalConfig
from dqnlab.networks import NoisyLinear, QNetwork


def _cfg(num_atoms: int | None = None, v_min: float | None = None, v_max: float | None = None, **network) -> Config:
    """A full config for QNetwork from network settings (and the categorical head's own)."""
    categorical = {k: v for k, v in {"num_atoms": num_atoms, "v_min": v_min, "v_max": v_max}.items() if v is not None}
    return Config(network=NetworkConfig(**network), categorical=CategoricalConfig(**categorical))


def test_noisy_layer_is_deterministic_in_eval_and_noisy_in_train():
    layer = NoisyLinear(6, 3, sigma0=0.5)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 6)
    layer.eval()
    a, b = layer(x), layer(x)
    layer.reset_noise(g)
    assert torch.equal(a, b) and torch.equal(layer(x), a)
    assert torch.allclose(a, x @ layer.weight_mu.T + layer.bias_mu)
    layer.train()
    assert not torch.allclose(layer(x), a)


def test_noisy_factorized_and_materialized_forms_agree():
    layer = NoisyLinear(8, 4)
    layer.reset_noise(torch.Generator().manual_seed(1))
    x = torch.randn(16, 8)
    batched = layer(x)  # builds the noisy weight matrix
    rows = torch.cat([layer(x[i : i + 1]) for i in range(16)])  # factorized form
    w = layer.weight_mu + layer.weight_sigma * torch.outer(layer.eps_out, layer.eps_in)
    b = layer.bias_mu + layer.bias_sigma * layer.eps_out
    assert torch.allclose(batched, rows, atol=1e-5)
    assert torch.allclose(batched, x @ w.T + b, atol=1e-5)


def test_noisy_init_sigma():
    layer = NoisyLinear(16, 2, sigma0=0.5)
    assert torch.allclose(layer.weight_sigma, torch.full((2, 16), 0.5 / 4))


def test_dueling_advantages_have_zero_mean_per_state():
    net = QNetwork(_cfg(hidden_sizes=(32, 32), dueling=True), (4,), 3)
    x = torch.randn(10, 4)
    h = net.features(x)
    adv = net.advantage(h).view(10, 3, 1)
    value = net.value(h).view(10, 1, 1)
    centred = adv - adv.mean(dim=1, keepdim=True)
    assert torch.allclose(centred.mean(dim=1), torch.zeros(10, 1), atol=1e-6)
    assert torch.allclose(net(x).q_values, (value + centred).squeeze(-1), atol=1e-6)
    # The mean over actions of Q is the value stream.
    assert torch.allclose(net(x).q_values.mean(1), value.view(10), atol=1e-5)


def test_categorical_head_q_is_mean_of_distribution():
    cfg = _cfg(hidden_sizes=(16,), head="categorical", num_atoms=5, v_min=-2, v_max=2, dueling=True)
    net = QNetwork(cfg, (3,), 2)
    out = net(torch.randn(7, 3))
    assert out.dist.shape == (7, 2, 5)
    probs = torch.softmax(out.dist, -1)
    assert torch.allclose(out.q_values, (probs * torch.linspace(-2, 2, 5)).sum(-1), atol=1e-6)


def test_torsos_shapes():
    minatar = QNetwork(_cfg(torso="minatar", hidden_sizes=(128,)), (4, 10, 10), 6)
    assert minatar(torch.zeros(2, 4, 10, 10, dtype=torch.uint8)).q_values.shape == (2, 6)
    nature = QNetwork(_cfg(torso="nature", hidden_sizes=(512,), dueling=True, noisy=True), (4, 84, 84), 18)
    assert nature(torch.zeros(2, 4, 84, 84, dtype=torch.uint8)).q_values.shape == (2, 18)
    # Nature CNN conv stack: 84 -> 20 -> 9 -> 7 with 64 channels.
    assert nature.torso(torch.zeros(1, 4, 84, 84)).shape == (1, 64 * 7 * 7)


def test_network_noise_is_one_draw_sliced_across_layers_in_order():
    net = QNetwork(_cfg(hidden_sizes=(8, 8), dueling=True, noisy=True), (3,), 2)
    layers = net.noisy_layers
    assert len(layers) == 5  # shared, advantage (hidden, out), value (hidden, out)
    net.reset_noise(torch.Generator().manual_seed(3))
    sizes = [n for m in layers for n in (m.in_features, m.out_features)]
    x = torch.randn(sum(sizes), generator=torch.Generator().manual_seed(3))
    f = x.sign() * x.abs().sqrt()
    got = torch.cat([t for m in layers for t in (m.eps_in, m.eps_out)])
    assert torch.equal(got, f)
    before = got.clone()
    net.reset_noise(torch.Generator().manual_seed(4))
    assert not torch.equal(torch.cat([t for m in layers for t in (m.eps_in, m.eps_out)]), before)


# --- the parts a protocol chooses: normalization, initialization, dueling layout, torso -----------


def test_input_affine_by_hand():
    """2 (x - low) / (high - low) - 1: CartPole's bounds (RR networks_new.py L17) by hand."""
    import math

    from dqnlab.architecture import input_affine

    scale, shift = input_affine([-2.4, -5.0], [2.4, 5.0])
    assert scale == pytest.approx([2 / 4.8, 0.2]) and shift == pytest.approx([0.0, 0.0])
    scale, shift = input_affine([-1.2, -0.07], [0.6, 0.07])  # MountainCar: asymmetric position bounds
    # x = -1.2 -> -1, x = 0.6 -> +1, x = -0.3 (the midpoint) -> 0
    for x, want in ((-1.2, -1.0), (0.6, 1.0), (-0.3, 0.0)):
        assert x * scale[0] + shift[0] == pytest.approx(want)
    assert math.isclose(0.035 * scale[1] + shift[1], 0.5)
    with pytest.raises(ValueError):
        input_affine([0.0], [1.0, 2.0])


def test_the_network_normalizes_its_input():
    cfg = _cfg(hidden_sizes=(8,), input_low=(-2.0, 0.0), input_high=(2.0, 10.0))
    net = QNetwork(cfg, (2,), 2)
    plain = QNetwork(_cfg(hidden_sizes=(8,)), (2,), 2)
    plain.load_state_dict(net.state_dict())  # the bounds are config, not state
    x = torch.tensor([[2.0, 0.0], [-1.0, 7.5], [0.0, 5.0]])
    normalized = torch.tensor([[1.0, -1.0], [-0.5, 0.5], [0.0, 0.0]])
    assert torch.allclose(net(x).q_values, plain(normalized).q_values, atol=1e-6)
    with pytest.raises(ValueError, match="bounds"):
        QNetwork(cfg, (3,), 2)


def test_glorot_uniform_init_and_zero_bias():
    torch.manual_seed(0)
    net = QNetwork(_cfg(hidden_sizes=(512, 512), init="glorot_uniform", dueling_layout="heads"), (4,), 2)
    hidden = net.shared[2]  # the 512 x 512 layer
    bound = (6 / (512 + 512)) ** 0.5
    assert hidden.weight.abs().max() <= bound and hidden.weight.abs().max() > 0.95 * bound
    assert hidden.weight.std().item() == pytest.approx(bound / 3**0.5, rel=0.02)
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in net.modules() if isinstance(m, torch.nn.Linear))


def test_default_init_is_uniform_fan_in():
    torch.manual_seed(0)
    net = QNetwork(_cfg(hidden_sizes=(256,), dueling_layout="heads"), (64,), 2)
    layer = net.shared[0]
    assert layer.weight.abs().max() <= 1 / 8 and layer.bias.abs().max() <= 1 / 8
    assert layer.bias.abs().max() > 0.1  # biases are drawn too, not zero


def test_noisy_layers_keep_their_init_under_glorot():
    net = QNetwork(_cfg(hidden_sizes=(16,), noisy=True, noisy_sigma0=0.1, init="glorot_uniform"), (4,), 2)
    for layer in net.noisy_layers:
        fan_in = layer.in_features
        assert torch.allclose(layer.weight_sigma, torch.full_like(layer.weight_sigma, 0.1 / fan_in**0.5))
        assert layer.weight_mu.abs().max() <= 1 / fan_in**0.5 and layer.bias_mu.abs().max() > 0


def _param_shapes(module):
    return [tuple(p.shape) for p in module.parameters()]


def test_heads_layout_shares_the_torso_between_dueling_and_not():
    """RR networks_new.py L202-217: dueling adds a linear value head on the same hidden layers."""
    dueling = QNetwork(_cfg(hidden_sizes=(32, 32), dueling=True, dueling_layout="heads",
                                     head="categorical", num_atoms=5), (4,), 3)
    plain = QNetwork(_cfg(hidden_sizes=(32, 32), dueling_layout="heads", head="categorical",
                                   num_atoms=5), (4,), 3)
    assert _param_shapes(dueling.shared) == _param_shapes(plain.shared) == [(32, 4), (32,), (32, 32), (32,)]
    assert _param_shapes(dueling.advantage) == _param_shapes(plain.advantage) == [(15, 32), (15,)]
    assert _param_shapes(dueling.value) == [(5, 32), (5,)]
    # Aggregated per atom on the logits: logits = V + A - mean_a A (RR L208).
    x = torch.randn(6, 4)
    h = dueling.features(x)
    adv, value = dueling.advantage(h).view(6, 3, 5), dueling.value(h).view(6, 1, 5)
    assert torch.allclose(dueling(x).dist, value + adv - adv.mean(1, keepdim=True), atol=1e-6)
    # The streams layout duplicates the last hidden layer instead.
    streams = QNetwork(_cfg(hidden_sizes=(32, 32), dueling=True), (4,), 3)
    assert _param_shapes(streams.value) == [(32, 32), (32,), (1, 32), (1,)]


def test_without_dueling_both_layouts_are_the_same_network():
    torch.manual_seed(3)
    heads = QNetwork(_cfg(hidden_sizes=(16, 16), dueling_layout="heads"), (4,), 2)
    torch.manual_seed(3)
    streams = QNetwork(_cfg(hidden_sizes=(16, 16), dueling_layout="streams"), (4,), 2)
    x = torch.randn(5, 4)
    assert torch.equal(heads(x).q_values, streams(x).q_values)


def test_minatar_torsos():
    """MinAtar's own DQN pads nothing (8x8x16 = 1024 features); RR's SAME padding keeps 10x10x16."""
    from dqnlab.networks import build_torso

    assert build_torso(NetworkConfig(torso="minatar"), (4, 10, 10))[1] == 1024
    assert build_torso(NetworkConfig(torso="minatar_same"), (4, 10, 10))[1] == 1600
    net = QNetwork(_cfg(torso="minatar_same", hidden_sizes=(), dueling=True,
                                 dueling_layout="heads"), (4, 10, 10), 6)
    assert _param_shapes(net.advantage) == [(6, 1600), (6,)] and _param_shapes(net.value) == [(1, 1600), (1,)]

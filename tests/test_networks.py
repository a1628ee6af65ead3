"""Networks: noisy layers, dueling heads, categorical heads, torsos."""

import torch

from dqnlab.config import NetworkConfig
from dqnlab.networks import NoisyLinear, QNetwork


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
    net = QNetwork(NetworkConfig(hidden_sizes=(32, 32), dueling=True), (4,), 3)
    x = torch.randn(10, 4)
    h = net.shared(net.torso(x))
    adv = net.advantage(h).view(10, 3, 1)
    value = net.value(h).view(10, 1, 1)
    centred = adv - adv.mean(dim=1, keepdim=True)
    assert torch.allclose(centred.mean(dim=1), torch.zeros(10, 1), atol=1e-6)
    assert torch.allclose(net(x).q_values, (value + centred).squeeze(-1), atol=1e-6)
    # The mean over actions of Q is the value stream.
    assert torch.allclose(net(x).q_values.mean(1), value.view(10), atol=1e-5)


def test_categorical_head_q_is_mean_of_distribution():
    cfg = NetworkConfig(hidden_sizes=(16,), head="categorical", num_atoms=5, v_min=-2, v_max=2, dueling=True)
    net = QNetwork(cfg, (3,), 2)
    out = net(torch.randn(7, 3))
    assert out.logits.shape == (7, 2, 5)
    probs = torch.softmax(out.logits, -1)
    assert torch.allclose(out.q_values, (probs * torch.linspace(-2, 2, 5)).sum(-1), atol=1e-6)


def test_torsos_shapes():
    minatar = QNetwork(NetworkConfig(torso="minatar", hidden_sizes=(128,)), (4, 10, 10), 6)
    assert minatar(torch.zeros(2, 4, 10, 10, dtype=torch.uint8)).q_values.shape == (2, 6)
    nature = QNetwork(NetworkConfig(torso="nature", hidden_sizes=(512,), dueling=True, noisy=True), (4, 84, 84), 18)
    assert nature(torch.zeros(2, 4, 84, 84, dtype=torch.uint8)).q_values.shape == (2, 18)
    # Nature CNN conv stack: 84 -> 20 -> 9 -> 7 with 64 channels.
    assert nature.torso(torch.zeros(1, 4, 84, 84)).shape == (1, 64 * 7 * 7)


def test_network_noise_is_one_draw_sliced_across_layers_in_order():
    net = QNetwork(NetworkConfig(hidden_sizes=(8, 8), dueling=True, noisy=True), (3,), 2)
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

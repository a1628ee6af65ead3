"""noisy: NoisyLinear layers whose noise explores (with the protocol's epsilon: 0 for Hessel et al.,
0.01 for Revisiting Rainbow) and that use their mean weights in evaluation; off, plain layers, and
the noise generator is never touched."""

import copy

import numpy as np
import torch
from component_parts import agent

from dqnlab import components
from dqnlab.batch import Batch
from dqnlab.networks import NoisyLinear


def _batch(n: int = 8) -> Batch:
    rng = np.random.default_rng(0)
    obs = lambda: rng.standard_normal((n, 4)).astype(np.float32)  # noqa: E731
    return Batch(np.arange(n), obs(), rng.integers(0, 2, n), np.ones(n, np.float32),
                 np.full(n, 0.99, np.float32), obs(), None)


def test_declared_couplings():
    comp = components.REGISTRY["noisy"]
    assert comp.slot == "exploration"
    a = agent("dqn+noisy")  # CartPole-v1: revisiting_rainbow's identity_epsilon, 0.01 throughout
    assert a.cfg.explore.warmup_epsilon == a.cfg.explore.epsilon_start == a.cfg.explore.epsilon_end == 0.01
    assert a.online.noisy_layers and all(isinstance(m, NoisyLinear) for m in a.online.noisy_layers)


def test_every_fully_connected_layer_is_noisy():
    """RR networks_new.py L122-131: `net` builds every Dense layer, hidden and heads, noisy."""
    a = agent("dqn+noisy+dueling", **{"network.hidden_sizes": "16,16"})
    linear = [m for m in a.online.modules() if isinstance(m, (torch.nn.Linear, NoisyLinear))]
    assert len(linear) == 4 and all(isinstance(m, NoisyLinear) for m in linear)


def test_noise_explores_in_training_and_evaluation_uses_the_mean_weights():
    a = agent("dqn+noisy")
    obs = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    rng = np.random.default_rng(0)
    a.act(obs, 0.0, rng)
    q1 = a.q_values(obs, evaluation=False)
    a.act(obs, 0.0, rng)  # acting in training resamples the noise
    assert not torch.equal(q1, a.q_values(obs, evaluation=False))
    # Evaluation: the mean weights, i.e. the same network with its noise scales at zero, noise or not.
    mean = copy.deepcopy(a.online)
    with torch.no_grad():
        for layer in mean.noisy_layers:
            layer.weight_sigma.zero_()
            layer.bias_sigma.zero_()
        want = mean(torch.as_tensor(obs)).q_values  # training mode: mu + 0 * noise
    evaluated = a.q_values(obs, evaluation=True)
    torch.testing.assert_close(evaluated, want, rtol=1e-6, atol=1e-6)
    assert not torch.allclose(evaluated, a.q_values(obs, evaluation=False))
    a.act(obs, 0.0, rng)  # new noise changes training Q-values, not evaluation's
    assert torch.equal(a.q_values(obs, evaluation=True), evaluated)
    assert a.online.training  # evaluating leaves the network in training mode


def test_off_never_draws_noise():
    a = agent("dqn")
    assert not a.online.noisy_layers
    before = a.noise_generator.get_state()
    rng = np.random.default_rng(0)
    a.act(np.zeros((3, 4), np.float32), 0.0, rng)
    a.act(np.zeros((1, 4), np.float32), 0.0, rng)
    a.update(_batch())
    assert torch.equal(a.noise_generator.get_state(), before)
    assert not a.cfg.network.noisy

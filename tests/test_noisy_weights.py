"""An update builds each noisy layer's training weight once (`noisy_weights.py`): the online
network sees the observations and the next observations with the same parameters and noise, so
the second build is the first's bits. Checked: the memo changes no bit of an update, alone or in
a pack; it counts one build per layer per update; a build made without gradients never serves a
forward that needs them; and nothing is memoized outside the update."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from dqnlab.agent import Agent
from dqnlab.batch import Batch
from dqnlab.networks import NoisyLinear, QNetwork
from dqnlab.packed import PackedLearner
from dqnlab.presets import resolve_config

SMALL = {"network.hidden_sizes": (32, 32), "agent.batch_size": 16}


def _agent(spec: str, seed: int = 0) -> Agent:
    return Agent(resolve_config("CartPole-v1", spec, seed=seed, overrides=SMALL), (4,), 2, torch.device("cpu"))


def _batches(n: int, rows: int = 16, weights: bool = True) -> list[Batch]:
    rng = np.random.default_rng(0)
    obs = lambda: rng.standard_normal((rows, 4)).astype(np.float32)  # noqa: E731
    return [Batch(np.arange(rows), obs(), rng.integers(0, 2, rows), rng.standard_normal(rows).astype(np.float32),
                  np.full(rows, 0.97, np.float32), obs(), rng.uniform(0.2, 1, rows).astype(np.float32) if weights else None)
            for _ in range(n)]


def _state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.fixture
def no_memo(monkeypatch):
    """Every forward builds its weight, as before the memo."""
    def off(monkeypatch=monkeypatch):
        monkeypatch.setattr(QNetwork, "noisy_weights_built_once", lambda self: contextlib.nullcontext())
    return off


def _assert_the_memo_changes_no_bit(train, no_memo) -> None:
    """`train()` -> (its UpdateInfos, its online network), once with the memo and once without:
    the same losses, Q means, priorities and weights, bit for bit."""
    runs = []
    for memo in (True, False):
        if not memo:
            no_memo()
        infos, net = train()
        runs.append(([(i.loss, i.q_mean, i.priorities.tobytes()) for i in infos], _state(net)))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert torch.equal(v, runs[1][1][k]), k


@pytest.mark.parametrize("spec", ["rainbow", "dqn+noisy+double", "rainbow-no-c51"])
def test_the_memo_changes_no_bit_of_an_update(spec, no_memo):
    batches = _batches(5)

    def train():
        a = _agent(spec)
        return [a.update(b) for b in batches], a.online

    _assert_the_memo_changes_no_bit(train, no_memo)


def test_the_memo_changes_no_bit_of_a_packed_update(no_memo):
    batches = [_batches(4) for _ in range(3)]

    def train():
        pack = PackedLearner([_agent("rainbow", seed=s) for s in range(3)])
        infos = [pack.update([batches[k][i] for k in range(3)]) for i in range(4)]
        return [u for run in infos for u in run], pack.online

    _assert_the_memo_changes_no_bit(train, no_memo)


def _count_builds(monkeypatch) -> list[int]:
    """How many times noisy layers build their weight (the `build` callables run)."""
    calls = [0]
    original = NoisyLinear.noisy_weight

    def counting(self, build):
        def counted():
            calls[0] += 1
            return build()
        return original(self, counted)

    monkeypatch.setattr(NoisyLinear, "noisy_weight", counting)
    return calls


def test_a_double_update_builds_each_noisy_weight_once(monkeypatch):
    a = _agent("dqn+noisy+double")  # online(obs), online(next_obs), target(next_obs)
    calls = _count_builds(monkeypatch)
    layers = len(a.online.noisy_layers)
    a.update(_batches(1)[0])
    assert calls[0] == 2 * layers  # the online network's once, the target network's once
    obs = torch.zeros(16, 4)
    a.online(obs), a.online(obs)  # outside an update: no memo, every forward builds
    assert calls[0] == 4 * layers
    assert all(layer._built is None for layer in a.online.noisy_layers)


def test_a_build_without_gradients_never_serves_a_forward_that_needs_them(monkeypatch):
    a = _agent("dqn+noisy")
    calls = _count_builds(monkeypatch)
    a.online.reset_noise(a.noise_generator)  # noise, so that the noise scales get gradients
    obs = torch.randn(16, 4)
    with a.online.noisy_weights_built_once():
        with torch.no_grad():
            a.online(obs)
        a.online(obs).q_values.sum().backward()  # builds again, with gradients
        with torch.no_grad():
            a.online(obs)  # served by the build with gradients
    layers = a.online.noisy_layers
    assert calls[0] == 2 * len(layers)
    assert all(layer.weight_sigma.grad is not None and layer.weight_sigma.grad.abs().sum() > 0 for layer in layers)


def test_the_memo_is_dropped_when_the_block_raises():
    a = _agent("dqn+noisy")
    with pytest.raises(RuntimeError), a.online.noisy_weights_built_once():
        a.online(torch.randn(16, 4))
        assert all(layer._built is not None for layer in a.online.noisy_layers)
        raise RuntimeError
    assert all(layer._built is None and not layer._memo_on for layer in a.online.noisy_layers)

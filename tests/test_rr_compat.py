"""Revisiting Rainbow compatibility switches (issue 21): each one's exact behaviour, off by default.

network.noise_draw (per_step | per_run | fixed), replay.timeout (bootstrap | terminal |
next_episode), replay.scalar_priority (abs_td | loss), replay.importance_weights, network.init
variance_scaling_fan_in, run.iteration_steps (Dopamine's iterations)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "components"))
from component_parts import SMALL, agent  # noqa: E402

from dqnlab import jax_random, losses, rundir  # noqa: E402
from dqnlab.batch import Batch  # noqa: E402
from dqnlab.config import Config, NetworkConfig  # noqa: E402
from dqnlab.networks import QNetwork, signed_sqrt  # noqa: E402
from dqnlab.presets import resolve_config  # noqa: E402
from dqnlab.replay import ReplayBuffer  # noqa: E402
from dqnlab.train import Trainer  # noqa: E402


def _obs(n: int = 5, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32)


def _batch(n: int = 8, prioritized: bool = False) -> Batch:
    rng = np.random.default_rng(0)
    obs = lambda: rng.standard_normal((n, 4)).astype(np.float32)  # noqa: E731
    weights = rng.uniform(0.1, 1.0, n).astype(np.float32) if prioritized else None
    return Batch(np.arange(n), obs(), rng.integers(0, 2, n), rng.standard_normal(n).astype(np.float32),
                 np.full(n, 0.99, np.float32), obs(), weights)


def _eps(net: QNetwork) -> list[torch.Tensor]:
    return [e.clone() for layer in net.noisy_layers for e in (layer.eps_in, layer.eps_out)]


def test_every_switch_is_off_by_default_and_recorded_in_config_json(tmp_path):
    cfg = resolve_config("CartPole-v0", "rainbow")
    assert (cfg.network.noise_draw, cfg.replay.timeout, cfg.replay.scalar_priority) == ("per_step", "bootstrap", "abs_td")
    assert cfg.replay.importance_weights is True and cfg.run.iteration_steps is None
    on = resolve_config("CartPole-v0", "rainbow", overrides={
        "network.noise_draw": "fixed", "replay.timeout": "next_episode", "replay.scalar_priority": "loss",
        "replay.importance_weights": "false", "run.iteration_steps": "1000", "network.init": "variance_scaling_fan_in",
    })
    rundir.prepare(on, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["network"]["noise_draw"] == "fixed" and saved["replay"]["timeout"] == "next_episode"
    assert saved["replay"]["importance_weights"] is False and saved["run"]["iteration_steps"] == 1000
    assert rundir.read_config(tmp_path / "run") == on


# -- noise drawn once ----------------------------------------------------------------------------


@pytest.mark.parametrize("draw", ["per_run", "fixed"])
def test_noise_drawn_once_is_kept_by_acting_updates_and_both_networks(draw):
    a = agent("dqn+noisy", **{"network.noise_draw": draw, "network.hidden_sizes": "16,16"})
    before = _eps(a.online)
    assert all(e.abs().sum() > 0 for e in before)  # drawn, not left at zero
    generator = a.noise_generator.get_state()
    rng = np.random.default_rng(0)
    a.act(_obs(), 0.0, rng)
    a.act(_obs(1), 0.0, rng)
    a.update(_batch())
    a.update_target()
    for e, e0 in zip(_eps(a.online), before):
        assert torch.equal(e, e0)
    for e, e0 in zip(_eps(a.target), before):
        assert torch.equal(e, e0)
    assert torch.equal(a.noise_generator.get_state(), generator)  # never drawn from


def test_noise_drawn_once_is_one_vector_per_length_as_a_jax_draw_with_one_key():
    """RR's sample_noise draws normal(PRNGKey(0), [n_in, 1]) and [1, n_out] in every layer: JAX's
    values, and equal lengths give equal vectors (a 16x16 layer's eps_in is its eps_out)."""
    a = agent("dqn+noisy+dueling", **{"network.noise_draw": "fixed", "network.hidden_sizes": "16,16"})
    layers = a.online.noisy_layers  # 4 -> 16, 16 -> 16, advantage 16 -> 2, value 16 -> 1
    expected = {n: signed_sqrt(torch.from_numpy(jax_random.normal(0, n))) for n in (4, 16, 2, 1)}
    for layer in layers:
        assert torch.equal(layer.eps_in, expected[layer.in_features])
        assert torch.equal(layer.eps_out, expected[layer.out_features])
    assert torch.equal(layers[1].eps_in, layers[1].eps_out)


def test_fixed_noise_is_the_same_in_every_run_and_per_run_noise_is_the_runs_own():
    def eps(draw: str, seed: int) -> list[torch.Tensor]:
        cfg = resolve_config("CartPole-v1", "dqn+noisy", seed=seed, overrides={**SMALL, "network.noise_draw": draw})
        from dqnlab.agent import Agent

        return _eps(Agent(cfg, (4,), 2, torch.device("cpu")).online)

    assert all(torch.equal(x, y) for x, y in zip(eps("fixed", 0), eps("fixed", 7)))
    assert not all(torch.equal(x, y) for x, y in zip(eps("per_run", 0), eps("per_run", 7)))


def test_noise_drawn_once_stays_in_evaluation():
    a = agent("dqn+noisy", **{"network.noise_draw": "per_run"})
    obs = _obs()
    noisy = a.q_values(obs, evaluation=False)
    assert torch.equal(a.q_values(obs, evaluation=True), noisy)  # the function it acts with
    b = agent("dqn+noisy")  # per_step: evaluation drops the noise
    b.act(obs, 0.0, np.random.default_rng(0))
    mean = b.online.eval()
    with torch.no_grad():
        q_mean = mean(torch.as_tensor(obs)).q_values
    b.online.train()
    assert torch.equal(b.q_values(obs, evaluation=True), q_mean)
    assert not torch.equal(b.q_values(obs, evaluation=False), q_mean)


# -- time-outs in replay -------------------------------------------------------------------------

G = 0.9


def _replay(timeout: str, n: int = 3) -> ReplayBuffer:
    return ReplayBuffer(64, (1,), np.float32, n_step=n, gamma=G, timeout=timeout)


def _episode(rb: ReplayBuffer, first: float, rewards: list[float], *, truncated: bool = False,
             terminal: bool = False) -> None:
    """Observations [first], [first + 1], ...; the last step ends the episode as told."""
    rb.start_episode(0, np.array([first], np.float32))
    for j, r in enumerate(rewards):
        last = j == len(rewards) - 1
        rb.add(0, 0, r, np.array([first + j + 1], np.float32), terminal and last, truncated and last)


def _transitions(rb: ReplayBuffer) -> dict[float, tuple[float, float, float]]:
    """obs -> (return, discount, bootstrap obs) of every sampleable transition."""
    slots = np.flatnonzero(rb.sampler.slots.valid)
    b = rb.batch_at(slots)
    return {float(o[0]): (float(r), float(d), float(nx[0])) for o, r, d, nx in zip(b.obs, b.ret, b.discount, b.next_obs)}


def test_timeout_bootstrap_stops_the_return_at_the_limit_and_bootstraps_from_the_last_observation():
    rb = _replay("bootstrap")
    _episode(rb, 0, [1, 2, 3], truncated=True)
    t = _transitions(rb)
    assert t[0] == pytest.approx((1 + G * 2 + G**2 * 3, G**3, 3))
    assert t[1] == pytest.approx((2 + G * 3, G**2, 3))
    assert t[2] == pytest.approx((3, G, 3))


def test_timeout_terminal_is_stored_as_a_termination():
    """Dopamine 3.1.8: end_episode stores every episode end with is_terminal=True."""
    rb = _replay("terminal")
    _episode(rb, 0, [1, 2, 3], truncated=True)
    t = _transitions(rb)
    assert t[0] == pytest.approx((1 + G * 2 + G**2 * 3, 0.0, 3))
    assert t[1] == pytest.approx((2 + G * 3, 0.0, 3))
    assert t[2] == pytest.approx((3, 0.0, 3))


def test_timeout_next_episode_runs_the_return_and_bootstrap_into_the_next_episode():
    """Dopamine >= 3.1.9 with RR's _store_transition: the time-out is stored non-terminal with no
    episode end and the final observation [3] is never stored, so obs [1] (rewards 2, 3) takes the
    next episode's first reward 10 and bootstraps from its second observation [101]."""
    rb = _replay("next_episode")
    _episode(rb, 0, [1, 2, 3], truncated=True)
    assert set(_transitions(rb)) == {0.0}  # [1] and [2] wait for the next episode's rewards
    _episode(rb, 100, [10, 20, 30, 40], terminal=True)
    t = _transitions(rb)
    assert 3.0 not in {nx for _, _, nx in t.values()}  # the timed-out final observation is gone
    assert t[0] == pytest.approx((1 + G * 2 + G**2 * 3, G**3, 100))
    assert t[1] == pytest.approx((2 + G * 3 + G**2 * 10, G**3, 101))
    assert t[2] == pytest.approx((3 + G * 10 + G**2 * 20, G**3, 102))
    assert t[100] == pytest.approx((10 + G * 20 + G**2 * 30, G**3, 103))
    assert t[102] == pytest.approx((30 + G * 40, 0.0, 104))  # a true termination still stops it


def test_timeout_next_episode_with_one_step_bootstraps_from_the_next_first_observation():
    rb = _replay("next_episode", n=1)
    _episode(rb, 0, [1, 2], truncated=True)
    _episode(rb, 100, [10], terminal=True)
    t = _transitions(rb)
    assert t[1] == pytest.approx((2, G, 100))


def test_timeout_next_episode_resumes_exactly_from_a_state_dict():
    a, b = _replay("next_episode"), _replay("next_episode")
    _episode(a, 0, [1, 2, 3], truncated=True)
    _episode(b, 0, [1, 2, 3], truncated=True)
    c = _replay("next_episode")
    c.load_state_dict(b.state_dict())
    for rb in (a, c):
        _episode(rb, 100, [10, 20], terminal=True)
    assert _transitions(a) == _transitions(c)


def test_timeout_next_episode_refuses_stacked_frames():
    with pytest.raises(ValueError, match="stack 1"):
        ReplayBuffer(64, (4, 2), np.float32, stack=4, timeout="next_episode")
    with pytest.raises(Exception, match="frame_stack = 1"):
        resolve_config("ALE/Pong-v5", "dqn", overrides={"replay.timeout": "next_episode"})


# -- priorities and importance weights -----------------------------------------------------------


def test_scalar_priority_from_the_loss_is_the_per_sample_huber():
    a = agent("dqn+per", **{"replay.scalar_priority": "loss", "agent.loss": "huber"})
    b = agent("dqn+per")
    tb = a.to_tensors(_batch(prioritized=True))
    out_loss, out_td = a.loss_fn(a.online, a.target, tb, a.taus(8)), b.loss_fn(b.online, b.target, tb, b.taus(8))
    assert torch.equal(out_loss.priority, out_loss.per_sample.detach())
    assert torch.allclose(out_loss.priority, losses.huber(out_td.priority))  # same nets: huber(|td|)
    assert torch.equal(out_td.priority, out_td.priority.abs())


def test_importance_weights_off_leaves_the_loss_unweighted():
    """RR before 2021-02-26: weights computed, the mean loss taken without them."""
    on, off, plain = (agent("dqn+per", **extra) for extra in (
        {}, {"replay.importance_weights": "false"}, {}))
    batch = _batch(prioritized=True)
    unweighted = Batch(*batch[:-1], None)
    l_off, l_plain = off.update(batch).loss, plain.update(unweighted).loss
    assert l_off == l_plain and on.update(batch).loss != l_off
    for p, q in zip(off.online.parameters(), plain.online.parameters()):
        assert torch.equal(p, q)


# -- initialization ------------------------------------------------------------------------------


def test_variance_scaling_fan_in_init_bounds_and_zero_biases():
    """flax variance_scaling(1/sqrt(3), fan_in, uniform): U(+-sqrt(3 scale / fan_in))."""
    net = QNetwork(Config(network=NetworkConfig(hidden_sizes=(512, 512), init="variance_scaling_fan_in")), (4,), 2)
    layers = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    for layer in layers:
        bound = math.sqrt(3 / math.sqrt(3) / layer.in_features)
        w = layer.weight.detach()
        assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
        assert torch.std(w).item() == pytest.approx(bound / math.sqrt(3), rel=0.05 if w.numel() > 1000 else 0.5)
        assert torch.count_nonzero(layer.bias) == 0


# -- Dopamine's iterations -----------------------------------------------------------------------


def test_dopamine_iterations_end_rows_with_whole_episodes(tmp_path):
    """run.iteration_steps: each progress row ends with the first episode that brings the
    iteration to >= iteration_steps steps; its episode_return is the mean of exactly those
    episodes; the run trains total_steps / iteration_steps iterations, past total_steps."""
    cfg = resolve_config("CartPole-v0", "dqn", total_steps=600, overrides={
        **SMALL, "run.iteration_steps": 200, "eval.period_steps": 300, "run.checkpoint_period_steps": 0,
    })
    rundir.prepare(cfg, tmp_path / "run")
    episodes: list[tuple[int, float, int]] = []  # (end step, return, length), from the run itself
    trainer = Trainer(tmp_path / "run", progress=False)
    log = trainer.runs[0].log
    record = log.episode

    def spy(ret: float, length: int) -> None:
        episodes.append((trainer.counters.step + 1, ret, length))
        record(ret, length)

    log.episode = spy
    assert trainer.run() == "done"
    rows = pd.read_csv(tmp_path / "run" / "progress.csv")
    assert len(rows) == 3
    start = 0
    for _, row in rows.iterrows():
        mine = [e for e in episodes if start < e[0] <= row["step"]]
        assert sum(e[2] for e in mine) == row["step"] - start >= 200
        assert sum(e[2] for e in mine[:-1]) < 200  # the iteration ends with its first episode past 200
        assert row["episode_return"] == pytest.approx(np.mean([e[1] for e in mine]))
        start = row["step"]
    assert rows["step"].iloc[-1] >= 600 and trainer.counters.step == rows["step"].iloc[-1]
    assert pd.read_csv(tmp_path / "run" / "eval.csv")["step"].iloc[-1] == rows["step"].iloc[-1]


def test_dopamine_iterations_need_one_env_copy_a_dividing_budget_and_train_alone():
    with pytest.raises(Exception, match="num_envs = 1"):
        resolve_config("CartPole-v0", "dqn", overrides={"run.iteration_steps": 1000, "env.num_envs": 2})
    with pytest.raises(Exception, match="divide the budget"):
        resolve_config("CartPole-v0", "dqn", total_steps=30_500, overrides={"run.iteration_steps": 1000})
    from dqnlab.pack_rules import pack_mismatch

    cfgs = [resolve_config("CartPole-v0", "dqn", seed=s, overrides={"run.iteration_steps": 1000}) for s in (0, 1)]
    assert "train alone" in pack_mismatch(cfgs)


# -- one initialization for every run ---------------------------------------------------------------


def test_a_shared_seed_gives_every_run_the_same_weights_and_exploration_and_nothing_else(tmp_path):
    """agent.shared_seed (Dopamine 3.1.8's PRNGKey(0) in every run): the same initial weights and
    epsilon-greedy draws in runs of different seeds; their envs and replay sampling stay their own."""
    from dqnlab.agent import Agent
    from dqnlab.run_state import Run

    runs = []
    for seed in (0, 1):
        cfg = resolve_config("CartPole-v0", "dqn", seed=seed, overrides={**SMALL, "agent.shared_seed": "7"})
        rundir.prepare(cfg, tmp_path / f"s{seed}")
        runs.append(Run(tmp_path / f"s{seed}"))
    a, b = runs
    for p, q in zip(a.agent.online.parameters(), b.agent.online.parameters()):
        assert torch.equal(p, q)
    assert a.rng.random() == b.rng.random()
    assert not np.array_equal(a.obs[0], b.obs[0])  # each env its own seed
    assert a.replay.rng.random() != b.replay.rng.random()
    own = Agent(resolve_config("CartPole-v0", "dqn", seed=0, overrides=SMALL), (4,), 2, torch.device("cpu"))
    assert not torch.equal(next(own.online.parameters()), next(a.agent.online.parameters()))


@pytest.mark.parametrize("fractions", ["per_batch", "per_transition"])
def test_a_shared_seed_shares_iqns_quantile_fractions(fractions):
    """RR's IQN drew its fractions from the agent's one key (PRNGKey(0) in every run before
    2021-03-09): runs of different seeds given one shared seed draw the same fractions, and a run
    of its own seed draws others."""
    from dqnlab.agent import Agent

    def first_fractions(seed: int, shared: str | None) -> torch.Tensor:
        overrides = {**SMALL, "implicit_quantile.fractions": fractions}
        if shared is not None:
            overrides["agent.shared_seed"] = shared
        cfg = resolve_config("CartPole-v0", "dqn+iqn", seed=seed, overrides=overrides)
        return Agent(cfg, (4,), 2, torch.device("cpu")).taus(4)(8)

    shared = [first_fractions(seed, "7") for seed in (0, 1)]
    assert torch.equal(shared[0], shared[1])
    assert not torch.equal(first_fractions(0, None), first_fractions(1, None))

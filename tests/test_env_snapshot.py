"""Env snapshots restore the episode in progress exactly (what checkpoints rely on)."""

import numpy as np
import pytest

from dqnlab.envs import make_env
from dqnlab.envs.snapshot import restore, snapshot
from dqnlab.presets import resolve_config


@pytest.mark.parametrize("env_id, protocol", [
    ("CartPole-v1", None), ("MinAtar/Breakout-v1", None), ("ALE/Breakout-v5", "nature2015"),
])
def test_snapshot_restores_episode_in_progress(env_id, protocol):
    cfg = resolve_config(env_id, "dqn", protocol=protocol)
    env = make_env(cfg.env, 0)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    n = env.action_space.n
    for _ in range(30):
        if any(env.step(int(rng.integers(n)))[2:4]):
            env.reset()
    other = make_env(cfg.env, 0)
    other.reset(seed=123)
    restore(other, snapshot(env))
    for _ in range(200):
        a = int(rng.integers(n))
        x, y = env.step(a), other.step(a)
        assert np.array_equal(x[0], y[0]) and x[1:4] == y[1:4]
        if x[2] or x[3]:
            assert np.array_equal(env.reset()[0], other.reset()[0])

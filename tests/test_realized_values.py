"""The overestimation measure's truth side: hand-computed values for the pure functions, envs whose
true values are known in closed form (constant reward +1 / -1 under a time limit, a short chain),
and the same envs end to end through `evaluate()`: cutting at the time limit shows a bias that is
not there; continuing for the tail removes it to within the stated bound."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from dqnlab.agent import Agent
from dqnlab.evaluate import evaluate
from dqnlab.presets import resolve_config
from dqnlab.realized_values import (
    discounted_returns,
    realized_values,
    tail_steps,
    truncation_bias_bound,
)

GAMMA = 0.99


def test_tail_steps_by_hand():
    assert tail_steps(0.99, 1e-3) == 688  # log(1e-3) / log(0.99) = 687.3
    assert tail_steps(0.5, 0.25) == 2  # exactly 2: no rounding up past it
    assert tail_steps(0.9, 0.1) == 22  # 21.85
    assert tail_steps(1.0) == 0
    assert GAMMA ** tail_steps(GAMMA) <= 1e-3 < GAMMA ** (tail_steps(GAMMA) - 1)
    with pytest.raises(ValueError):
        tail_steps(0.99, 1.5)


def test_bias_bound_by_hand():
    assert truncation_bias_bound(0.5, 2, 1.0) == pytest.approx(0.5)  # 0.25 / 0.5
    assert truncation_bias_bound(GAMMA, 688, 1.0) == pytest.approx(0.0993, abs=1e-4)  # 0.99^688 / 0.01


def test_discounted_returns_by_hand():
    assert discounted_returns(np.array([1.0, 1.0, 1.0]), np.array([False, False, True]), 0.5).tolist() == [1.75, 1.5, 1.0]
    # a cut (episode end, life loss as terminal) restarts the sum
    got = discounted_returns(np.array([1.0, 1.0, 1.0, 1.0]), np.array([False, True, False, True]), 0.5)
    assert got.tolist() == [1.5, 1.0, 1.5, 1.0]
    assert realized_values(np.array([0.0, 0.0, 1.0, 5.0]), np.array([False] * 4), 0.5, 2).tolist() == [0.25 + 5 / 8, 0.5 + 5 / 4]


def _cut_mean(reward: float, cap: int, tail: int) -> float:
    rewards = np.full(cap + tail, reward)
    cuts = np.zeros(cap + tail, dtype=bool)
    cuts[-1] = True
    return float(realized_values(rewards, cuts, GAMMA, cap).mean())


@pytest.mark.parametrize("reward", [1.0, -1.0])
def test_constant_reward_under_a_time_limit(reward):
    """The true value of every state is r / (1 - gamma) = +-100. Cut at a 500-step limit the mean
    over an episode's states is r/(1-g) (1 - g (1 - g^500) / ((1-g) 500)) = +-80.33 (the issue's
    Acrobot figure); with the 688-step tail it is within the bound of +-100."""
    truth = reward / (1 - GAMMA)
    closed_form_cut = truth * (1 - GAMMA * (1 - GAMMA**500) / ((1 - GAMMA) * 500))
    assert closed_form_cut == pytest.approx(80.33 * reward, abs=0.01)
    assert _cut_mean(reward, 500, 0) == pytest.approx(closed_form_cut, rel=1e-9)
    with_tail = _cut_mean(reward, 500, tail_steps(GAMMA))
    assert abs(with_tail - truth) <= truncation_bias_bound(GAMMA, tail_steps(GAMMA), 1.0)
    assert abs(with_tail - truth) < 0.1 < abs(closed_form_cut - truth)


# --- end to end through evaluate(), with tiny gymnasium envs -------------------------------------


class ConstantReward(gym.Env):
    """Reward `r` every step, never terminates: true value r / (1 - gamma) everywhere."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, reward: float) -> None:
        self.reward = reward

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(4, np.float32), {}

    def step(self, action):
        return np.zeros(4, np.float32), self.reward, False, False, {}


class Chain(gym.Env):
    """Three steps, reward 1 on the last, then termination: values gamma^2, gamma, 1."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(4, self.t / 3, np.float32), float(self.t == 3), self.t == 3, False, {}


def _evaluate(env_fn, cap: int | None, **overrides):
    cfg = resolve_config("CartPole-v1", "dqn", overrides={"network.hidden_sizes": "8", "eval.episodes": "3", **overrides})
    agent = Agent(cfg, (4,), 2, torch.device("cpu"))

    def make(seed):
        env = env_fn()
        return gym.wrappers.TimeLimit(env, cap) if cap else env

    return cfg, evaluate(cfg, agent, make, np.random.default_rng(0), seeds=[1, 2, 3])


@pytest.mark.parametrize("reward", [1.0, -1.0])
def test_evaluate_removes_the_truncation_bias(reward):
    cfg, old = _evaluate(lambda: ConstantReward(reward), 500, **{"eval.value_tail_steps": "0"})
    assert old["discounted_return_mean"] == pytest.approx(80.33 * reward, abs=0.01)  # the old measure
    cfg, new = _evaluate(lambda: ConstantReward(reward), 500)
    assert cfg.eval.value_tail_steps == 688
    bound = truncation_bias_bound(GAMMA, 688, 1.0)
    assert abs(new["discounted_return_mean"] - reward / (1 - GAMMA)) <= bound
    # The score still stops at the limit.
    assert new["return_mean"] == old["return_mean"] == 500 * reward
    assert new["truncated_episodes"] == old["truncated_episodes"] == 3


def test_evaluate_is_exact_on_episodes_that_terminate():
    _, out = _evaluate(Chain, 100)
    assert out["discounted_return_mean"] == pytest.approx((GAMMA**2 + GAMMA + 1) / 3, rel=1e-12)
    assert out["return_mean"] == 1.0 and out["truncated_episodes"] == 0


def test_a_tail_ends_when_the_episode_terminates():
    """A chain capped at 2 steps: the tail runs one step to the termination, so the measured
    states (the first two) get gamma^2 and gamma, their true values, not 0 and 0."""
    _, out = _evaluate(Chain, 2)
    assert out["discounted_return_mean"] == pytest.approx((GAMMA**2 + GAMMA) / 2, rel=1e-12)
    assert out["return_mean"] == 0.0 and out["truncated_episodes"] == 3

"""The truth side of the overestimation measure (van Hasselt et al. 2016), as pure numpy functions.

Q learns an infinite-horizon value: at a time limit the learner bootstraps (it does not treat the
cut as terminal). The realized value to compare a state's Q(s, a) with is therefore the discounted
return the same policy obtains from that state *without* the time limit. Cutting the sum at the
limit instead biases it toward zero by up to gamma^k max|r| / (1 - gamma) for a state k steps from
the limit: for Acrobot's -1 per step under a 500-step cap the mean over an episode's states is
about -80 where the true value is -100, an underestimate that does not exist.

So an evaluation episode that reaches its time limit goes on for H more steps with the same
policy (its score is already final); its measured states are those before the limit, and their
realized values use the tail's rewards too. With H = `tail_steps(gamma, tol)` what is still left
out is at most `truncation_bias_bound(gamma, H, max|r|)` = tol * max|r| / (1 - gamma) per state.
Episodes that terminate (or reach a life loss the protocol treats as terminal) need no tail.
"""

from __future__ import annotations

import math

import numpy as np


def tail_steps(gamma: float, tol: float = 1e-3) -> int:
    """H = ceil(log(tol) / log(gamma)): the fewest steps with gamma^H <= tol (688 for gamma 0.99,
    tol 1e-3). 0 for gamma = 1, where no finite tail bounds the bias."""
    if not 0.0 < tol < 1.0:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")
    if gamma == 1.0:
        return 0
    return math.ceil(math.log(tol) / math.log(gamma) - 1e-12)


def truncation_bias_bound(gamma: float, horizon: int, max_abs_reward: float) -> float:
    """The most a realized value can miss when the rewards after `horizon` more steps are left
    out: sum_{k >= H} gamma^k max|r| = gamma^H max|r| / (1 - gamma)."""
    return gamma**horizon * max_abs_reward / (1.0 - gamma)


def discounted_returns(rewards: np.ndarray, cuts: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + gamma G_{t+1}, restarting after each t where cuts[t] (episode end, or a life
    loss used as terminal; the last step is always an end). [T], [T] -> [T] float64."""
    rewards, cuts = np.asarray(rewards, dtype=np.float64), np.asarray(cuts, dtype=bool)
    if rewards.shape != cuts.shape or rewards.ndim != 1:
        raise ValueError(f"rewards {rewards.shape} and cuts {cuts.shape} must be the same 1-d shape")
    out = np.zeros(len(rewards), dtype=np.float64)
    g = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + (0.0 if cuts[t] else gamma * g)
        out[t] = g
    return out


def realized_values(rewards: np.ndarray, cuts: np.ndarray, gamma: float, measured: int) -> np.ndarray:
    """The realized discounted value of an episode's first `measured` states, from the rewards of
    the whole recorded stretch: the scored part and, for an episode that reached its time limit,
    the tail after it (`rewards[measured:]`). [T], [T] -> [measured]."""
    if not 0 <= measured <= len(rewards):
        raise ValueError(f"measured must be in [0, {len(rewards)}], got {measured}")
    return discounted_returns(rewards, cuts, gamma)[:measured]

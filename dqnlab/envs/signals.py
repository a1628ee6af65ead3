"""What the learner takes from an env step, the same in training and in evaluation's
overestimation measure: the reward it learns from and whether bootstrapping stops there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dqnlab.config import EnvConfig


def learning_reward(env: EnvConfig, reward: float) -> float:
    """The reward in the units the agent learns: clipped to [-1, 1] where the protocol clips
    (Atari); scores always stay raw."""
    return float(np.clip(reward, -1.0, 1.0)) if env.reward_clip else float(reward)


def ends_bootstrap(env: EnvConfig, terminated: bool, life_loss: bool) -> bool:
    """No bootstrapping past this step: the episode terminated, or a life was lost where the
    protocol treats that as terminal (nature2015; the game itself goes on)."""
    return bool(terminated or (env.terminal_on_life_loss and life_loss))

"""What the training loop asks of a learner: act, update, update the target network, sync. One
protocol, two implementations: `AloneLearner` for a run trained by itself (around its `Agent`) and
`packed.PackedLearner` for a pack of K runs that differ only by seed (one forward, one update for
all of them). The loop (`loop.Trainer`) talks to `learner_for(agents)` and never asks which.

Every method takes and returns one entry per run, in the runs' order. Acting draws each run's
epsilon-greedy numbers with `agent.epsilon_draws`, the one definition both learners use, so a
run's exploration is the same alone or in a pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from dqnlab.agent import Agent, UpdateInfo
from dqnlab.batch import Batch


class Learner(Protocol):
    def act(self, obs: Sequence[np.ndarray], epsilon: float, rngs: Sequence[np.random.Generator]) -> list[np.ndarray]:
        """Each run's epsilon-greedy actions [E] for its observations obs[k] [E, ...]."""

    def update(self, batches: Sequence[Batch]) -> list[UpdateInfo]:
        """One gradient step of each run on its batch."""

    def update_target(self) -> None:
        """Every run's target network update."""

    def sync(self) -> None:
        """Make every run's Agent hold the learner's state (before an evaluation or a checkpoint)."""


class AloneLearner:
    """A run trained by itself: its Agent is the learner's state."""

    stages_batches = True
    """The run gathers its batches into its Agent's staging buffer (on CUDA, pinned memory)."""

    def __init__(self, agents: Sequence[Agent]) -> None:
        (self.agent,) = agents

    def act(self, obs: Sequence[np.ndarray], epsilon: float, rngs: Sequence[np.random.Generator]) -> list[np.ndarray]:
        (o,), (rng,) = obs, rngs
        return [self.agent.act(o, epsilon, rng)[0]]

    def update(self, batches: Sequence[Batch]) -> list[UpdateInfo]:
        (batch,) = batches
        return [self.agent.update(batch)]

    def update_target(self) -> None:
        self.agent.update_target()

    def sync(self) -> None:
        pass


def learner_class(runs: int) -> type:
    """The learner of `runs` runs trained together: alone for one, packed for several."""
    from dqnlab.packed import PackedLearner

    return AloneLearner if runs == 1 else PackedLearner


def learner_for(agents: Sequence[Agent]) -> Learner:
    """The learner of these runs' agents (`learner_class`)."""
    return learner_class(len(agents))(agents)

"""Replay: storage + n-step accumulator + sampler (uniform or prioritized)."""

from dqnlab.replay.accumulator import Emitted, NStepAccumulator
from dqnlab.replay.buffer import Batch, ReplayBuffer
from dqnlab.replay.samplers import PrioritizedSampler, UniformSampler
from dqnlab.replay.sum_tree import SumTree

__all__ = [
    "Batch",
    "Emitted",
    "NStepAccumulator",
    "PrioritizedSampler",
    "ReplayBuffer",
    "SumTree",
    "UniformSampler",
]

"""Samplers over the slots of the replay storage: uniform, or proportional prioritized.

PER is a swapped sampler, not a subclass of the buffer. Both see the same events: a slot became a
sampleable transition (`add`), a slot stopped being one (`remove`, when the ring overwrites it or
its history), and, for PER, new priorities after a gradient step. Both keep the set of valid slots
the same way (`ValidSlots`); what they add is how to draw from it.
"""

from __future__ import annotations

import numpy as np

from dqnlab.replay.kernels import ACTIVE, Kernels
from dqnlab.replay.sum_tree import SumTree


class ValidSlots:
    """Which slots of the ring hold a sampleable transition, and how many do."""

    def __init__(self, capacity: int) -> None:
        self.valid = np.zeros(capacity, dtype=bool)
        self.count = 0

    def add(self, slots: np.ndarray) -> None:
        # unique: a slot listed twice is one new transition, not two.
        self.count += int((~self.valid[np.unique(slots)]).sum())
        self.valid[slots] = True

    def add_one(self, slot: int) -> None:
        """`add` for one slot, in scalar code: it runs on every env step."""
        if not self.valid[slot]:
            self.valid[slot] = True
            self.count += 1

    def remove_one(self, slot: int) -> bool:
        """Mark `slot` invalid; True if it was valid."""
        if not self.valid[slot]:
            return False
        self.valid[slot] = False
        self.count -= 1
        return True

    def check_not_empty(self) -> None:
        if self.count == 0:
            raise ValueError("cannot sample from an empty replay")

    def state_dict(self) -> dict:
        return {"valid": self.valid.copy(), "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.valid[:] = state["valid"]
        self.count = int(state["count"])


class UniformSampler:
    """Uniform over valid slots, by vectorized rejection: invalid slots (an episode's extra frames,
    transitions still waiting for their n-step return) are a small fraction of the ring."""

    prioritized = False

    def __init__(self, capacity: int) -> None:
        self.slots = ValidSlots(capacity)
        self.high = 0  # slots [0, high) have been written at least once

    @property
    def count(self) -> int:
        return self.slots.count

    def add(self, slots: np.ndarray) -> None:
        slots = np.asarray(slots)
        self.slots.add(slots)
        self.high = max(self.high, int(slots.max()) + 1)

    def add_one(self, slot: int) -> None:
        """`add` for one slot, in scalar code: it runs on every env step."""
        self.slots.add_one(slot)
        self.high = max(self.high, slot + 1)

    def remove_one(self, slot: int) -> None:
        self.slots.remove_one(slot)

    def sample(
        self, batch_size: int, rng: np.random.Generator, beta: float
    ) -> tuple[np.ndarray, np.ndarray | None]:
        self.slots.check_not_empty()
        valid = self.slots.valid
        idx = rng.integers(0, self.high, size=batch_size)
        bad = ~valid[idx]
        for _ in range(8):
            if not bad.any():
                return idx, None
            idx[bad] = rng.integers(0, self.high, size=int(bad.sum()))
            bad = ~valid[idx]
        if bad.any():  # a sparse ring (several streams, early on): draw from the valid list
            idx[bad] = rng.choice(np.flatnonzero(valid), size=int(bad.sum()))
        return idx, None

    def update(self, slots: np.ndarray, priorities: np.ndarray) -> None:
        pass

    def state_dict(self) -> dict:
        return {**self.slots.state_dict(), "high": self.high}

    def load_state_dict(self, state: dict) -> None:
        self.slots.load_state_dict(state)
        self.high = int(state["high"])


class PrioritizedSampler:
    """Proportional prioritization (Schaul et al. 2016): P(i) = p_i^alpha / sum_k p_k^alpha, sampled
    stratified from a sum tree. New transitions get the largest priority seen so far, so each is
    replayed at least about once; importance weights (N P(i))^-beta are normalized by the batch max
    (as in DQN Zoo), so they only ever scale updates down."""

    prioritized = True

    def __init__(
        self, capacity: int, alpha: float, eps: float, kernels: Kernels = ACTIVE
    ) -> None:
        self.tree = SumTree(capacity, kernels)
        self.alpha, self.eps = alpha, eps
        self.max_priority = 1.0
        self.slots = ValidSlots(capacity)

    @property
    def count(self) -> int:
        return self.slots.count

    def add(self, slots: np.ndarray) -> None:
        slots = np.asarray(slots)
        self.slots.add(slots)
        self.tree.set(slots, np.full(slots.shape, self.max_priority**self.alpha))

    def add_one(self, slot: int) -> None:
        """`add` for one slot, in scalar code: it runs on every env step."""
        self.slots.add_one(slot)
        self.tree.set_one(slot, self.max_priority**self.alpha)

    def remove_one(self, slot: int) -> None:
        # An invalid slot's leaf is already 0 (only valid slots ever get a priority), so only a
        # valid one needs the tree: rewriting a 0 would recompute the same sums.
        if self.slots.remove_one(slot):
            self.tree.set_one(slot, 0.0)

    def sample(
        self, batch_size: int, rng: np.random.Generator, beta: float
    ) -> tuple[np.ndarray, np.ndarray]:
        self.slots.check_not_empty()
        if self.tree.total <= 0:
            raise ValueError("cannot sample from an empty sum tree")
        tree = self.tree
        return tree.kernels.per_sample(tree.nodes, tree.depth, rng.random(batch_size), self.count, beta)

    def update(self, slots: np.ndarray, priorities: np.ndarray) -> None:
        """`priorities` are raw (|TD error| or loss); eps and alpha are applied here. Slots that
        stopped being valid since they were sampled keep priority 0."""
        tree = self.tree
        slots, priorities = np.asarray(slots, dtype=np.int64), np.asarray(priorities)
        if slots.shape != priorities.shape or slots.ndim != 1:
            raise ValueError(f"{slots.shape} slots for {priorities.shape} priorities")
        largest = tree.kernels.per_update(
            tree.nodes, tree.depth, self.slots.valid, slots, priorities, self.eps, self.alpha
        )
        if largest != largest:  # nan: nothing was written
            raise ValueError("priorities must be finite (also after the priority exponent)")
        if largest == -2.0:
            raise IndexError("priority update for a slot outside the replay")
        self.max_priority = max(self.max_priority, largest)

    def state_dict(self) -> dict:
        return {"tree": self.tree.state_dict(), "max_priority": self.max_priority, **self.slots.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.tree.load_state_dict(state["tree"])
        self.max_priority = float(state["max_priority"])
        self.slots.load_state_dict(state)

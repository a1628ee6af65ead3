"""A vectorized sum tree: batched O(log N) prefix-sum search and priority updates.

The tree lives in one flat array: node 1 is the root, node i has children 2i and 2i+1, and the
leaves are nodes [size, 2 size). Updates rewrite the leaves and then recompute each touched parent
from its two children, level by level, so sums never drift the way incremental deltas do. The loops
themselves are in `kernels` (numba when installed, else numpy: the same results, see there).
"""

from __future__ import annotations

import math

import numpy as np

from dqnlab.replay import kernels
from dqnlab.replay.kernels import Kernels


class SumTree:
    def __init__(self, capacity: int, kernels: Kernels = kernels.ACTIVE) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self.depth = max(1, int(np.ceil(np.log2(capacity))))
        self.size = 1 << self.depth
        self.nodes = np.zeros(2 * self.size, dtype=np.float64)
        self.kernels = kernels

    @property
    def total(self) -> float:
        return float(self.nodes[1])

    def get(self, indices: np.ndarray) -> np.ndarray:
        return self.nodes[np.asarray(indices) + self.size]

    def set(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Set leaf values (>= 0). With repeated indices the last value wins, as in numpy."""
        indices = np.asarray(indices, dtype=np.int64).ravel()
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), indices.shape)
        if indices.size == 0:
            return
        if np.any(values < 0) or not np.all(np.isfinite(values)):
            raise ValueError("priorities must be finite and >= 0")
        self.kernels.set(self.nodes, self.depth, indices, np.ascontiguousarray(values))

    def set_one(self, index: int, value: float) -> None:
        """`set` for a single leaf, without the array overhead (the per-step add and remove)."""
        if not 0.0 <= value < math.inf:
            raise ValueError("priorities must be finite and >= 0")
        self.kernels.set_one(self.nodes, self.depth, int(index), float(value))

    def find(self, targets: np.ndarray) -> np.ndarray:
        """Leaf index i for each target t in [0, total): the first leaf whose prefix sum exceeds t.

        Never returns a zero-valued leaf while the total is positive: at each node we go right only
        if the right subtree has mass, which also absorbs rounding when t is a hair above the total.
        """
        t = np.asarray(targets, dtype=np.float64)
        return self.kernels.find(self.nodes, self.depth, t.ravel()).reshape(t.shape)

    def state_dict(self) -> dict:
        return {"leaves": self.nodes[self.size : self.size + self.capacity].copy()}

    def load_state_dict(self, state: dict) -> None:
        self.nodes[:] = 0.0
        leaves = state["leaves"]
        self.set(np.arange(leaves.shape[0]), leaves)

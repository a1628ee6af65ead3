"""A vectorized sum tree: batched O(log N) prefix-sum search and priority updates.

The tree lives in one flat array: node 1 is the root, node i has children 2i and 2i+1, and the
leaves are nodes [size, 2 size). Updates rewrite the leaves and then recompute each touched parent
from its two children, level by level, so sums never drift the way incremental deltas do.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    SCALAR_MAX = 8
    """Updates of at most this many leaves walk their paths in Python (cheaper than ~depth numpy
    calls on tiny arrays)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self.depth = max(1, int(np.ceil(np.log2(capacity))))
        self.size = 1 << self.depth
        self.nodes = np.zeros(2 * self.size, dtype=np.float64)

    @property
    def total(self) -> float:
        return float(self.nodes[1])

    def get(self, indices: np.ndarray) -> np.ndarray:
        return self.nodes[np.asarray(indices) + self.size]

    def set(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Set leaf values (>= 0). With repeated indices the last value wins, as in numpy."""
        indices = np.asarray(indices, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        if indices.size == 0:
            return
        if np.any(values < 0) or not np.all(np.isfinite(values)):
            raise ValueError("priorities must be finite and >= 0")
        pos = indices + self.size
        nodes = self.nodes
        nodes[pos] = values
        if pos.size <= self.SCALAR_MAX:
            # A few leaves (the per-step add/remove): walk each path with Python ints. Every node
            # on it is recomputed from its children after they are final, so the sums are
            # bitwise the ones of the level-by-level pass below.
            for p in pos.tolist():
                p >>= 1
                while p:
                    nodes[p] = nodes[2 * p] + nodes[2 * p + 1]
                    p >>= 1
            return
        pairs = nodes.reshape(-1, 2)  # row i = (left, right) children of node i
        for _ in range(self.depth):
            # Repeated parents compute the same sum from the same children: no np.unique needed.
            pos >>= 1
            children = pairs[pos]
            nodes[pos] = children[:, 0] + children[:, 1]

    def find(self, targets: np.ndarray) -> np.ndarray:
        """Leaf index i for each target t in [0, total): the first leaf whose prefix sum exceeds t.

        Never returns a zero-valued leaf while the total is positive: at each node we go right only
        if the right subtree has mass, which also absorbs rounding when t is a hair above the total.
        """
        t = np.array(targets, dtype=np.float64)
        pairs = self.nodes.reshape(-1, 2)  # row i = (left, right) children of node i
        pos = np.ones(t.shape, dtype=np.int64)
        for _ in range(self.depth):
            children = pairs[pos]
            left = children[..., 0]
            go_right = (t >= left) & (children[..., 1] > 0)
            np.subtract(t, left, out=t, where=go_right)
            pos <<= 1
            pos += go_right
        return pos - self.size

    def sample_stratified(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """One leaf from each of `batch_size` equal slices of the total mass (Schaul et al. 2016)."""
        total = self.total
        if total <= 0:
            raise ValueError("cannot sample from an empty sum tree")
        bounds = (np.arange(batch_size) + rng.random(batch_size)) * (total / batch_size)
        return self.find(bounds)

    def state_dict(self) -> dict:
        return {"leaves": self.nodes[self.size : self.size + self.capacity].copy()}

    def load_state_dict(self, state: dict) -> None:
        self.nodes[:] = 0.0
        leaves = state["leaves"]
        self.set(np.arange(leaves.shape[0]), leaves)

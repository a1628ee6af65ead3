"""The replay's inner loops, twice: vectorized numpy (the reference) and compiled loops (numba).

Both versions do the same float operations in the same order (a parent is always `left + right`
of its final children; a search compares and subtracts the same way), so searches, tree updates and
gathered batches are bitwise identical whichever runs (tests/test_replay_kernels.py). The one
exception is `x ** alpha` / `x ** -beta` (numpy's power, with a sqrt fast path at 0.5, vs libm's
pow): priorities and weights can differ in the last ulp, so a run is bitwise reproducible with the
same backend, and statistically the same across backends (the tests check samples stay equal over
many rounds, which such ulps rarely change).
The compiled kernels exist for speed: a numpy level loop pays a few microseconds per call for each of
the tree's ~20 levels, which at batch 32 costs more than the work itself. numba is an optional
dependency (the `fast` extra); without it, or with DQNLAB_KERNELS=numpy, the numpy versions run.

Trees are flat float64 arrays: node 1 is the root, node i has children 2i and 2i+1, the `2**depth`
leaves are nodes [2**depth, 2**(depth+1)).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

try:
    import numba

    # cache=True keeps the machine code next to this file: only the first process compiles.
    _compiled = numba.njit(cache=True, nogil=True)
except ImportError:  # the loops stay plain Python: correct (the tests use them) but slow
    numba = None

    def _compiled(fn: Any) -> Any:
        return fn

# -- numpy: the reference ---------------------------------------------------------------------


def find_numpy(nodes: np.ndarray, depth: int, targets: np.ndarray) -> np.ndarray:
    """Leaf index for each target in [0, total): the first leaf whose prefix sum exceeds it. Goes
    right only if the right subtree has mass, so a zero leaf is never returned while total > 0."""
    t = np.array(targets, dtype=np.float64)
    pairs = nodes.reshape(-1, 2)  # row i = (left, right) children of node i
    pos = np.ones(t.shape, dtype=np.int64)
    for _ in range(depth):
        children = pairs[pos]
        left = children[..., 0]
        go_right = (t >= left) & (children[..., 1] > 0)
        np.subtract(t, left, out=t, where=go_right)
        pos <<= 1
        pos += go_right
    return pos - (1 << depth)


def set_numpy(nodes: np.ndarray, depth: int, leaves: np.ndarray, values: np.ndarray) -> None:
    """Write leaves (the last value wins for repeats), then recompute every touched parent from its
    two children, level by level; a repeated parent computes the same sum from the same children."""
    pos = leaves.astype(np.int64) + (1 << depth)
    nodes[pos] = values
    if pos.size <= 8:
        # A few leaves: walking each path in Python beats ~depth numpy calls on tiny arrays. Every
        # node on a path is recomputed after its children are final (a later leaf's walk redoes
        # the shared part), so the sums are bitwise those of the level-by-level pass.
        for p in pos.tolist():
            _walk_up(nodes, p)
        return
    pairs = nodes.reshape(-1, 2)
    for _ in range(depth):
        pos >>= 1
        children = pairs[pos]
        nodes[pos] = children[:, 0] + children[:, 1]


def _walk_up(nodes: np.ndarray, p: int) -> None:
    p >>= 1
    while p:
        nodes[p] = nodes[2 * p] + nodes[2 * p + 1]
        p >>= 1


def set_one_numpy(nodes: np.ndarray, depth: int, leaf: int, value: float) -> None:
    """One leaf (the per-step add and remove): the path walk, bitwise the same as `set_numpy`."""
    p = leaf + (1 << depth)
    nodes[p] = value
    _walk_up(nodes, p)


def per_sample_numpy(
    nodes: np.ndarray, depth: int, u: np.ndarray, count: int, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified proportional sample (one leaf per equal slice of the mass, offset u in [0, 1))
    and importance weights (count * P(i))^-beta normalized by the batch max."""
    total = nodes[1]
    b = u.shape[0]
    idx = find_numpy(nodes, depth, (np.arange(b) + u) * (total / b))
    probs = nodes[idx + (1 << depth)] / total
    weights = (count * probs) ** (-beta)
    return idx, (weights / weights.max()).astype(np.float32)


def per_update_numpy(
    nodes: np.ndarray, depth: int, valid: np.ndarray, slots: np.ndarray, raw: np.ndarray,
    eps: float, alpha: float,
) -> float:
    """Priorities (|raw| + eps)^alpha for the slots still valid. Returns the largest |raw| + eps
    written (-1 if none); nan if a priority (before or after the exponent) is not finite and -2 if a
    slot is out of range: then nothing is written."""
    if slots.size and (slots.min() < 0 or slots.max() >= valid.shape[0]):
        return -2.0
    p = np.abs(raw.astype(np.float64)) + eps
    values = p**alpha
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(values))):
        return float("nan")
    keep = valid[slots]
    if not keep.any():
        return -1.0
    set_numpy(nodes, depth, slots[keep], values[keep])
    return float(p[keep].max())


def gather_numpy(
    frames: np.ndarray, action: np.ndarray, ret: np.ndarray, discount: np.ndarray,
    steps: np.ndarray, idx: np.ndarray, segment: int, stack: int,
    obs: np.ndarray, act: np.ndarray, r: np.ndarray, d: np.ndarray, nxt: np.ndarray,
) -> None:
    """Fill (obs, act, r, d, nxt) for sampled slots. `frames` is [slots, F] (one flattened frame
    per slot); observations are [B, stack * F]: frames i-stack+1 .. i of the slot's stream segment,
    the bootstrap one `steps[i]` slots later. Outputs are preallocated (they may be pinned memory)."""
    base = (idx // segment) * segment
    b, width = idx.shape[0], frames.shape[1]
    for slots, out in ((idx, obs), (base + (idx - base + steps[idx]) % segment, nxt)):
        if stack == 1:
            np.take(frames, slots, axis=0, out=out)
        else:
            rows = base[:, None] + ((slots - base)[:, None] + np.arange(1 - stack, 1)) % segment
            np.take(frames, rows, axis=0, out=out.reshape(b, stack, width))
    act[:], r[:], d[:] = action[idx], ret[idx], discount[idx]


# -- loops: compiled by numba when it is installed --------------------------------------------


@_compiled
def find_loops(nodes: np.ndarray, depth: int, targets: np.ndarray) -> np.ndarray:
    b = targets.shape[0]
    t = targets.astype(np.float64)
    pos = np.ones(b, dtype=np.int64)
    # Level-major, like the numpy version: the B independent searches of one level overlap their
    # cache misses (the tree is 16 MB at 2^20 leaves) instead of waiting on one path at a time.
    for _ in range(depth):
        for j in range(b):
            p = pos[j]
            left = nodes[2 * p]
            if t[j] >= left and nodes[2 * p + 1] > 0:
                t[j] -= left
                pos[j] = 2 * p + 1
            else:
                pos[j] = 2 * p
    return pos - (1 << depth)


@_compiled
def set_loops(nodes: np.ndarray, depth: int, leaves: np.ndarray, values: np.ndarray) -> None:
    b = leaves.shape[0]
    pos = np.empty(b, dtype=np.int64)
    for j in range(b):
        pos[j] = leaves[j] + (1 << depth)
        nodes[pos[j]] = values[j]
    for _ in range(depth):
        for j in range(b):
            p = pos[j] >> 1
            pos[j] = p
            nodes[p] = nodes[2 * p] + nodes[2 * p + 1]


@_compiled
def set_one_loops(nodes: np.ndarray, depth: int, leaf: int, value: float) -> None:
    p = leaf + (1 << depth)
    nodes[p] = value
    p >>= 1
    while p:
        nodes[p] = nodes[2 * p] + nodes[2 * p + 1]
        p >>= 1


@_compiled
def per_sample_loops(
    nodes: np.ndarray, depth: int, u: np.ndarray, count: int, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    total = nodes[1]
    b = u.shape[0]
    targets = (np.arange(b) + u) * (total / b)
    idx = find_loops(nodes, depth, targets)
    weights = np.empty(b, dtype=np.float64)
    for j in range(b):
        weights[j] = (count * (nodes[idx[j] + (1 << depth)] / total)) ** (-beta)
    return idx, (weights / weights.max()).astype(np.float32)


@_compiled
def per_update_loops(
    nodes: np.ndarray, depth: int, valid: np.ndarray, slots: np.ndarray, raw: np.ndarray,
    eps: float, alpha: float,
) -> float:
    b = slots.shape[0]
    p = np.empty(b, dtype=np.float64)
    values = np.empty(b, dtype=np.float64)
    for j in range(b):  # every check before any write (numba does not check bounds)
        if slots[j] < 0 or slots[j] >= valid.shape[0]:
            return -2.0
        p[j] = abs(np.float64(raw[j])) + eps
        values[j] = p[j] ** alpha
        if not (np.isfinite(p[j]) and np.isfinite(values[j])):
            return np.nan
    kept = 0
    leaves = np.empty(b, dtype=np.int64)
    largest = -1.0
    for j in range(b):
        if valid[slots[j]]:
            leaves[kept] = slots[j]
            values[kept] = values[j]
            largest = max(largest, p[j])
            kept += 1
    set_loops(nodes, depth, leaves[:kept], values[:kept])
    return largest


@_compiled
def gather_loops(
    frames: np.ndarray, action: np.ndarray, ret: np.ndarray, discount: np.ndarray,
    steps: np.ndarray, idx: np.ndarray, segment: int, stack: int,
    obs: np.ndarray, act: np.ndarray, r: np.ndarray, d: np.ndarray, nxt: np.ndarray,
) -> None:
    width = frames.shape[1]
    for j in range(idx.shape[0]):
        i = idx[j]
        base = (i // segment) * segment
        act[j], r[j], d[j] = action[i], ret[i], discount[i]
        n = base + (i - base + steps[i]) % segment
        for k in range(stack):
            back = stack - 1 - k
            src, src_next = base + (i - base - back) % segment, base + (n - base - back) % segment
            for c in range(width):  # element loops: numba's slice copies cost more at this size
                obs[j, k * width + c] = frames[src, c]
                nxt[j, k * width + c] = frames[src_next, c]


# -- selection --------------------------------------------------------------------------------


class Kernels(NamedTuple):
    name: str
    find: Any
    set: Any
    set_one: Any
    per_sample: Any
    per_update: Any
    gather: Any


NUMPY = Kernels("numpy", find_numpy, set_numpy, set_one_numpy, per_sample_numpy, per_update_numpy,
                gather_numpy)
LOOPS = Kernels("numba" if numba else "python-loops", find_loops, set_loops, set_one_loops,
                per_sample_loops, per_update_loops, gather_loops)
ACTIVE = LOOPS if numba is not None and os.environ.get("DQNLAB_KERNELS") != "numpy" else NUMPY

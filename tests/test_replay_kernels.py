"""The compiled replay kernels (numba) against the numpy reference: same trees, same samples, same
batches. Without numba the loop versions run as plain Python, so these tests still check them."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dqnlab.replay import ReplayBuffer, kernels
from dqnlab.replay.kernels import LOOPS, NUMPY


def random_tree(rng: np.random.Generator, depth: int, zero_frac: float = 0.3) -> np.ndarray:
    leaves = rng.uniform(0.0, 2.0, 1 << depth) * (rng.random(1 << depth) > zero_frac)
    nodes = np.zeros(2 << depth)
    NUMPY.set(nodes, depth, np.arange(1 << depth), leaves)
    return nodes


def test_active_kernels_are_compiled_when_numba_is_installed() -> None:
    if kernels.numba is None:
        assert not os.environ.get("CI"), "CI installs the fast extra: numba should import"
        pytest.skip("numba not installed: the numpy kernels run")
    assert kernels.ACTIVE is LOOPS and LOOPS.name == "numba"


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_find_is_bitwise_the_reference(depth: int) -> None:
    rng = np.random.default_rng(depth)
    nodes = random_tree(rng, depth)
    total = nodes[1]
    # Interior targets, both ends, and a hair above the total (rounding in the caller).
    t = np.concatenate([rng.uniform(0, total, 500), [0.0, total, np.nextafter(total, np.inf)]])
    got, want = LOOPS.find(nodes, depth, t), NUMPY.find(nodes, depth, t)
    np.testing.assert_array_equal(got, want)
    assert np.all(nodes[got + (1 << depth)] > 0)


def test_set_with_repeats_is_bitwise_the_reference() -> None:
    rng = np.random.default_rng(0)
    depth = 9
    a, b = random_tree(rng, depth), None
    b = a.copy()
    for size in [1, 3, 8, 9, 64, 300]:  # the numpy path walks <= 8 leaves in Python
        leaves = rng.integers(0, 1 << depth, size)  # repeats included: the last value wins
        values = rng.uniform(0, 3, size)
        LOOPS.set(a, depth, leaves, values)
        NUMPY.set(b, depth, leaves, values)
        np.testing.assert_array_equal(a, b)
    for _ in range(20):  # the one-leaf walk of the per-step add/remove
        leaf, value = int(rng.integers(0, 1 << depth)), float(rng.uniform(0, 3))
        LOOPS.set_one(a, depth, leaf, value)
        NUMPY.set_one(b, depth, leaf, value)
        NUMPY.set(b, depth, np.array([leaf]), np.array([value]))
        np.testing.assert_array_equal(a, b)
    leaves = np.array([5, 5, 5])
    LOOPS.set(a, depth, leaves, np.array([1.0, 2.0, 7.0]))
    assert a[5 + (1 << depth)] == 7.0
    # No drift: every parent is exactly the sum of its children.
    np.testing.assert_array_equal(a[1 : 1 << depth], a[2 : 2 << depth : 2] + a[3 : 2 << depth : 2])


def test_per_sample_matches_the_reference() -> None:
    rng = np.random.default_rng(1)
    depth = 12
    nodes = random_tree(rng, depth)
    for b in [1, 32, 256]:
        u = rng.random(b)
        (i1, w1), (i2, w2) = LOOPS.per_sample(nodes, depth, u, 3000, 0.4), NUMPY.per_sample(
            nodes, depth, u, 3000, 0.4
        )
        np.testing.assert_array_equal(i1, i2)
        assert w1.dtype == w2.dtype == np.float32
        np.testing.assert_allclose(w1, w2, rtol=1e-6)  # pow may round differently in the last ulp
        assert w1.max() == 1.0


def test_per_update_matches_the_reference_and_skips_invalid_slots() -> None:
    rng = np.random.default_rng(2)
    depth = 8
    a = random_tree(rng, depth)
    b = a.copy()
    valid = rng.random(1 << depth) > 0.2
    slots = rng.integers(0, 1 << depth, 64)
    raw = rng.standard_normal(64).astype(np.float32)
    m1 = LOOPS.per_update(a, depth, valid, slots, raw, 1e-6, 0.5)
    m2 = NUMPY.per_update(b, depth, valid, slots, raw, 1e-6, 0.5)
    assert m1 == m2 == pytest.approx(np.abs(raw[valid[slots]].astype(np.float64)).max() + 1e-6)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    untouched = np.setdiff1d(np.arange(1 << depth), slots[valid[slots]]) + (1 << depth)
    np.testing.assert_array_equal(a[untouched], b[untouched])
    # Nothing valid: nothing written, -1; a nan priority: nothing written, nan.
    for k in (LOOPS, NUMPY):
        before = a.copy()
        assert k.per_update(a, depth, np.zeros_like(valid), slots, raw, 1e-6, 0.5) == -1.0
        bad = raw.copy()
        bad[3] = np.nan
        assert np.isnan(k.per_update(a, depth, valid, slots, bad, 1e-6, 0.5))
        np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize("stack,width,dtype", [(1, 4, np.float32), (4, 6, np.uint8), (2, 3, np.uint8)])
def test_gather_is_bitwise_the_reference(stack: int, width: int, dtype: type) -> None:
    rng = np.random.default_rng(3)
    capacity, segment = 120, 40  # three streams: the frame history wraps inside its own segment
    frames = rng.integers(0, 255, (capacity, width)).astype(dtype)
    action = rng.integers(0, 6, capacity).astype(np.int32)
    ret = rng.standard_normal(capacity).astype(np.float32)
    discount = rng.uniform(0, 1, capacity).astype(np.float32)
    steps = rng.integers(1, 4, capacity).astype(np.uint8)
    idx = np.concatenate([rng.integers(0, capacity, 50), [0, 39, 40, 79, 119]])
    def run(k: kernels.Kernels) -> list[np.ndarray]:
        b = idx.size
        outs = [np.empty((b, stack * width), dtype), np.empty(b, np.int64), np.empty(b, np.float32),
                np.empty(b, np.float32), np.empty((b, stack * width), dtype)]
        k.gather(frames, action, ret, discount, steps, idx, segment, stack, *outs)
        return outs

    got, want = run(LOOPS), run(NUMPY)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    assert got[0].shape == (idx.size, stack * width) and got[1].dtype == np.int64


def _fill(rb: ReplayBuffer, rng: np.random.Generator, steps: int) -> None:
    obs = rng.integers(0, 255, rb.obs_shape).astype(np.uint8)
    rb.start_episode(0, obs)
    for t in range(steps):
        obs = np.concatenate([obs[1:], rng.integers(0, 255, (1, *rb.obs_shape[1:]))]).astype(np.uint8)
        end = t % 37 == 36
        rb.add(0, t % 3, float(t % 5), obs, terminal=end, truncated=False)
        if end:
            rb.start_episode(0, obs)


def test_prioritized_buffer_is_the_same_whichever_kernels_run() -> None:
    """The whole pipeline (add, sample, weights, priority updates) through a ring that wraps."""
    bufs = [
        ReplayBuffer(300, (4, 2, 2), np.uint8, stack=4, n_step=3, prioritized=True, alpha=0.6,
                     seed=7, kernels=k)
        for k in (LOOPS, NUMPY)
    ]
    for rb in bufs:
        _fill(rb, np.random.default_rng(4), 500)
    td_rng = np.random.default_rng(5)
    for _ in range(20):
        b1, b2 = (rb.sample(32, beta=0.5) for rb in bufs)
        for f in ("indices", "obs", "action", "ret", "discount", "next_obs"):
            np.testing.assert_array_equal(getattr(b1, f), getattr(b2, f))
        np.testing.assert_allclose(b1.weights, b2.weights, rtol=1e-6)
        td = td_rng.standard_normal(32).astype(np.float32)
        for rb, b in zip(bufs, (b1, b2)):
            rb.update_priorities(b.indices, td)
    np.testing.assert_allclose(bufs[0].sampler.tree.nodes, bufs[1].sampler.tree.nodes, rtol=1e-12)


def test_bad_priority_updates_and_gathers_fail_loudly_and_write_nothing() -> None:
    """The compiled kernels do not check bounds: the Python side must, before anything is written."""
    rb = ReplayBuffer(200, (3,), np.float32, prioritized=True, alpha=2.0, seed=0)
    rb.start_episode(0, np.zeros(3, np.float32))
    for t in range(50):
        rb.add(0, 0, 1.0, np.full(3, t, np.float32), False, False)
    tree = rb.sampler.tree.nodes.copy()
    with pytest.raises(IndexError):
        rb.update_priorities(np.array([3, 500]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="slots for"):
        rb.update_priorities(np.array([3, 4]), np.array([1.0]))
    with pytest.raises(ValueError, match="after the priority exponent"):
        rb.update_priorities(np.array([3, 4]), np.array([1.0, 1e200]))  # 1e200 ** 2 overflows
    np.testing.assert_array_equal(rb.sampler.tree.nodes, tree)
    with pytest.raises(IndexError):
        rb.batch_at(np.array([1, 200]))
    import torch

    from dqnlab.transfer import BatchTransfer

    small = BatchTransfer(torch.device("cpu"), staged=True).host_batch(4, (3,), np.float32)
    with pytest.raises(ValueError, match="does not fit"):
        rb.batch_at(np.arange(8), out=small)

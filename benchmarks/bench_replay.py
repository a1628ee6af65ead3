"""Replay benchmarks: dqnlab's ReplayBuffer against the lesson's naive designs (baselines.py).

Both sides hold CartPole-sized observations (4 float32) so that a 1M-transition deque of tuples
fits in memory; both sides end with torch tensors (the lesson's sample builds them; for dqnlab we
add the `torch.as_tensor` calls that `Agent.to_tensors` makes).
"""

from __future__ import annotations

import gc
import os
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from benchmarks.baselines import NaivePrioritizedReplay, NaiveReplayBuffer
from dqnlab.replay import ReplayBuffer
from dqnlab.replay.kernels import ACTIVE, NUMPY, Kernels

OBS = (4,)


def time_per_call(fn: Callable[[], Any], repeats: int, rounds: int = 5) -> float:
    """Seconds per call: the best of `rounds` rounds of `repeats` calls (min filters noise from
    other processes on a shared machine)."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t) / repeats)
    return best


def filled_dqnlab_replay(
    capacity: int, prioritized: bool, seed: int = 0, kernels: Kernels = ACTIVE
) -> ReplayBuffer:
    """A full ring, written through the arrays directly (capacity x `add` would take minutes with
    PER); priorities are then spread by one real `update_priorities` call."""
    rb = ReplayBuffer(capacity, OBS, np.float32, prioritized=prioritized, alpha=0.5, seed=seed,
                      kernels=kernels)
    rng = np.random.default_rng(seed)
    rb.frames[:] = rng.standard_normal((rb.capacity, *OBS), dtype=np.float32)
    rb.action[:] = rng.integers(0, 2, rb.capacity)
    rb.ret[:] = 1.0
    rb.discount[:] = 0.99
    rb.steps[:] = 1
    slots = np.arange(rb.capacity - 1)  # the last slot is the current observation, not a transition
    rb.sampler.add(slots)
    rb.update_priorities(slots, rng.uniform(0.5, 1.5, slots.size))
    return rb


def _as_tensors(batch: Any) -> tuple[torch.Tensor, ...]:
    ts = [torch.as_tensor(batch.obs), torch.as_tensor(batch.action), torch.as_tensor(batch.ret),
          torch.as_tensor(batch.discount), torch.as_tensor(batch.next_obs)]
    if batch.weights is not None:
        ts.append(torch.as_tensor(batch.weights))
    return tuple(ts)


def bench_per(batch_sizes: tuple[int, ...], quick: bool, kernels: str | None = None) -> list[dict[str, Any]]:
    """Prioritized sample + importance weights + priority update, capacity 2^20. `kernels="numpy"`
    measures the fallback used when numba is not installed (reported, no target)."""
    capacity = 1 << 20
    k = NUMPY if kernels == "numpy" else ACTIVE
    rb = filled_dqnlab_replay(capacity, prioritized=True, kernels=k)
    naive = NaivePrioritizedReplay(capacity, alpha=0.5)
    rng = np.random.default_rng(1)
    items = [(rng.standard_normal(4).astype(np.float32), int(rng.integers(2)), 1.0,
              rng.standard_normal(4).astype(np.float32), False) for _ in range(4096)]
    naive.tree.fill_uniform(items, 1.0, rng)
    random.seed(0)
    rows = []
    for b in batch_sizes:
        td = np.abs(rng.standard_normal(b)) + 0.1

        def ours(b: int = b, td: np.ndarray = td) -> None:
            batch = rb.sample(b, beta=0.5)
            _as_tensors(batch)
            rb.update_priorities(batch.indices, td)

        def base(b: int = b, td: np.ndarray = td) -> None:
            out = naive.sample(b)
            naive.update_priorities(out[5], td)

        reps = max(3, (200 if quick else 1000) // b)
        t_ours = time_per_call(ours, reps * 10)
        t_base = time_per_call(base, reps, rounds=3)
        target = 10.0 if b <= 32 else 20.0
        fallback = k is NUMPY and ACTIVE is not NUMPY  # the numpy fallback, measured for reference
        rows.append(dict(
            name=f"replay/per_sample_update_b{b}" + ("_numpy_kernels" if fallback else ""),
            unit="us/call", dqnlab=t_ours * 1e6, baseline=t_base * 1e6, ratio=t_base / t_ours,
            target="report" if fallback else f">= {target:g}x",
            passed=None if fallback else t_base / t_ours >= target,
            note=f"capacity 2^20, sample + IS weights + priority update, 4-float obs, {k.name} "
                 "kernels; baseline: recursive Python sum tree (lesson)",
        ))
    return rows


def bench_uniform(quick: bool) -> list[dict[str, Any]]:
    """Uniform sampling, capacity 1M, batch 128, against the lesson's deque of tuples."""
    capacity, b = 1_000_000, 128
    rb = filled_dqnlab_replay(capacity, prioritized=False)
    naive = NaiveReplayBuffer(capacity)
    rng = np.random.default_rng(2)
    s = rng.standard_normal((capacity + 1, 4), dtype=np.float32)
    for i in range(capacity):  # one array per state, as the lesson's push stores them
        naive.push(s[i].copy(), i & 1, 1.0, s[i + 1].copy(), False)
    random.seed(0)
    t_ours = time_per_call(lambda: _as_tensors(rb.sample(b)), 200 if quick else 2000)
    t_base = time_per_call(lambda: naive.sample(b), 5 if quick else 20, rounds=3)
    return [dict(
        name="replay/uniform_sample_b128", unit="us/call", dqnlab=t_ours * 1e6, baseline=t_base * 1e6,
        ratio=t_base / t_ours, target=">= 50x", passed=t_base / t_ours >= 50,
        note="capacity 1M, CartPole obs (4 float32); baseline: deque of (s, a, r, s', done) tuples, "
             "random.sample + np.array (lesson)",
    )]


def _rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bench_atari_memory(rss_capacity: int) -> list[dict[str, Any]]:
    """Atari replay memory: nbytes of the real arrays of a 1M buffer (allocated lazily, so the
    allocation costs nothing until written), and RSS growth of a `rss_capacity` buffer after
    writing every page of every array."""
    floor_per = 84 * 84
    rb = ReplayBuffer(1_000_000, (4, 84, 84), np.uint8, stack=4, n_step=3, prioritized=True)
    nbytes_1m = rb.nbytes
    del rb
    gc.collect()
    before = _rss_bytes()
    rb = ReplayBuffer(rss_capacity, (4, 84, 84), np.uint8, stack=4, n_step=3, prioritized=True)
    arrays = [rb.frames, rb.action, rb.ret, rb.discount, rb.steps, rb.sampler.slots.valid, rb.sampler.tree.nodes]
    for a in arrays:
        a.fill(1)
    grown = _rss_bytes() - before
    nbytes_small = rb.nbytes
    del rb, arrays
    gc.collect()
    ratio_1m = nbytes_1m / (1_000_000 * floor_per)
    ratio_rss = grown / (rss_capacity * floor_per)
    return [
        dict(name="replay/atari_1m_nbytes", unit="GB", dqnlab=nbytes_1m / 1e9, baseline=7.056,
             ratio=ratio_1m, target="<= 1.02x floor", passed=ratio_1m <= 1.02,
             note="ReplayBuffer(1M, (4,84,84) uint8, stack=4, n=3, PER).nbytes: sum of the real "
                  "arrays (frames, action, ret, discount, steps, valid, sum tree); floor = 84*84 B "
                  "per transition"),
        dict(name=f"replay/atari_{rss_capacity // 1000}k_rss", unit="GB", dqnlab=grown / 1e9,
             baseline=rss_capacity * floor_per / 1e9, ratio=ratio_rss, target="<= 1.02x floor",
             passed=ratio_rss <= 1.02,
             note=f"RSS growth after writing every page of a {rss_capacity:,}-slot buffer "
                  f"(nbytes {nbytes_small / 1e9:.3f} GB)"),
    ]

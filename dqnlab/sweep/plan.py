"""The planner behind `--dry-run`: the grid and what it costs before anything runs.

Cost = number of runs, env steps and frames, expected CPU- (or GPU-) hours from the measured
throughput table (`throughput.py`), wall time for a number of parallel workers, and replay memory
per run from the storage layout (`dqnlab/replay/buffer.py`): one frame per slot (an 84x84 uint8
frame for stacked Atari observations, the whole observation otherwise) plus the per-slot arrays,
plus PER's sum tree.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from dqnlab.config import Config
from dqnlab.sweep import throughput
from dqnlab.sweep.definition import Sweep
from dqnlab.sweep.grid import Run

# Evaluation, start-up and checkpoints are not in the throughput rows; this margin covers them.
# Check: the classic main job (48 runs, 2 workers) was planned at 14 min and took 13.2 min.
OVERHEAD = 1.15
MAX_ENV_ROWS = 12


@functools.cache
def observation(env_id: str, family: str, frame_stack: int, screen_size: int) -> tuple[tuple[int, ...], str]:
    """Observation shape and dtype. Atari's follow from the config (make_env's contract) without
    starting an emulator; other envs are built once (cheap) and asked."""
    if family == "atari":
        return (frame_stack, screen_size, screen_size), "uint8"
    from dqnlab.envs import make_env
    from dqnlab.presets import resolve_config

    env = make_env(resolve_config(env_id).env, 0)
    obs, _ = env.reset(seed=0)
    env.close()
    return tuple(obs.shape), str(obs.dtype)


def replay_bytes(cfg: Config) -> int:
    """Bytes of the replay storage of a run at full capacity (storage layout, not a guess)."""
    from dqnlab.replay import ReplayBuffer
    from dqnlab.replay.sum_tree import SumTree

    shape, dtype = observation(cfg.env.id, cfg.env.family, cfg.env.frame_stack, cfg.env.screen_size)
    frame_shape = shape[1:] if cfg.env.frame_stack > 1 else shape
    frame_bytes = int(np.prod(frame_shape)) * np.dtype(dtype).itemsize
    # Per-slot bytes (action, return, discount, steps, valid flag) from a tiny buffer of the same
    # kind, so a change in buffer.py changes the planner too.
    probe_capacity = 64
    probe = ReplayBuffer(probe_capacity, shape, np.dtype(dtype), stack=cfg.env.frame_stack,
                         n_step=cfg.replay.n_step, prioritized=False)
    per_slot = (probe.nbytes - probe.frames.nbytes) / probe_capacity
    tree = SumTree(cfg.replay.capacity).nodes.nbytes if cfg.replay.prioritized else 0
    return int(cfg.replay.capacity * (frame_bytes + per_slot) + tree)


@dataclass(frozen=True)
class Plan:
    runs: int
    steps: int
    frames: int
    device_hours: float | None
    """Training hours on one CPU core (or one GPU), None if a family has no throughput row."""
    extrapolated: bool
    """True if some config had no exact throughput row (another network or batch size)."""
    max_replay_bytes: int

    def wall_hours(self, parallel: int) -> float | None:
        return None if self.device_hours is None else self.device_hours / max(1, parallel)


def plan(runs: list[Run], device: str = "cpu") -> Plan:
    seconds, extrapolated, unknown = 0.0, False, False
    for run in runs:
        s, exact = throughput.estimate_seconds(run.config, device)
        if s is None:
            unknown = True
            continue
        seconds += s * OVERHEAD
        extrapolated |= not exact
    return Plan(
        runs=len(runs),
        steps=sum(r.config.total_steps for r in runs),
        frames=sum(r.config.total_frames for r in runs),
        device_hours=None if unknown else seconds / 3600,
        extrapolated=extrapolated,
        max_replay_bytes=max((replay_bytes(r.config) for r in runs), default=0),
    )


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def _hours(h: float | None) -> str:
    if h is None:
        return "unknown (no throughput row)"
    return f"{h * 60:.0f} min" if h < 1 else f"{h:,.1f} h"


def describe(sweep: Sweep, runs: list[Run], *, device: str = "cpu", parallel: int = 1,
             parallel_unit: str = "worker(s)") -> str:
    """The text `--dry-run` prints: the grid per env, then the totals; `parallel` runs train at
    once (the executor's `parallelism`), called `parallel_unit`."""
    # One row per env; per family when there are many envs (57 Atari rows say nothing more).
    by_env: dict[str, list[Run]] = defaultdict(list)
    many = len(sweep.envs) > MAX_ENV_ROWS
    for r in runs:
        by_env[f"{r.config.env.family} ({len({x.env for x in runs if x.config.env.family == r.config.env.family})} envs)" if many else r.env].append(r)
    unit = "CPU" if device == "cpu" else "GPU"
    lines = [
        f"sweep {sweep.name}: {len(sweep.envs)} env(s) x {len(sweep.variant_list())} variant(s) "
        f"x {len(sweep.seed_list())} seed(s) = {len(runs)} runs",
        f"  variants: {', '.join(sweep.variant_list())}",
        f"  seeds:    {', '.join(map(str, sweep.seed_list()))}",
        "",
        f"  {'env':28s} {'runs':>5s} {'steps/run':>11s} {'replay/run':>11s} {unit + '-hours':>10s}",
    ]
    for env_id, env_runs in by_env.items():
        p = plan(env_runs, device)
        budgets = sorted({r.config.total_steps for r in env_runs})
        budget = f"{budgets[0]:,}" if len(budgets) == 1 else f"{budgets[0]:,}-{budgets[-1]:,}"
        hours = "?" if p.device_hours is None else f"{p.device_hours:.2f}"
        lines.append(f"  {env_id:28s} {p.runs:5d} {budget:>11s} {_size(p.max_replay_bytes):>11s} {hours:>10s}")
    total = plan(runs, device)
    lines += [
        "",
        f"  total: {total.runs} runs, {total.steps:,} agent steps ({total.frames:,} frames)",
        f"  expected {unit}-hours: {_hours(total.device_hours)}"
        + (" (extrapolated: some configs have no exact throughput row)" if total.extrapolated else ""),
        f"  replay memory per run: up to {_size(total.max_replay_bytes)}",
    ]
    lines.append(f"  expected wall time with {parallel} {parallel_unit}: {_hours(total.wall_hours(parallel))}")
    if device == "cpu" and any(r.config.env.family == "atari" for r in runs):
        lines.append("  (Atari is a GPU workload; no GPU throughput row is measured yet, so this is the CPU figure)")
    lines.append(f"  (throughput table: {throughput.MEASURED})")
    return "\n".join(lines)

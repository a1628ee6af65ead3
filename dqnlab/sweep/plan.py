"""The planner behind `--dry-run`: the grid and what it costs before anything runs.

Cost = number of runs, env steps and frames, expected CPU- (or GPU-) hours from the measured
throughput table (`throughput.py`) and the packs the runs train in (`packing.py`: a pack of K takes
K times one run's time over the measured speedup of packing K), wall time for a number of parallel
workers (each training one pack at a time), and replay memory
per run from the storage layout (`dqnlab/replay/buffer.py`): one frame per slot (an 84x84 uint8
frame for stacked Atari observations, the whole observation otherwise) plus the per-slot arrays,
plus PER's sum tree.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dqnlab.config import Config
from dqnlab.sweep import packing, throughput
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
    return _replay_bytes(cfg.env.id, cfg.env.family, cfg.env.frame_stack, cfg.env.screen_size,
                         cfg.replay.capacity, cfg.replay.n_step, cfg.replay.prioritized)


@functools.lru_cache(maxsize=1024)  # a grid's runs share a few configs: planning cost is per config
def _replay_bytes(env_id: str, family: str, frame_stack: int, screen_size: int, capacity: int,
                  n_step: int, prioritized: bool) -> int:
    from dqnlab.replay import ReplayBuffer
    from dqnlab.replay.sum_tree import SumTree

    shape, dtype = observation(env_id, family, frame_stack, screen_size)
    frame_shape = shape[1:] if frame_stack > 1 else shape
    frame_bytes = int(np.prod(frame_shape)) * np.dtype(dtype).itemsize
    # Per-slot bytes (action, return, discount, steps, valid flag) from a tiny buffer of the same
    # kind, so a change in buffer.py changes the planner too.
    probe_capacity = 64
    probe = ReplayBuffer(probe_capacity, shape, np.dtype(dtype), stack=frame_stack, n_step=n_step, prioritized=False)
    per_slot = (probe.nbytes - probe.frames.nbytes) / probe_capacity
    tree = SumTree(capacity).nodes.nbytes if prioritized else 0
    return int(capacity * (frame_bytes + per_slot) + tree)


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
    longest_hours: float | None = None
    """Hours of the longest pack (a run alone is a pack of one): no wall time is shorter."""

    def wall_hours(self, parallel: int) -> float | None:
        if self.device_hours is None:
            return None
        return max(self.device_hours / max(1, parallel), self.longest_hours or 0.0)


def pack_seconds(pack: list[Run], device: str = "cpu") -> tuple[float | None, bool]:
    """Expected seconds of one process training `pack` (runs differing only by seed) to its
    budget, and whether the throughput row was exact; None if no row fits."""
    s, exact = throughput.estimate_seconds(pack[0].config, device)
    if s is None:
        return None, False
    return s * OVERHEAD * len(pack) / packing.speedup(pack[0].config, device, len(pack)), exact


def plan(runs: list[Run], device: str = "cpu", packs: list[list[Run]] | None = None,
         steps_done: Mapping[str, int] | None = None) -> Plan:
    """The cost of `runs`, trained in `packs` (default: each run alone); with `steps_done` (run
    dir -> the checkpoint step it resumes from; a pack's runs share it) the hours are those left
    (the step and frame counts stay the runs' budgets)."""
    seconds, longest, extrapolated, unknown = 0.0, 0.0, False, False
    for pack in packs if packs is not None else [[r] for r in runs]:
        s, exact = pack_seconds(pack, device)
        if s is None:
            unknown = True
            continue
        if steps_done:
            s *= max(0.0, 1 - steps_done.get(pack[0].rel_dir, 0) / pack[0].config.total_steps)
        seconds += s
        longest = max(longest, s)
        extrapolated |= not exact
    return Plan(
        runs=len(runs),
        steps=sum(r.config.total_steps for r in runs),
        frames=sum(r.config.total_frames for r in runs),
        device_hours=None if unknown else seconds / 3600,
        extrapolated=extrapolated,
        max_replay_bytes=max((replay_bytes(r.config) for r in runs), default=0),
        longest_hours=None if unknown else longest / 3600,
    )


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def hours_text(h: float | None) -> str:
    """Hours as `42 min` or `3.5 h`; what None means (no throughput row) when unknown."""
    if h is None:
        return "unknown (no throughput row)"
    return f"{h * 60:.0f} min" if h < 1 else f"{h:,.1f} h"


def _seeds(seeds: list[int]) -> str:
    """[0, 1, 2, 5] -> "0-2,5"."""
    spans: list[list[int]] = []
    for seed in seeds:
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def describe_packs(packs: list[list[Run]], runs_per_process: packing.PackSize) -> list[str]:
    """`--dry-run`'s lines on packing: how many processes, their sizes, which seeds go together."""
    flag = f"--runs-per-process {runs_per_process}"
    if all(len(p) == 1 for p in packs):
        why = (" packs only where measured to pay: MLPs up to "
               f"{packing.MAX_PACKED_WIDTH} wide and MinAtar, on the CPU") if runs_per_process == packing.AUTO else ""
        return [f"  packs: none, every run trains in its own process ({flag}{why})"]
    lines = [f"  packs: {len(packs)} processes for {sum(map(len, packs))} runs ({packing.sizes_text(packs)}; "
             f"{flag}): the seeds of one config train in lockstep in one process"]
    groups: dict[str, list[str]] = defaultdict(list)
    for p in packs:
        groups[f"{p[0].env}/{p[0].variant}"].append(_seeds([r.seed for r in p]))
    shown = list(groups.items())[:MAX_ENV_ROWS]
    width = max(len(label) for label, _ in shown)
    for label, seeds in shown:
        lines.append(f"    {label:{width}s}  seeds {' | '.join(seeds)}")
    if len(groups) > MAX_ENV_ROWS:
        lines.append(f"    ... and {len(groups) - MAX_ENV_ROWS} more env/variant groups")
    return lines


def describe(sweep: Sweep, runs: list[Run], *, device: str = "cpu", parallel: int = 1,
             parallel_unit: str = "worker(s)", packs: list[list[Run]] | None = None,
             runs_per_process: packing.PackSize = 1) -> str:
    """The text `--dry-run` prints: the grid per env, the packs the runs train in (default: each
    run alone; `runs_per_process` is what asked for them), then the totals; `parallel` packs train
    at once (the executor's `parallelism`), called `parallel_unit`."""
    order = {r.rel_dir: i for i, r in enumerate(runs)}
    packs = sorted(packs if packs is not None else [[r] for r in runs], key=lambda p: order[p[0].rel_dir])
    pack_of = {r.rel_dir: i for i, p in enumerate(packs) for r in p}
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
        f"  seeds:    {_seeds(sweep.seed_list())}",
        "",
        f"  {'env':28s} {'runs':>5s} {'steps/run':>11s} {'replay/run':>11s} {unit + '-hours':>10s}",
    ]
    for env_id, env_runs in by_env.items():
        p = plan(env_runs, device, [packs[i] for i in sorted({pack_of[r.rel_dir] for r in env_runs})])
        budgets = sorted({r.config.total_steps for r in env_runs})
        budget = f"{budgets[0]:,}" if len(budgets) == 1 else f"{budgets[0]:,}-{budgets[-1]:,}"
        hours = "?" if p.device_hours is None else f"{p.device_hours:.2f}"
        lines.append(f"  {env_id:28s} {p.runs:5d} {budget:>11s} {_size(p.max_replay_bytes):>11s} {hours:>10s}")
    total = plan(runs, device, packs)
    notes = ["extrapolated: some configs have no exact throughput row"] if total.extrapolated else []
    largest = max((len(p) for p in packs), default=1)
    if largest > 1:
        notes.append("with the measured speedup of packing")
    lines += [
        "",
        *describe_packs(packs, runs_per_process),
        f"  total: {total.runs} runs, {total.steps:,} agent steps ({total.frames:,} frames)",
        f"  expected {unit}-hours: {hours_text(total.device_hours)}" + (f" ({'; '.join(notes)})" if notes else ""),
        f"  replay memory per run: up to {_size(total.max_replay_bytes)}"
        + (f" (a process holds its pack's, up to {largest} runs')" if largest > 1 else ""),
    ]
    lines.append(f"  expected wall time with {parallel} {parallel_unit}: {hours_text(total.wall_hours(parallel))}")
    if device == "cpu" and any(r.config.env.family == "atari" for r in runs):
        lines.append("  (Atari is a GPU workload; no GPU throughput row is measured yet, so this is the CPU figure)")
    lines.append(f"  (throughput table: {throughput.MEASURED})")
    return "\n".join(lines)

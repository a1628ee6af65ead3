"""`launch`: definition -> grid -> sweep directory -> the runs still to do -> an executor.

Everything that can be wrong with the input (the experiment file, an env, a variant, a config key,
the profile) is checked before anything is written or submitted. Relaunching is idempotent: done
runs are skipped, unfinished ones resume from their checkpoints, failed ones rerun (resuming from
their last checkpoint) only with `retry_failed`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dqnlab.errors import ConfigError
from dqnlab.sweep import definition, grid, plan, throughput
from dqnlab.sweep import status as st
from dqnlab.sweep.profile import Profile, load_profile
from dqnlab.sweep.worker import RunOptions

EXECUTORS = ("local", "slurm", "debug")


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class LaunchResult:
    sweep_dir: Path
    runs: list[grid.Run]
    to_run: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Run -> why it was not run (done, failed, in flight)."""
    outcomes: dict[str, str] = field(default_factory=dict)
    jobs: list[Any] = field(default_factory=list)
    """submitit jobs (slurm executor)."""

    @property
    def exit_code(self) -> int:
        if any(o == "failed" for o in self.outcomes.values()):
            return 1
        if any(o == "stopped" for o in self.outcomes.values()):
            return 130
        return 0


def select(sweep_dir: Path, runs: list[grid.Run], retry_failed: bool) -> tuple[list[str], dict[str, str]]:
    """Split runs into those to train now and those skipped (with the reason)."""
    to_run, skipped = [], {}
    for run in runs:
        state = st.run_state(sweep_dir, {"run_dir": run.rel_dir, "env": run.env, "variant": run.variant,
                                         "seed": run.seed}).state
        if state == "done":
            skipped[run.rel_dir] = "done"
        elif state == "failed" and not retry_failed:
            skipped[run.rel_dir] = "failed"
        else:
            to_run.append(run.rel_dir)
    return to_run, skipped


def longest_first(runs: list[grid.Run], rel_dirs: list[str], device: str) -> list[str]:
    """Order runs by expected duration, longest first: the sweep's tail is then short."""
    cost = {r.rel_dir: throughput.estimate_seconds(r.config, device)[0] or 0.0 for r in runs}
    return sorted(rel_dirs, key=lambda rel: -cost[rel])


def launch(
    experiment: str | Path | definition.Sweep,
    *,
    sweep_dir: str | Path | None = None,
    executor: str = "local",
    profile: str | Path | Profile | None = None,
    dry_run: bool = False,
    full: bool = False,
    subset: str | None = None,
    seeds: str | None = None,
    envs: str | None = None,
    variants: str | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    retry_failed: bool = False,
    force: bool = False,
    workers: int | None = None,
    device: str | None = None,
    wandb_project: str | None = None,
    wait: bool = False,
    out: TextIO | None = None,
) -> LaunchResult:
    out = out or sys.stdout
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    if executor == "slurm" and profile is None:
        raise ConfigError("--executor slurm needs --profile FILE (examples in slurm/profiles/)")
    if executor != "slurm" and profile is not None:
        raise ConfigError("--profile applies to --executor slurm only")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    prof = profile if isinstance(profile, Profile) or profile is None else load_profile(profile)
    base = experiment if isinstance(experiment, definition.Sweep) else definition.load(experiment)
    sweep = definition.resolve(base, full=full, subset=subset, seeds=seeds, envs=envs,
                               variants=variants, steps=steps, overrides=overrides)
    runs = grid.expand(sweep)  # resolves every config: bad input fails here, nothing written yet
    device = device or (prof.run_device if prof else "cpu")
    workers = workers or default_workers()
    sweep_dir = Path(sweep_dir) if sweep_dir is not None else Path("results") / sweep.name
    result = LaunchResult(sweep_dir, runs)

    if dry_run:
        parallel = workers if executor == "local" else (prof.array_parallelism if prof else 1)
        print(plan.describe(sweep, runs, device=device, parallel=parallel, executor=executor), file=out)
        return result

    grid.prepare(sweep, runs, sweep_dir, force=force)
    result.to_run, result.skipped = select(sweep_dir, runs, retry_failed)
    if executor == "slurm" and result.to_run:
        from dqnlab.sweep.slurm_launch import in_flight

        for rel in in_flight(sweep_dir, result.to_run):
            result.skipped[rel] = "in flight"
        result.to_run = [r for r in result.to_run if r not in result.skipped]
    _print_selection(result, out)
    if not result.to_run:
        return result

    options = RunOptions(device=device, wandb_project=wandb_project, sweep_name=sweep.name)
    ordered = longest_first(runs, result.to_run, device)
    if executor == "debug":
        from dqnlab.sweep.local import run_debug

        result.outcomes = run_debug(sweep_dir, ordered, options)
    elif executor == "local":
        from dqnlab.sweep.local import run_local

        result.outcomes = run_local(sweep_dir, ordered, options, workers)
    else:
        from dqnlab.sweep.slurm_launch import submit

        assert prof is not None
        result.jobs = submit(sweep_dir, ordered, prof, options, job_name=f"dqnlab-{sweep.name}")
        ids = sorted({j.job_id.split("_")[0] for j in result.jobs})
        print(f"dqnlab: submitted {len(result.jobs)} job(s) for {len(ordered)} run(s) "
              f"(array {', '.join(ids)}); follow with: dqnlab status {sweep_dir}", file=out)
        if wait:
            result.outcomes = wait_for_jobs(sweep_dir, result.jobs, ordered)
    _print_outcomes(result, out)
    return result


def wait_for_jobs(sweep_dir: Path, jobs: list[Any], rel_dirs: list[str], poll_s: float = 5.0,
                  timeout_s: float | None = None) -> dict[str, str]:
    """Follow SLURM jobs with the live monitor until they end; outcomes from the run dirs."""
    from dqnlab.sweep.monitor import SweepMonitor

    monitor = SweepMonitor(sweep_dir, rel_dirs)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while not all(j.done() for j in jobs):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"SLURM jobs still running after {timeout_s} s")
        monitor.update()
        time.sleep(poll_s)
    states = {s.rel_dir: s.state for s in monitor.update(final=True)}
    return {rel: {"done": "done", "failed": "failed"}.get(states.get(rel, ""), "stopped")
            for rel in rel_dirs}


def _print_selection(result: LaunchResult, out: TextIO) -> None:
    reasons: dict[str, int] = {}
    for why in result.skipped.values():
        reasons[why] = reasons.get(why, 0) + 1
    parts = [f"{n} {why}" for why, n in reasons.items()]
    extra = " (--retry-failed reruns them)" if reasons.get("failed") else ""
    print(f"dqnlab: sweep {result.sweep_dir}: {len(result.runs)} runs; "
          f"{len(result.to_run)} to run" + (f", skipping {', '.join(parts)}{extra}" if parts else ""),
          file=out)


def _print_outcomes(result: LaunchResult, out: TextIO) -> None:
    if not result.outcomes:
        return
    failed = [r for r, o in result.outcomes.items() if o == "failed"]
    stopped = [r for r, o in result.outcomes.items() if o in ("stopped", "busy")]
    print(f"dqnlab: {sum(o == 'done' for o in result.outcomes.values())} run(s) done, "
          f"{len(failed)} failed, {len(stopped)} not finished", file=out)
    for rel in failed:
        error = st.run_state(result.sweep_dir, {"run_dir": rel, "env": "", "variant": "", "seed": 0}).error
        print(f"  failed: {rel}: {error}", file=out)
    if stopped:
        print("dqnlab: run the same command again to resume", file=out)

"""`launch`: definition -> grid -> sweep directory -> the runs still to do -> an executor.

The executor (debug, local, slurm: `executors/`) is chosen by name; launch only talks to it
through the `Executor` protocol.

Everything that can be wrong with the input (the experiment file, an env, a variant, a config key,
the device, the profile, the sweep directory, whether the executor can run here) is checked before
anything is written or submitted. Relaunching is idempotent: done runs are skipped, unfinished ones
resume from their checkpoints, failed ones rerun (resuming from their last checkpoint) only with
`retry_failed`; runs another process holds (`runlock`) are left alone and make the exit status 1.
What a launch may do to the runs a directory already holds is decided in `changes.py`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dqnlab import devices, runlock
from dqnlab.sweep import definition, executors, grid, plan, throughput
from dqnlab.sweep import status as st
from dqnlab.sweep.definition import GridOptions
from dqnlab.sweep.executors import Executor
from dqnlab.sweep.worker import RunOptions


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
    def held(self) -> list[str]:
        """Runs another process was training, so this launch did not."""
        return [r for r, why in self.skipped.items() if why.startswith(HELD)] + [
            r for r, o in self.outcomes.items() if o == "busy"]

    @property
    def exit_code(self) -> int:
        if any(o == "failed" for o in self.outcomes.values()) or self.held:
            return 1
        if any(o == "stopped" for o in self.outcomes.values()):
            return 130
        return 0


HELD = "held by"


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
    grid_options: GridOptions | None = None,
    executor: str | Executor = "local",
    device: str | None = None,
    wandb_project: str | None = None,
    dry_run: bool = False,
    retry_failed: bool = False,
    force: bool = False,
    delete_finished: bool = False,
    out: TextIO | None = None,
) -> LaunchResult:
    """Run (or resume) a sweep. `executor` is a name (built with default settings) or an executor
    from `executors.create`; every input is checked before anything is written. Replacing a sweep
    directory's runs needs `force`, deleting finished ones also `delete_finished` (`changes.py`)."""
    out = out or sys.stdout
    runner = executors.create(executor) if isinstance(executor, str) else executor
    base = experiment if isinstance(experiment, definition.Sweep) else definition.load(experiment)
    sweep = definition.resolve(base, grid_options)
    runs = grid.expand(sweep)  # resolves every config: bad input fails here, nothing written yet
    device = devices.check(device or runner.device, here=False)
    sweep_dir = Path(sweep_dir) if sweep_dir is not None else Path("results") / sweep.name
    result = LaunchResult(sweep_dir, runs)

    if dry_run:
        parallel, unit = runner.parallelism(len(runs))
        print(plan.describe(sweep, runs, device=device, parallel=parallel, parallel_unit=unit), file=out)
        changes = grid.changes_for(sweep_dir, grid.manifest(sweep, runs), force=force)
        if changes is not None:
            print("\n".join([f"sweep directory {sweep_dir}:", *(f"  {line}" for line in changes.lines())]),
                  file=out)
        return result

    runner.check(device)
    grid.prepare(sweep, runs, sweep_dir, force=force, delete_finished=delete_finished, out=out)
    result.to_run, result.skipped = select(sweep_dir, runs, retry_failed)
    if result.to_run:
        for rel in runner.busy(sweep_dir, result.to_run):
            result.skipped[rel] = "in flight"
        for rel in (r for r in result.to_run if r not in result.skipped):
            holder = runlock.probe(sweep_dir / rel)
            if isinstance(holder, runlock.Holder):  # a `dqnlab train` or another launch has it
                result.skipped[rel] = f"{HELD} {holder}"
        result.to_run = [r for r in result.to_run if r not in result.skipped]
    _print_selection(result, out)
    _print_held(result)
    if not result.to_run:
        return result

    options = RunOptions(device=device, wandb_project=wandb_project, sweep_name=sweep.name)
    execution = runner.run(sweep_dir, longest_first(runs, result.to_run, device), options, out)
    result.outcomes, result.jobs = execution.outcomes, execution.jobs
    _print_outcomes(result, out)
    return result


def _print_selection(result: LaunchResult, out: TextIO) -> None:
    reasons: dict[str, int] = {}
    for why in result.skipped.values():
        why = HELD + " another process" if why.startswith(HELD) else why
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
    stopped = [r for r, o in result.outcomes.items() if o == "stopped"]
    busy = [r for r, o in result.outcomes.items() if o == "busy"]
    print(f"dqnlab: {sum(o == 'done' for o in result.outcomes.values())} run(s) done, "
          f"{len(failed)} failed, {len(stopped)} not finished"
          + (f", {len(busy)} taken by another process meanwhile" if busy else ""), file=out)
    for rel in failed:
        error = st.run_state(result.sweep_dir, {"run_dir": rel, "env": "", "variant": "", "seed": 0}).error
        print(f"  failed: {rel}: {error}", file=out)
    if stopped:
        print("dqnlab: run the same command again to resume", file=out)
    _print_held(result, at_end=True)


def _print_held(result: LaunchResult, at_end: bool = False) -> None:
    """Runs another process trains: this launch left them alone; say which and why it exits 1."""
    held = {r: why for r, why in result.skipped.items() if why.startswith(HELD)}
    if at_end:
        held = {r: "taken by another process while this launch ran" for r, o in result.outcomes.items()
                if o == "busy"}
    for rel, why in held.items():
        print(f"dqnlab: {rel}: {why}; not trained by this launch", file=sys.stderr)

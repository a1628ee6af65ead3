"""`launch`: definition -> grid -> sweep directory -> the runs still to do -> an executor.

The executor (debug, local, slurm: `executors/`) is chosen by name; launch only talks to it
through the `Executor` protocol.

Everything that can be wrong with the input (the experiment file, an env, a variant, a config key,
the device, the profile, the sweep directory, whether the executor can run here) is checked before
anything is written or submitted. Relaunching is idempotent: done runs are skipped, unfinished ones
resume from their checkpoints, failed ones rerun (resuming from their last checkpoint) only with
`retry_failed`; runs another process holds (`runlock`) are left alone and make the exit status 1.
What a launch may do to the runs a directory already holds is decided in `changes.py`.

Selection stays per run; only the runs still to do are then grouped into packs (`packing.py`: runs
that differ only by seed and stand at the same checkpoint step, trained in lockstep by one
process), so a relaunch never retrains a done run, nor a failed one without `retry_failed`, and
every run's outcome is its own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dqnlab import devices, runlock
from dqnlab.contract import CHECKPOINT, checkpoint_files
from dqnlab.errors import ConfigError
from dqnlab.run_log import finished_config_problem, finished_problem
from dqnlab.sweep import definition, executors, grid, packing, plan
from dqnlab.sweep import status as st
from dqnlab.sweep.changes import Changes
from dqnlab.sweep.changes import check as check_changes
from dqnlab.sweep.definition import GridOptions
from dqnlab.sweep.executors import Executor
from dqnlab.sweep.worker import RunOptions


@dataclass
class LaunchResult:
    sweep_dir: Path
    runs: list[grid.Run]
    to_run: list[str] = field(default_factory=list)
    packs: list[list[str]] = field(default_factory=list)
    """The runs to do as the packs they train in, in submission order (longest first)."""
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
    def damaged(self) -> dict[str, str]:
        """Finished runs whose files are not what their end recorded: run -> why."""
        return {r: why.removeprefix(DAMAGED + ": ") for r, why in self.skipped.items() if why.startswith(DAMAGED)}

    @property
    def exit_code(self) -> int:
        if any(o == "failed" for o in self.outcomes.values()) or self.held or self.damaged:
            return 1
        if any(o == "stopped" for o in self.outcomes.values()):
            return 130
        return 0


HELD = "held by"
DAMAGED = "damaged"


def select(sweep_dir: Path, runs: list[grid.Run], retry_failed: bool,
           starting_over: frozenset[str] = frozenset(),
           resume_from_intact: bool = False) -> tuple[list[str], dict[str, str]]:
    """Split runs into those to train now and those skipped (with the reason). `starting_over`:
    runs to count as new whatever their directory holds (a `--dry-run` of a replacing launch).
    A finished run whose config.json or logs are not what its end recorded is skipped as
    damaged (the launch exits 1 naming it), or with `resume_from_intact` trains again from its
    newest intact checkpoint when only its logs are."""
    to_run, skipped = [], {}
    for run in runs:
        state = "pending" if run.rel_dir in starting_over else st.run_state(
            sweep_dir, {"run_dir": run.rel_dir, "env": run.env, "variant": run.variant, "seed": run.seed}).state
        config_changed = state == "done" and finished_config_problem(run.dir(sweep_dir))
        damage = config_changed or (state == "done" and finished_problem(run.dir(sweep_dir)))
        if damage and (config_changed or not resume_from_intact):
            skipped[run.rel_dir] = f"{DAMAGED}: {damage}"
        elif state == "done" and not damage:
            skipped[run.rel_dir] = "done"
        elif state == "failed" and not retry_failed:
            skipped[run.rel_dir] = "failed"
        else:
            to_run.append(run.rel_dir)
    return to_run, skipped


def leave_held(sweep_dir: Path, to_run: list[str], skipped: dict[str, str],
               in_flight: AbstractSet[str] = frozenset()) -> list[str]:
    """`to_run` without the runs trained elsewhere now (`in_flight`: the executor's record, e.g.
    a queued SLURM job; and any run whose lock a live process holds), which go into `skipped`."""
    for rel in to_run:
        if rel in in_flight:
            skipped[rel] = "in flight"
        elif isinstance(holder := runlock.probe(sweep_dir / rel), runlock.Holder):
            skipped[rel] = f"{HELD} {holder}"  # a `dqnlab train` or another launch has it
    return [r for r in to_run if r not in skipped]


def checkpoint_steps(sweep_dir: Path, rel_dirs: list[str]) -> dict[str, int]:
    """Each run's newest checkpoint step (absent: none yet), from the files' names."""
    return {rel: found[0][0] for rel in rel_dirs if (found := checkpoint_files(sweep_dir / rel / CHECKPOINT))}


def form_packs(runs: list[grid.Run], rel_dirs: list[str], *, device: str,
               runs_per_process: packing.PackSize, slots: int | None,
               steps: dict[str, int] | None = None) -> list[list[grid.Run]]:
    """The runs `rel_dirs` as packs (`packing.form_packs`), longest first: the sweep's tail is
    then short. `slots`: the executor's `slots_to_fill`, which `auto` keeps busy."""
    by_rel = {r.rel_dir: r for r in runs}
    chosen = [by_rel[rel] for rel in rel_dirs]
    size = packing.size_for(runs_per_process, device, runs=len(chosen), slots=slots)
    packs = [[by_rel[rel] for rel in pack] for pack in packing.form_packs(chosen, size, steps)]
    return sorted(packs, key=lambda pack: -(plan.pack_seconds(pack, device)[0] or 0.0))


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
    resume_from_intact: bool = False,
    force: bool = False,
    delete_finished: bool = False,
    runs_per_process: packing.PackSize | str | None = None,
    out: TextIO | None = None,
    before_writing: Callable[[], None] | None = None,
) -> LaunchResult:
    """Run (or resume) a sweep. `executor` is a name (built with default settings) or an executor
    from `executors.create`; every input is checked before anything is written. Replacing a sweep
    directory's runs needs `force`, deleting finished ones also `delete_finished` (`changes.py`).
    `runs_per_process`: runs per pack, a number or "auto" (None: the executor's, i.e. the
    profile's, else auto). `resume_from_intact`: see `train.train` (`recover`). `before_writing` is
    called once, after every check and before the first write (the CLI's stop signals: one that
    came earlier ends the launch there, with nothing written)."""
    out = out or sys.stdout
    runner = executors.create(executor) if isinstance(executor, str) else executor
    pack_size = packing.parse_pack_size(runner.runs_per_process if runs_per_process is None
                                        else runs_per_process)
    base = experiment if isinstance(experiment, definition.Sweep) else definition.load(experiment)
    sweep = definition.resolve(base, grid_options)
    runs = grid.expand(sweep)  # resolves every config: bad input fails here, nothing written yet
    device = devices.check(device or runner.device, here=False)
    sweep_dir = Path(sweep_dir) if sweep_dir is not None else Path("results") / sweep.name
    result = LaunchResult(sweep_dir, runs)

    if dry_run:  # the grid as a fresh launch trains it, then what a relaunch into sweep_dir does
        changes = grid.changes_for(sweep_dir, grid.manifest(sweep, runs), force=force)
        packs = form_packs(runs, [r.rel_dir for r in runs], device=device, runs_per_process=pack_size,
                           slots=runner.slots_to_fill)
        parallel, unit = runner.parallelism(len(packs))
        print(plan.describe(sweep, runs, device=device, parallel=parallel, parallel_unit=unit,
                            packs=packs, runs_per_process=pack_size), file=out)
        if changes is not None:
            lines = changes.lines() + _relaunch_plan(sweep_dir, runs, changes, runner, device=device,
                                                     runs_per_process=pack_size, retry_failed=retry_failed,
                                                     delete_finished=delete_finished,
                                                     resume_from_intact=resume_from_intact)
            print("\n".join([f"sweep directory {sweep_dir}:", *(f"  {line}" for line in lines)]), file=out)
        return result

    runner.check(device)
    if before_writing is not None:
        before_writing()
    grid.prepare(sweep, runs, sweep_dir, force=force, delete_finished=delete_finished, out=out)
    result.to_run, result.skipped = select(sweep_dir, runs, retry_failed, resume_from_intact=resume_from_intact)
    if result.to_run:
        result.to_run = leave_held(sweep_dir, result.to_run, result.skipped, runner.busy(sweep_dir, result.to_run))
        packs = form_packs(runs, result.to_run, device=device, runs_per_process=pack_size,
                           slots=runner.slots_to_fill, steps=checkpoint_steps(sweep_dir, result.to_run))
        result.packs = [[r.rel_dir for r in pack] for pack in packs]
    _print_selection(result, out)
    _print_held(result)
    if not result.to_run:
        return result

    options = RunOptions(device=device, wandb_project=wandb_project, sweep_name=sweep.name,
                         resume_from_intact=resume_from_intact)
    execution = runner.run(sweep_dir, result.packs, options, out)
    result.outcomes, result.jobs = execution.outcomes, execution.jobs
    _print_outcomes(result, out)
    return result


def _relaunch_plan(sweep_dir: Path, runs: list[grid.Run], changes: Changes, runner: Executor, *,
                   device: str, runs_per_process: packing.PackSize, retry_failed: bool,
                   delete_finished: bool, resume_from_intact: bool = False) -> list[str]:
    """`--dry-run`'s lines on what launching into an existing sweep directory trains: the runs
    still to do, selected as a launch selects them (runs in flight in SLURM jobs are not asked
    for: that needs the cluster), their packs by checkpoint step, and the time left; or why the
    launch would refuse (the check it makes before writing anything, `changes.check`)."""
    try:
        check_changes(changes, sweep_dir, delete_finished=delete_finished)
    except ConfigError as e:
        return [f"a launch with these options refuses: {e}"]
    starting_over = frozenset(changes.restarted)  # deleted and started again by the launch
    to_run, skipped = select(sweep_dir, runs, retry_failed, starting_over, resume_from_intact)
    to_run = leave_held(sweep_dir, to_run, skipped)
    steps = checkpoint_steps(sweep_dir, [r for r in to_run if r not in starting_over])
    lines = [f"a launch trains {len(to_run)} of the {len(runs)} runs ({len(steps)} resuming from a checkpoint)"
             + (f"; skips {_skipped_text(skipped)}" if skipped else "")]
    if to_run:
        packs = form_packs(runs, to_run, device=device, runs_per_process=runs_per_process,
                           slots=runner.slots_to_fill, steps=steps)
        parallel, unit = runner.parallelism(len(packs))
        left = plan.plan([r for p in packs for r in p], device, packs, steps_done=steps)
        lines += [line.strip() for line in plan.describe_packs(packs, runs_per_process)[:1]]
        lines.append(f"expected wall time of what is left with {parallel} {unit}: {plan.hours_text(left.wall_hours(parallel))}")
    return lines


def _skipped_text(skipped: dict[str, str]) -> str:
    """E.g. `3 done, 1 failed, 1 held by another process (--retry-failed reruns them)`."""
    reasons: dict[str, int] = {}
    for why in skipped.values():
        why = HELD + " another process" if why.startswith(HELD) else DAMAGED if why.startswith(DAMAGED) else why
        reasons[why] = reasons.get(why, 0) + 1
    extra = " (--retry-failed reruns them)" if reasons.get("failed") else ""
    return ", ".join(f"{n} {why}" for why, n in reasons.items()) + extra


def _print_selection(result: LaunchResult, out: TextIO) -> None:
    packed = any(len(p) > 1 for p in result.packs)
    in_packs = f" (in {len(result.packs)} processes: {packing.sizes_text(result.packs)})" if packed else ""
    print(f"dqnlab: sweep {result.sweep_dir}: {len(result.runs)} runs; "
          f"{len(result.to_run)} to run{in_packs}"
          + (f", skipping {_skipped_text(result.skipped)}" if result.skipped else ""), file=out)


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
    """Runs another process trains, or finished runs whose files changed since: this launch left
    them alone; say which and why it exits 1."""
    if not at_end:
        for rel, why in result.damaged.items():
            print(f"dqnlab: {rel}: {why}", file=sys.stderr)
    held = {r: why for r, why in result.skipped.items() if why.startswith(HELD)}
    if at_end:
        held = {r: "taken by another process while this launch ran" for r, o in result.outcomes.items()
                if o == "busy"}
    for rel, why in held.items():
        print(f"dqnlab: {rel}: {why}; not trained by this launch", file=sys.stderr)

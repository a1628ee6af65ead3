"""Train one pack of a sweep's runs: the unit of work every executor (debug, local, slurm) calls.

`run_pack` trains or resumes runs that differ only by seed, in lockstep in this process
(`train.train_pack`; `run_one` is a pack of one), from their directories (pure configs on disk,
never a pickled model). It never raises for a failing run (training marks it failed with the
reason, so the sweep goes on), and holds every run directory's lock (`runlock.hold`, the one
`dqnlab train` holds) so two launches, or a launch and a `dqnlab train`, never train one run at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from dqnlab import rundir, runlock

#: Outcomes of a run in run_pack / run_one: finished, stopped at a checkpoint, failed (see
#: status.json), locked by another process.
OUTCOMES = ("done", "stopped", "failed", "busy")


@dataclass(frozen=True)
class RunOptions:
    """How runs execute; pickled into local workers and SLURM jobs, so plain data only."""

    device: str = "cpu"
    wandb_project: str | None = None
    """None: no wandb. Otherwise the wandb project each run logs to."""
    sweep_name: str = ""
    """wandb group, so the runs of one sweep sit together."""
    resume_from_intact: bool = False
    """A run whose logs do not hold what its checkpoint recorded resumes from its newest intact
    checkpoint instead of failing (`train.train`'s `recover`)."""


def run_one(
    run_dir: str | Path,
    options: RunOptions,
    should_stop: Callable[[], bool] = lambda: False,
) -> str:
    """Train (or resume) one run to its budget; returns one of OUTCOMES."""
    return run_pack([run_dir], options, should_stop)[str(run_dir)]


def run_pack(
    run_dirs: Sequence[str | Path],
    options: RunOptions,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, str]:
    """Train (or resume) runs that differ only by seed as one pack (`train.train_pack`; a pack of
    one is a run trained alone); returns each run's outcome (OUTCOMES), keyed by `str` of its
    entry in `run_dirs`. All the pack's runs are "busy" if another process holds any of them;
    `should_stop` stops the whole pack at one checkpoint."""
    from dqnlab.train import train_pack  # torch is imported here, after the worker set its threads

    if isinstance(run_dirs, (str, Path)):  # its characters are no run directories
        raise TypeError(f"run_pack takes a list of run directories, got {run_dirs!r}")
    keys = [str(d) for d in run_dirs]
    dirs = [Path(d) for d in run_dirs]
    with ExitStack() as held:
        try:
            for d in dirs:
                held.enter_context(runlock.hold(d))
        except runlock.RunDirBusy:
            return dict.fromkeys(keys, "busy")
        if options.wandb_project:
            for d in dirs:
                _log_to_wandb(held, d, options)
        try:
            outcomes = train_pack(dirs, device=options.device, should_stop=should_stop, progress=False,
                                  recover=options.resume_from_intact)
        except Exception as e:  # noqa: BLE001 - a failing pack must not stop the sweep
            # train_pack records its runs' failures; this catches the rest (e.g. bad input).
            for d in dirs:
                if rundir.mark_failed(d, f"{type(e).__name__}: {e}"):
                    print(f"dqnlab: run {d} failed: {type(e).__name__}: {e}", file=sys.stderr)
            return dict.fromkeys(keys, "failed")
    return dict(zip(keys, outcomes))


def _log_to_wandb(held: ExitStack, run_dir: Path, options: RunOptions) -> None:
    """Tail the run's logs to wandb until `held` closes; wandb trouble only costs the wandb copy."""
    from dqnlab.sweep.wandb_log import WandbTail

    logger = WandbTail(run_dir, options.wandb_project, group=options.sweep_name)
    try:
        logger.start()
    except Exception as e:  # noqa: BLE001 - wandb trouble must not cost the run
        print(f"dqnlab: wandb unavailable for {run_dir} ({type(e).__name__}: {e}); "
              "training without it (local files are complete)", file=sys.stderr)
        return
    held.callback(logger.close)

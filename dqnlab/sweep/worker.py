"""Train one run of a sweep: the unit of work every executor (debug, local, slurm) calls.

`run_one` trains or resumes a run from its directory (a pure config on disk, never a pickled
model), never raises for a failing run (training marks it failed with the reason, so the sweep goes
on), and holds the run directory's lock (`runlock.hold`, the one `dqnlab train` holds) so two
launches, or a launch and a `dqnlab train`, never train one run at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from dqnlab import rundir, runlock

#: Outcomes of run_one: finished, stopped at a checkpoint, failed (see status.json), locked by
#: another process.
OUTCOMES = ("done", "stopped", "failed", "busy")


@dataclass(frozen=True)
class RunOptions:
    """How runs execute; pickled into local workers and SLURM jobs, so plain data only."""

    device: str = "cpu"
    wandb_project: str | None = None
    """None: no wandb. Otherwise the wandb project each run logs to."""
    sweep_name: str = ""
    """wandb group, so the runs of one sweep sit together."""


def run_one(
    run_dir: str | Path,
    options: RunOptions,
    should_stop: Callable[[], bool] = lambda: False,
) -> str:
    """Train (or resume) one run to its budget; returns one of OUTCOMES."""
    from dqnlab.train import train  # torch is imported here, after the worker set its threads

    run_dir = Path(run_dir)
    with ExitStack() as held:
        try:
            held.enter_context(runlock.hold(run_dir))
        except runlock.RunDirBusy:
            return "busy"
        logger = None
        if options.wandb_project:
            from dqnlab.sweep.wandb_log import WandbTail

            logger = WandbTail(run_dir, options.wandb_project, group=options.sweep_name)
            try:
                logger.start()
            except Exception as e:  # noqa: BLE001 - wandb trouble must not cost the run
                print(f"dqnlab: wandb unavailable for {run_dir} ({type(e).__name__}: {e}); "
                      "training without it (local files are complete)", file=sys.stderr)
                logger = None
        try:
            return train(run_dir, device=options.device, should_stop=should_stop, progress=False)
        except Exception as e:  # noqa: BLE001 - a failing run must not stop the sweep
            # train() records and reports its own failures; this catches the rest (e.g. wandb).
            if rundir.mark_failed(run_dir, f"{type(e).__name__}: {e}"):
                print(f"dqnlab: run {run_dir} failed: {type(e).__name__}: {e}", file=sys.stderr)
            return "failed"
        finally:
            if logger is not None:
                logger.close()

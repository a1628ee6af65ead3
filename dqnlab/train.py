"""Training entry points: `train(run_dir)` runs (or resumes) the run described by
`run_dir/config.json` to its budget; `train_pack(run_dirs)` does the same for several runs that
differ only by seed, in lockstep in one process (a pack: `packed.py`, `pack_rules.py`). Both hold
the runs' locks and record a failure in the run it belongs to; the loop itself is `loop.Trainer`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from dqnlab import rundir, runlock
from dqnlab.loop import Diverged, Trainer
from dqnlab.pack_rules import pack_mismatch
from dqnlab.run_state import Counters, env_seed, resume_seed

__all__ = ["Counters", "Diverged", "Trainer", "env_seed", "pack_mismatch", "resume_seed", "train", "train_pack"]


def _finished(run_dir: Path) -> bool:
    status = rundir.read_status(run_dir)
    return status.get("state") == "done" and status.get("steps_done", 0) >= status.get("total_steps", 1)


def _record_failure(run_dir: Path, trainer: Trainer | None, error: str) -> None:
    """Mark `run_dir` failed with `error` (at its step, when the trainer got that far) and say so
    on stderr, unless a failure is recorded already."""
    run = next((r for r in trainer.runs if r.run_dir == run_dir), None) if trainer is not None else None
    if run is not None:
        trainer.display.close()  # end the progress line before the message
        recorded = run.log.failed(run.counters.step, error)
    else:
        recorded = rundir.mark_failed(run_dir, error)
    if recorded:
        print(f"dqnlab: run {run_dir} failed: {error}", file=sys.stderr)


def train_pack(
    run_dirs: Sequence[Path],
    *,
    device: str = "cpu",
    should_stop: Callable[[], bool] = lambda: False,
    progress: bool | None = None,
) -> list[str]:
    """Run or resume runs that differ only by seed as one pack, holding every run's lock
    (RunDirBusy if another process trains one). Returns each run's outcome: "done", "stopped" or
    "failed". Finished runs are not trained again. A run whose loss diverges is marked failed and
    the others go on as a smaller pack from their last checkpoints (a resume is exact); any other
    error marks every run still training failed, with the reason and one line on stderr."""
    dirs = [Path(d) for d in run_dirs]
    outcomes = {d: "done" for d in dirs if _finished(d)}
    todo = [d for d in dirs if d not in outcomes]
    with ExitStack() as held:
        for d in todo:
            held.enter_context(runlock.hold(d))
        for d in todo:
            if rundir.read_status(d).get("state") == "failed":  # a retry: this attempt's outcome replaces the error
                rundir.write_status(d, "pending", error=None)
        while todo:
            trainer = None
            try:
                trainer = Trainer(todo, device=device, progress=progress)
                trainer.restore()
                outcome = trainer.run(should_stop)
                outcomes.update(dict.fromkeys(todo, outcome))
                todo = []
            except Diverged as e:
                failed = e.run_dir if e.run_dir in todo else None
                for d in [failed] if failed is not None else todo:
                    _record_failure(d, trainer, f"{type(e).__name__}: {e}")
                    outcomes[d] = "failed"
                todo = [d for d in todo if d != failed] if failed is not None else []
            except Exception as e:  # noqa: BLE001 - recorded per run; the caller reads the outcomes
                for d in todo:
                    _record_failure(d, trainer, f"{type(e).__name__}: {e}")
                    outcomes[d] = "failed"
                todo = []
    return [outcomes[d] for d in dirs]


def train(
    run_dir: Path,
    *,
    device: str = "cpu",
    should_stop: Callable[[], bool] = lambda: False,
    progress: bool | None = None,
) -> str:
    """Run or resume the run in `run_dir` (which must hold config.json), holding its lock
    (`runlock.hold`: RunDirBusy if another process trains it). Marks it failed, with the reason
    and one line on stderr, if anything raises (building the envs and agent, loading the
    checkpoint, training), and raises it again; returns "done" or "stopped"."""
    run_dir = Path(run_dir)
    if _finished(run_dir):
        return "done"
    with runlock.hold(run_dir):
        if rundir.read_status(run_dir).get("state") == "failed":  # a retry: this attempt's outcome replaces the error
            rundir.write_status(run_dir, "pending", error=None)
        trainer = None
        try:
            trainer = Trainer(run_dir, device=device, progress=progress)
            trainer.restore()
            return trainer.run(should_stop)
        except Exception as e:
            _record_failure(run_dir, trainer, f"{type(e).__name__}: {e}")
            raise

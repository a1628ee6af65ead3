"""Training entry points: `train(run_dir)` runs (or resumes) the run described by
`run_dir/config.json` to its budget; `train_pack(run_dirs)` does the same for several runs that
differ only by seed, in lockstep in one process (a pack: `packed.py`, `pack_rules.py`). Both hold
the runs' locks and record a failure in the run it belongs to; the loop itself is `loop.Trainer`.

Neither resumes a run directory that does not hold what its checkpoint recorded (its logs, its
config: `Run.check`), nor calls a run done whose logs are not what its end recorded: that is
`ResumeRefused`, one line saying how to recover; `recover=True` (`--resume-from-intact`) resumes
from the newest checkpoint whose logs are intact instead (`drop_damaged_checkpoints`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from dqnlab import rundir, runlock
from dqnlab.errors import ResumeRefused
from dqnlab.loop import Diverged, Trainer
from dqnlab.pack_rules import pack_mismatch
from dqnlab.run_log import finished_config_problem, finished_problem
from dqnlab.run_state import Counters, drop_damaged_checkpoints, env_seed, resume_seed

__all__ = ["Counters", "Diverged", "Trainer", "env_seed", "finished", "pack_mismatch", "resume_seed", "train",
           "train_pack"]


def _finished(run_dir: Path) -> bool:
    status = rundir.read_status(run_dir)
    return status.get("state") == "done" and status.get("steps_done", 0) >= status.get("total_steps", 1)


def finished(run_dir: Path, *, recover: bool = False) -> bool:
    """Whether the run is done with its config and logs as its end recorded them. A done run
    whose config.json changed since is refused (ResumeRefused); one whose logs changed is refused
    too, or with `recover` counts as not done (it resumes from its newest intact checkpoint)."""
    if not _finished(run_dir):
        return False
    changed = finished_config_problem(run_dir)
    if changed is not None:
        raise ResumeRefused(changed, run_dir)
    problem = finished_problem(run_dir)
    if problem is None:
        return True
    if recover:
        return False
    raise ResumeRefused(problem, run_dir)


def _drop_damaged(run_dir: Path) -> None:
    """--resume-from-intact: the checkpoints after the newest intact one go, said in one line."""
    said = drop_damaged_checkpoints(run_dir)
    if said is not None:
        print(f"dqnlab: {said}", file=sys.stderr)


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
    recover: bool = False,
) -> list[str]:
    """Run or resume runs that differ only by seed as one pack, holding every run's lock
    (RunDirBusy if another process trains one). Returns each run's outcome: "done", "stopped" or
    "failed". Finished runs are not trained again. A run whose loss diverges, or that cannot be
    resumed as it is (ResumeRefused; `recover`: see `train`), is marked failed and the others go
    on as a smaller pack from their last checkpoints (a resume is exact); any other error marks
    every run still training failed, with the reason and one line on stderr."""
    dirs = [Path(d) for d in run_dirs]
    outcomes: dict[Path, str] = {}
    refused: dict[Path, str] = {}
    for d in dirs:
        try:
            if finished(d, recover=recover):
                outcomes[d] = "done"
        except ResumeRefused as e:
            refused[d] = str(e)
    todo = [d for d in dirs if d not in outcomes]
    with ExitStack() as held:
        for d in todo:
            held.enter_context(runlock.hold(d))
        for d in todo:
            if rundir.read_status(d).get("state") == "failed":  # a retry: this attempt's outcome replaces the error
                rundir.write_status(d, "pending", error=None)
        for d, why in refused.items():
            _record_failure(d, None, why)
            outcomes[d] = "failed"
        todo = [d for d in todo if d not in refused]
        for d in todo if recover else ():
            _drop_damaged(d)
        while todo:
            trainer = None
            try:
                trainer = Trainer(todo, device=device, progress=progress)
                trainer.restore()
                outcome = trainer.run(should_stop)
                outcomes.update(dict.fromkeys(todo, outcome))
                todo = []
            except (Diverged, ResumeRefused) as e:
                failed = e.run_dir if e.run_dir in todo else None
                why = str(e) if isinstance(e, ResumeRefused) else f"{type(e).__name__}: {e}"
                for d in [failed] if failed is not None else todo:
                    _record_failure(d, trainer, why)
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
    recover: bool = False,
    on_start: Callable[[int], None] | None = None,
) -> str:
    """Run or resume the run in `run_dir` (which must hold config.json), holding its lock
    (`runlock.hold`: RunDirBusy if another process trains it); returns "done" or "stopped".
    `on_start(step)` is called once the run is loaded, before its first step (not for a run
    already done). A run directory that cannot be resumed as it is raises ResumeRefused, with
    nothing changed; `recover` resumes it from its newest checkpoint whose logs are intact (or
    step 0) instead, saying so in one line. Anything else that raises (building the envs and
    agent, loading the checkpoint, training) marks the run failed, with the reason and one line
    on stderr, and is raised again."""
    run_dir = Path(run_dir)
    if finished(run_dir, recover=recover):
        return "done"
    with runlock.hold(run_dir):
        if rundir.read_status(run_dir).get("state") == "failed":  # a retry: this attempt's outcome replaces the error
            rundir.write_status(run_dir, "pending", error=None)
        trainer = None
        try:
            if recover:
                _drop_damaged(run_dir)
            trainer = Trainer(run_dir, device=device, progress=progress)
            trainer.restore()
            if on_start is not None:
                on_start(trainer.counters.step)
            return trainer.run(should_stop)
        except ResumeRefused:
            raise  # nothing changed: not a failure of the run
        except Exception as e:
            _record_failure(run_dir, trainer, f"{type(e).__name__}: {e}")
            raise

"""What a training run writes about itself while it runs: progress.csv rows (means over the window
since the last row), eval.csv rows, status.json and the live progress line.

The CSV logs' marks (length and SHA-256, `contract.log_mark`) and the open window are part of the
checkpoint: a resumed run checks that the logs hold what the checkpoint recorded, truncates them back
to it and rewrites exactly the rows an uninterrupted run would have. status.json carries the marks of
the last checkpoint too (`logs`), so a finished run's logs are checked without loading a checkpoint.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dqnlab import rundir
from dqnlab.config import Config, to_dict
from dqnlab.contract import LOGS, config_digest, is_mark, log_problem
from dqnlab.progress import ProgressLine
from dqnlab.recorder import EVAL_COLUMNS, PROGRESS_COLUMNS, CsvLog


@dataclass
class Window:
    """What happened since the last progress.csv row."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    q: list[float] = field(default_factory=list)


RECOVERY = ("rerun with --resume-from-intact to resume from the newest checkpoint whose logs are intact "
            "(or from step 0) and train the rest again, or delete {run_dir} to start over")
"""How to recover from logs that do not hold what was recorded (the end of a refusal)."""

HEARTBEAT_S = 30.0
"""A running run rewrites status.json at least this often (its `updated` time is the heartbeat
`dqnlab status` reads to tell a live run from a dead one on another machine)."""


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


class RunLog:
    def __init__(self, run_dir: Path, cfg: Config, *, progress: bool | None = None) -> None:
        self.run_dir, self.cfg = Path(run_dir), cfg
        self.progress = CsvLog(self.run_dir / rundir.PROGRESS, PROGRESS_COLUMNS)
        self.evals = CsvLog(self.run_dir / rundir.EVAL, EVAL_COLUMNS)
        self.line = ProgressLine(cfg.total_steps, enabled=progress)
        self.window = Window()
        self.last_checkpoint: str | None = None
        self.config_sha256 = config_digest(to_dict(cfg))
        self.marks: dict[str, dict[str, Any]] | None = None
        """The logs' marks at the last checkpoint saved or loaded (status.json's `logs`)."""
        self._last_status = time.monotonic()

    # -- events ---------------------------------------------------------------------------------

    def episode(self, episode_return: float, length: int) -> None:
        self.window.returns.append(episode_return)
        self.window.lengths.append(length)
        self.line.note_return(episode_return)

    def update(self, loss: float, q_mean: float) -> None:
        self.window.loss.append(loss)
        self.window.q.append(q_mean)

    # -- rows -----------------------------------------------------------------------------------

    def write_progress(self, step: int, **row: Any) -> None:
        """One progress.csv row: the window's means, `row`'s counters; the window starts over."""
        w = self.window
        self.progress.write({
            "step": step, "frame": step * self.cfg.env.frame_skip,
            "episode_return": _mean(w.returns), "episode_length": _mean(w.lengths),
            "loss": _mean(w.loss), "q_mean": _mean(w.q), **row,
        })
        self.window = Window()

    def write_eval(self, step: int, wall_time_s: float, result: dict[str, Any]) -> None:
        self.evals.write(
            {"step": step, "frame": step * self.cfg.env.frame_skip, "wall_time_s": wall_time_s, **result}
        )
        self.line.note_eval(result["return_mean"])

    def status(self, state: str, steps_done: int, **extra: Any) -> None:
        rundir.write_status(self.run_dir, state, **self._status_fields(steps_done), **extra)
        self._last_status = time.monotonic()

    def beat(self, steps_done: int) -> None:
        """The heartbeat: status.json rewritten as `running` if HEARTBEAT_S have passed since it
        was last written (cheap to call every step)."""
        if time.monotonic() - self._last_status >= HEARTBEAT_S:
            self.status("running", steps_done)

    def failed(self, steps_done: int, error: str) -> bool:
        """Record the run's failure (rundir.mark_failed); True if this call recorded it."""
        return rundir.mark_failed(self.run_dir, error, **self._status_fields(steps_done))

    def _status_fields(self, steps_done: int) -> dict[str, Any]:
        # `logs` None after a start over: the marks of checkpoints that are gone must not stay.
        return {"steps_done": steps_done, "total_steps": self.cfg.total_steps,
                "last_checkpoint": self.last_checkpoint, "config_sha256": self.config_sha256,
                "logs": self.marks}

    # -- checkpointing --------------------------------------------------------------------------

    def _logs(self) -> dict[str, CsvLog]:
        return {rundir.PROGRESS: self.progress, rundir.EVAL: self.evals}

    def state_dict(self) -> dict:
        """The window and the logs' marks, taken after fsyncing them (and the directory that
        lists them): a checkpoint never records rows a host crash could take back."""
        marks = {name: log.mark() for name, log in self._logs().items()}
        rundir.fsync_dir(self.run_dir)
        self.marks = marks
        return {
            # Older checkpoints hold only the offsets (keyed progress / eval), and are read too.
            "offsets": {"progress": marks[rundir.PROGRESS]["bytes"], "eval": marks[rundir.EVAL]["bytes"]},
            "marks": marks,
            "window": asdict(self.window),
        }

    @staticmethod
    def marks_of(state: dict) -> dict[str, dict[str, Any]]:
        """The logs' marks a checkpoint's log state recorded (offsets only in older ones)."""
        if "marks" in state:
            return state["marks"]
        offsets = state["offsets"]
        return {rundir.PROGRESS: {"bytes": offsets["progress"]}, rundir.EVAL: {"bytes": offsets["eval"]}}

    def problem(self, state: dict) -> str | None:
        """Why the logs do not hold what the checkpoint's log state recorded ("<file> <why>",
        to be followed by who recorded it), None if they do."""
        return logs_problem(self.run_dir, self.marks_of(state))

    def load_state_dict(self, state: dict) -> None:
        """Cut the logs back to the checkpoint (checked first: `problem`) and reopen its window."""
        marks = self.marks_of(state)
        for name, log in self._logs().items():
            log.truncate(marks[name]["bytes"])
        self.marks = marks if "marks" in state else None
        self.window = Window(**state["window"])

    def start_over(self) -> None:
        """No checkpoint to resume: drop rows a killed first attempt may have written."""
        self.progress.truncate(0)
        self.evals.truncate(0)
        self.marks = None


def logs_problem(run_dir: Path, marks: dict[str, dict[str, Any]], *, whole: bool = False) -> str | None:
    """Why a run directory's logs do not hold what `marks` recorded ("<file> <why>", to be
    followed by who recorded it); None if they do. `whole`: nothing may follow (a finished run)."""
    for name in LOGS:
        mark = marks.get(name)
        why = log_problem(Path(run_dir) / name, mark, whole=whole) if is_mark(mark) else None
        if why is not None:
            return f"{Path(run_dir) / name} {why}"
    return None


def finished_config_problem(run_dir: Path) -> str | None:
    """Why a finished run's config.json is not the config it was trained with (status.json's
    `config_sha256`), as a refusal; None if it is (or nothing recorded it: older runs)."""
    recorded = rundir.read_status(run_dir).get("config_sha256")
    if recorded is None or recorded == config_digest(to_dict(rundir.read_config(run_dir))):
        return None
    return (f"{Path(run_dir) / rundir.CONFIG} is not the config the run was trained with (it changed after "
            "the run finished); put config.json back as it was, or train this config in another run directory")


def finished_problem(run_dir: Path) -> str | None:
    """Why a finished run's logs are not what its end recorded (status.json's `logs`: exactly
    those bytes), as a refusal with the way to recover; None if they are (or nothing recorded
    them: runs finished before marks were kept)."""
    marks = rundir.read_status(run_dir).get("logs")
    problem = logs_problem(run_dir, marks, whole=True) if isinstance(marks, dict) else None
    if problem is None:
        return None
    return f"{problem} when the run finished: {RECOVERY.format(run_dir=run_dir)}"

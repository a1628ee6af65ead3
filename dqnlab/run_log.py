"""What a training run writes about itself while it runs: progress.csv rows (means over the window
since the last row), eval.csv rows, status.json and the live progress line.

The CSV logs' byte offsets and the open window are part of the checkpoint: a resumed run truncates
the logs back to the checkpoint and rewrites exactly the rows an uninterrupted run would have.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dqnlab import rundir
from dqnlab.config import Config
from dqnlab.progress import ProgressLine
from dqnlab.recorder import EVAL_COLUMNS, PROGRESS_COLUMNS, CsvLog


@dataclass
class Window:
    """What happened since the last progress.csv row."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    q: list[float] = field(default_factory=list)


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
        return {"steps_done": steps_done, "total_steps": self.cfg.total_steps,
                "last_checkpoint": self.last_checkpoint}

    # -- checkpointing --------------------------------------------------------------------------

    def state_dict(self) -> dict:
        return {
            "offsets": {"progress": self.progress.offset(), "eval": self.evals.offset()},
            "window": asdict(self.window),
        }

    def load_state_dict(self, state: dict) -> None:
        self.progress.truncate(state["offsets"]["progress"])
        self.evals.truncate(state["offsets"]["eval"])
        self.window = Window(**state["window"])

    def start_over(self) -> None:
        """No checkpoint to resume: drop rows a killed first attempt may have written."""
        self.progress.truncate(0)
        self.evals.truncate(0)

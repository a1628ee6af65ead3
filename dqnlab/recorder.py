"""Append-only CSV logs whose byte offsets are saved in checkpoints, so a resumed run truncates
them back to the checkpoint and rewrites exactly the rows an uninterrupted run would have."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

PROGRESS_COLUMNS = (
    "step", "frame", "episodes", "episode_return", "episode_length", "loss", "q_mean",
    "epsilon", "updates", "sps", "wall_time_s",
)
EVAL_COLUMNS = (
    "step", "frame", "return_mean", "return_std", "episodes", "q_estimate_mean",
    "discounted_return_mean", "truncated_episodes", "wall_time_s", "eval_seconds",
)
# The only columns that may differ between two runs of the same config and seed on CPU.
WALL_CLOCK_COLUMNS = ("sps", "wall_time_s", "eval_seconds")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class CsvLog:
    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.path, self.columns = Path(path), columns

    def offset(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def truncate(self, offset: int) -> None:
        """Drop rows written after `offset` (those after the checkpoint being resumed)."""
        if self.path.exists():
            with open(self.path, "r+b") as f:
                f.truncate(offset)

    def write(self, row: dict[str, Any]) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if self.offset() == 0:
            writer.writerow(self.columns)
        writer.writerow([_fmt(row.get(c)) for c in self.columns])
        with open(self.path, "a") as f:
            f.write(buf.getvalue())

"""Append-only CSV logs whose byte offsets are saved in checkpoints, so a resumed run truncates
them back to the checkpoint and rewrites exactly the rows an uninterrupted run would have."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from dqnlab.contract import EVAL_COLUMNS, PROGRESS_COLUMNS, WALL_CLOCK_COLUMNS

# Re-exported: the columns are the run-directory contract's.
__all__ = ["EVAL_COLUMNS", "PROGRESS_COLUMNS", "WALL_CLOCK_COLUMNS", "CsvLog"]


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

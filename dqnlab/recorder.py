"""Append-only CSV logs whose marks (length and digest, `contract.log_mark`) are saved in
checkpoints, so a resumed run checks that each log still holds what the checkpoint recorded, cuts
it back there and rewrites exactly the rows an uninterrupted run would have."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

from dqnlab.contract import EVAL_COLUMNS, PROGRESS_COLUMNS, WALL_CLOCK_COLUMNS, log_mark

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

    def mark(self) -> dict[str, Any]:
        """The log's mark, after fsync: a checkpoint must never record rows that a host crash
        could take back (the checkpoint itself is fsynced)."""
        try:
            with open(self.path, "rb") as f:
                os.fsync(f.fileno())
                return log_mark(f.read())
        except FileNotFoundError:
            return log_mark(b"")

    def truncate(self, offset: int) -> None:
        """Drop rows written after `offset` (those after the checkpoint being resumed). Only ever
        shortens: the caller has checked that the log holds `offset` bytes (truncate would pad a
        shorter file with NUL bytes)."""
        if self.path.exists() and self.offset() > offset:
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

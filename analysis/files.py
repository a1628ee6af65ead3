"""Finding run directories and reading their files, by the names of the run-directory contract
(`dqnlab.contract`: torch-free, the same module training writes them with).

Every reader tolerates a run still being written: a CSV row without its newline is torn and
dropped, a missing file is empty. What cannot be read becomes a `RunProblem`, never a crash.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from dqnlab.analysis.errors import RunProblem
from dqnlab.contract import CONFIG, LOGS, MANIFEST, STATUS, config_digest, is_mark, log_problem


def discover(root: Path, problems: list[RunProblem]) -> list[Path]:
    """Run dirs under `root`: the sweep manifest's entries first, then any other config.json."""
    found: list[Path] = []
    manifest = root / MANIFEST
    if manifest.is_file():
        try:
            entries = json.loads(manifest.read_text())["runs"]
            listed = [root / entry["run_dir"] for entry in entries]
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.append(RunProblem(str(manifest), "unreadable", one_line(error)))
            listed = []
        for run_dir in listed:
            if (run_dir / CONFIG).is_file():
                found.append(run_dir)
            else:
                problems.append(
                    RunProblem(str(run_dir), "missing", f"listed in {MANIFEST}, no {CONFIG} yet")
                )
    found.extend(find_config_dirs(root))
    return found


def find_config_dirs(root: Path) -> list[Path]:
    """Directories holding a config.json, outermost only (a run's checkpoint/ may hold copies)."""
    candidates = sorted({p.parent for p in root.rglob(CONFIG)}, key=lambda p: len(p.parts))
    runs: list[Path] = []
    for candidate in candidates:
        if not any(run == candidate or run in candidate.parents for run in runs):
            runs.append(candidate)
    return runs


def read_status(run_dir: Path, problems: list[RunProblem]) -> dict[str, Any]:
    """status.json's content ({} when there is none; `state` "unknown" when it cannot be read)."""
    path = run_dir / STATUS
    if not path.is_file():
        problems.append(RunProblem(str(run_dir), "partial", f"no {STATUS}"))
        return {"state": "unknown"}
    try:
        status = json.loads(path.read_text())
        return {**status, "state": str(status["state"])}
    except (OSError, ValueError, KeyError, TypeError) as error:
        problems.append(RunProblem(str(run_dir), "unreadable", f"{STATUS}: {one_line(error)}"))
        return {"state": "unknown"}


def recorded_problem(run_dir: Path, status: dict[str, Any], config: dict[str, Any]) -> str | None:
    """Why the run's files are not what its status.json recorded (a finished run: exactly; a
    run still going: up to its last checkpoint), None if they are or nothing was recorded (runs
    written before status.json kept `config_sha256` and `logs`)."""
    done = status.get("state") == "done"
    recorded = status.get("config_sha256")
    if isinstance(recorded, str) and recorded != config_digest(config):
        return f"{CONFIG} is not the config the run was trained with (it changed after the run wrote it)"
    marks = status.get("logs")
    for name in LOGS if isinstance(marks, dict) else ():
        mark = marks.get(name)
        why = log_problem(run_dir / name, mark, whole=done) if is_mark(mark) else None
        if why is not None:
            return f"{name} {why} {'when the run finished' if done else 'at its last checkpoint'}"
    return None


MAX_MAGNITUDE = 1e15
"""No score, value, loss or count a run writes comes near it (sps is at most ~1e12); a larger
number is a corrupt row, and would overflow the statistics computed from it."""


def read_csv(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """A contract CSV, every cell a number; absent or empty file -> empty frame.

    A writer may be appending while we read: rows end with a newline, so a last line without
    one is torn and dropped (its numbers may be cut short, e.g. `12.5` read as `1`). Every other
    row is checked (`check_rows`): ValueError naming the file, line and column of the first bad
    cell, never a row dropped or a value taken on trust.
    """
    required = tuple(required)
    empty = pd.DataFrame({column: pd.Series(dtype=float) for column in required})
    if not path.is_file():
        return empty
    text = path.read_text()
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    if not text.strip():
        return empty
    try:
        # As text: an empty cell, "nan" and "inf" are told apart and each named (pandas would
        # read the first two as NaN and drop or keep them without a word).
        cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return empty
    except pd.errors.ParserError as error:
        raise ValueError(f"{path.name}: {one_line(error)}") from error
    missing = [c for c in required if c not in cells.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
    return check_rows(cells, path.name, required)


def check_rows(cells: pd.DataFrame, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    """`cells` (strings, as read) as numbers, after checking every row: each cell a finite number
    no larger than MAX_MAGNITUDE (or empty, outside `required`), and `step` a whole number that
    grows strictly from row to row. ValueError naming the first bad cell otherwise."""
    text = cells.apply(lambda column: column.str.strip())
    table = text.apply(lambda column: pd.to_numeric(column.replace("", None), errors="coerce"))
    empty_allowed = (text == "") & ~cells.columns.isin(required)
    bad_cell = ~(table.abs() <= MAX_MAGNITUDE) & ~empty_allowed  # NaN (text, empty), inf, too large
    step = table["step"]
    bad_step = (step < 0) | (step != step.round()) | (step.diff() <= 0)
    rows = bad_cell.any(axis=1) | bad_step.fillna(False)
    if not rows.any():
        return table
    i = int(rows.to_numpy().argmax())
    where = f"{name} line {i + 2}"  # the header is line 1
    if bad_cell.iloc[i].any():
        column = str(bad_cell.columns[bad_cell.iloc[i].to_numpy().argmax()])
        raw, value = text.at[i, column], table.at[i, column]
        beyond = pd.notna(value) and abs(value) != float("inf")
        raise ValueError(f"{where}: {column} is {raw or 'empty'}"
                         + (f" (beyond any value a run writes, |x| <= {MAX_MAGNITUDE:g})" if beyond else ""))
    if i and step.iloc[i] <= step.iloc[i - 1]:
        raise ValueError(f"{where}: step {int(step.iloc[i])} does not come after step "
                         f"{int(step.iloc[i - 1])} (a row repeated or out of order)")
    raise ValueError(f"{where}: step is {text.at[i, 'step']} (a count of steps)")


def one_line(error: object) -> str:
    return " ".join(str(error).split())

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

import pandas as pd

from dqnlab.analysis.errors import RunProblem
from dqnlab.contract import CONFIG, MANIFEST, STATUS


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


def read_status(run_dir: Path, problems: list[RunProblem]) -> tuple[str, str | None]:
    path = run_dir / STATUS
    if not path.is_file():
        problems.append(RunProblem(str(run_dir), "partial", f"no {STATUS}"))
        return "unknown", None
    try:
        status = json.loads(path.read_text())
        return str(status["state"]), status.get("error")
    except (OSError, ValueError, KeyError, TypeError) as error:
        problems.append(RunProblem(str(run_dir), "unreadable", f"{STATUS}: {one_line(error)}"))
        return "unknown", None


def read_csv(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """A contract CSV with numeric columns; absent or empty file -> empty frame.

    A writer may be appending while we read: rows end with a newline, so a last line without
    one is torn and dropped (its numbers may be cut short, e.g. `12.5` read as `1`).
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
        table = pd.read_csv(io.StringIO(text))
    except pd.errors.EmptyDataError:
        return empty
    except pd.errors.ParserError as error:
        raise ValueError(f"{path.name}: {one_line(error)}") from error
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
    table = table.apply(pd.to_numeric, errors="coerce")
    return table.dropna(subset=list(required)).sort_values("step").reset_index(drop=True)


def one_line(error: object) -> str:
    return " ".join(str(error).split())

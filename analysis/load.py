"""Run directories -> tidy pandas tables.

Reads only the run-directory contract (docs/run_directory.md): `config.json`, `status.json`,
`eval.csv`, `progress.csv`, and a sweep's `sweep.json`. Never imports dqnlab.

A run that cannot be used whole is never a crash: it becomes a `RunProblem` (printed by the CLI)
and is kept or dropped as follows:
- unreadable `config.json` / `eval.csv`, or no `config.json` for a run listed in `sweep.json`:
  dropped (nothing trustworthy to show);
- `status.json` state `failed`, or `running` / `pending` / missing: kept with `complete=False`;
  its evaluations still draw learning curves up to where it stopped, but it has no final score,
  so every final-score aggregate leaves it out (`metrics.final_scores` uses complete runs only).
A run is complete when its state is `done` and it has an evaluation at the end of its budget
(`step >= total_steps`, which the contract guarantees for finished runs).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.variants import variant_components

RUN_COLUMNS: tuple[str, ...] = (
    "variant", "components", "env", "family", "protocol", "preset", "seed",
    "total_steps", "frame_skip", "gamma", "state", "complete", "n_evals", "last_step", "run_dir",
)  # fmt: skip
"""Columns of `RunTables.runs`: one row per run. `components` is a comma list, canonical order."""

_RUN_KEYS = RUN_COLUMNS[: RUN_COLUMNS.index("state")]

EVAL_METRIC_COLUMNS: tuple[str, ...] = (
    "return_mean", "return_std", "episodes", "q_estimate_mean", "discounted_return_mean",
    "truncated_episodes",
)  # fmt: skip

EVAL_COLUMNS: tuple[str, ...] = (
    *_RUN_KEYS, "state", "complete", "step", "frame", *EVAL_METRIC_COLUMNS, "run_dir",
)  # fmt: skip
"""Columns of `RunTables.evals`: one row per evaluation of one run. Returns are raw game scores
(undiscounted, unclipped); `q_estimate_mean` and `discounted_return_mean` are in the units the agent
learns (clipped rewards on Atari) with the agent's gamma."""

PROGRESS_METRIC_COLUMNS: tuple[str, ...] = (
    "episodes", "episode_return", "episode_length", "loss", "q_mean", "epsilon", "updates", "sps",
    "wall_time_s",
)  # fmt: skip

PROGRESS_COLUMNS: tuple[str, ...] = (
    *_RUN_KEYS, "state", "complete", "step", "frame", *PROGRESS_METRIC_COLUMNS, "run_dir",
)  # fmt: skip
"""Columns of `RunTables.progress`: one row per training log row of one run."""


@dataclass(frozen=True)
class RunProblem:
    """Something wrong with one run directory, found while loading.

    kind: `missing` (listed but absent), `unreadable` (a file that does not parse),
    `failed` (status.json says failed), `partial` (not finished, or no final evaluation),
    `no_eval` (no evaluation rows yet).
    """

    run_dir: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.run_dir}: {self.message}"


@dataclass
class RunTables:
    """The tidy tables of every run found, plus what was wrong with some of them."""

    runs: pd.DataFrame
    evals: pd.DataFrame
    progress: pd.DataFrame
    problems: list[RunProblem] = field(default_factory=list)


def load_runs(paths: Sequence[str | Path] | str | Path) -> RunTables:
    """Load every run under `paths` (sweep dirs with `sweep.json`, run dirs, or any folder
    holding run dirs at any depth) into tidy tables.

    Raises AnalysisError if a path does not exist or no run directory is found at all.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    problems: list[RunProblem] = []
    run_dirs: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise AnalysisError(f"not a directory: {path}")
        run_dirs.extend(_discover(path, problems))
    run_dirs = list(dict.fromkeys(d.resolve() for d in run_dirs))  # dedupe, keep order
    if not run_dirs and not problems:
        where = ", ".join(str(p) for p in paths)
        raise AnalysisError(f"no runs found under {where} (no sweep.json or config.json)")

    run_rows, eval_frames, progress_frames = [], [], []
    for run_dir in run_dirs:
        loaded = _load_run(run_dir, problems)
        if loaded is None:
            continue
        run_row, evals, progress = loaded
        run_rows.append(run_row)
        eval_frames.append(evals)
        progress_frames.append(progress)
    if not run_rows:
        raise AnalysisError(
            f"no readable runs found ({len(problems)} problem(s), first: {problems[0]})"
        )
    runs = pd.DataFrame(run_rows, columns=list(RUN_COLUMNS))
    return RunTables(
        runs=runs.sort_values(["env", "variant", "seed"], kind="stable").reset_index(drop=True),
        evals=_concat(eval_frames, EVAL_COLUMNS),
        progress=_concat(progress_frames, PROGRESS_COLUMNS),
        problems=problems,
    )


def check_comparable(table: pd.DataFrame) -> None:
    """Refuse to aggregate runs that must not be mixed; returns None when `table` is fine.

    One aggregate must hold a single env family, Atari protocol and hyperparameter preset (scores
    under sticky actions and under no-op starts are different quantities), and every run of one
    env must have the same budget. Raises AnalysisError with a one-line explanation otherwise.
    `table` is any of the `RunTables` tables (it needs family, protocol, preset, env, total_steps).
    """
    if table.empty:
        return
    runs = table.drop_duplicates("run_dir") if "run_dir" in table else table
    for column in ("family", "protocol", "preset"):
        counts = runs[column].astype(str).value_counts().sort_index()
        if len(counts) > 1:
            found = ", ".join(f"{value} ({n} runs)" for value, n in counts.items())
            raise AnalysisError(
                f"refusing to aggregate runs of different {column}s: {found}; "
                "analyze each separately"
            )
    budgets = runs.groupby("env")["total_steps"].unique()
    for env, values in budgets.items():
        if len(values) > 1:
            listed = ", ".join(str(int(v)) for v in sorted(values))
            raise AnalysisError(
                f"refusing to aggregate runs of {env} with different budgets ({listed} steps)"
            )


# --------------------------------------------------------------------------- discovery


def _discover(root: Path, problems: list[RunProblem]) -> list[Path]:
    """Run dirs under `root`: the sweep manifest's entries first, then any other config.json."""
    found: list[Path] = []
    manifest = root / "sweep.json"
    if manifest.is_file():
        try:
            entries = json.loads(manifest.read_text())["runs"]
            listed = [root / entry["run_dir"] for entry in entries]
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.append(RunProblem(str(manifest), "unreadable", _one_line(error)))
            listed = []
        for run_dir in listed:
            if (run_dir / "config.json").is_file():
                found.append(run_dir)
            else:
                problems.append(
                    RunProblem(str(run_dir), "missing", "listed in sweep.json, no config.json yet")
                )
    found.extend(_find_config_dirs(root))
    return found


def _find_config_dirs(root: Path) -> list[Path]:
    """Directories holding a config.json, outermost only (a run's checkpoint/ may hold copies)."""
    candidates = sorted({p.parent for p in root.rglob("config.json")}, key=lambda p: len(p.parts))
    runs: list[Path] = []
    for candidate in candidates:
        if not any(run == candidate or run in candidate.parents for run in runs):
            runs.append(candidate)
    return runs


# --------------------------------------------------------------------------- one run


def _load_run(
    run_dir: Path, problems: list[RunProblem]
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame] | None:
    name = str(run_dir)
    try:
        keys = _run_keys(json.loads((run_dir / "config.json").read_text()), name)
    except (OSError, ValueError, KeyError, TypeError) as error:
        problems.append(RunProblem(name, "unreadable", f"config.json: {_one_line(error)}"))
        return None

    state, error_text = _read_status(run_dir, problems)
    try:
        evals = _read_csv(run_dir / "eval.csv", required=("step", "return_mean"))
        progress = _read_csv(run_dir / "progress.csv", required=("step",))
    except (OSError, ValueError) as error:
        problems.append(RunProblem(name, "unreadable", _one_line(error)))
        return None

    last_step = int(evals["step"].max()) if len(evals) else -1
    complete = state == "done" and last_step >= keys["total_steps"]
    _report_state(name, state, error_text, keys["total_steps"], evals, last_step, problems)

    run_row = {**keys, "state": state, "complete": complete, "n_evals": len(evals),
               "last_step": last_step}  # fmt: skip
    if "frame" not in evals:
        evals["frame"] = evals["step"] * keys["frame_skip"]
    if "frame" not in progress:
        progress["frame"] = progress["step"] * keys["frame_skip"]
    return (
        run_row,
        _with_keys(evals, run_row, EVAL_COLUMNS),
        _with_keys(progress, run_row, PROGRESS_COLUMNS),
    )


def _run_keys(config: dict[str, Any], run_dir: str) -> dict[str, Any]:
    """The identifying columns of a run from its config.json (KeyError if one is missing)."""
    env = config["env"]
    variant = str(config["variant"])
    components = config.get("components")
    if components is None:
        components = variant_components(variant)
    return {
        "variant": variant,
        "components": ",".join(components),
        "env": str(env["id"]),
        "family": str(env.get("family", "unknown")),
        "protocol": str(env.get("protocol", "none")),
        "preset": str(config.get("preset", "unknown")),
        "seed": int(config["seed"]),
        "total_steps": int(config["total_steps"]),
        "frame_skip": int(env.get("frame_skip", 1)),
        "gamma": float(config.get("agent", {}).get("gamma", math.nan)),
        "run_dir": run_dir,
    }


def _read_status(run_dir: Path, problems: list[RunProblem]) -> tuple[str, str | None]:
    path = run_dir / "status.json"
    if not path.is_file():
        problems.append(RunProblem(str(run_dir), "partial", "no status.json"))
        return "unknown", None
    try:
        status = json.loads(path.read_text())
        return str(status["state"]), status.get("error")
    except (OSError, ValueError, KeyError, TypeError) as error:
        problems.append(RunProblem(str(run_dir), "unreadable", f"status.json: {_one_line(error)}"))
        return "unknown", None


def _report_state(
    name: str,
    state: str,
    error_text: str | None,
    total_steps: int,
    evals: pd.DataFrame,
    last_step: int,
    problems: list[RunProblem],
) -> None:
    where = (
        f"last evaluation at step {last_step} of {total_steps}" if len(evals) else "no evaluation"
    )
    if state == "failed":
        reason = _one_line(error_text) if error_text else "no error text"
        problems.append(RunProblem(name, "failed", f"{reason} ({where}); no final score"))
    elif not len(evals):
        problems.append(RunProblem(name, "no_eval", f"state {state}, eval.csv empty or absent"))
    elif state in ("running", "pending"):
        problems.append(RunProblem(name, "partial", f"state {state}, {where}; no final score"))
    elif state == "done" and last_step < total_steps:
        problems.append(RunProblem(name, "partial", f"state done but {where}; no final score"))


def _read_csv(path: Path, required: Iterable[str]) -> pd.DataFrame:
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
        raise ValueError(f"{path.name}: {_one_line(error)}") from error
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
    table = table.apply(pd.to_numeric, errors="coerce")
    return table.dropna(subset=list(required)).sort_values("step").reset_index(drop=True)


def _with_keys(
    table: pd.DataFrame, run_row: dict[str, Any], columns: Sequence[str]
) -> pd.DataFrame:
    table = table.copy()
    for key, value in run_row.items():
        table[key] = value
    for column in columns:
        if column not in table:
            table[column] = math.nan  # optional contract column this run did not write
    return table[list(columns)]


def _concat(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["env", "variant", "seed", "step"], kind="stable").reset_index(
        drop=True
    )


def _one_line(error: object) -> str:
    return " ".join(str(error).split())

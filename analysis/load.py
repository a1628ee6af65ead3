"""Run directories -> tidy pandas tables.

Reads only the run-directory contract (docs/run_directory.md), by the names and columns in
`dqnlab.contract`: `config.json`, `status.json`, `eval.csv`, `progress.csv`, and a sweep's
`sweep.json`. Never imports training code (so never torch).

A run that cannot be used whole is never a crash: it becomes a `RunProblem` (printed by the CLI)
and is kept or dropped as follows:
- unreadable `config.json` / `eval.csv`, or no `config.json` for a run listed in `sweep.json`:
  dropped (nothing trustworthy to show);
- `status.json` state `failed`, or `running` / `pending` / missing: kept with `complete=False`;
  its evaluations still draw learning curves up to where it stopped, but it has no final score,
  so every final-score aggregate leaves it out (`metrics.final_scores` uses complete runs only).
A run is complete when its state is `done` and it has an evaluation at the end of its budget
(`step >= total_steps`, which the contract guarantees for finished runs).
Two run directories with the same config (its `meta` block aside) and seed are one run stored twice
(e.g. two sweep directories holding it): it is counted once, the copy with the most evaluations
kept, and the other is reported as a `duplicate` problem.
Every row is checked (`files.read_csv`), and a run's files against what its status.json recorded
(`files.recorded_problem`); a bad row or a changed file makes the run unreadable, naming it.
Runs that share a variant label but differ in more than the seed are separate arms (`arms.py`):
their `variant` is the label and the difference, e.g. `dqn [agent.batch_size=16]`, and
`RunTables.warnings` says so.

Columns: a run directory's CSV files have the contract's `EVAL_COLUMNS` / `PROGRESS_COLUMNS`; the
tidy tables here (`*_TABLE_COLUMNS`) are those rows with the run's identifying keys added, one
table for all runs.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dqnlab import contract
from dqnlab.analysis.arms import label_arms
from dqnlab.analysis.errors import AnalysisError, RunProblem
from dqnlab.analysis.files import discover, one_line, read_csv, read_status, recorded_problem
from dqnlab.analysis.variants import variant_components

RUN_TABLE_COLUMNS: tuple[str, ...] = (
    "variant", "components", "env", "family", "protocol", "preset", "seed",
    "total_steps", "frame_skip", "gamma", "value_tail_steps", "scoring", "compat", "state", "complete",
    "n_evals", "last_step", "run_dir",
)  # fmt: skip
"""Columns of `RunTables.runs`: one row per run. `components` is a comma list, canonical order;
`protocol` is config.json's top-level protocol (`env.protocol` in runs written before it moved);
`scoring` is a fingerprint of the run's env and eval settings: runs with the same one produce
scores that are the same quantity (see `check_comparable`). `value_tail_steps` is how far an
evaluation episode that reached its time limit ran on for the overestimation measure (0 for runs
written before it existed: their realized values stop at the limit). `compat` names the
compatibility switches the run turned on (`contract.compat_switches_on`, "" for none)."""

_RUN_KEYS = RUN_TABLE_COLUMNS[: RUN_TABLE_COLUMNS.index("state")]
_WHEN = ("step", "frame")

EVAL_METRIC_COLUMNS: tuple[str, ...] = tuple(
    c for c in contract.EVAL_COLUMNS if c not in (*_WHEN, *contract.WALL_CLOCK_COLUMNS)
)
"""eval.csv's measurements (its wall-clock columns left out)."""

EVAL_TABLE_COLUMNS: tuple[str, ...] = (
    *_RUN_KEYS, "state", "complete", *_WHEN, *EVAL_METRIC_COLUMNS, "run_dir",
)  # fmt: skip
"""Columns of `RunTables.evals`: one row per evaluation of one run. Returns are raw game scores
(undiscounted, unclipped); `q_estimate_mean` and `discounted_return_mean` are in the units the agent
learns (clipped rewards on Atari) with the agent's gamma."""

PROGRESS_METRIC_COLUMNS: tuple[str, ...] = tuple(
    c for c in contract.PROGRESS_COLUMNS if c not in _WHEN
)
"""progress.csv's columns (throughput included: `sps`, `wall_time_s`)."""

PROGRESS_TABLE_COLUMNS: tuple[str, ...] = (
    *_RUN_KEYS, "state", "complete", *_WHEN, *PROGRESS_METRIC_COLUMNS, "run_dir",
)  # fmt: skip
"""Columns of `RunTables.progress`: one row per training log row of one run."""


@dataclass
class RunTables:
    """The tidy tables of every run found, plus what was wrong with some of them."""

    runs: pd.DataFrame
    evals: pd.DataFrame
    progress: pd.DataFrame
    problems: list[RunProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Printed as `warning:` lines: e.g. runs of one label split into arms."""


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
        run_dirs.extend(discover(path, problems))
    run_dirs = list(dict.fromkeys(d.resolve() for d in run_dirs))  # dedupe, keep order
    if not run_dirs and not problems:
        where = ", ".join(str(p) for p in paths)
        raise AnalysisError(f"no runs found under {where} (no {contract.MANIFEST} or {contract.CONFIG})")

    by_config: dict[str, tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]] = {}
    configs: dict[str, dict[str, Any]] = {}
    for run_dir in run_dirs:
        loaded = _load_run(run_dir, problems)
        if loaded is None:
            continue
        key, run, configs[str(run_dir)] = loaded
        first = by_config.get(key)
        if first is not None:  # the same run twice: keep the copy that got further
            keep, drop = (run, first) if run[0]["n_evals"] > first[0]["n_evals"] else (first, run)
            by_config[key] = keep
            problems.append(RunProblem(drop[0]["run_dir"], "duplicate",
                                       f"same config and seed as {keep[0]['run_dir']}; counted once"))
            continue
        by_config[key] = run
    arms, warnings = label_arms({run[0]["run_dir"]: (run[0]["variant"], run[0]["env"], configs[run[0]["run_dir"]])
                                 for run in by_config.values()})
    for run in by_config.values():
        for table in (run[0], run[1], run[2]):
            table["variant"] = arms[run[0]["run_dir"]]
    run_rows = [run[0] for run in by_config.values()]
    eval_frames = [run[1] for run in by_config.values()]
    progress_frames = [run[2] for run in by_config.values()]
    if not run_rows:
        raise AnalysisError(
            f"no readable runs found ({len(problems)} problem(s), first: {problems[0]})"
        )
    runs = pd.DataFrame(run_rows, columns=list(RUN_TABLE_COLUMNS))
    return RunTables(
        runs=runs.sort_values(["env", "variant", "seed"], kind="stable").reset_index(drop=True),
        evals=_concat(eval_frames, EVAL_TABLE_COLUMNS),
        progress=_concat(progress_frames, PROGRESS_TABLE_COLUMNS),
        problems=problems,
        warnings=warnings,
    )


def check_comparable(table: pd.DataFrame) -> None:
    """Refuse to aggregate runs that must not be mixed; returns None when `table` is fine.

    One aggregate must hold a single env family and hyperparameter preset, and every run of one
    env must have the same budget. Protocols may differ between arms, as when a sweep runs its
    dqn baseline under its own tuned config (`Sweep.arm_protocols`: Revisiting Rainbow's
    dqn_*.gin), but only where scores stay the same quantity: each arm under one protocol, and
    every run of one env with the same env and evaluation settings (scores under sticky actions
    and under no-op starts are different quantities). Raises AnalysisError with a one-line
    explanation otherwise. `table` is any of the `RunTables` tables (it needs family, protocol,
    preset, variant, env, scoring, total_steps).
    """
    if table.empty:
        return
    runs = table.drop_duplicates("run_dir") if "run_dir" in table else table
    for column in ("family", "preset"):
        _refuse_mixed(runs, column)
    if runs["protocol"].nunique() > 1:
        arms_mixed = (runs.groupby("variant")["protocol"].nunique() > 1).any()
        scoring_mixed = (runs.groupby("env")["scoring"].nunique() > 1).any()
        if arms_mixed or scoring_mixed:
            _refuse_mixed(runs, "protocol")
    budgets = runs.groupby("env")["total_steps"].unique()
    for env, values in budgets.items():
        if len(values) > 1:
            listed = ", ".join(str(int(v)) for v in sorted(values))
            raise AnalysisError(
                f"refusing to aggregate runs of {env} with different budgets ({listed} steps)"
            )


def _refuse_mixed(runs: pd.DataFrame, column: str) -> None:
    counts = runs[column].astype(str).value_counts().sort_index()
    if len(counts) > 1:
        found = ", ".join(f"{value} ({n} runs)" for value, n in counts.items())
        raise AnalysisError(
            f"refusing to aggregate runs of different {column}s: {found}; analyze each separately"
        )


# --------------------------------------------------------------------------- one run


def _load_run(
    run_dir: Path, problems: list[RunProblem]
) -> tuple[str, tuple[dict[str, Any], pd.DataFrame, pd.DataFrame], dict[str, Any]] | None:
    """(the run's identity: its config without `meta`, as JSON; (run row, evals, progress); its
    config)."""
    name = str(run_dir)
    try:
        config = json.loads((run_dir / contract.CONFIG).read_text())
        keys = _run_keys(config, name)
        identity = json.dumps({k: v for k, v in config.items() if k != "meta"}, sort_keys=True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        problems.append(RunProblem(name, "unreadable", f"{contract.CONFIG}: {one_line(error)}"))
        return None

    status = read_status(run_dir, problems)
    state, error_text = status["state"], status.get("error")
    try:
        evals = read_csv(run_dir / contract.EVAL, required=("step", "return_mean"))
        progress = read_csv(run_dir / contract.PROGRESS, required=("step",))
        damaged = recorded_problem(run_dir, status, config)
        if damaged is not None:
            raise ValueError(damaged)
    except (OSError, ValueError) as error:
        problems.append(RunProblem(name, "unreadable", one_line(error)))
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
    return identity, (
        run_row,
        _with_keys(evals, run_row, EVAL_TABLE_COLUMNS),
        _with_keys(progress, run_row, PROGRESS_TABLE_COLUMNS),
    ), config


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
        "protocol": str(config.get("protocol", env.get("protocol", "none"))),
        "preset": str(config.get("preset", "unknown")),
        "seed": int(config["seed"]),
        "total_steps": int(config["total_steps"]),
        "frame_skip": int(env.get("frame_skip", 1)),
        "gamma": float(config.get("agent", {}).get("gamma", math.nan)),
        "value_tail_steps": int(config.get("eval", {}).get("value_tail_steps") or 0),
        "scoring": _fingerprint({"env": env, "eval": config.get("eval", {})}),
        "compat": contract.compat_switches_on(config),
        "run_dir": run_dir,
    }


def _fingerprint(settings: dict[str, Any]) -> str:
    """A short stable digest of JSON settings."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
        reason = one_line(error_text) if error_text else "no error text"
        problems.append(RunProblem(name, "failed", f"{reason} ({where}); no final score"))
    elif not len(evals):
        problems.append(RunProblem(name, "no_eval", f"state {state}, {contract.EVAL} empty or absent"))
    elif state in ("running", "pending"):
        problems.append(RunProblem(name, "partial", f"state {state}, {where}; no final score"))
    elif state == "done" and last_step < total_steps:
        problems.append(RunProblem(name, "partial", f"state done but {where}; no final score"))


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



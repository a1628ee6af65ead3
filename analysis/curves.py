"""Scores over training with 95% bootstrap CIs (rliable), as tidy tables for the curve figures.

- `aggregate_curves`: an aggregate (IQM, median, mean) of normalized scores over runs x envs at
  each evaluation point (Hessel et al. 2018, Fig. 3; rliable's sample-efficiency curves).
- `env_curves`: per env, the mean raw evaluation return over runs (the per-game learning curves).

Both resample whole runs (a run's curve is one sample), so a band is consistent across time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.load import check_comparable
from dqnlab.analysis.metrics import METRICS, bootstrap_intervals, curve_rows
from dqnlab.analysis.normalization import add_normalized
from dqnlab.analysis.variants import sort_variants

CURVE_COLUMNS = ["variant", "x", "value", "ci_low", "ci_high", "n_runs", "n_tasks"]
ENV_CURVE_COLUMNS = ["env", "variant", "x", "value", "ci_low", "ci_high", "n_runs"]


def within_budget(evals: pd.DataFrame) -> pd.DataFrame:
    """The evaluations at or before each run's budget. A run in Dopamine's iterations
    (run.iteration_steps) ends with its last iteration's final episode, a little past its budget,
    at a step no other run shares: that evaluation is its final score (`final_scores`), not a point
    of a curve over steps, which would then rest on one run."""
    return evals[evals["step"] <= evals["total_steps"]]


def x_axis_label(x: str, frame_skips: pd.Series) -> str:
    """Axis label of the training axis `x` ("frame" or "step"). Without frame skipping (classic
    control, MinAtar) frames are environment steps, and saying "frames" would puzzle a reader."""
    if x == "step":
        return "Agent steps"
    return "Frames" if (frame_skips > 1).any() else "Environment steps"


def aggregate_curves(
    evals: pd.DataFrame,
    metric: str = "iqm",
    x: str = "frame",
    reps: int = 2000,
    seed: int = 0,
) -> tuple[pd.DataFrame, str]:
    """Aggregate normalized score over training with a 95% CI band (Rainbow paper, Figure 3).

    Complete runs only. Evaluation points are aligned by fraction of budget; a point enters the
    curve only if every run of every task was evaluated there. If every task has the same budget,
    the x axis is that `x` ("frame" or "step"); otherwise it is the fraction of the budget.
    One bootstrap per variant over the [runs, tasks, T] array resamples whole runs.

    Returns (table with columns CURVE_COLUMNS, x label).
    """
    if metric not in METRICS:
        raise AnalysisError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    if x not in ("frame", "step"):
        raise AnalysisError(f"x must be 'frame' or 'step', got {x!r}")
    check_comparable(evals)
    done = add_normalized(evals[evals["complete"].astype(bool)])
    if done.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS), x
    done = done.assign(fraction=(done["step"] / done["total_steps"]).round(9))

    # The fractions of budget at which every run of a task was evaluated, then common to all tasks.
    per_task = [
        set.intersection(*(set(g["fraction"]) for _, g in task.groupby("run_dir")))
        for _, task in done.groupby("env")
    ]
    grid = np.array(sorted(set.intersection(*per_task)))
    if grid.size == 0:
        return pd.DataFrame(columns=CURVE_COLUMNS), x
    first = done.groupby("env")[["total_steps", "frame_skip"]].first()
    budgets = first["total_steps"] * (first["frame_skip"] if x == "frame" else 1)
    same_budget = budgets.nunique() == 1
    x_values = grid * budgets.iloc[0] if same_budget else grid
    x_label = x_axis_label(x, first["frame_skip"]) if same_budget else "Fraction of budget"

    on_grid = done[done["fraction"].isin(grid)]
    tasks = tuple(sorted(done["env"].unique()))
    aggregate_fn = METRICS[metric]
    rows = []
    for variant in sort_variants(on_grid["variant"].unique()):
        curves = _curve_array(on_grid[on_grid["variant"] == variant], tasks, grid)
        if curves is None:
            continue  # a variant without every task: left out as in score_matrices

        def aggregate(scores: np.ndarray) -> np.ndarray:
            return np.array([aggregate_fn(scores[:, :, t]) for t in range(scores.shape[2])])

        point, interval = bootstrap_intervals({variant: curves}, aggregate, reps, seed)
        rows += curve_rows("x", x_values, point[variant], interval[variant], variant=variant,
                           n_runs=curves.shape[0], n_tasks=curves.shape[1])  # fmt: skip
    return pd.DataFrame(rows, columns=CURVE_COLUMNS), x_label


def _curve_array(rows: pd.DataFrame, tasks: tuple[str, ...], grid: np.ndarray) -> np.ndarray | None:
    """[runs, tasks, T] normalized scores of one variant, runs truncated to the fewest per task."""
    per_task = []
    for task in tasks:
        table = rows[rows["env"] == task].pivot_table(
            index="seed", columns="fraction", values="normalized", aggfunc="mean"
        )
        if table.empty:
            return None
        per_task.append(table.reindex(columns=grid).to_numpy())
    n_runs = min(len(t) for t in per_task)
    return np.stack([t[:n_runs] for t in per_task], axis=1)


def env_curves(
    evals: pd.DataFrame, x: str = "frame", reps: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per env and variant: mean evaluation return over runs at each evaluation point, with a 95%
    bootstrap CI of that mean (rliable; one task, so the stratified bootstrap resamples runs).

    Raw returns (undiscounted, not normalized). Runs that stopped early (failed, still running)
    count up to their last evaluation, so n_runs, the runs evaluated at a point, may fall along
    a curve; the runs of one point are resampled together with every other point they share.
    Columns: ENV_CURVE_COLUMNS.
    """
    rows = []
    for (env, variant), runs in within_budget(evals).groupby(["env", "variant"], sort=True):
        table = runs.pivot_table(index="run_dir", columns=x, values="return_mean", aggfunc="mean")
        present = table.notna()
        # Points evaluated by the same set of runs form one [runs, 1, points] block.
        blocks: dict[tuple[bool, ...], list[float]] = {}
        for point in table.columns:
            blocks.setdefault(tuple(present[point]), []).append(point)
        for members, points in blocks.items():
            block = table.loc[list(members), points].to_numpy()[:, None, :]
            point, interval = bootstrap_intervals(
                {"mean": block}, lambda s: s[:, 0, :].mean(axis=0), reps, seed
            )
            rows += curve_rows("x", points, point["mean"], interval["mean"], env=env,
                               variant=variant, n_runs=block.shape[0])  # fmt: skip
    table = pd.DataFrame(rows, columns=ENV_CURVE_COLUMNS)
    return table.sort_values(["env", "variant", "x"]).reset_index(drop=True)

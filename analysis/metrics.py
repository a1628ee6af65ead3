"""Aggregate scores with uncertainty, over (runs x tasks) score matrices (Agarwal et al. 2021).

Every interval is a 95% percentile stratified-bootstrap CI computed by rliable
(`rliable.library.get_interval_estimates`): runs are resampled with replacement within each task,
tasks are kept fixed, so the CI answers "what if we re-ran the seeds on these same games".

Reproducibility: rliable 1.2.0's `StratifiedBootstrap.update_indices` draws from numpy's GLOBAL
RNG (`np.random.choice`), not from the `random_state` it accepts, so we call
`np.random.seed(seed)` right before each rliable call, once per variant (or pair). That also makes
each variant's CI independent of which other variants are in the sweep and of dict order.

Degenerate inputs: with one run per task, every resample equals the data, so the CI collapses to
the point estimate (ci_low == value == ci_high); with one task, the aggregate is that task's
score. Neither is an error, but neither carries any uncertainty information: report n_runs.

Final score: a run's final score is the mean `return_mean` of its last `final_evals` evaluations
(default 1: the evaluation at the end of the budget, which the contract guarantees), taken only
from complete runs (see `analysis.load`). K > 1 smooths evaluation noise, as DQN Zoo and Dopamine
report averages over the last iterations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rliable import library as rly
from rliable import metrics as rly_metrics

from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.load import check_comparable
from dqnlab.analysis.normalization import add_normalized
from dqnlab.analysis.variants import DQN, RAINBOW, removed_component, sort_variants

METRICS: dict[str, Callable[[np.ndarray], float]] = {
    "iqm": rly_metrics.aggregate_iqm,
    "median": rly_metrics.aggregate_median,
    "mean": rly_metrics.aggregate_mean,
    "optimality_gap": rly_metrics.aggregate_optimality_gap,
}
"""Aggregates of a [runs, tasks] normalized-score matrix. Optimality gap: lower is better."""

METRIC_LABELS: dict[str, str] = {
    "iqm": "IQM",
    "median": "Median",
    "mean": "Mean",
    "optimality_gap": "Optimality gap",
}

CONFIDENCE = 0.95


@dataclass(frozen=True)
class ScoreMatrices:
    """Per variant a [runs, tasks] score matrix; columns follow `tasks` in every matrix.

    notes: what was dropped to make the matrices rectangular (printed by the CLI).
    """

    scores: dict[str, np.ndarray]
    tasks: tuple[str, ...]
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- final scores


def final_scores(evals: pd.DataFrame, final_evals: int = 1) -> pd.DataFrame:
    """One row per complete run: its final score, raw (`score`) and normalized (`normalized`).

    evals: `RunTables.evals`. final_evals: K, the number of last evaluations averaged.
    Columns: variant, env, seed, run_dir, score, normalized, n_evals_used.
    Raises AnalysisError for K < 1, mixed protocols/presets, or an env without a reference.
    """
    if final_evals < 1:
        raise AnalysisError(f"--final-evals must be >= 1, got {final_evals}")
    check_comparable(evals)
    done = evals[evals["complete"].astype(bool)]
    columns = ["variant", "env", "seed", "run_dir", "score", "normalized", "n_evals_used"]
    if done.empty:
        return pd.DataFrame(columns=columns)
    last = done.sort_values("step").groupby("run_dir", sort=False).tail(final_evals)
    per_run = last.groupby(["variant", "env", "seed", "run_dir"], as_index=False).agg(
        score=("return_mean", "mean"), n_evals_used=("return_mean", "size")
    )
    per_run = add_normalized(per_run, column="score")
    return per_run[columns].sort_values(["env", "variant", "seed"]).reset_index(drop=True)


def score_matrices(final: pd.DataFrame, column: str = "normalized") -> ScoreMatrices:
    """Per variant a [runs, tasks] matrix of `column` from `final_scores` output.

    Every variant must cover every task (env) seen: a variant missing one is left out (a note),
    because an aggregate over a different task set is a different quantity. rliable needs the
    same number of runs on every task of one variant: extra runs on some tasks are dropped
    (highest seeds first, a note); variants may have different numbers of runs.
    """
    tasks = tuple(sorted(final["env"].unique()))
    scores: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for variant in sort_variants(final["variant"].unique()):
        rows = final[final["variant"] == variant]
        missing = [t for t in tasks if t not in set(rows["env"])]
        if missing:
            notes.append(
                f"{variant}: left out of aggregates, no complete run on {', '.join(missing)}"
            )
            continue
        per_task = [rows[rows["env"] == t].sort_values("seed")[column].to_numpy() for t in tasks]
        n_runs = min(len(s) for s in per_task)
        if any(len(s) > n_runs for s in per_task):
            notes.append(
                f"{variant}: using {n_runs} run(s) per task (the fewest any task has); "
                "extra seeds dropped from aggregates"
            )
        scores[variant] = np.stack([s[:n_runs] for s in per_task], axis=1)
    return ScoreMatrices(scores=scores, tasks=tasks, notes=tuple(notes))


# --------------------------------------------------------------------------- intervals


def interval_estimates(
    matrices: ScoreMatrices,
    metric_names: Sequence[str] = tuple(METRICS),
    reps: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Point estimate and 95% stratified-bootstrap CI of each aggregate for each variant.

    Returns the tidy summary table: variant, metric, value, ci_low, ci_high, n_runs, n_tasks
    (n_runs = runs per task, the rows of the matrix; n_tasks = its columns).
    """
    functions = [METRICS[name] for name in metric_names]

    def aggregate(scores: np.ndarray) -> np.ndarray:
        return np.array([f(scores) for f in functions])

    rows = []
    for variant, scores in matrices.scores.items():
        point, interval = _seeded_estimates({variant: scores}, aggregate, reps, seed)
        for i, name in enumerate(metric_names):
            rows.append({
                "variant": variant, "metric": name, "value": float(point[variant][i]),
                "ci_low": float(interval[variant][0, i]), "ci_high": float(interval[variant][1, i]),
                "n_runs": scores.shape[0], "n_tasks": scores.shape[1],
            })  # fmt: skip
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


SUMMARY_COLUMNS = ["variant", "metric", "value", "ci_low", "ci_high", "n_runs", "n_tasks"]


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
    One bootstrap per variant over the [runs, tasks, T] array resamples whole runs, so a curve's
    band is consistent across time points (as in rliable's sample-efficiency curves).

    Returns (table with columns variant, x, value, ci_low, ci_high, n_runs, n_tasks; x label).
    """
    if metric not in METRICS:
        raise AnalysisError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    if x not in ("frame", "step"):
        raise AnalysisError(f"x must be 'frame' or 'step', got {x!r}")
    check_comparable(evals)
    done = add_normalized(evals[evals["complete"].astype(bool)])
    columns = ["variant", "x", "value", "ci_low", "ci_high", "n_runs", "n_tasks"]
    if done.empty:
        return pd.DataFrame(columns=columns), x
    done = done.assign(fraction=(done["step"] / done["total_steps"]).round(9))

    # The fractions of budget at which every run of a task was evaluated, then common to all tasks.
    per_task = [
        set.intersection(*(set(g["fraction"]) for _, g in task.groupby("run_dir")))
        for _, task in done.groupby("env")
    ]
    grid = np.array(sorted(set.intersection(*per_task)))
    if grid.size == 0:
        return pd.DataFrame(columns=columns), x
    first = done.groupby("env")[["total_steps", "frame_skip"]].first()
    budgets = first["total_steps"] * (first["frame_skip"] if x == "frame" else 1)
    same_budget = budgets.nunique() == 1
    x_values = grid * budgets.iloc[0] if same_budget else grid
    x_label = {"frame": "Frames", "step": "Agent steps"}[x] if same_budget else "Fraction of budget"

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

        point, interval = _seeded_estimates({variant: curves}, aggregate, reps, seed)
        for t, x_value in enumerate(x_values):
            rows.append({
                "variant": variant, "x": float(x_value), "value": float(point[variant][t]),
                "ci_low": float(interval[variant][0, t]), "ci_high": float(interval[variant][1, t]),
                "n_runs": curves.shape[0], "n_tasks": curves.shape[1],
            })  # fmt: skip
    return pd.DataFrame(rows, columns=columns), x_label


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


# --------------------------------------------------------------------------- improvement


def probability_of_improvement_score(scores_x: np.ndarray, scores_y: np.ndarray) -> float:
    """P(X > Y): per task the Mann-Whitney U statistic / (n_x n_y), averaged over tasks.

    scores_x: [runs_x, tasks], scores_y: [runs_y, tasks]. Same value as
    `rliable.metrics.probability_of_improvement` (ties count one half, so identical samples give
    0.5), computed over all run pairs at once: rliable's version calls scipy once per task per
    bootstrap replicate, about 30 s per pair at 57 tasks and 2000 replicates.
    """
    x = scores_x[:, None, :]
    y = scores_y[None, :, :]
    per_task = np.mean((x > y) + 0.5 * (x == y), axis=(0, 1))
    return float(np.mean(per_task))


def improvement_pairs(variants: Iterable[str]) -> list[tuple[str, str]]:
    """The (X, Y) pairs whose P(X > Y) we report.

    rainbow over each rainbow-no-C present (does adding C back help?), then every other variant
    over dqn (does this variant improve on DQN?).
    """
    present = sort_variants(variants)
    pairs = []
    if RAINBOW in present:
        pairs += [(RAINBOW, v) for v in present if removed_component(v) is not None]
    if DQN in present:
        pairs += [(v, DQN) for v in present if v != DQN]
    return pairs


def probability_of_improvement(
    matrices: ScoreMatrices,
    pairs: Sequence[tuple[str, str]] | None = None,
    reps: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """P(X > Y) with a 95% CI (independent stratified bootstrap of X's and Y's runs).

    Returns columns x, y, value, ci_low, ci_high, n_runs_x, n_runs_y, n_tasks. Pairs default to
    `improvement_pairs`; a pair with a variant missing from `matrices` is skipped.
    """
    if pairs is None:
        pairs = improvement_pairs(matrices.scores)
    rows = []
    for x, y in pairs:
        if x not in matrices.scores or y not in matrices.scores:
            continue
        key = f"{x} > {y}"
        data = {key: [matrices.scores[x], matrices.scores[y]]}
        point, interval = _seeded_estimates(data, probability_of_improvement_score, reps, seed)
        rows.append({
            "x": x, "y": y, "value": float(point[key]),
            "ci_low": float(np.ravel(interval[key])[0]), "ci_high": float(np.ravel(interval[key])[1]),
            "n_runs_x": matrices.scores[x].shape[0], "n_runs_y": matrices.scores[y].shape[0],
            "n_tasks": len(matrices.tasks),
        })  # fmt: skip
    columns = ["x", "y", "value", "ci_low", "ci_high", "n_runs_x", "n_runs_y", "n_tasks"]
    return pd.DataFrame(rows, columns=columns)


def performance_profiles(
    matrices: ScoreMatrices,
    taus: np.ndarray | None = None,
    reps: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Score distributions: fraction of (run, task) scores > tau, with a 95% CI, per variant.

    taus: thresholds [T] in normalized units (default 101 points from 0 to the largest score,
    at least 1). Returns columns variant, tau, value, ci_low, ci_high.
    """
    if taus is None:
        top = max([1.0] + [float(np.nanmax(s)) for s in matrices.scores.values()])
        taus = np.linspace(0.0, top, 101)
    rows = []
    for variant, scores in matrices.scores.items():
        _seed_global_rng(seed)
        profile, interval = rly.create_performance_profile({variant: scores}, taus, reps=reps)
        for t, tau in enumerate(taus):
            rows.append({
                "variant": variant, "tau": float(tau), "value": float(profile[variant][t]),
                "ci_low": float(interval[variant][0, t]), "ci_high": float(interval[variant][1, t]),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["variant", "tau", "value", "ci_low", "ci_high"])


# --------------------------------------------------------------------------- overestimation


def overestimation_table(evals: pd.DataFrame, final_evals: int = 1) -> pd.DataFrame:
    """Value-estimate bias at the end of training, per variant and env (van Hasselt et al. 2015).

    Per complete run: the mean over its last `final_evals` evaluations of `q_estimate_mean` (the
    greedy policy's predicted Q on the states it visited) and of `discounted_return_mean` (what it
    then obtained from those states); bias = estimate - realized (> 0: overestimation). Units are
    the agent's (clipped rewards on Atari). Averaged over runs; bias_std is the std over runs
    (NaN for one run). truncated_fraction: share of those evaluation episodes cut by a time limit,
    whose discounted returns are biased low (so the bias is biased high by about that share).

    Columns: variant, env, q_estimate, discounted_return, bias, bias_std, truncated_fraction, n_runs.
    """
    if final_evals < 1:
        raise AnalysisError(f"--final-evals must be >= 1, got {final_evals}")
    check_comparable(evals)
    columns = ["variant", "env", "q_estimate", "discounted_return", "bias", "bias_std",
               "truncated_fraction", "n_runs"]  # fmt: skip
    done = evals[evals["complete"].astype(bool)].dropna(
        subset=["q_estimate_mean", "discounted_return_mean"]
    )
    if done.empty:
        return pd.DataFrame(columns=columns)
    last = done.sort_values("step").groupby("run_dir", sort=False).tail(final_evals)
    last = last.assign(
        bias=last["q_estimate_mean"] - last["discounted_return_mean"],
        truncated_fraction=last["truncated_episodes"] / last["episodes"],
    )
    per_run = last.groupby(["variant", "env", "run_dir"], as_index=False).agg(
        q_estimate=("q_estimate_mean", "mean"),
        discounted_return=("discounted_return_mean", "mean"),
        bias=("bias", "mean"),
        truncated_fraction=("truncated_fraction", "mean"),
    )
    table = per_run.groupby(["variant", "env"], as_index=False).agg(
        q_estimate=("q_estimate", "mean"),
        discounted_return=("discounted_return", "mean"),
        bias=("bias", "mean"),
        bias_std=("bias", "std"),
        truncated_fraction=("truncated_fraction", "mean"),
        n_runs=("run_dir", "size"),
    )
    order = {v: i for i, v in enumerate(sort_variants(table["variant"]))}
    table = table.sort_values(
        ["env", "variant"], key=lambda c: c.map(order) if c.name == "variant" else c
    )
    return table[columns].reset_index(drop=True)


# --------------------------------------------------------------------------- rliable glue


def _seeded_estimates(
    data: Mapping[str, np.ndarray | list[np.ndarray]],
    func: Callable[..., object],
    reps: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """rliable's interval estimates, seeded: its bootstrap draws from numpy's global RNG."""
    if reps < 1:
        raise AnalysisError(f"--bootstrap-reps must be >= 1, got {reps}")
    _seed_global_rng(seed)
    return rly.get_interval_estimates(
        dict(data), func, reps=reps, confidence_interval_size=CONFIDENCE
    )


def _seed_global_rng(seed: int) -> None:
    """Seed numpy's legacy global RNG, the one rliable 1.2.0's bootstrap draws its indices from.

    A Generator would be the modern choice, but rliable ignores it (its `random_state` argument
    only reaches `arch`, and `update_indices` calls `np.random.choice`), so this is the only seed
    that makes its CIs reproducible.
    """
    np.random.seed(seed)  # noqa: NPY002

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

MIN_RUNS = 3
"""Below this many runs per task an interval says little (with one run it collapses to the point
estimate): figures, captions and the CLI say so."""


def few_runs(counts: Mapping[str, int]) -> dict[str, int]:
    """The entries of {name: runs per task} below MIN_RUNS, in the given order."""
    return {name: int(n) for name, n in counts.items() if n < MIN_RUNS}


def few_runs_phrase(counts: Mapping[str, int]) -> str:
    """Who has fewer than MIN_RUNS runs per task: `dqn 2, rainbow 1`, or `2 for every arm`;
    empty when nobody does."""
    few = few_runs(counts)
    if len(few) == len(counts) > 1 and len(set(few.values())) == 1:
        return f"{next(iter(few.values()))} for every arm"
    return ", ".join(f"{name} {n}" for name, n in few.items())


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
        point, interval = bootstrap_intervals({variant: scores}, aggregate, reps, seed)
        for i, name in enumerate(metric_names):
            rows.append({
                "variant": variant, "metric": name, "value": float(point[variant][i]),
                "ci_low": float(interval[variant][0, i]), "ci_high": float(interval[variant][1, i]),
                "n_runs": scores.shape[0], "n_tasks": scores.shape[1],
            })  # fmt: skip
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


SUMMARY_COLUMNS = ["variant", "metric", "value", "ci_low", "ci_high", "n_runs", "n_tasks"]


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
        point, interval = bootstrap_intervals(data, probability_of_improvement_score, reps, seed)
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

    taus: thresholds [T] in normalized units (default 101 points from the smallest score, at most
    0, to the largest, at least 1: every variant's profile falls from 1 to 0 in view).
    Returns columns variant, tau, value, ci_low, ci_high, n_runs (per task), n_tasks.
    """
    if taus is None:
        top = max([1.0] + [float(np.nanmax(s)) for s in matrices.scores.values()])
        bottom = min([0.0] + [float(np.nanmin(s)) for s in matrices.scores.values()])
        taus = np.linspace(bottom, top, 101)
    rows = []
    for variant, scores in matrices.scores.items():
        seed_global_rng(seed)
        profile, interval = rly.create_performance_profile({variant: scores}, taus, reps=reps)
        rows += curve_rows("tau", taus, profile[variant], interval[variant], variant=variant,
                           n_runs=scores.shape[0], n_tasks=scores.shape[1])  # fmt: skip
    columns = ["variant", "tau", "value", "ci_low", "ci_high", "n_runs", "n_tasks"]
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- rliable glue


def curve_rows(
    x_name: str, xs: Sequence[float], point: np.ndarray, interval: np.ndarray, **keys: object
) -> list[dict[str, object]]:
    """Tidy rows of one curve: point [T] and interval [2, T] (rliable's output for one key) at
    xs [T], each row also holding `keys`."""
    return [
        {**keys, x_name: float(x), "value": float(point[t]), "ci_low": float(interval[0, t]),
         "ci_high": float(interval[1, t])}
        for t, x in enumerate(xs)
    ]  # fmt: skip


def bootstrap_intervals(
    data: Mapping[str, np.ndarray | list[np.ndarray]],
    func: Callable[..., object],
    reps: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """rliable's interval estimates, seeded: its bootstrap draws from numpy's global RNG."""
    if reps < 1:
        raise AnalysisError(f"--bootstrap-reps must be >= 1, got {reps}")
    seed_global_rng(seed)
    return rly.get_interval_estimates(
        dict(data), func, reps=reps, confidence_interval_size=CONFIDENCE
    )


def seed_global_rng(seed: int) -> None:
    """Seed numpy's legacy global RNG, the one rliable 1.2.0's bootstrap draws its indices from.

    A Generator would be the modern choice, but rliable ignores it (its `random_state` argument
    only reaches `arch`, and `update_indices` calls `np.random.choice`), so this is the only seed
    that makes its CIs reproducible.
    """
    np.random.seed(seed)  # noqa: NPY002

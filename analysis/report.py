"""Everything `dqnlab analyze` produces, computed in memory: figures with captions, tables.

Headline figures (the ones a paper's main text shows) go to the output directory, the others to
its `supplementary/` folder:
- headline: `aggregate_curve` (the Rainbow leave-one-out figure with final IQM intervals),
  `probability_of_improvement` (does each component help?), `overestimation` (dqn vs double);
- supplementary: `final_scores` (all four aggregates), `performance_profile`, `learning_curves`
  (per env), `value_bias` (every arm's final bias).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from dqnlab.analysis import captions, curves, figures, interval_figures, metrics, tables
from dqnlab.analysis import overestimation as over
from dqnlab.analysis.captions import Caption, Facts
from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.load import RunTables, check_comparable
from dqnlab.analysis.metrics import few_runs_phrase
from dqnlab.analysis.normalization import provisional_envs, reference_for
from dqnlab.analysis.style import PAPER, Style
from dqnlab.analysis.variants import RAINBOW, removed_component

HEADLINE = ("aggregate_curve", "probability_of_improvement", "overestimation")
SUPPLEMENTARY_DIR = "supplementary"


@dataclass(frozen=True)
class Options:
    """The analysis choices of the command line (see `cli.add_arguments`)."""

    metric: str = "iqm"
    final_evals: int = 1
    reps: int = 2000
    seed: int = 0
    x: str = "frame"
    style: Style = PAPER


@dataclass
class Report:
    """Everything `build` computed, not yet written."""

    figures: dict[str, tuple[Figure, Caption]] = field(default_factory=dict)
    """Keyed by the path stem relative to the output directory."""
    csv_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    writers: list[Callable[[Path], list[Path]]] = field(default_factory=list)
    problems: list[object] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Printed on stderr as `warning:` lines (notes go to stdout)."""

    def add(self, name: str, fig: Figure, caption: Caption) -> None:
        stem = name if name in HEADLINE else f"{SUPPLEMENTARY_DIR}/{name}"
        self.figures[stem] = (fig, caption)

    def few_runs(self) -> str:
        """Who has fewer than 3 runs per env behind some figure (`metrics.few_runs_phrase`)."""
        runs: dict[str, int] = {}
        for _, caption in self.figures.values():
            for name, n in caption.runs.items():
                runs[name] = min(n, runs.get(name, n))
        return few_runs_phrase(runs)


def build(loaded: RunTables, options: Options) -> Report:
    """Check and compute every output in memory. Raises AnalysisError for bad input."""
    if options.final_evals < 1:
        raise AnalysisError(f"--final-evals must be >= 1, got {options.final_evals}")
    if options.reps < 1:
        raise AnalysisError(f"--bootstrap-reps must be >= 1, got {options.reps}")
    check_comparable(loaded.runs)
    for env in loaded.runs["env"].unique():
        reference_for(str(env))  # an env without a reference is an error before any work
    if loaded.evals.empty:
        raise AnalysisError("no run has any evaluation row yet (eval.csv empty everywhere)")

    report = Report(problems=list(loaded.problems), warnings=list(loaded.warnings))
    evals, o = loaded.evals, options
    f = captions.facts(loaded.runs, evals, o.reps, o.final_evals)
    provisional = provisional_envs(loaded.runs["env"].unique())
    if provisional:
        report.notes.append(f"reference scores of {', '.join(provisional)} are provisional "
                            f"(see {reference_for(provisional[0]).table})")  # fmt: skip
    report.csv_tables["runs"] = loaded.runs

    env_curves = curves.env_curves(evals, o.x, o.reps, o.seed)
    x_label = curves.x_axis_label(o.x, loaded.runs["frame_skip"])
    report.add("learning_curves", figures.learning_curves_figure(env_curves, x_label, o.style),
               captions.learning_curves(f, x_label, figures.runs_per_variant(env_curves)))  # fmt: skip

    summary = _final_score_outputs(report, f, evals, o)
    _aggregate_curve(report, f, evals, o, summary)
    _overestimation_outputs(report, f, evals, o, x_label)
    return report


def _aggregate_curve(
    report: Report, f: Facts, evals: pd.DataFrame, o: Options, summary: pd.DataFrame | None
) -> None:
    agg, x_label = curves.aggregate_curves(evals, o.metric, o.x, o.reps, o.seed)
    if agg.empty:
        report.notes.append(
            "aggregate_curve skipped: no evaluation point shared by all complete runs"
        )
        return
    final = summary if summary is not None and o.metric in set(summary["metric"]) else None
    variants = list(agg["variant"].unique())
    leave_one_out = RAINBOW in variants and any(removed_component(v) for v in variants)
    fig = figures.aggregate_curve_figure(agg, x_label, o.metric, f.score, final, o.style)
    caption = captions.aggregate_curve(f, o.metric, x_label, figures.runs_per_variant(agg),
                                       leave_one_out, with_final=final is not None)  # fmt: skip
    report.add("aggregate_curve", fig, caption)


def _final_score_outputs(
    report: Report, f: Facts, evals: pd.DataFrame, o: Options
) -> pd.DataFrame | None:
    """Final scores, their aggregates, profiles and improvement; returns the summary table."""
    final = metrics.final_scores(evals, o.final_evals)
    if final.empty:
        report.notes.append(
            "final scores skipped (summary, final_scores, probability_of_improvement, "
            "performance_profile): no complete run"
        )
        return None
    matrices = metrics.score_matrices(final)
    report.notes.extend(matrices.notes)
    report.csv_tables["final_scores"] = final
    if not matrices.scores:
        report.notes.append("final-score aggregates skipped: no variant covers every env")
        return None
    summary = metrics.interval_estimates(matrices, reps=o.reps, seed=o.seed)
    counts = figures.runs_per_variant(summary)
    table_caption = captions.summary_table(f, counts)
    report.writers.append(lambda out: tables.write_summary(summary, table_caption, out))
    report.add("final_scores", interval_figures.final_scores_figure(summary, f.score, o.style),
               captions.final_scores(f, counts))  # fmt: skip
    profiles = metrics.performance_profiles(matrices, reps=o.reps, seed=o.seed)
    report.add("performance_profile",
               figures.performance_profile_figure(profiles, f.score, o.style),
               captions.performance_profile(f, counts))  # fmt: skip

    variants = list(matrices.scores)
    if not any(removed_component(v) for v in variants) or RAINBOW not in variants:
        report.notes.append("leave-one-out comparison skipped: needs rainbow and rainbow-no-X runs")
    poi = metrics.probability_of_improvement(matrices, reps=o.reps, seed=o.seed)
    if poi.empty:
        report.notes.append(
            "probability_of_improvement skipped: needs rainbow with rainbow-no-X, or dqn with "
            "another variant"
        )
        return summary
    report.csv_tables["probability_of_improvement"] = poi
    panels = list(dict.fromkeys(interval_figures.improvement_panels(poi)["panel"]))
    involved = {v: counts[v] for v in counts if v in set(poi["x"]) | set(poi["y"])}
    report.add("probability_of_improvement", interval_figures.improvement_figure(poi, o.style),
               captions.probability_of_improvement(f, involved, panels))  # fmt: skip
    return summary


def _overestimation_outputs(
    report: Report, f: Facts, evals: pd.DataFrame, o: Options, x_label: str
) -> None:
    measured = evals.dropna(subset=list(over.QUANTITIES))
    if measured.empty:
        report.notes.append(
            "overestimation figures skipped: no q_estimate_mean / discounted_return_mean"
        )
        return
    pairs = over.double_pairs(measured["variant"].unique())
    if pairs:
        oc = over.overestimation_curves(measured, o.x)
        arms = {v for pair in pairs for v in pair}
        counts = figures.runs_per_variant(oc[oc["variant"].isin(arms)])
        shown = measured[measured["variant"].isin(arms)]
        truncated = float(shown["truncated_episodes"].sum() / max(shown["episodes"].sum(), 1))
        tail = int(shown["value_tail_steps"].min())
        report.add("overestimation",
                   figures.overestimation_figure(oc, pairs, x_label, f.gamma, o.style),
                   captions.overestimation(f, pairs, counts, truncated, tail))  # fmt: skip
    else:
        report.notes.append("overestimation figure skipped: no two arms differ only by double")
    per_run = over.final_bias_per_run(measured, o.final_evals)
    if per_run.empty:
        report.notes.append("overestimation table skipped: no complete run with value estimates")
        return
    counts = figures.runs_per_variant(
        per_run.groupby(["variant", "env"]).size().rename("n_runs").reset_index()
    )
    pooled = per_run["env"].nunique() > interval_figures.POOLED_ABOVE
    report.add("value_bias", interval_figures.value_bias_figure(per_run, o.style),
               captions.value_bias(f, counts, pooled))  # fmt: skip
    table = over.overestimation_table(measured, o.final_evals)
    table_caption = captions.overestimation_table(f, counts)
    report.writers.append(lambda out: tables.write_overestimation(table, table_caption, out))

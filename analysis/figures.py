"""Curve figures: scores and value estimates over training. Each returns a Figure, never shows it.

- `aggregate_curve_figure`: Hessel et al. 2018, Fig. 3 (the leave-one-out ablation).
- `learning_curves_figure`: per-env evaluation returns.
- `performance_profile_figure`: Agarwal et al. 2021, Fig. 5 (score distributions).
- `overestimation_figure`: van Hasselt et al. 2016, Fig. 3 (value estimates vs values obtained).

Inputs are the tidy tables of `curves`, `metrics` and `overestimation`; what a figure shows (which
runs, statistic, interval) is written beside it by `captions`. Sizes come from the `Style`.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from dqnlab.analysis.metrics import METRIC_LABELS
from dqnlab.analysis.normalization import ScoreName, score_name
from dqnlab.analysis.plotting import (
    curve_legend,
    curve_panels,
    draw_curves,
    draw_intervals,
    finish,
    format_steps,
    legend_below,
    new_figure,
)
from dqnlab.analysis.style import (
    PAPER,
    WITH_DOUBLE_COLOR,
    WITHOUT_DOUBLE_COLOR,
    Style,
    variant_colors,
)
from dqnlab.analysis.variants import sort_variants

NORMALIZED = score_name("classic")


def runs_per_variant(frame: pd.DataFrame, column: str = "n_runs") -> dict[str, int]:
    """{variant: the fewest runs behind any point of its curves}, in display order."""
    fewest = frame.groupby("variant")[column].min()
    return {v: int(fewest[v]) for v in sort_variants(fewest.index)}


def _score_axis(metric: str, score: ScoreName) -> str:
    return f"{METRIC_LABELS[metric]} {score.noun}\n(random 0, {score.anchor} 1)"


def aggregate_curve_figure(
    curves: pd.DataFrame,
    x_label: str,
    metric: str = "iqm",
    score: ScoreName = NORMALIZED,
    final: pd.DataFrame | None = None,
    style: Style = PAPER,
) -> Figure:
    """Hessel et al. 2018, Fig. 3: an aggregate of normalized scores over training, one line per
    arm (rainbow and dqn thicker), no bands; beside it, if `final` is given, the aggregate at the
    end of training with its 95% CI per arm: variability shown where it hides no line.

    curves: `curves.aggregate_curves` output. final: `metrics.interval_estimates` output.
    """
    variants = sort_variants(curves["variant"].unique())
    colors = variant_colors(variants)
    body = style.panel_height_in * 1.3
    with style.applied():
        if final is None:
            fig = new_figure(style.one_column_in, body, style)
            ax = fig.subplots()
        else:
            fig = new_figure(style.two_column_in, body, style)
            ax, side = fig.subplots(1, 2, width_ratios=(2.3, 1))
            rows = final[final["metric"] == metric].set_index("variant").reindex(variants)
            draw_intervals(side, rows, variants, [colors[v] for v in variants])
            side.set_xlabel(f"Final {METRIC_LABELS[metric]}\n(95% CI)")
        draw_curves(ax, curves, "x", colors, style, bands=None)
        format_steps(ax, x_label)
        ax.set_ylabel(_score_axis(metric, score))
        legend_rows = curve_legend(fig, variants, colors, style, 2 if final is None else 4)
        return finish(fig, style, body, legend_rows, runs_per_variant(curves))


def learning_curves_figure(curves: pd.DataFrame, x_label: str, style: Style = PAPER) -> Figure:
    """Per-env evaluation return over training, one panel per env, one line per variant over its
    95% CI band. curves: `curves.env_curves` output (raw returns, not normalized)."""
    envs = sorted(curves["env"].unique())
    variants = sort_variants(curves["variant"].unique())
    colors = variant_colors(variants)
    with style.applied():
        grid, body = curve_panels(curves, "env", envs, x_label, "Evaluation return\n(undiscounted)",
                                  lambda ax, rows: draw_curves(ax, rows, "x", colors, style),
                                  style)  # fmt: skip
        legend_rows = curve_legend(grid.figure, variants, colors, style, 4 if len(envs) > 1 else 2)
        return finish(grid.figure, style, body, legend_rows, runs_per_variant(curves))


def performance_profile_figure(
    profiles: pd.DataFrame, score: ScoreName = NORMALIZED, style: Style = PAPER
) -> Figure:
    """Score distributions (Agarwal et al. 2021, Fig. 5): the fraction of runs x envs whose final
    normalized score exceeds tau, one line per variant over its 95% CI band.

    profiles: `metrics.performance_profiles` output.
    """
    variants = sort_variants(profiles["variant"].unique())
    colors = variant_colors(variants)
    body = style.panel_height_in * 1.3
    with style.applied():
        fig = new_figure(style.one_column_in, body, style)
        ax = fig.subplots()
        draw_curves(ax, profiles, "tau", colors, style)
        ax.set_xlabel(f"Final {score.noun} τ")
        ax.set_ylabel("Fraction of runs > τ")
        ax.set_ylim(0, 1.02)
        ax.set_xlim(profiles["tau"].min(), profiles["tau"].max())
        legend_rows = curve_legend(fig, variants, colors, style, max_cols=2)
        return finish(fig, style, body, legend_rows, runs_per_variant(profiles))


def overestimation_figure(
    curves: pd.DataFrame,
    pairs: list[tuple[str, str]],
    x_label: str,
    gamma: float | None = None,
    style: Style = PAPER,
) -> Figure:
    """van Hasselt et al. 2016, Fig. 3: per env, the value estimates (solid) and the discounted
    return actually obtained (dashed) of each arm of a (without double, with double) pair,
    orange without and blue with double Q-learning, as in the paper. Line: median over runs,
    band: 10th-90th percentile over runs. A solid line above its dashed one is overestimation.

    curves: `overestimation.overestimation_curves` output. pairs: `overestimation.double_pairs`.
    One row of panels per pair (a panel per env).
    """
    panels = []
    for without, with_double in pairs:
        rows = curves[curves["variant"].isin((without, with_double))]
        title = rows["env"] if len(pairs) == 1 else rows["env"] + f"\n{with_double}"
        panels.append(rows.assign(panel=title, pair=without))
    frame = pd.concat(panels, ignore_index=True)
    order = list(dict.fromkeys(frame["panel"]))
    dashes = ("quantity", {"estimate": "", "realized": (3, 1.5)})

    def draw(ax: Axes, rows: pd.DataFrame) -> None:
        without, with_double = next(p for p in pairs if p[0] == rows["pair"].iloc[0])
        colors = {without: WITHOUT_DOUBLE_COLOR, with_double: WITH_DOUBLE_COLOR}
        draw_curves(ax, rows, "x", colors, style, bands=("low", "high"), dashes=dashes,
                    emphasize=False)  # fmt: skip

    value = "Value" if gamma is None else f"Value (discounted,\nγ = {gamma:g})"
    with style.applied():
        grid, body = curve_panels(frame, "panel", order, x_label, value, draw, style)
        names = pairs[0] if len(pairs) == 1 else ("without double", "with double")
        handles, labels = [], []
        for name, color in zip(names, (WITHOUT_DOUBLE_COLOR, WITH_DOUBLE_COLOR)):
            for quantity, dash in dashes[1].items():
                handles.append(Line2D([], [], color=color, linestyle="-" if not dash else
                                      (0, dash)))  # fmt: skip
                labels.append(f"{name}: {'Q estimate' if quantity == 'estimate' else 'realized'}")
        wide = len(order) > 1
        legend_rows = legend_below(grid.figure, handles, labels, max_cols=4 if wide else 2)
        return finish(grid.figure, style, body, legend_rows, runs_per_variant(frame))

"""Paper figures. Every function returns a `matplotlib.figure.Figure` and never shows it.

Figures are built with the object API on an Agg canvas (no pyplot): nothing global is touched,
no window opens, and a long sweep of figures leaks no pyplot state. Sizes fit one column
(3.3 in) or the text width (6.9 in); fonts are >= 7 pt; layout is constrained, legends sit below
the axes. Save with `save_figure` (PDF for the paper, PNG for a quick look).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import EngFormatter, MaxNLocator

from dqnlab.analysis.metrics import METRIC_LABELS
from dqnlab.analysis.style import ONE_COLUMN_IN, TWO_COLUMN_IN, paper_style, variant_colors
from dqnlab.analysis.variants import DQN, RAINBOW, removed_component, sort_variants

BAND_ALPHA = 0.2

_F = TypeVar("_F", bound=Callable[..., Figure])


def _styled(build: _F) -> _F:
    """Run a figure builder inside the paper rc context.

    rcParams are read when each artist (tick, label, legend) is created, so the whole build,
    not just `Figure()`, must happen inside the context.
    """

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        with paper_style():
            return build(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(width_in: float, height_in: float) -> Figure:
    """A constrained-layout figure on an Agg canvas, in the paper style."""
    with paper_style():
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        FigureCanvasAgg(fig)
    return fig


def save_figure(
    fig: Figure, stem: str | Path, formats: Sequence[str] = ("pdf", "png")
) -> list[Path]:
    """Write `fig` as `<stem>.<format>` for each format; returns the paths written."""
    paths = []
    with paper_style():
        for fmt in formats:
            path = Path(f"{stem}.{fmt}")
            fig.savefig(path, format=fmt)
            paths.append(path)
    return paths


def _legend_below(fig: Figure, handles: list, labels: list[str], max_cols: int) -> None:
    ncols = max(1, min(len(labels), max_cols))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, handlelength=1.5,
               columnspacing=1.0)  # fmt: skip


def _grid(fig: Figure, n_panels: int, max_cols: int) -> list:
    """n_panels axes in a grid of at most max_cols columns; unused cells are removed."""
    ncols = min(n_panels, max_cols)
    nrows = math.ceil(n_panels / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        fig.delaxes(ax)
    return axes[:n_panels]


def _n_columns(n_panels: int) -> int:
    """Panels per row at text width: up to 4 (1.7 in each), 3 for 5-6 panels to fill rows."""
    return 3 if n_panels in (5, 6) else min(n_panels, 4)


def _short_env(env: str) -> str:
    """`ALE/Pong-v5` -> `Pong`, `MinAtar/Breakout-v1` -> `Breakout`: panel titles stay short."""
    return env.split("/")[-1].rsplit("-v", 1)[0]


# --------------------------------------------------------------------------- (a) aggregate curves


@_styled
def aggregate_curve_figure(
    curves: pd.DataFrame,
    x_label: str = "Frames",
    metric: str = "iqm",
    score_label: str = "normalized score",
) -> Figure:
    """Rainbow paper Figure 3: aggregate normalized score vs training, one line per variant.

    curves: `metrics.aggregate_curves` output (variant, x, value, ci_low, ci_high). Lines are
    the point estimates, bands the 95% stratified-bootstrap CIs. One axes; one line and one band
    per variant.
    """
    variants = sort_variants(curves["variant"].unique())
    colors = variant_colors(variants)
    fig = new_figure(ONE_COLUMN_IN, 2.2 + 0.15 * math.ceil(len(variants) / 2))
    ax = fig.subplots()
    for variant in variants:
        rows = curves[curves["variant"] == variant].sort_values("x")
        ax.plot(rows["x"], rows["value"], color=colors[variant], label=variant)
        ax.fill_between(rows["x"], rows["ci_low"], rows["ci_high"], color=colors[variant],
                        alpha=BAND_ALPHA, linewidth=0)  # fmt: skip
    ax.set_xlabel(x_label)
    ax.set_ylabel(f"{METRIC_LABELS[metric]} {score_label}")
    if x_label != "Fraction of budget":
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.margins(x=0)
    handles, labels = ax.get_legend_handles_labels()
    _legend_below(fig, handles, labels, max_cols=2)
    return fig


# --------------------------------------------------------------------------- (b) final scores


@_styled
def final_scores_figure(summary: pd.DataFrame, score_label: str = "normalized score") -> Figure:
    """Interval estimates of the final aggregates (Agarwal et al. 2021, Figure 1 style).

    summary: `metrics.interval_estimates` output. One panel per metric; in each, one bar per
    variant spanning its 95% CI, with a diamond at the point estimate.
    """
    metrics = [m for m in METRIC_LABELS if m in set(summary["metric"])]
    variants = sort_variants(summary["variant"].unique())[::-1]  # top-to-bottom display order
    colors = variant_colors(variants)
    fig = new_figure(TWO_COLUMN_IN, 0.6 + 0.22 * len(variants) + 0.35)
    axes = _grid(fig, len(metrics), max_cols=4)
    for i, (ax, metric) in enumerate(zip(axes, metrics)):
        rows = summary[summary["metric"] == metric].set_index("variant")
        for y, variant in enumerate(variants):
            if variant not in rows.index:
                continue
            row = rows.loc[variant]
            _interval(ax, y, row, colors[variant])
        ax.set_yticks(range(len(variants)), variants if i == 0 else [])
        ax.set_ylim(-0.6, len(variants) - 0.4)
        arrow = "\n(lower is better)" if metric == "optimality_gap" else ""
        ax.set_xlabel(f"{METRIC_LABELS[metric]}{arrow}")
        ax.xaxis.set_major_locator(_few_ticks())
        ax.grid(axis="x", linewidth=0.4, alpha=0.5)
    fig.suptitle(f"Final {score_label} (95% stratified-bootstrap CIs)", fontsize=8)
    return fig


def _interval(ax: Axes, y: float, row: pd.Series, color: str) -> None:
    """One interval estimate at height y: a bar over [ci_low, ci_high] and a diamond at the
    point estimate (still visible when the CI collapses to a point, e.g. with one run)."""
    ax.barh(y, row["ci_high"] - row["ci_low"], left=row["ci_low"], height=0.6, color=color,
            alpha=0.6, linewidth=0)  # fmt: skip
    ax.scatter(
        [row["value"]],
        [y],
        marker="D",
        s=14,
        color=color,
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
        clip_on=False,
    )  # fmt: skip  (whole at an axis limit)


def _few_ticks() -> MaxNLocator:
    """At most ~4 ticks: 1.7-inch panels with engineering-notation labels do not collide."""
    return MaxNLocator(nbins=4)


# --------------------------------------------------------------------------- (c) learning curves


@_styled
def learning_curves_figure(evals: pd.DataFrame, x: str = "frame") -> Figure:
    """Per-env learning curves: evaluation return vs training, one panel per env.

    evals: `RunTables.evals`. Line: mean `return_mean` over the seeds evaluated at that point
    (partial runs included up to where they stopped); band: +-1 standard error over seeds (none
    for a single seed). Raw game score, not normalized.
    """
    envs = sorted(evals["env"].unique())
    variants = sort_variants(evals["variant"].unique())
    colors = variant_colors(variants)
    ncols = _n_columns(len(envs))
    nrows = math.ceil(len(envs) / ncols)
    width = TWO_COLUMN_IN if len(envs) > 1 else ONE_COLUMN_IN
    fig = new_figure(width, 1.75 * nrows + 0.25 + 0.15 * math.ceil(len(variants) / 4))
    axes = _grid(fig, len(envs), max_cols=ncols)
    for ax, env in zip(axes, envs):
        for variant in variants:
            rows = evals[(evals["env"] == env) & (evals["variant"] == variant)]
            if rows.empty:
                continue
            stats = rows.groupby(x)["return_mean"].agg(["mean", "sem"]).reset_index()
            sem = stats["sem"].fillna(0.0)
            ax.plot(stats[x], stats["mean"], color=colors[variant], label=variant)
            ax.fill_between(stats[x], stats["mean"] - sem, stats["mean"] + sem,
                            color=colors[variant], alpha=BAND_ALPHA, linewidth=0)  # fmt: skip
        ax.set_title(_short_env(env))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.xaxis.set_major_locator(_few_ticks())
        ax.margins(x=0)
    for i, ax in enumerate(axes):
        if i + ncols >= len(envs):  # no panel below this one
            ax.set_xlabel("Frames" if x == "frame" else "Agent steps")
    for row in range(nrows):
        axes[row * ncols].set_ylabel("Return")
    handles = [Line2D([], [], color=colors[v]) for v in variants]
    _legend_below(fig, handles, variants, max_cols=4 if width == TWO_COLUMN_IN else 2)
    return fig


# --------------------------------------------------------------------------- (d) overestimation


@_styled
def overestimation_figure(evals: pd.DataFrame, x: str = "frame") -> Figure:
    """van Hasselt et al. 2015, Figure 3: value estimates vs the discounted return obtained.

    One panel per env; per variant a solid line (mean over seeds of `q_estimate_mean`, the
    greedy policy's predicted Q on the states it visited) and a dashed line of the same colour
    (`discounted_return_mean`, the discounted return it actually obtained from those states).
    A solid line above its dashed line is overestimation. Agent units (clipped rewards on Atari).
    """
    evals = evals.dropna(subset=["q_estimate_mean", "discounted_return_mean"])
    envs = sorted(evals["env"].unique())
    variants = sort_variants(evals["variant"].unique())
    colors = variant_colors(variants)
    ncols = _n_columns(max(len(envs), 1))
    nrows = max(1, math.ceil(len(envs) / ncols))
    width = TWO_COLUMN_IN if len(envs) > 1 else ONE_COLUMN_IN
    fig = new_figure(width, 1.75 * nrows + 0.3 + 0.15 * math.ceil((len(variants) + 2) / 4))
    axes = _grid(fig, max(len(envs), 1), max_cols=ncols)
    for ax, env in zip(axes, envs):
        for variant in variants:
            rows = evals[(evals["env"] == env) & (evals["variant"] == variant)]
            if rows.empty:
                continue
            means = rows.groupby(x)[["q_estimate_mean", "discounted_return_mean"]].mean()
            ax.plot(means.index, means["q_estimate_mean"], color=colors[variant], linestyle="-")
            ax.plot(means.index, means["discounted_return_mean"], color=colors[variant],
                    linestyle="--")  # fmt: skip
        ax.set_title(_short_env(env))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.xaxis.set_major_locator(_few_ticks())
        ax.margins(x=0)
        ax.set_xlabel("Frames" if x == "frame" else "Agent steps")
    for row in range(nrows):
        axes[row * ncols].set_ylabel("Value")
    # Variants as colour patches, the two quantities as grey line styles: a black "estimate"
    # line would read as rainbow's.
    handles = [
        Line2D([], [], color="0.45", linestyle="-"),
        Line2D([], [], color="0.45", linestyle="--"),
        *(Patch(color=colors[v]) for v in variants),
    ]
    labels = ["value estimate", "true discounted return", *variants]
    _legend_below(fig, handles, labels, max_cols=4 if width == TWO_COLUMN_IN else 2)
    return fig


# --------------------------------------------------------------------------- (e) improvement


@_styled
def improvement_figure(poi: pd.DataFrame) -> Figure:
    """Probability of improvement with 95% CIs (Agarwal et al. 2021, Figure 8 style).

    poi: `metrics.probability_of_improvement` output. Up to two panels: P(rainbow > rainbow-no-X)
    per component X (does X help inside Rainbow?), and P(variant > dqn) (does it beat DQN?).
    A bar spans the CI, a diamond marks the estimate; 0.5 (no difference) is dotted.
    """
    leave_one_out = poi[
        (poi["x"] == RAINBOW) & poi["y"].map(lambda v: removed_component(v) is not None)
    ]
    over_dqn = poi[poi["y"] == DQN]
    panels = [
        (
            leave_one_out,
            "y",
            "P(rainbow > rainbow-no-X)",
            lambda v: "no " + str(removed_component(v)),
        ),
        (over_dqn, "x", "P(X > dqn)", str),
    ]
    panels = [p for p in panels if len(p[0])]
    n_rows = max(len(p[0]) for p in panels)
    fig = new_figure(TWO_COLUMN_IN if len(panels) > 1 else ONE_COLUMN_IN, 0.75 + 0.22 * n_rows)
    axes = _grid(fig, len(panels), max_cols=2)
    for ax, (rows, who, title, label) in zip(axes, panels):
        names = sort_variants(rows[who])[::-1]
        colors = variant_colors(names)
        rows = rows.set_index(who)
        for y, name in enumerate(names):
            row = rows.loc[name]
            _interval(ax, y, row, colors[name])
        ax.axvline(0.5, color="0.4", linestyle=":", linewidth=0.8)
        ax.set_yticks(range(len(names)), [label(n) for n in names])
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_xlim(-0.03, 1.03)  # room for a diamond at 0 or 1
        ax.set_xlabel("Probability of improvement")
        ax.set_title(title)
    return fig


# --------------------------------------------------------------------------- performance profile


@_styled
def performance_profile_figure(
    profiles: pd.DataFrame, score_label: str = "normalized score"
) -> Figure:
    """Score distributions (Agarwal et al. 2021, Figure 5): fraction of runs above tau.

    profiles: `metrics.performance_profiles` output. One line and one 95% CI band per variant.
    """
    variants = sort_variants(profiles["variant"].unique())
    colors = variant_colors(variants)
    fig = new_figure(ONE_COLUMN_IN, 2.2 + 0.15 * math.ceil(len(variants) / 2))
    ax = fig.subplots()
    for variant in variants:
        rows = profiles[profiles["variant"] == variant].sort_values("tau")
        ax.plot(rows["tau"], rows["value"], color=colors[variant], label=variant)
        ax.fill_between(rows["tau"], rows["ci_low"], rows["ci_high"], color=colors[variant],
                        alpha=BAND_ALPHA, linewidth=0)  # fmt: skip
    ax.set_xlabel(f"{score_label.capitalize()} ($\\tau$)")
    ax.set_ylabel("Fraction of runs > $\\tau$")
    ax.set_ylim(0, 1.02)
    ax.margins(x=0)
    handles, labels = ax.get_legend_handles_labels()
    _legend_below(fig, handles, labels, max_cols=2)
    return fig

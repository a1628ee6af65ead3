"""Final-score figures: one row per arm (or pair) with its interval, as in Agarwal et al. 2021.

- `final_scores_figure`: interval estimates of IQM, median, mean, optimality gap (their Fig. 1).
- `improvement_figure`: probability of improvement (their Fig. 8).
- `value_bias_figure`: the value-estimate bias at the end of training, one dot per run.
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from dqnlab.analysis.figures import NORMALIZED
from dqnlab.analysis.metrics import METRIC_LABELS
from dqnlab.analysis.normalization import ScoreName
from dqnlab.analysis.plotting import draw_intervals, facet_grid, finish, grid_rows, panel_title
from dqnlab.analysis.style import PAPER, Style, variant_colors
from dqnlab.analysis.variants import DQN, RAINBOW, removed_component, sort_variants


def _height(style: Style, rows: int) -> float:
    """Panels of `rows` interval rows, with their titles and axis labels."""
    return 0.6 * style.panel_height_in + style.row_height_in * rows


def final_scores_figure(
    summary: pd.DataFrame, score: ScoreName = NORMALIZED, style: Style = PAPER
) -> Figure:
    """One panel per aggregate, one row per variant: its 95% CI (bar) and point estimate (tick).

    summary: `metrics.interval_estimates` output.
    """
    metrics = [m for m in METRIC_LABELS if m in set(summary["metric"])]
    variants = sort_variants(summary["variant"].unique())
    colors = variant_colors(variants)
    titles = {m: METRIC_LABELS[m] + ("\n(lower is better)" if m == "optimality_gap" else "")
              for m in metrics}  # fmt: skip
    frame = summary.assign(title=summary["metric"].map(titles))
    with style.applied():
        grid = facet_grid(frame, "title", [titles[m] for m in metrics], style.two_column_in,
                          style, max_cols=4, sharey=True)  # fmt: skip
        for metric, ax in zip(metrics, grid.axes.flat):
            rows = summary[summary["metric"] == metric].set_index("variant").reindex(variants)
            draw_intervals(ax, rows, variants, [colors[v] for v in variants])
            ax.set_xlabel("")
        grid.figure.supxlabel(f"Final {score.noun} (95% CI)", fontsize="medium")
        runs = summary.groupby("variant")["n_runs"].min()
        counts = {v: int(runs[v]) for v in variants}
        return finish(grid.figure, style, _height(style, len(variants)) + 0.15, 0, counts)


def improvement_panels(poi: pd.DataFrame) -> pd.DataFrame:
    """POI rows with the panel they go in and their row label: P(rainbow > rainbow-no-X) per X
    (does adding X back help?) and P(X > dqn) (does X beat DQN?)."""
    loo = poi[(poi["x"] == RAINBOW) & poi["y"].map(lambda v: removed_component(v) is not None)]
    over_dqn = poi[poi["y"] == DQN]
    return pd.concat([
        loo.assign(panel="P(rainbow > rainbow-no-X)", label="no " + loo["y"].map(removed_component),
                   arm=loo["y"]),
        over_dqn.assign(panel="P(X > dqn)", label=over_dqn["x"], arm=over_dqn["x"]),
    ], ignore_index=True)  # fmt: skip


def improvement_figure(poi: pd.DataFrame, style: Style = PAPER) -> Figure:
    """Probability of improvement with 95% CIs: a panel for the leave-one-out pairs and one for
    the pairs against dqn; 0.5 (no difference) dotted.

    poi: `metrics.probability_of_improvement` output.
    """
    frame = improvement_panels(poi)
    panels = list(dict.fromkeys(frame["panel"]))
    n_rows = frame.groupby("panel").size().max()
    width = style.two_column_in if len(panels) > 1 else style.one_column_in
    with style.applied():
        grid = facet_grid(frame, "panel", panels, width, style, max_cols=2, sharex=True)
        for panel, ax in grid.axes_dict.items():
            rows = frame[frame["panel"] == panel]
            rows = rows.set_index("arm").loc[sort_variants(rows["arm"])]
            draw_intervals(ax, rows, rows["label"], list(variant_colors(rows.index).values()))
            ax.axvline(0.5, color="0.4", linestyle=":", linewidth=0.8)
            ax.set_xlim(-0.03, 1.03)  # a tick at 0 or 1 stays whole
            ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
            ax.set_xlabel("Probability of improvement")
        runs = pd.concat([poi.set_index("x")["n_runs_x"], poi.set_index("y")["n_runs_y"]])
        runs = runs.groupby(level=0).min()
        counts = {v: int(runs[v]) for v in sort_variants(runs.index)}
        return finish(grid.figure, style, _height(style, n_rows), 0, counts)


POOLED_ABOVE = 8
"""With more envs than this, `value_bias_figure` pools them into one panel (57 panels of eight
rows would fill pages)."""


def value_bias_figure(per_run: pd.DataFrame, style: Style = PAPER) -> Figure:
    """Value-estimate bias (Q estimate - realized discounted return) at the end of training, per
    env: one dot per run and a black tick at the median, one row per variant; 0 dotted. Beyond
    POOLED_ABOVE envs, one panel with a dot per run and env.

    per_run: `overestimation.final_bias_per_run` output.
    """
    runs = per_run.groupby(["variant", "env"]).size().groupby(level=0).min()
    n_envs = per_run["env"].nunique()
    if n_envs > POOLED_ABOVE:
        per_run = per_run.assign(env=f"all {n_envs} envs")
    envs = sorted(per_run["env"].unique())
    variants = sort_variants(per_run["variant"].unique())
    colors = variant_colors(variants)
    width = style.two_column_in if len(envs) > 1 else style.one_column_in
    with style.applied():
        grid = facet_grid(per_run, "env", envs, width, style, max_cols=4, sharey=True)
        for env, ax in grid.axes_dict.items():
            rows = per_run[per_run["env"] == env]
            ax.axvline(0, color="0.4", linestyle=":", linewidth=0.8)
            many = len(rows) > 20 * len(variants)
            sns.stripplot(data=rows, x="bias", y="variant", order=variants, hue="variant",
                          hue_order=variants, palette=colors, jitter=0.2, size=2 if many else 3.5,
                          alpha=0.6 if many else 1.0, legend=False, ax=ax)  # fmt: skip
            sns.pointplot(data=rows, x="bias", y="variant", order=variants, estimator="median",
                          errorbar=None, color="black", marker="|", markersize=9,
                          markeredgewidth=1.5, linestyle="none", zorder=5, ax=ax)  # fmt: skip
            ax.set_title(panel_title(env))
        grid.set_axis_labels("Q estimate − realized value", "")
        body = grid_rows(len(envs), 4) * _height(style, len(variants))
        return finish(grid.figure, style, body, 0, {v: int(runs[v]) for v in variants})

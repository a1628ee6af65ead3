"""Drawing primitives shared by the figures: panels, curves with bands, interval rows, legends.

Figures live on an Agg canvas outside pyplot's registry (seaborn's FacetGrid creates its figure
through pyplot; we detach it at once), so building many figures leaks no pyplot state and opens
no window. Layout is constrained: labels, legends and notes never overlap.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, MaxNLocator

from dqnlab.analysis.metrics import few_runs_phrase
from dqnlab.analysis.style import PAPER, Style, line_width

BAND_ALPHA = 0.18
NOTE_COLOR = "#b2182b"
"""The small-sample note: a dark red that reads as a warning and prints legibly in grey."""


def new_figure(width_in: float, height_in: float, style: Style = PAPER) -> Figure:
    """A constrained-layout figure on an Agg canvas, in `style`."""
    with style.applied():
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        FigureCanvasAgg(fig)
    return fig


def facet_grid(
    data: pd.DataFrame,
    col: str,
    col_order: Sequence[str],
    width_in: float,
    style: Style = PAPER,
    max_cols: int = 4,
    sharex: bool = False,
    sharey: bool = False,
) -> sns.FacetGrid:
    """One panel per value of `col`, in rows of at most `max_cols`, `width_in` wide.

    Call inside `style.applied()`. The grid's figure is detached from pyplot and switched to
    constrained layout, so a legend or note added later makes room for itself.
    """
    ncols = max(1, min(len(col_order), max_cols))
    panel_width = width_in / ncols
    grid = sns.FacetGrid(
        data,
        col=col,
        col_order=list(col_order),
        col_wrap=ncols if len(col_order) > ncols else None,
        height=style.panel_height_in,
        aspect=panel_width / style.panel_height_in,
        sharex=sharex,
        sharey=sharey,
        despine=True,
    )
    plt.close(grid.figure)  # out of pyplot's registry: the figure is ours alone
    FigureCanvasAgg(grid.figure)
    grid.figure.set_layout_engine("constrained")
    grid.set_titles("{col_name}")
    return grid


def grid_rows(n_panels: int, max_cols: int) -> int:
    return math.ceil(n_panels / max(1, min(n_panels, max_cols)))


def panel_columns(n_panels: int) -> int:
    """Panels per row at text width: all of up to 4, 4 up to 12, 5 beyond (57 Atari games)."""
    return n_panels if n_panels <= 4 else 4 if n_panels <= 12 else 5


def panel_title(env: str) -> str:
    """`ALE/Pong-v5` -> `Pong-v5` (the namespace is the same for every game, the version is
    not); other ids whole."""
    return env.removeprefix("ALE/")


def curve_panels(
    frame: pd.DataFrame,
    col: str,
    order: Sequence[str],
    x_label: str,
    y_label: str,
    draw: Callable[[Axes, pd.DataFrame], None],
    style: Style = PAPER,
) -> tuple[sns.FacetGrid, float]:
    """One panel of curves over training per value of `col` (`draw` draws a panel's rows), with
    the training axis from 0; returns the grid and the height of its panels. Call inside
    `style.applied()`. Panels share their x axis when every one spans the same steps."""
    ncols = panel_columns(len(order))
    width = style.two_column_in if len(order) > 1 else style.one_column_in
    spans = frame.groupby(col)["x"].max()
    grid = facet_grid(frame, col, order, width, style, max_cols=ncols,
                      sharex=spans.nunique() == 1)  # fmt: skip
    narrow = width / ncols < 1.5
    panel_height = style.panel_height_in * (0.8 if narrow else 1.0)  # near-square small panels
    grid.figure.set_figheight(grid_rows(len(order), ncols) * panel_height)
    for name, ax in grid.axes_dict.items():
        draw(ax, frame[frame[col] == name])
        format_steps(ax, x_label, n_ticks=3 if narrow else 4)
        ax.set_title(panel_title(name))
    grid.set_axis_labels(x_label, y_label)
    return grid, grid_rows(len(order), ncols) * panel_height


def draw_curves(
    ax: Axes,
    frame: pd.DataFrame,
    x: str,
    colors: Mapping[str, str],
    style: Style = PAPER,
    hue: str = "variant",
    bands: tuple[str, str] | None = ("ci_low", "ci_high"),
    dashes: tuple[str, Mapping[str, object]] | None = None,
    emphasize: bool = True,
) -> None:
    """One line per `hue` level (seaborn's lineplot on the tidy frame), over its band.

    frame: one row per (hue level[, dash level], x) with `value` and, if `bands`, the band's
    low/high columns. Every band is drawn before any line, so no band hides a line; emphasized
    variants (rainbow, dqn) are drawn thicker (unless not `emphasize`) and last, on top.
    dashes: (column, {level: dash spec}).
    """
    order = [v for v in colors if v in set(frame[hue])]
    widths = {v: line_width(v if emphasize else "", style) for v in order}
    draw_order = sorted(order, key=widths.__getitem__)  # thick lines last
    if bands is not None:
        groups = [hue] if dashes is None else [hue, dashes[0]]
        for key, rows in frame.groupby(groups, sort=False):
            level = key[0] if isinstance(key, tuple) else key
            rows = rows.sort_values(x)
            ax.fill_between(rows[x], rows[bands[0]], rows[bands[1]], color=colors[level],
                            alpha=BAND_ALPHA, linewidth=0)  # fmt: skip
    style_kwargs = {}
    if dashes is not None:
        style_kwargs = {"style": dashes[0], "dashes": dict(dashes[1]),
                        "style_order": list(dashes[1])}  # fmt: skip
    sns.lineplot(data=frame, x=x, y="value", hue=hue, hue_order=draw_order, palette=dict(colors),
                 size=hue, size_order=draw_order, sizes=widths,
                 estimator=None, errorbar=None, legend=False, ax=ax, **style_kwargs)  # fmt: skip


def draw_intervals(
    ax: Axes,
    rows: pd.DataFrame,
    labels: Sequence[str],
    colors: Sequence[str],
) -> None:
    """Interval estimates, one row per entry, top to bottom (rliable's `plot_interval_estimates`
    look): a bar over [ci_low, ci_high] and a black tick at the point estimate, which stays
    visible when the interval collapses (one run)."""
    height = 0.6
    for y, ((_, row), color) in enumerate(zip(rows.iterrows(), colors)):
        y = len(rows) - 1 - y
        ax.barh(y, row["ci_high"] - row["ci_low"], left=row["ci_low"], height=height,
                color=color, alpha=0.75, linewidth=0)  # fmt: skip
        ax.vlines(row["value"], y - height / 2, y + height / 2, color="black",
                  linewidth=rcParams["lines.linewidth"])  # fmt: skip
    ax.set_yticks(range(len(rows)), list(labels)[::-1])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_locator(_nice_ticks())
    ax.grid(axis="x", linewidth=0.4, alpha=0.5)


def format_steps(ax: Axes, x_label: str, n_ticks: int = 4) -> None:
    """An x axis of steps or frames that starts at 0 (the start of training) with a tick there,
    in engineering notation (10k, 2M)."""
    ax.set_xlabel(x_label)
    ax.set_xlim(0, ax.dataLim.x1)  # call after drawing: the curves end at the budget
    if x_label != "Fraction of budget":
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.xaxis.set_major_locator(_nice_ticks(n_ticks))


def _nice_ticks(n_ticks: int = 4) -> MaxNLocator:
    """At most ~n_ticks ticks at multiples of 1, 2, 2.5 or 5 (10k, 20k, 30k, not 8k, 16k)."""
    return MaxNLocator(nbins=n_ticks, steps=[1, 2, 2.5, 5, 10])


def curve_legend(
    fig: Figure,
    variants: Sequence[str],
    colors: Mapping[str, str],
    style: Style,
    max_cols: int,
) -> int:
    """The variants' line keys, below the panels, in display order. Returns its rows."""
    handles = [Line2D([], [], color=colors[v], linewidth=line_width(v, style)) for v in variants]
    return legend_below(fig, handles, list(variants), max_cols)


def legend_below(fig: Figure, handles: list, labels: list[str], max_cols: int) -> int:
    """A legend below the panels, filled row by row. Returns its number of rows."""
    ncols = max(1, min(len(labels), max_cols))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, handlelength=2.0,
               columnspacing=1.2)  # fmt: skip
    return math.ceil(len(labels) / ncols)


def finish(
    fig: Figure, style: Style, body_in: float, legend_rows: int, runs: Mapping[str, int]
) -> Figure:
    """Add the small-sample note (if any arm of `runs`, {variant: runs per env}, has fewer than
    3) and size the figure: `body_in` for the panels, plus a row per legend row and for the
    note, so neither squeezes the panels."""
    few = few_runs_phrase(runs)
    size = float(style.rc()["legend.fontsize"])  # the smallest text of the style
    chars = int(fig.get_figwidth() * 72 / (0.6 * size))  # a character is ~0.6 em wide
    note = textwrap.wrap(f"Fewer than 3 runs per env ({few}): intervals are unreliable"
                         if few else "", width=chars)  # fmt: skip
    if note:
        fig.suptitle("\n".join(note), fontsize=size, color=NOTE_COLOR)
    fig.set_figheight(body_in + (legend_rows + len(note)) * style.legend_row_in + 0.05)
    return fig


def save_figure(
    fig: Figure,
    stem: str | Path,
    formats: Sequence[str] = ("pdf", "png"),
    style: Style = PAPER,
    dpi: int | None = None,
) -> list[Path]:
    """Write `fig` as `<stem>.<format>` for each format; returns the paths written.

    dpi: raster resolution (PNG); None keeps the style's 300. Vector formats ignore it.
    """
    paths = []
    resolution = {} if dpi is None else {"dpi": dpi}
    with style.applied():
        for fmt in formats:
            path = Path(f"{stem}.{fmt}")
            fig.savefig(path, format=fmt, **resolution)
            paths.append(path)
    return paths

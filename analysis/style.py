"""One look for every figure: fixed variant colours, paper sizes, print-size fonts.

Colours are a pure function of the variant name, so a variant keeps its colour across figures,
sweeps and papers: rainbow is black, dqn grey, `rainbow-no-X` takes the colour of X (Okabe & Ito's
colour-blind-safe palette), `dqn+X` a lighter tint of X, other combinations a fixed colour picked
by their component set.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from matplotlib import colors as mcolors
from matplotlib import rc_context

from dqnlab.analysis.variants import COMPONENTS, DQN, RAINBOW, removed_component, variant_components

ONE_COLUMN_IN = 3.3
"""Width of one column of a two-column paper (NeurIPS/ICML/JMLR-like), inches."""
TWO_COLUMN_IN = 6.9
"""Full text width, inches."""

COMPONENT_COLORS: dict[str, str] = {
    "double": "#E69F00",  # orange
    "dueling": "#56B4E9",  # sky blue
    "per": "#009E73",  # bluish green
    "nstep": "#D55E00",  # vermillion
    "c51": "#CC79A7",  # reddish purple
    "noisy": "#0072B2",  # blue
}
RAINBOW_COLOR = "#000000"
DQN_COLOR = "#8C8C8C"

# 20 distinct colours for dqn+X+Y... combinations (tab20b then tab20c's darker half).
_COMBINATION_COLORS = (
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#5254a3", "#8ca252", "#bd9e39",
    "#ad494a", "#a55194", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#6baed6",
    "#fd8d3c", "#74c476", "#9e9ac8", "#969696",
)  # fmt: skip

PAPER_RC: dict[str, object] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "lines.linewidth": 1.2,
    "pdf.fonttype": 42,  # embed TrueType: text stays text (searchable, editable) in the PDF
    "ps.fonttype": 42,
    "savefig.dpi": 300,
    "figure.dpi": 100,
}
"""Print-size fonts: 8 pt labels, 7 pt ticks and legends (the smallest any venue accepts)."""


def paper_style() -> rc_context:
    """Context manager applying PAPER_RC (used when building and when saving a figure)."""
    return rc_context(PAPER_RC)


def _tint(color: str, amount: float) -> str:
    """`color` mixed with white: amount 0 keeps it, 1 gives white."""
    r, g, b = mcolors.to_rgb(color)
    return mcolors.to_hex((r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount))


def variant_color(variant: str) -> str:
    """The fixed hex colour of one variant name (deterministic, independent of other variants)."""
    if variant == RAINBOW:
        return RAINBOW_COLOR
    if variant == DQN:
        return DQN_COLOR
    removed = removed_component(variant)
    if removed is not None:
        return COMPONENT_COLORS[removed]
    try:
        components = variant_components(variant)
    except ValueError:
        index = zlib.crc32(variant.encode()) % len(_COMBINATION_COLORS)
        return _COMBINATION_COLORS[index]
    if len(components) == 1:
        return _tint(COMPONENT_COLORS[components[0]], 0.45)
    mask = sum(1 << COMPONENTS.index(c) for c in components)
    return _COMBINATION_COLORS[mask % len(_COMBINATION_COLORS)]


def variant_colors(variants: Iterable[str]) -> dict[str, str]:
    """{variant: hex colour} for every name in `variants` (see `variant_color`)."""
    return {v: variant_color(v) for v in variants}

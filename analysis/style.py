"""One look for every figure: seaborn's theme and context, fixed variant colours, paper sizes.

The look is seaborn's: the `ticks` axes style and the `paper` (or `talk`) plotting context, applied
in an rc context while a figure is built and saved, so nothing global changes. We only add what
seaborn leaves to the user: embedded TrueType fonts (Type 42, text stays text in the PDF), the
page widths, frameless legends.

Colours come from seaborn's `colorblind` palette and are a pure function of the variant name, so
a variant keeps its colour across figures and sweeps: rainbow black, dqn grey (both drawn thicker:
they are the two ends of the ablation), `rainbow-no-X` the colour of X, `dqn+X` a darker shade.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import seaborn as sns
from matplotlib import rc_context

from dqnlab.analysis.variants import COMPONENTS, DQN, RAINBOW, removed_component, variant_components


@dataclass(frozen=True)
class Style:
    """Sizes and seaborn context of one output medium. Widths in inches."""

    name: str
    context: str
    """seaborn plotting context."""
    font_scale: float
    one_column_in: float
    """One column of a two-column paper (NeurIPS/ICML/AAAI-like)."""
    two_column_in: float
    """The full text width."""
    panel_height_in: float
    """Height of one row of panels, with their titles, tick labels and axis labels."""
    row_height_in: float
    """Height per row of an interval plot (one arm or pair per row)."""
    legend_row_in: float
    """Height of one row of a legend below the panels, or of the small-sample note."""

    def rc(self) -> dict[str, object]:
        """The rcParams of this style: seaborn's, plus what seaborn leaves to the user."""
        return {
            **sns.axes_style("ticks"),
            **sns.plotting_context(self.context, font_scale=self.font_scale),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "pdf.fonttype": 42,  # embed TrueType: text stays text (searchable, editable)
            "ps.fonttype": 42,
            "savefig.dpi": 300,
            "figure.dpi": 100,
        }

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Apply rc() while building or saving a figure (rcParams are read when each artist is
        created, so the whole build must happen inside)."""
        with rc_context(self.rc()):
            yield


PAPER = Style("paper", "paper", 8 / 9.6, 3.25, 6.75, 1.75, 0.2, 0.17)
"""seaborn's paper context scaled to 8 pt labels and 7.3 pt ticks and legends."""
TALK = Style("talk", "talk", 1.0, 6.5, 13.0, 3.5, 0.42, 0.36)
"""Slides: seaborn's talk context (18 pt labels) on figures twice the paper size."""
STYLES: dict[str, Style] = {s.name: s for s in (PAPER, TALK)}

# ----------------------------------------------------------------------------------- colours

_PALETTE = sns.color_palette("colorblind").as_hex()
_HUE = {"double": 1, "dueling": 9, "per": 2, "nstep": 3, "c51": 4, "noisy": 0}
"""Index of each component's hue in seaborn's palettes (which share one hue order): orange,
sky blue, green, vermillion, reddish purple, blue."""
COMPONENT_COLORS: dict[str, str] = {c: _PALETTE[i] for c, i in _HUE.items()}
"""`rainbow-no-X` is drawn in X's colour."""
ADDED_COLORS: dict[str, str] = {c: sns.color_palette("dark").as_hex()[i] for c, i in _HUE.items()}
"""`dqn+X`: a darker shade of X's hue, so an add-one arm never looks like a leave-one-out one."""
RAINBOW_COLOR = "#000000"
DQN_COLOR = _PALETTE[7]  # grey
WITHOUT_DOUBLE_COLOR, WITH_DOUBLE_COLOR = _PALETTE[1], _PALETTE[0]
"""van Hasselt et al.'s overestimation figure: orange without double Q-learning, blue with."""
BEYOND_COLORS: dict[str, str] = {
    "dqn+qr": _PALETTE[5], "dqn+iqn": _PALETTE[6],
    "dqn+iqn+munchausen": sns.color_palette("dark").as_hex()[6], "dqn+munchausen": sns.color_palette("dark").as_hex()[5],
}
"""Revisiting Rainbow's agents beyond Rainbow (QR-DQN brown, IQN pink, M-IQN a darker pink,
M-DQN a darker brown): the hues the six leave free."""
_OTHER_COLORS = sns.color_palette("deep", 10).as_hex()
"""Combinations of two or more components (dqn+X+Y...) and names outside the grammar."""

EMPHASIZED = (RAINBOW, DQN)
"""Drawn thicker and on top: the full agent and the baseline, as in Hessel et al.'s Fig. 3."""


def variant_color(variant: str) -> str:
    """The fixed hex colour of one variant name (deterministic, independent of other variants)."""
    if variant == RAINBOW:
        return RAINBOW_COLOR
    if variant == DQN:
        return DQN_COLOR
    if variant in BEYOND_COLORS:
        return BEYOND_COLORS[variant]
    removed = removed_component(variant)
    if removed is not None:
        return COMPONENT_COLORS[removed]
    try:
        components = variant_components(variant)
    except ValueError:
        return _OTHER_COLORS[zlib.crc32(variant.encode()) % len(_OTHER_COLORS)]
    if len(components) == 1 and components[0] in ADDED_COLORS:
        return ADDED_COLORS[components[0]]
    mask = sum(1 << i for i, c in enumerate(COMPONENTS) if c in components)
    return _OTHER_COLORS[mask % len(_OTHER_COLORS)]


def variant_colors(variants: Iterable[str]) -> dict[str, str]:
    """{variant: hex colour} for every name in `variants` (see `variant_color`)."""
    return {v: variant_color(v) for v in variants}


def line_width(variant: str, style: Style = PAPER) -> float:
    """Line width of a variant's curve: emphasized variants 1.8x the context's default."""
    base = float(style.rc()["lines.linewidth"])
    return base * (1.8 if variant in EMPHASIZED else 1.0)

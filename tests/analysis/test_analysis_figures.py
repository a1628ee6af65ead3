"""Each figure rendered from a known tidy frame, and its content checked: panels, lines, bands,
interval rows, labels, legend, sizes, fonts, the small-sample note."""

import itertools

import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

from dqnlab.analysis import figures, interval_figures
from dqnlab.analysis.metrics import METRIC_LABELS
from dqnlab.analysis.plotting import save_figure
from dqnlab.analysis.style import (
    COMPONENT_COLORS,
    DQN_COLOR,
    PAPER,
    RAINBOW_COLOR,
    TALK,
    WITH_DOUBLE_COLOR,
    WITHOUT_DOUBLE_COLOR,
    line_width,
    variant_color,
    variant_colors,
)
from dqnlab.analysis.variants import sort_variants
from dqnlab.contract import leave_one_out

ARMS = leave_one_out()  # rainbow, the six rainbow-no-X, dqn
ENVS = ["Acrobot-v1", "CartPole-v1"]
XS = [10_000.0, 20_000.0, 30_000.0]


def curve_frame(variants, n_runs=3, envs=None, x="x"):
    """A known tidy curve table: variant i's value at x_t is i + t, band +-0.5."""
    rows = []
    for env in envs or [None]:
        for i, variant in enumerate(variants):
            for t, x_value in enumerate(XS):
                rows.append({"env": env, "variant": variant, x: x_value, "value": i + t,
                             "ci_low": i + t - 0.5, "ci_high": i + t + 0.5,
                             "n_runs": n_runs(variant) if callable(n_runs) else n_runs})  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame if envs else frame.drop(columns="env")


def summary_frame(variants, n_runs=3):
    rows = [{"variant": v, "metric": m, "value": i, "ci_low": i - 0.2, "ci_high": i + 0.2,
             "n_runs": n_runs, "n_tasks": 2}
            for i, v in enumerate(variants) for m in METRIC_LABELS]  # fmt: skip
    return pd.DataFrame(rows)


def texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def legend_labels(fig):
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts()]


def bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def assert_paper_ready(fig: Figure, width: float) -> None:
    assert fig.get_layout_engine() is not None  # constrained layout: no overlapping labels
    assert fig.get_figwidth() == pytest.approx(width)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
    assert min(sizes) >= 7
    assert not [t for t in texts(fig) if "Fewer than 3" in t]  # every frame here has 3 runs


def test_variant_colors_are_fixed_and_follow_the_removed_component():
    assert variant_color("rainbow") == RAINBOW_COLOR
    assert variant_color("dqn") == DQN_COLOR
    assert variant_color("rainbow-no-per") == COMPONENT_COLORS["per"]
    assert variant_colors(["dqn", "rainbow-no-c51"]) == variant_colors(["rainbow-no-c51", "dqn"])
    assert variant_color("dqn+per") != variant_color("rainbow-no-per")
    assert len(set(variant_colors(ARMS).values())) == len(ARMS)
    assert line_width("rainbow") == line_width("dqn") > line_width("rainbow-no-per")
    # Revisiting Rainbow's beyond-Rainbow comparison: five arms, five colours.
    beyond = ["dqn", "rainbow", "dqn+qr", "dqn+iqn", "dqn+iqn+munchausen"]
    assert len(set(variant_colors(beyond).values())) == len(beyond)


def test_aggregate_curve_is_one_line_per_arm_beside_final_intervals():
    curves = curve_frame(ARMS)
    fig = figures.aggregate_curve_figure(curves, "Environment steps", "iqm",
                                         final=summary_frame(ARMS))  # fmt: skip
    assert_paper_ready(fig, PAPER.two_column_in)
    lines_ax, final_ax = fig.axes
    lines = lines_ax.get_lines()
    assert len(lines) == len(ARMS) and not bands(lines_ax)  # no band hides a line
    by_color = {line.get_color(): line for line in lines}
    assert set(by_color) == set(variant_colors(ARMS).values())
    assert (
        by_color[RAINBOW_COLOR].get_linewidth() > by_color[COMPONENT_COLORS["per"]].get_linewidth()
    )
    assert lines[-1].get_color() in (RAINBOW_COLOR, DQN_COLOR)  # emphasized arms drawn on top
    assert lines_ax.get_ylabel() == "IQM normalized score\n(random 0, reference 1)"
    assert lines_ax.get_xlim()[0] == 0 and 0 in lines_ax.get_xticks()  # training starts at 0
    assert [t.get_text() for t in final_ax.get_yticklabels()] == ARMS[::-1]  # rainbow on top
    assert len(final_ax.patches) == len(ARMS)
    assert final_ax.get_xlabel() == "Final IQM\n(95% CI)"
    assert legend_labels(fig) == ARMS


def test_aggregate_curve_without_final_scores_fits_one_column():
    fig = figures.aggregate_curve_figure(curve_frame(["dqn", "dqn+double"]), "Frames", "median")
    assert_paper_ready(fig, PAPER.one_column_in)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2
    assert ax.get_ylabel().startswith("Median normalized score")


def test_small_samples_are_flagged_in_the_figure():
    curves = curve_frame(ARMS, n_runs=lambda v: 2 if v == "dqn" else 3)
    fig = figures.aggregate_curve_figure(curves, "Environment steps")
    note = " ".join(fig.get_suptitle().split())  # wrapped to the one-column width
    assert note == "Fewer than 3 runs per env (dqn 2): intervals are unreliable"
    assert fig._suptitle.get_fontsize() >= 7
    plain = figures.aggregate_curve_figure(curve_frame(ARMS), "Environment steps")
    assert fig.get_figheight() > plain.get_figheight()  # the note takes no room from the panel
    summary = summary_frame(["rainbow", "dqn"], n_runs=1)
    fig = interval_figures.final_scores_figure(summary)
    assert " ".join(fig.get_suptitle().split()).startswith(
        "Fewer than 3 runs per env (1 for every arm)"
    )


def test_learning_curves_have_a_panel_per_env_with_a_line_and_band_per_arm():
    fig = figures.learning_curves_figure(curve_frame(ARMS, envs=ENVS), "Environment steps")
    assert_paper_ready(fig, PAPER.two_column_in)
    assert [ax.get_title() for ax in fig.axes] == ENVS  # full ids, versions included
    for ax in fig.axes:
        assert len(ax.get_lines()) == len(bands(ax)) == len(ARMS)
    assert fig.axes[0].get_ylabel() == "Evaluation return\n(undiscounted)"
    assert legend_labels(fig) == ARMS


def test_overestimation_is_estimate_and_realized_value_per_arm_of_the_double_pair():
    rows = []
    for env, variant, (quantity, offset), x in itertools.product(
        ENVS, ["dqn", "dqn+double"], [("estimate", 2.0), ("realized", 0.0)], XS
    ):
        rows.append({"env": env, "variant": variant, "quantity": quantity, "x": x,
                     "value": offset + x / 1e4, "low": x / 1e4 - 1, "high": x / 1e4 + 3,
                     "n_runs": 5})  # fmt: skip
    fig = figures.overestimation_figure(pd.DataFrame(rows), [("dqn", "dqn+double")],
                                        "Frames", gamma=0.99)  # fmt: skip
    assert_paper_ready(fig, PAPER.two_column_in)
    assert [ax.get_title() for ax in fig.axes] == ENVS
    for ax in fig.axes:
        lines = ax.get_lines()
        assert len(lines) == len(bands(ax)) == 4
        solid = [line for line in lines if line.get_linestyle() == "-"]
        dashed = [line for line in lines if line.get_linestyle() == "--"]
        assert len(solid) == len(dashed) == 2
        assert {line.get_color() for line in solid} == {WITHOUT_DOUBLE_COLOR, WITH_DOUBLE_COLOR}
    assert fig.axes[0].get_ylabel() == "Value (discounted,\nγ = 0.99)"
    assert legend_labels(fig) == ["dqn: Q estimate", "dqn: realized", "dqn+double: Q estimate",
                                  "dqn+double: realized"]  # fmt: skip


def test_performance_profile_is_a_line_and_band_per_arm():
    profiles = curve_frame(ARMS, x="tau")
    fig = figures.performance_profile_figure(profiles)
    assert_paper_ready(fig, PAPER.one_column_in)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == len(bands(ax)) == len(ARMS)
    assert ax.get_ylabel() == "Fraction of runs > τ"
    assert ax.get_xlabel() == "Final normalized score τ"


def test_final_scores_have_a_panel_per_aggregate_and_a_row_per_arm():
    fig = interval_figures.final_scores_figure(summary_frame(ARMS))
    assert_paper_ready(fig, PAPER.two_column_in)
    assert [ax.get_title() for ax in fig.axes] == [
        "IQM", "Median", "Mean", "Optimality gap\n(lower is better)",
    ]  # fmt: skip
    for ax in fig.axes:
        assert len(ax.patches) == len(ARMS)
        (bar,) = [p for p in ax.patches if p.get_facecolor()[:3] == (0.0, 0.0, 0.0)]  # rainbow
        assert bar.get_x() == pytest.approx(-0.2) and bar.get_width() == pytest.approx(0.4)
    assert "Final normalized score (95% CI)" in texts(fig)


def test_improvement_has_a_leave_one_out_and_a_versus_dqn_panel():
    pairs = [("rainbow", v) for v in ARMS if v.startswith("rainbow-no-")]
    pairs += [(v, "dqn") for v in ARMS if v != "dqn"]
    poi = pd.DataFrame([{"x": x, "y": y, "value": 0.7, "ci_low": 0.5, "ci_high": 0.9,
                         "n_runs_x": 3, "n_runs_y": 3, "n_tasks": 2} for x, y in pairs])  # fmt: skip
    fig = interval_figures.improvement_figure(poi)
    assert_paper_ready(fig, PAPER.two_column_in)
    leave_one_out, over_dqn = fig.axes
    assert leave_one_out.get_title() == "P(rainbow > rainbow-no-X)"
    assert len(leave_one_out.patches) == 6 and len(over_dqn.patches) == 7
    labels = [t.get_text() for t in leave_one_out.get_yticklabels()]
    assert labels == ["no noisy", "no c51", "no nstep", "no per", "no dueling", "no double"]
    assert over_dqn.get_xlabel() == "Probability of improvement"


def test_value_bias_has_a_dot_per_run():
    per_run = pd.DataFrame([{"variant": v, "env": e, "seed": s, "bias": i + s}
                            for i, v in enumerate(ARMS) for e in ENVS for s in range(3)])  # fmt: skip
    fig = interval_figures.value_bias_figure(per_run)
    assert_paper_ready(fig, PAPER.two_column_in)
    for ax in fig.axes:
        dots = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
        assert dots == len(ARMS) * 3
        (medians,) = [line for line in ax.get_lines() if line.get_marker() == "|"]
        assert list(medians.get_xdata()) == [i + 1 for i in range(len(ARMS))]  # seeds 0, 1, 2
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ARMS
    assert fig.axes[0].get_xlabel() == "Q estimate − realized value"


def test_talk_style_doubles_the_page_and_the_fonts():
    curves = curve_frame(ARMS, envs=ENVS)
    paper = figures.learning_curves_figure(curves, "Frames")
    talk = figures.learning_curves_figure(curves, "Frames", style=TALK)
    assert talk.get_figwidth() == TALK.two_column_in > 1.9 * paper.get_figwidth()
    assert talk.axes[0].title.get_fontsize() > 2 * paper.axes[0].title.get_fontsize()


def test_saved_pdf_embeds_truetype_fonts_and_png_follows_dpi(tmp_path):
    fig = figures.aggregate_curve_figure(curve_frame(sort_variants(ARMS)), "Frames")
    pdf, png = save_figure(fig, tmp_path / "curve", ("pdf", "png"), dpi=20)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"/FontFile2" in data  # TrueType (Type 42) embedded
    assert b"/Type3" not in data
    width = int.from_bytes(png.read_bytes()[16:20], "big")
    assert width == round(PAPER.one_column_in * 20)

import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

from dqnlab.analysis import figures, metrics
from dqnlab.analysis.load import load_runs
from dqnlab.analysis.style import (
    COMPONENT_COLORS,
    DQN_COLOR,
    RAINBOW_COLOR,
    variant_color,
    variant_colors,
)

VARIANTS = ["rainbow", "rainbow-no-double", "rainbow-no-per", "dqn"]  # the conftest sweep
ENVS = 2


@pytest.fixture
def evals(ablation_sweep):
    return load_runs(ablation_sweep).evals


@pytest.fixture
def matrices(evals):
    return metrics.score_matrices(metrics.final_scores(evals))


def assert_paper_ready(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    assert fig.get_layout_engine() is not None  # constrained layout: no overlapping labels
    assert fig.get_figwidth() in (3.3, 6.9)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
    assert min(sizes) >= 7


def line_colors(ax):
    return [line.get_color() for line in ax.get_lines()]


def test_variant_colors_are_fixed_and_follow_the_removed_component():
    assert variant_color("rainbow") == RAINBOW_COLOR
    assert variant_color("dqn") == DQN_COLOR
    assert variant_color("rainbow-no-per") == COMPONENT_COLORS["per"]
    assert variant_colors(["dqn", "rainbow-no-c51"]) == variant_colors(["rainbow-no-c51", "dqn"])
    assert variant_color("dqn+per") != variant_color("rainbow-no-per")
    everything = ["rainbow", "dqn", *(f"rainbow-no-{c}" for c in COMPONENT_COLORS)]
    assert len(set(variant_colors(everything).values())) == len(everything)


def test_aggregate_curve_has_one_line_and_band_per_variant(evals):
    curves, x_label = metrics.aggregate_curves(evals, "iqm", "frame", reps=20)
    fig = figures.aggregate_curve_figure(curves, x_label)
    assert_paper_ready(fig)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == len(VARIANTS)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == len(VARIANTS)
    assert line_colors(ax) == [variant_color(v) for v in VARIANTS]
    assert ax.get_ylabel() == "IQM normalized score"


def test_final_scores_has_one_panel_per_metric_and_one_interval_per_variant(matrices):
    summary = metrics.interval_estimates(matrices, reps=20)
    fig = figures.final_scores_figure(summary)
    assert_paper_ready(fig)
    assert [ax.get_xlabel().split("\n")[0] for ax in fig.axes] == [
        "IQM", "Median", "Mean", "Optimality gap",
    ]  # fmt: skip
    for ax in fig.axes:
        assert len(ax.patches) == len(VARIANTS)
        assert (
            sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)) == 4
        )


def test_learning_curves_have_one_panel_per_env(evals):
    fig = figures.learning_curves_figure(evals)
    assert_paper_ready(fig)
    assert len(fig.axes) == ENVS
    assert sorted(ax.get_title() for ax in fig.axes) == ["Acrobot", "CartPole"]
    for ax in fig.axes:
        assert line_colors(ax) == [variant_color(v) for v in VARIANTS]


def test_overestimation_has_solid_estimate_and_dashed_return_per_variant(evals):
    fig = figures.overestimation_figure(evals)
    assert_paper_ready(fig)
    assert len(fig.axes) == ENVS
    for ax in fig.axes:
        lines = ax.get_lines()
        assert len(lines) == 2 * len(VARIANTS)
        assert [line.get_linestyle() for line in lines] == ["-", "--"] * len(VARIANTS)
        assert line_colors(ax)[::2] == line_colors(ax)[1::2]  # same colour, estimate vs realized


def test_improvement_has_a_leave_one_out_and_a_versus_dqn_panel(matrices):
    poi = metrics.probability_of_improvement(matrices, reps=20)
    fig = figures.improvement_figure(poi)
    assert_paper_ready(fig)
    leave_one_out, over_dqn = fig.axes
    assert len(leave_one_out.patches) == 2  # no double, no per
    assert len(over_dqn.patches) == 3  # rainbow, rainbow-no-double, rainbow-no-per
    assert [t.get_text() for t in leave_one_out.get_yticklabels()] == ["no per", "no double"]


def test_performance_profile_has_one_line_per_variant(matrices):
    fig = figures.performance_profile_figure(metrics.performance_profiles(matrices, reps=20))
    assert_paper_ready(fig)
    assert len(fig.axes[0].get_lines()) == len(VARIANTS)


def test_save_figure_writes_vector_pdf_and_png(evals, tmp_path):
    paths = figures.save_figure(figures.learning_curves_figure(evals), tmp_path / "curves")
    assert [p.suffix for p in paths] == [".pdf", ".png"]
    assert paths[0].read_bytes().startswith(b"%PDF")
    assert all(p.stat().st_size > 1000 for p in paths)

import pandas as pd
import pytest
from synthetic import write_final_scores, write_run

from dqnlab.analysis.curves import aggregate_curves, env_curves, x_axis_label
from dqnlab.analysis.load import load_runs
from dqnlab.analysis.metrics import final_scores, interval_estimates, score_matrices

REPS = 200


def test_aggregate_curve_ends_at_the_final_aggregate(tmp_path):
    hand = {"CartPole-v1": [0.0, 0.1, 0.2, 0.3], "Acrobot-v1": [0.4, 0.5, 0.6, 1.4]}
    write_final_scores(tmp_path, "rainbow", hand)
    evals = load_runs(tmp_path).evals
    curves, x_label = aggregate_curves(evals, "iqm", "frame", reps=REPS)
    assert x_label == "Environment steps"  # classic control: no frame skip
    assert curves["x"].tolist() == [500.0, 1000.0]
    assert curves["value"].iloc[0] == pytest.approx(0.0)  # every run starts at score 0
    final = interval_estimates(score_matrices(final_scores(evals)), ["iqm"], reps=REPS)
    assert curves["value"].iloc[-1] == pytest.approx(final["value"].iloc[0])
    assert (curves["n_runs"] == 4).all() and (curves["n_tasks"] == 2).all()


def test_x_axis_label_says_frames_only_when_frames_are_skipped():
    assert x_axis_label("frame", pd.Series([4, 4])) == "Frames"
    assert x_axis_label("frame", pd.Series([1])) == "Environment steps"
    assert x_axis_label("step", pd.Series([4])) == "Agent steps"


def test_env_curves_mean_over_runs_with_partial_runs_up_to_where_they_stopped(tmp_path):
    write_run(tmp_path, variant="dqn", seed=0, returns=[10.0, 20.0])
    write_run(tmp_path, variant="dqn", seed=1, returns=[30.0, 60.0])
    write_run(tmp_path, variant="dqn", seed=2, returns=[50.0], steps=[500], state="running")
    curves = env_curves(load_runs(tmp_path).evals, "step", reps=REPS)
    assert curves["x"].tolist() == [500.0, 1000.0]
    assert curves["value"].tolist() == pytest.approx([30.0, 40.0])
    assert curves["n_runs"].tolist() == [3, 2]
    # A bootstrap CI of a mean lies within the runs' range and around the mean.
    assert (curves["ci_low"] >= [10.0, 20.0]).all() and (curves["ci_high"] <= [50.0, 60.0]).all()
    assert (curves["ci_low"] <= curves["value"]).all() and (
        curves["value"] <= curves["ci_high"]
    ).all()


def test_env_curves_with_one_run_collapse_the_interval_to_the_run(tmp_path):
    write_run(tmp_path, variant="rainbow", env="Acrobot-v1", returns=[-400.0, -150.0])
    curves = env_curves(load_runs(tmp_path).evals, "frame", reps=20)
    assert curves["ci_low"].tolist() == curves["value"].tolist() == [-400.0, -150.0]
    assert curves["ci_high"].tolist() == [-400.0, -150.0]


def test_curves_leave_out_evaluations_past_the_budget(tmp_path):
    """Runs in Dopamine's iterations end with their last iteration's final episode, past the budget,
    at a step each run has alone: the curve stops at the budget instead of ending on points of one
    run each (their final scores still count, through final_scores)."""
    for seed, last in enumerate([1012, 1040, 1003]):
        write_run(tmp_path, variant="dqn", seed=seed, returns=[10.0 * seed, 20.0 * seed, 99.0],
                  steps=[500, 1000, last])  # fmt: skip
    evals = load_runs(tmp_path).evals
    curves = env_curves(evals, "step", reps=REPS)
    assert curves["x"].tolist() == [500.0, 1000.0]
    assert curves["n_runs"].tolist() == [3, 3]
    assert curves["value"].tolist() == pytest.approx([10.0, 20.0])
    assert final_scores(evals)["score"].tolist() == [99.0] * 3

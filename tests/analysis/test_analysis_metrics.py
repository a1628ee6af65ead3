import numpy as np
import pytest
from rliable import metrics as rly_metrics
from synthetic import write_final_scores, write_run

from dqnlab.analysis.load import load_runs
from dqnlab.analysis.metrics import (
    few_runs,
    few_runs_phrase,
    final_scores,
    improvement_pairs,
    interval_estimates,
    probability_of_improvement,
    probability_of_improvement_score,
    score_matrices,
)

REPS = 200

HAND = {
    "CartPole-v1": [0.0, 0.1, 0.2, 0.3],
    "Acrobot-v1": [0.4, 0.5, 0.6, 1.4],
    "MountainCar-v0": [1.0, 1.0, 1.0, 1.0],
}


def test_aggregates_match_hand_computation(tmp_path):
    write_final_scores(tmp_path, "rainbow", HAND)
    final = final_scores(load_runs(tmp_path).evals)
    matrices = score_matrices(final)
    assert matrices.scores["rainbow"].shape == (4, 3)
    summary = interval_estimates(matrices, reps=REPS, seed=0).set_index("metric")
    # 12 scores sorted: 0 .1 .2 | .3 .4 .5 .6 1 1 | 1 1 1.4 -> IQM = mean of the middle 6.
    assert summary.loc["iqm", "value"] == pytest.approx((0.3 + 0.4 + 0.5 + 0.6 + 1 + 1) / 6)
    # Task means 0.15, 0.725, 1.0.
    assert summary.loc["median", "value"] == pytest.approx(0.725)
    assert summary.loc["mean", "value"] == pytest.approx((0.15 + 0.725 + 1.0) / 3)
    # Optimality gap: 1 - mean(min(score, 1)) = 1 - 7.1 / 12.
    assert summary.loc["optimality_gap", "value"] == pytest.approx(1 - 7.1 / 12)
    assert (summary["ci_low"] <= summary["value"] + 1e-12).all()
    assert (summary["value"] <= summary["ci_high"] + 1e-12).all()
    assert (summary["n_runs"] == 4).all() and (summary["n_tasks"] == 3).all()


def test_bootstrap_is_reproducible_from_the_seed(tmp_path):
    write_final_scores(tmp_path, "rainbow", HAND)
    matrices = score_matrices(final_scores(load_runs(tmp_path).evals))
    first = interval_estimates(matrices, reps=REPS, seed=3)
    np.random.seed(12345)  # noqa: NPY002 - perturb the global RNG rliable draws from
    second = interval_estimates(matrices, reps=REPS, seed=3)
    other = interval_estimates(matrices, reps=REPS, seed=4)
    assert first.equals(second)
    assert not first["ci_low"].equals(other["ci_low"])


def test_single_run_single_task_collapses_ci_to_the_point(tmp_path):
    write_final_scores(tmp_path, "dqn", {"CartPole-v1": [0.5]})
    summary = interval_estimates(score_matrices(final_scores(load_runs(tmp_path).evals)), reps=20)
    assert np.allclose(summary["value"], [0.5, 0.5, 0.5, 0.5])
    assert np.allclose(summary["ci_low"], summary["value"])
    assert np.allclose(summary["ci_high"], summary["value"])


def test_final_score_is_the_mean_of_the_last_k_evaluations_of_complete_runs(tmp_path):
    write_run(tmp_path, variant="dqn", seed=0, returns=[10.0, 20.0, 40.0])
    write_run(tmp_path, variant="dqn", seed=1, returns=[10.0], steps=[500], state="running")
    evals = load_runs(tmp_path).evals
    assert final_scores(evals, 1)["score"].tolist() == [40.0]
    assert final_scores(evals, 2)["score"].tolist() == [30.0]
    assert final_scores(evals, 2)["normalized"].iloc[0] == pytest.approx(
        (30.0 - 22.197) / (500.0 - 22.197)
    )


def test_dominating_variant_has_probability_of_improvement_one(tmp_path):
    write_final_scores(tmp_path, "rainbow", {"CartPole-v1": [0.8, 0.9, 1.0]})
    write_final_scores(tmp_path, "rainbow-no-per", {"CartPole-v1": [0.1, 0.2, 0.3]})
    write_final_scores(tmp_path, "dqn", {"CartPole-v1": [0.1, 0.2, 0.3]})
    matrices = score_matrices(final_scores(load_runs(tmp_path).evals))
    poi = probability_of_improvement(matrices, reps=REPS).set_index(["x", "y"])
    assert poi.loc[("rainbow", "rainbow-no-per"), ["value", "ci_low", "ci_high"]].tolist() == [
        1,
        1,
        1,
    ]
    # Identical samples: exactly one half (ties count 1/2), as in rliable.
    assert poi.loc[("rainbow-no-per", "dqn"), "value"] == 0.5


def test_vectorized_probability_of_improvement_equals_rliable():
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.integers(0, 4, size=(5, 3)).astype(float)  # small integers: many ties
        y = rng.integers(0, 4, size=(4, 3)).astype(float)
        assert probability_of_improvement_score(x, y) == pytest.approx(
            rly_metrics.probability_of_improvement(x, y)
        )


def test_improvement_pairs():
    variants = ["dqn", "rainbow-no-per", "rainbow", "dqn+double", "rainbow-no-double"]
    assert improvement_pairs(variants) == [
        ("rainbow", "rainbow-no-double"),
        ("rainbow", "rainbow-no-per"),
        ("rainbow", "dqn"),
        ("rainbow-no-double", "dqn"),
        ("rainbow-no-per", "dqn"),
        ("dqn+double", "dqn"),
    ]
    assert improvement_pairs(["rainbow"]) == []


def test_score_matrices_drop_variants_missing_a_task_and_extra_seeds(tmp_path):
    write_final_scores(
        tmp_path, "rainbow", {"CartPole-v1": [0.5, 0.6, 0.7], "Acrobot-v1": [0.5, 0.6]}
    )
    write_final_scores(tmp_path, "dqn", {"CartPole-v1": [0.1]})
    matrices = score_matrices(final_scores(load_runs(tmp_path).evals))
    assert list(matrices.scores) == ["rainbow"]
    assert matrices.scores["rainbow"].shape == (2, 2)
    assert any(note.startswith("dqn: left out") for note in matrices.notes)
    assert any(note.startswith("rainbow: using 2 run(s)") for note in matrices.notes)


def test_few_runs_are_those_below_three_per_task():
    assert few_runs({"rainbow": 3, "dqn": 2, "dqn+per": 1}) == {"dqn": 2, "dqn+per": 1}
    assert few_runs_phrase({"rainbow": 3, "dqn": 2, "dqn+per": 1}) == "dqn 2, dqn+per 1"
    assert few_runs_phrase({"rainbow": 2, "dqn": 2}) == "2 for every arm"
    assert few_runs_phrase({"dqn": 1}) == "dqn 1"
    assert few_runs_phrase({"rainbow": 5}) == ""

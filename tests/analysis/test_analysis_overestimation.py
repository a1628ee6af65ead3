import numpy as np
import pytest
from synthetic import write_run

from dqnlab.analysis.load import load_runs
from dqnlab.analysis.overestimation import (
    double_pairs,
    final_bias_per_run,
    overestimation_curves,
    overestimation_table,
)


def test_overestimation_bias_is_estimate_minus_realized(tmp_path):
    disc = [1.0, 2.0, 3.0, 4.0]
    for seed in range(2):
        write_run(tmp_path, variant="dqn", seed=seed, returns=[0, 0, 0, 0],
                  q_estimates=np.add(disc, 2.5), discounted_returns=disc,
                  episodes=10, truncated_episodes=2)  # fmt: skip
        write_run(tmp_path, variant="dqn+double", seed=seed, returns=[0, 0, 0, 0],
                  q_estimates=disc, discounted_returns=disc)  # fmt: skip
    table = overestimation_table(load_runs(tmp_path).evals).set_index("variant")
    assert table.loc["dqn", "bias"] == pytest.approx(2.5)
    assert table.loc["dqn", "q_estimate"] == pytest.approx(6.5)
    assert table.loc["dqn", "discounted_return"] == pytest.approx(4.0)
    assert table.loc["dqn", "bias_std"] == pytest.approx(0.0)
    assert table.loc["dqn", "truncated_fraction"] == pytest.approx(0.2)
    assert table.loc["dqn+double", "bias"] == pytest.approx(0.0)
    assert (table["n_runs"] == 2).all()


def test_final_bias_per_run_averages_the_last_k_evaluations(tmp_path):
    write_run(tmp_path, variant="dqn", returns=[0, 0, 0], q_estimates=[9.0, 5.0, 7.0],
              discounted_returns=[1.0, 2.0, 4.0])  # fmt: skip
    per_run = final_bias_per_run(load_runs(tmp_path).evals, final_evals=2)
    assert per_run[["q_estimate", "discounted_return", "bias"]].iloc[0].tolist() == [6.0, 3.0, 3.0]


def test_overestimation_curves_are_median_and_10_90_percentiles_over_runs(tmp_path):
    for seed, (q, realized) in enumerate([(1.0, 0.0), (2.0, 1.0), (4.0, 5.0)]):
        write_run(tmp_path, variant="dqn", seed=seed, returns=[0.0], steps=[1000],
                  q_estimates=q, discounted_returns=realized)  # fmt: skip
    curves = overestimation_curves(load_runs(tmp_path).evals, "step").set_index("quantity")
    # Sorted 1, 2, 4: linear interpolation puts the 10th percentile 0.2 of the way from 1 to 2
    # and the 90th 0.8 of the way from 2 to 4.
    assert curves.loc["estimate", ["value", "low", "high"]].tolist() == pytest.approx([2, 1.2, 3.6])
    assert curves.loc["realized", ["value", "low", "high"]].tolist() == pytest.approx([1, 0.2, 4.2])
    assert (curves["n_runs"] == 3).all() and (curves["x"] == 1000).all()


def test_double_pairs_are_arms_that_differ_only_by_double():
    variants = ["dqn", "dqn+double", "rainbow", "rainbow-no-double", "rainbow-no-per", "dqn+per"]
    assert double_pairs(variants) == [("rainbow-no-double", "rainbow"), ("dqn", "dqn+double")]
    assert double_pairs(["dqn+munchausen", "dqn+double+munchausen"]) == [
        ("dqn+munchausen", "dqn+double+munchausen")
    ]
    assert double_pairs(["rainbow", "rainbow-no-per", "dqn"]) == []


def test_overestimation_curves_stop_at_the_budget(tmp_path):
    for seed, last in enumerate([1012, 1040, 1003]):
        write_run(tmp_path, variant="dqn", seed=seed, returns=[0.0, 0.0], steps=[1000, last],
                  q_estimates=[1.0, 50.0], discounted_returns=[0.5, 40.0])  # fmt: skip
    curves = overestimation_curves(load_runs(tmp_path).evals, "step")
    assert (curves["x"] == 1000).all() and (curves["n_runs"] == 3).all()
    assert curves.set_index("quantity").loc["estimate", "value"] == pytest.approx(1.0)

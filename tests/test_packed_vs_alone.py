"""experiments/comparisons/packed_vs_alone.py's comparison of two sweeps' figures, on made-up
summaries with known answers (the script itself trains two ablations: too long for a test)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "comparisons" / "packed_vs_alone.py"


@pytest.fixture(scope="module")
def pva():
    spec = importlib.util.spec_from_file_location("packed_vs_alone", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(out: Path, mode: str, iqm: dict[str, tuple[float, float, float]], finals: dict[str, list[float]]) -> None:
    figures = out / mode / "figures"
    figures.mkdir(parents=True)
    pd.DataFrame([dict(variant=v, metric="iqm", value=x, ci_low=lo, ci_high=hi, n_runs=3, n_tasks=2)
                  for v, (x, lo, hi) in iqm.items()]).to_csv(figures / "summary.csv", index=False)
    pd.DataFrame([dict(variant=v, env="CartPole-v0", seed=i, normalized=s)
                  for v, scores in finals.items() for i, s in enumerate(scores)]).to_csv(figures / "final_scores.csv", index=False)


def test_overlap_and_permutation_test(pva, tmp_path: Path) -> None:
    write(tmp_path, "alone", {"dqn": (0.5, 0.4, 0.6), "rainbow": (1.0, 0.95, 1.05)},
          {"dqn": [0.4, 0.5, 0.6, 0.5], "rainbow": [1.0, 1.0, 1.0, 1.0]})
    write(tmp_path, "packed", {"dqn": (0.55, 0.6, 0.7), "rainbow": (0.5, 0.4, 0.6)},
          {"dqn": [0.4, 0.5, 0.6, 0.5], "rainbow": [0.0, 0.0, 0.0, 0.0]})
    table = pva.compare(tmp_path).set_index("variant")
    assert table.loc["dqn", "overlap"]  # 0.6 <= 0.6: intervals that touch overlap
    assert not table.loc["rainbow", "overlap"]
    assert table.loc["dqn", "p_mean_final"] == 1.0  # the same scores: every permutation is as extreme
    # 4 vs 4 completely separated: 2 of the 70 splits are as extreme, p ~ 2/70.
    assert table.loc["rainbow", "p_mean_final"] == pytest.approx(2 / 70, abs=0.01)
    args = argparse.Namespace(seeds=4, set=["network.hidden_sizes=128,128"])
    text = pva.summary_md(table.reset_index(), {"alone": 600.0, "packed": 300.0}, args)
    assert "2.00x faster packed" in text and "overlap for 1 of 2 variants" in text and "| NO |" in text
    assert "not measured" in pva.summary_md(table.reset_index(), {"alone": 600.0}, args)


def test_permutation_p_is_uniformish_under_the_null(pva) -> None:
    rng = np.random.default_rng(1)
    ps = [pva.permutation_p(rng.normal(size=6), rng.normal(size=6), resamples=500, seed=i) for i in range(60)]
    assert 0.02 < np.mean(np.array(ps) < 0.2) < 0.45  # ~0.2 expected

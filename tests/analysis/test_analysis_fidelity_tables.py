"""docs/fidelity.md's tables: the interval helper by hand, the report on a synthetic sweep."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import write_ablation_sweep

from dqnlab.analysis import fidelity_tables


def test_mean_ci_bounds_and_degenerate_cases() -> None:
    rng = np.random.default_rng(0)
    mean, lo, hi = fidelity_tables.mean_ci([1.0, 2.0, 3.0], rng)
    assert mean == 2.0
    # Means of 3 draws from {1, 2, 3} lie on the grid k/3 in [1, 3]; the 95% interval is inside it.
    assert 1.0 <= lo < mean < hi <= 3.0
    assert fidelity_tables.mean_ci([5.0, 5.0], rng) == (5.0, 5.0, 5.0)
    one = fidelity_tables.mean_ci([4.0], rng)
    assert one[0] == 4.0 and np.isnan(one[1]) and np.isnan(one[2])
    assert fidelity_tables.fmt(2.0, 1.0, 3.0) == "2.0 [1.0, 3.0]"
    assert fidelity_tables.fmt(4.0, np.nan, np.nan) == "4.0"


def test_report_ranks_the_leave_one_out_arms_by_their_drop(tmp_path) -> None:
    # Variant i ends at normalized 1 - 0.2 i (synthetic.py): rainbow-no-double loses 0.2, no-per 0.4.
    sweep = write_ablation_sweep(tmp_path, variants=("rainbow", "rainbow-no-double", "rainbow-no-per", "dqn"))
    text = fidelity_tables.report(sweep)
    assert "Complete runs per (env, arm): [3]" in text
    assert "- final eval, removing hurts most to least: per (+0.400), double (+0.200)" in text
    for arm in ("rainbow", "rainbow-no-double", "rainbow-no-per", "dqn"):
        assert f"| {arm} |" in text
    # The synthetic value estimate exceeds the realized value by 1 + i for variant i.
    assert "| CartPole-v1 | rainbow-no-double | " in text and " | 2.0 [2.0, 2.0] | " in text


def test_main_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert fidelity_tables.main([]) == 2
    assert "usage" in capsys.readouterr().err

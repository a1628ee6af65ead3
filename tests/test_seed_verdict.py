"""tests/seed_verdict.py, the learning tests' 2-of-3 scheduler: the verdict is the majority of the
three seeds, and the runs it no longer needs are stopped (a job standing for a run that would
train its whole budget sleeps a minute; each test ends in seconds)."""

import math
import time

import pytest
from seed_verdict import majority_verdict

BUDGET_S = 60.0  # a run that trains its whole budget; stopping it is what these tests time


def _run(job: tuple[float, float]) -> float:
    score, seconds = job
    time.sleep(seconds)
    if math.isnan(score):
        raise RuntimeError("the run diverged")
    return score


def _verdict(*jobs: tuple[float, float]) -> tuple[list[float], float]:
    start = time.monotonic()
    scores = majority_verdict(_run, jobs, lambda s: s >= 1.0)
    return scores, time.monotonic() - start


@pytest.mark.timeout(50)
def test_a_slow_failing_seed_is_stopped_once_the_other_two_pass():
    scores, took = _verdict((1.0, 0.2), (0.0, BUDGET_S), (1.0, 0.2))
    assert scores[0] == scores[2] == 1.0 and math.isnan(scores[1]) and took < BUDGET_S / 2


@pytest.mark.timeout(50)
def test_two_passes_decide_and_the_third_seed_is_stopped():
    scores, took = _verdict((1.0, 0.2), (1.0, 1.0), (0.0, BUDGET_S))
    assert scores[:2] == [1.0, 1.0] and math.isnan(scores[2]) and took < BUDGET_S / 2


@pytest.mark.timeout(50)
def test_two_failures_decide_too():
    scores, took = _verdict((0.0, 0.2), (0.0, 0.5), (1.0, BUDGET_S))
    assert scores[:2] == [0.0, 0.0] and math.isnan(scores[2]) and took < BUDGET_S / 2


@pytest.mark.timeout(50)
def test_a_split_is_decided_by_the_third_seed():
    scores, _ = _verdict((1.0, 0.2), (0.0, 0.5), (0.0, 0.3))
    assert scores == [1.0, 0.0, 0.0]


@pytest.mark.timeout(50)
def test_an_error_in_a_run_is_raised():
    with pytest.raises(RuntimeError, match="diverged"):
        _verdict((math.nan, 0.2), (1.0, BUDGET_S), (1.0, BUDGET_S))

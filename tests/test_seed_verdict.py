"""tests/seed_verdict.py, the learning tests' 2-of-3 scheduler: the verdict is the majority of the
three seeds, and a seed trains only when the verdict needs it (each job leaves a file when it
starts; one standing for a run that would train a long budget sleeps a minute)."""

import math
import time
from pathlib import Path

import pytest
from seed_verdict import majority_verdict

LONG_S = 60.0


def _run(job: tuple[float, float, str]) -> float:
    score, seconds, started = job
    Path(started).touch()
    time.sleep(seconds)
    if math.isnan(score):
        raise RuntimeError("the run diverged")
    return score


def _verdict(tmp_path: Path, *jobs: tuple[float, float]) -> tuple[list[float], list[bool], float]:
    """The scores, which jobs started, and the seconds it took."""
    marks = [tmp_path / f"started_{i}" for i in range(len(jobs))]
    start = time.monotonic()
    scores = majority_verdict(_run, [(*job, str(m)) for job, m in zip(jobs, marks)], lambda s: s >= 1.0)
    return scores, [m.exists() for m in marks], time.monotonic() - start


@pytest.mark.timeout(50)
def test_two_passes_decide_and_the_third_seed_never_trains(tmp_path):
    scores, started, took = _verdict(tmp_path, (1.0, 0.2), (1.0, 1.5), (0.0, LONG_S))
    assert scores[:2] == [1.0, 1.0] and math.isnan(scores[2])
    assert started == [True, True, False] and took < LONG_S / 2


@pytest.mark.timeout(50)
def test_two_failures_decide_too(tmp_path):
    scores, started, _ = _verdict(tmp_path, (0.0, 1.5), (0.0, 0.2), (1.0, LONG_S))
    assert scores[:2] == [0.0, 0.0] and math.isnan(scores[2]) and started == [True, True, False]


@pytest.mark.timeout(50)
@pytest.mark.parametrize("third", [0.0, 1.0])
def test_a_split_is_decided_by_the_third_seed(tmp_path, third):
    scores, started, _ = _verdict(tmp_path, (1.0, 0.2), (0.0, 0.5), (third, 0.2))
    assert scores == [1.0, 0.0, third] and all(started)


@pytest.mark.timeout(50)
def test_an_error_in_a_run_is_raised_and_stops_the_others(tmp_path):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="diverged"):
        _verdict(tmp_path, (math.nan, 0.2), (1.0, LONG_S), (1.0, LONG_S))
    assert time.monotonic() - start < LONG_S / 2

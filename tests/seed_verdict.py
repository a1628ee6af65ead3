"""The learning tests' "at least 2 of 3 seeds" verdict, with no more training than it needs.

The seeds train two at a time, in order, and a seed starts only when the seeds that have finished
or are training cannot decide the verdict whatever they return: seeds 0 and 1 train side by side,
and seed 2 only when they split (it cannot change the verdict when they agree). The verdict is the
majority of the three seeds, the one training all three would give.

Measured, not assumed: starting seed 2 as soon as a slot freed (and stopping the runs the verdict
no longer needed) made `make test` slower, 25 min 33 s against 22 min 36 s (2026-12-06, 2 cores).
IQN's CartPole-v0 test gained (seed 1 trains its whole budget below the pass mark, seeds 0 and 2
pass within 5k steps), but in the arms whose first two seeds both pass, the third trained until
the slower one passed, and on a machine whose cores the suite keeps busy that is work, not idle
time filled.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import queue
from collections.abc import Callable, Sequence
from typing import Any


def majority_verdict(
    train: Callable[[Any], float], jobs: Sequence[Any], passes: Callable[[float], bool], *,
    need: int = 2, processes: int = 2,
) -> list[float]:
    """`train(job)` (a picklable top-level function returning the run's score) for `jobs` in
    order, up to `processes` at a time in spawned processes, until `need` of them pass or so many
    fail that `need` passes are out of reach; a job starts only when the verdict needs it. Each
    job's score in job order, nan for a job never started. An exception in a job is raised here."""
    scores = [math.nan] * len(jobs)
    finished: set[int] = set()
    running: set[int] = set()
    results: queue.SimpleQueue = queue.SimpleQueue()
    waiting = iter(range(len(jobs)))

    def can_settle(pending: int) -> bool:
        """Whether the finished runs and `pending` more could settle the verdict."""
        passed = sum(passes(scores[i]) for i in finished)
        failed = len(finished) - passed
        return passed + pending >= need or failed + pending > len(jobs) - need

    # Leaving the block terminates the pool (an error in one run stops the others).
    with mp.get_context("spawn").Pool(processes) as pool:

        def start() -> bool:
            i = next(waiting, None)
            if i is None:
                return False
            running.add(i)
            pool.apply_async(train, (jobs[i],), callback=lambda score, i=i: results.put((i, score)),
                             error_callback=lambda err, i=i: results.put((i, err)))
            return True

        while not can_settle(0):
            while len(running) < processes and not can_settle(len(running)) and start():
                pass
            if not running:  # every job has finished and the verdict is still open (need > jobs)
                break
            i, score = _next(results)
            running.discard(i)
            if isinstance(score, BaseException):
                raise score
            scores[i] = score
            finished.add(i)
    return scores


def _next(results: queue.SimpleQueue) -> Any:
    # A bounded wait in a loop, so that pytest-timeout's signal can interrupt it between waits.
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            continue

"""The learning tests' "at least 2 of 3 seeds" verdict, decided with as little training as it takes.

The seeds train two at a time, in order; a seed starts as soon as a slot frees and the verdict is
still open, and the runs still training are stopped once it is decided (two passes, or two
failures). The verdict is always the majority of the three seeds, the one training all three would
give; what it saves is the training that could not change it. A seed that never reaches the pass
mark trains its whole budget, the costliest case, and its neighbours usually decide the verdict
before it ends (under RR's IQN config on CartPole-v0, seed 1 levels off below 100 for 30k steps
while seeds 0 and 2 pass within 5k: this stops it after about 7k steps instead of 30k).
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
    order, `processes` at a time in spawned processes, until `need` of them pass or so many fail
    that `need` passes are out of reach. Each job's score in job order; nan for a job stopped before
    its end or never started. An exception in a job is raised here."""
    scores = [math.nan] * len(jobs)
    finished: set[int] = set()
    results: queue.SimpleQueue = queue.SimpleQueue()
    waiting = iter(range(len(jobs)))

    def decided() -> bool:
        passed = sum(passes(scores[i]) for i in finished)
        return passed >= need or len(finished) - passed > len(jobs) - need

    # Leaving the block terminates the pool: that is how the runs still training are stopped.
    with mp.get_context("spawn").Pool(processes) as pool:

        def start() -> int:
            i = next(waiting, None)
            if i is None:
                return 0
            pool.apply_async(train, (jobs[i],), callback=lambda score, i=i: results.put((i, score)),
                             error_callback=lambda err, i=i: results.put((i, err)))
            return 1

        running = sum(start() for _ in range(processes))
        while running and not decided():
            i, score = _next(results)
            running -= 1
            if isinstance(score, BaseException):
                raise score
            scores[i] = score
            finished.add(i)
            if not decided():
                running += start()
    return scores


def _next(results: queue.SimpleQueue) -> Any:
    # A bounded wait in a loop, so that pytest-timeout's signal can interrupt it between waits.
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            continue

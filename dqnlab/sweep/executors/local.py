"""The `local` executor: the runs in worker processes on this machine.

The runs train in spawned worker processes (one per core by default), each with one torch thread:
small networks gain nothing from intra-op threads, and N single-threaded runs use N cores fully.
The first Ctrl-C (or SIGTERM) asks every run to checkpoint at its next step boundary and stops the
sweep; the same command resumes it. A second Ctrl-C kills the workers (the runs then resume from
their last periodic checkpoint).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import signal
import sys
from pathlib import Path
from typing import TextIO

from dqnlab.sweep.executors.base import Execution, ExecutorSettings, OnThisMachine
from dqnlab.sweep.monitor import SweepMonitor
from dqnlab.sweep.worker import RunOptions, run_one

_stop_requested = False


def _request_stop(signum, frame) -> None:
    global _stop_requested
    _stop_requested = True


def _stop_flag() -> bool:
    return _stop_requested


def _init_worker() -> None:
    # Before torch is imported (run_one imports it lazily): one intra-op thread per worker.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _request_stop)


def _work(run_dir: str, options: RunOptions) -> str:
    if _stop_requested:  # queued before the stop: do not start it
        return "stopped"
    return run_one(run_dir, options, should_stop=_stop_flag)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LocalExecutor(OnThisMachine):
    help = "parallel worker processes on this machine (default; one per core)"

    def __init__(self, settings: ExecutorSettings) -> None:
        super().__init__(settings)
        self.workers = settings.workers or default_workers()

    def parallelism(self, n_runs: int) -> tuple[int, str]:
        return self.workers, "worker(s)"

    def run(self, sweep_dir: Path, rel_dirs: list[str], options: RunOptions,
            out: TextIO) -> Execution:
        return Execution(run_local(sweep_dir, rel_dirs, options, self.workers))


def run_local(sweep_dir: Path, rel_dirs: list[str], options: RunOptions, workers: int,
              *, poll_s: float = 2.0) -> dict[str, str]:
    """Train the runs in `workers` processes with a live progress display; returns run -> outcome
    ("stopped" for runs interrupted or never started because of Ctrl-C)."""
    sweep_dir = Path(sweep_dir)
    monitor = SweepMonitor(sweep_dir, rel_dirs)
    outcomes: dict[str, str] = {}
    pool = cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context("spawn"),
                                  initializer=_init_worker)
    futures = {pool.submit(_work, str(sweep_dir / rel), options): rel for rel in rel_dirs}
    pending = set(futures)
    interrupted = False
    try:
        while pending:
            try:
                finished, pending = cf.wait(pending, timeout=poll_s, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    outcomes[futures[fut]] = _outcome(fut)
                monitor.update()
            except KeyboardInterrupt:
                if interrupted:
                    raise
                interrupted = True
                print("\ndqnlab: stopping: each running run checkpoints at its next step "
                      "(Ctrl-C again to kill)", file=sys.stderr)
                for fut in pending:
                    fut.cancel()
                for proc in list(getattr(pool, "_processes", {}).values()):
                    # A Ctrl-C on the terminal reached them already; SIGTERM covers `kill`.
                    if proc.is_alive():
                        os.kill(proc.pid, signal.SIGTERM)
    except KeyboardInterrupt:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    monitor.update(final=True)
    for fut, rel in futures.items():
        outcomes.setdefault(rel, "stopped" if fut.cancelled() else _outcome(fut))
    return outcomes


def _outcome(fut: cf.Future) -> str:
    if fut.cancelled():
        return "stopped"
    error = fut.exception()
    if error is not None:  # the worker process itself died (killed, out of memory)
        print(f"dqnlab: a worker died: {type(error).__name__}: {error}", file=sys.stderr)
        return "failed"
    return fut.result()

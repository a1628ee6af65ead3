"""The `local` executor: the packs of runs in worker processes on this machine.

The packs (`packing.py`; a pack of one is a run alone) train in spawned worker processes (one per
core by default), each with one torch thread: small networks gain nothing from intra-op threads,
and N single-threaded processes use N cores fully. The first Ctrl-C (or SIGTERM: `dqnlab sweep`
raises it as a KeyboardInterrupt, `stopping.Interrupted`) asks every pack to checkpoint at its next
step boundary and stops the sweep; the same command resumes it. A second Ctrl-C kills the workers
(the runs then resume from their last periodic checkpoint).

Workers die with the launcher, however it dies (kill -9 included): on Linux each asks the kernel
for SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG), and every worker also checks its parent
pid at each training step. An orphaned worker checkpoints its run at the next step and exits at
once, instead of training on unseen (and blocking on a pipe nobody reads once its run is done).
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import ctypes.util
import multiprocessing as mp
import os
import signal
import sys
from pathlib import Path
from typing import TextIO

from dqnlab.stopping import signal_name
from dqnlab.sweep.executors.base import Execution, ExecutorSettings, OnThisMachine
from dqnlab.sweep.monitor import SweepMonitor
from dqnlab.sweep.worker import RunOptions, run_pack

# Worker-process state (set in each worker by _init_worker).
_stop_requested = False
_launcher_pid: int | None = None
_training = False
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _orphaned() -> bool:
    """The launcher is gone (the worker was re-parented)."""
    return _launcher_pid is not None and os.getppid() != _launcher_pid


def _request_stop(signum, frame) -> None:
    global _stop_requested
    _stop_requested = True
    if _orphaned() and not _training:  # idle, nobody to report to: leave now
        os._exit(128 + signum)


def _stop_flag() -> bool:
    return _stop_requested or _orphaned()


def set_parent_death_signal(signum: int) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _init_worker(launcher_pid: int | None = None) -> None:
    global _launcher_pid
    # Before torch is imported (run_one imports it lazily): one intra-op thread per worker.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _request_stop)
    _launcher_pid = launcher_pid
    set_parent_death_signal(signal.SIGTERM)
    if _orphaned():  # the launcher died before the request took effect
        os._exit(1)
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


def _work(run_dirs: list[str], options: RunOptions) -> dict[str, str]:
    global _training
    if _stop_flag():  # queued before the stop: do not start it
        return dict.fromkeys(run_dirs, "stopped")
    _training = True
    try:
        return run_pack(run_dirs, options, should_stop=_stop_flag)
    finally:
        _training = False
        if _orphaned():  # the run is checkpointed; nobody waits for more work or the result
            os._exit(0)


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

    @property
    def slots_to_fill(self) -> int:
        return self.workers

    def parallelism(self, n_packs: int) -> tuple[int, str]:
        return self.workers, "worker(s)"

    def run(self, sweep_dir: Path, packs: list[list[str]], options: RunOptions,
            out: TextIO) -> Execution:
        return Execution(run_local(sweep_dir, packs, options, self.workers))


def run_local(sweep_dir: Path, packs: list[list[str]], options: RunOptions, workers: int,
              *, poll_s: float = 2.0) -> dict[str, str]:
    """Train the packs of runs in `workers` processes with a live progress display; returns run ->
    outcome ("stopped" for runs interrupted or never started because of Ctrl-C)."""
    sweep_dir = Path(sweep_dir)
    monitor = SweepMonitor(sweep_dir, packs, workers=max(1, workers), device=options.device)
    outcomes: dict[str, str] = {}
    pool = cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context("spawn"),
                                  initializer=_init_worker, initargs=(os.getpid(),))
    futures = {pool.submit(_work, [str(sweep_dir / rel) for rel in pack], options): pack
               for pack in packs}
    pending = set(futures)
    interrupted = False
    try:
        while pending:
            try:
                finished, pending = cf.wait(pending, timeout=poll_s, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    outcomes.update(_outcomes(fut, futures[fut], sweep_dir))
                monitor.update()
            except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (stopping.Interrupted)
                if interrupted:
                    raise
                interrupted = True
                print(f"\ndqnlab: stopping ({signal_name(getattr(e, 'signum', signal.SIGINT))}): each running "
                      "pack of runs checkpoints at its next step (Ctrl-C again to kill)", file=sys.stderr)
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
    for fut, pack in futures.items():
        if pack[0] not in outcomes:
            outcomes.update(_outcomes(fut, pack, sweep_dir))
    return outcomes


def _outcomes(fut: cf.Future, pack: list[str], sweep_dir: Path) -> dict[str, str]:
    """Each run's outcome from the future of its pack, keyed by the runs' relative dirs (run_pack
    keys them by the paths it was given: sweep_dir / rel)."""
    if fut.cancelled():
        return dict.fromkeys(pack, "stopped")
    error = fut.exception()
    if error is not None:  # the worker process itself died (killed, out of memory)
        print(f"dqnlab: a worker died: {type(error).__name__}: {error}", file=sys.stderr)
        return dict.fromkeys(pack, "failed")
    result = fut.result()
    return {rel: result[str(sweep_dir / rel)] for rel in pack}

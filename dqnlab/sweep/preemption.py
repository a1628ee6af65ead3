"""Checkpoint at a step boundary when SLURM preempts a job, then let submitit requeue it.

The slurm executor's jobs (`executors/slurm_job.py`, `RunsJob`) train under a `PreemptionGuard`.

How submitit handles preemption (submitit 1.5.x, read from its source):

* Every job is started by ``submitit.core._submit``: it loads the pickled
  ``DelayedSubmission``, then ``JobEnvironment._handle_signals`` installs
  ``SignalHandler.bypass`` for SIGTERM and SIGCONT (logged, otherwise ignored) and
  ``SignalHandler.checkpoint_and_try_requeue`` for the preemption signal
  (``SIGUSR2``, or ``SIG$SUBMITIT_PREEMPT_SIGNAL``), then calls the function.
* sbatch gets ``--signal=USR2@<signal_delay_s>`` (default 90 s before the time limit).
* ``checkpoint_and_try_requeue`` (on global rank 0 only) calls
  ``function.checkpoint(*args, **kwargs)``, pickles the ``DelayedSubmission`` it returns
  over ``<job>_submitted.pkl``, runs ``scontrol requeue <job_id>`` and ``sys.exit(-1)``.
  The requeued job starts from that pickle. If ``checkpoint`` returns ``None``, or the job
  has "timed out" more than ``max_num_timeout`` times, it raises
  ``UncompletedJobError`` instead and the job ends with that error.
* Python runs signal handlers between bytecodes of the main thread, i.e. wherever the
  loop happens to be. Checkpointing *there* can save a half-updated state.

What this module adds: :class:`PreemptionGuard` replaces submitit's handler by one that
only records the request; the training loop polls ``guard.requested`` at each step boundary,
saves a consistent checkpoint itself, and then calls :meth:`PreemptionGuard.hand_over`, which
runs submitit's original handler -- so the requeue still goes through submitit's normal
``checkpoint()`` path. ``hand_over`` also fixes one race: ``scontrol requeue`` makes
Slurm SIGTERM every process of the job step, including the ``scontrol`` child itself;
if it dies that way, submitit sees ``CalledProcessError`` although the job *was*
requeued, and would record the job as failed. ``hand_over`` blocks SIGTERM while the
handler runs (the block is inherited by ``scontrol``) and, should the call fail anyway,
asks ``scontrol show job`` whether the restart count went up before deciding.
docs/sweeps.md ("Preemption, in detail") has the whole design and how the tests preempt.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import types
import typing as tp

import submitit

logger = logging.getLogger(__name__)


def preemption_signal() -> signal.Signals:
    """The signal submitit treats as preemption/timeout (``SIGUSR2`` unless
    ``SUBMITIT_PREEMPT_SIGNAL`` overrides it, exactly as submitit resolves it)."""
    return signal.Signals(submitit.JobEnvironment._usr_sig())


def slurm_restart_count() -> int:
    """How many times Slurm has requeued this job (``SLURM_RESTART_COUNT``; 0 on the first
    run and outside Slurm)."""
    return int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0)


def _scontrol_restarts(job_id: str, timeout_s: float = 20.0) -> int | None:
    """``Restarts=`` of ``scontrol show job`` (None if it cannot be read)."""
    try:
        out = subprocess.run(
            ["scontrol", "show", "job", "-o", job_id],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for field in out.split():
        if field.startswith("Restarts="):
            return int(field.split("=", 1)[1])
    return None


def _is_requeue_call(error: BaseException) -> bool:
    cmd = getattr(error, "cmd", None)
    return isinstance(cmd, (list, tuple)) and list(cmd[:2]) == ["scontrol", "requeue"]


class PreemptionGuard:
    """Defers submitit's preemption handler to a point the caller chooses.

    Use as a context manager inside a submitit job::

        with PreemptionGuard() as guard:
            for step in range(start, n):
                do_step()
                if guard.requested:              # USR2: preemption / time limit near
                    save_consistent_checkpoint()
                    guard.hand_over()            # submitit requeues; does not return
                elif guard.take_sigterm():       # SIGTERM: we may be killed soon
                    save_consistent_checkpoint()  # ...and keep going, as submitit does

    SIGTERM: submitit ignores it (``bypass``) because Slurm sends it before USR2 on
    preemption (see ``SlurmJob._interrupt``) and when the job is requeued or cancelled.
    The guard keeps that behaviour -- it never exits on SIGTERM -- but reports it through
    :meth:`take_sigterm` so the loop can save a checkpoint before a possible SIGKILL
    (preemption without ``PreemptParameters=send_user_signal``, ``scontrol requeue`` from
    outside, ``scancel``). submitit's own SIGTERM handler still runs (it logs).

    Outside a submitit job (no Python handler installed for the signal, e.g. when the
    loop runs in-process) the guard is inactive: ``requested`` stays False.
    On exit it restores the original handlers; a request that arrived during the last
    step is then dropped (the work is done, so finishing beats requeueing).
    """

    def __init__(self, signum: int | None = None) -> None:
        self.signum = signal.Signals(signum) if signum is not None else preemption_signal()
        self._originals: dict[signal.Signals, tp.Any] = {}
        self._requested_at: float | None = None
        self._sigterm_pending = False
        self.active = False

    # -- installation -------------------------------------------------------------------
    def __enter__(self) -> PreemptionGuard:
        current = signal.getsignal(self.signum)
        if not callable(current):  # not inside submitit: nothing to defer
            return self
        # submitit's SignalHandler.checkpoint_and_try_requeue
        self._originals[self.signum] = current
        signal.signal(self.signum, self._on_preempt)
        term = signal.getsignal(signal.SIGTERM)
        if self.signum != signal.SIGTERM and callable(term):  # submitit's bypass
            self._originals[signal.SIGTERM] = term
            signal.signal(signal.SIGTERM, self._on_sigterm)
        self.active = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if not self.active:
            return
        for signum, handler in self._originals.items():
            signal.signal(signum, handler)
        self.active = False
        if exc_type is None and self._requested_at is not None:
            logger.warning(
                "%s arrived during the last step; finishing instead of requeueing",
                self.signum.name,
            )

    # Handlers only set flags: they run between two arbitrary bytecodes of the loop.
    def _on_preempt(self, signum: int, frame: types.FrameType | None) -> None:
        if self._requested_at is None:
            self._requested_at = time.time()
        logger.warning("caught %s; will checkpoint at the next step boundary", self.signum.name)

    def _on_sigterm(self, signum: int, frame: types.FrameType | None) -> None:
        self._sigterm_pending = True
        self._originals[signal.SIGTERM](signum, frame)  # submitit logs "Bypassing signal"

    # -- use ----------------------------------------------------------------------------
    @property
    def requested(self) -> bool:
        """True once the preemption/timeout signal has been received."""
        return self._requested_at is not None

    def take_sigterm(self) -> bool:
        """True (once per burst) if SIGTERM arrived since the last call."""
        pending, self._sigterm_pending = self._sigterm_pending, False
        return pending

    def hand_over(self) -> None:
        """Run submitit's original handler now (call it right after a consistent save).

        On global rank 0 this does not return: submitit calls ``checkpoint()``, requeues
        the job and exits (``SystemExit``), or raises ``UncompletedJobError`` when it
        will not requeue (checkpoint returned None / too many timeouts). On other ranks
        submitit only logs and returns; the request is then cleared.
        """
        if not self.active:
            raise RuntimeError("hand_over() needs an active guard inside a submitit job")
        # The requeue SIGTERMs the whole job step. Block SIGTERM so that neither this
        # process nor the `scontrol requeue` child (it inherits the mask) dies from it.
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            self._originals[self.signum](self.signum, None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            if not _is_requeue_call(error):
                raise
            job_id = os.environ.get("SLURM_JOB_ID", "")
            restarts = _scontrol_restarts(job_id) if job_id else None
            if restarts is None or restarts <= slurm_restart_count():
                raise
            # The requeue reached slurmctld; only the scontrol client was killed.
            logger.warning(
                "`scontrol requeue %s` failed (%s) but Slurm shows Restarts=%d: job requeued",
                job_id,
                error,
                restarts,
            )
            sys.exit(-1)  # what submitit's SignalHandler._exit does after a requeue
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        self._requested_at = None  # non-zero rank: submitit returned

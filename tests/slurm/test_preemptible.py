"""Unit tests of slurm/preemptible.py, in-process: no cluster needed.

submitit's signal handler is replaced by a fake with the same contract (it calls
``checkpoint()``, then requeues or raises), so these run everywhere in well under a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("submitit")

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # plain `pytest` without an install
    sys.path.insert(0, str(REPO_ROOT))

from slurm import preemptible  # noqa: E402
from slurm.preemptible import CountingLoop, PreemptionGuard  # noqa: E402

USR = preemptible.preemption_signal()


class Requeued(BaseException):
    """What our fake submitit handler raises instead of sys.exit after a 'requeue'."""


class FakeSubmititHandler:
    """Mimics SignalHandler.checkpoint_and_try_requeue: checkpoint(), requeue, exit."""

    def __init__(self, loop, requeue_error: BaseException | None = None) -> None:
        self.loop = loop
        self.requeue_error = requeue_error
        self.calls: list[int] = []
        self.blocked_during_call: set[int] = set()

    def __call__(self, signum, frame):
        self.calls.append(signum)
        self.blocked_during_call = signal.pthread_sigmask(signal.SIG_BLOCK, set())
        delayed = self.loop.checkpoint()
        assert delayed.function is self.loop  # resubmits the configuration-only object
        if self.requeue_error is not None:
            raise self.requeue_error
        raise Requeued


class SignalAt(CountingLoop):
    """Sends itself ``signals`` in the middle of step ``at`` (between RNG draw and update)."""

    def __init__(self, *args, at: int, signals=(USR,), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.at = at
        self.signals = signals

    def step(self, state, step):
        if step == self.at:
            for sig in self.signals:
                os.kill(os.getpid(), sig)
        return super().step(state, step)


@pytest.fixture
def handlers():
    """Install fake submitit handlers for USR2 and SIGTERM; restore afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (USR, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def reference(tmp_path: Path, total: int) -> dict:
    return CountingLoop(tmp_path / "reference", total_steps=total)()["result"]


def test_uninterrupted_loop_is_deterministic_and_guard_inactive(tmp_path):
    assert not callable(signal.getsignal(USR))  # no submitit here
    out = CountingLoop(tmp_path / "a", total_steps=25, checkpoint_every=4)()
    assert out["result"] == reference(tmp_path, 25)
    assert [s["from_step"] for s in out["starts"]] == [0]
    with PreemptionGuard() as guard:
        assert not guard.active and not guard.requested
        with pytest.raises(RuntimeError):
            guard.hand_over()


def test_signal_defers_checkpoint_to_step_boundary_then_resume_matches(tmp_path, handlers):
    loop = SignalAt(tmp_path / "ckpt", total_steps=25, checkpoint_every=4, at=9)
    fake = FakeSubmititHandler(loop)
    signal.signal(USR, fake)
    with pytest.raises(Requeued):
        loop()
    assert fake.calls == [USR]
    assert signal.SIGTERM in fake.blocked_during_call  # inherited by `scontrol requeue`
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.getsignal(USR) is fake  # guard restored submitit's handler
    ckpt = loop.load_checkpoint()
    assert ckpt["steps_done"] == 10  # step 9 completed, not 8 (or half of 9)

    # The requeued job: same object, fresh process state -> resumes at 10.
    out = SignalAt(tmp_path / "ckpt", total_steps=25, checkpoint_every=4, at=-1)()
    assert [s["from_step"] for s in out["starts"]] == [0, 10]
    assert out["result"] == reference(tmp_path, 25)


def test_sigterm_checkpoints_and_continues(tmp_path, handlers):
    seen = []
    signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))  # "bypass"
    signal.signal(USR, FakeSubmititHandler(None))
    loop = SignalAt(
        tmp_path / "ckpt", total_steps=12, checkpoint_every=100, at=4, signals=(signal.SIGTERM,)
    )
    saves = []
    original_save = loop.save_checkpoint

    def recording_save(state, done, starts):
        saves.append(done)
        original_save(state, done, starts)

    loop.save_checkpoint = recording_save
    out = loop()
    assert seen == [signal.SIGTERM]  # submitit's handler still ran
    assert saves == [5, 12]  # extra save at the boundary after SIGTERM, then the final one
    assert out["result"] == reference(tmp_path, 12)


def test_killed_scontrol_requeue_is_treated_as_requeued(tmp_path, handlers, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    monkeypatch.setattr(preemptible, "_scontrol_restarts", lambda job_id: 1)
    loop = SignalAt(tmp_path / "ckpt", total_steps=10, at=3)
    killed = subprocess.CalledProcessError(-signal.SIGTERM, ["scontrol", "requeue", "4242"])
    signal.signal(USR, FakeSubmititHandler(loop, requeue_error=killed))
    with pytest.raises(SystemExit):  # exits like submitit does after a requeue
        loop()
    assert loop.load_checkpoint()["steps_done"] == 4


def test_failed_requeue_is_not_hidden(tmp_path, handlers, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    monkeypatch.setattr(preemptible, "_scontrol_restarts", lambda job_id: 1)  # not bumped
    loop = SignalAt(tmp_path / "ckpt", total_steps=10, at=3)
    failed = subprocess.CalledProcessError(1, ["scontrol", "requeue", "4242"])
    signal.signal(USR, FakeSubmititHandler(loop, requeue_error=failed))
    with pytest.raises(subprocess.CalledProcessError):
        loop()


def test_signal_during_last_step_finishes(tmp_path, handlers):
    fake = FakeSubmititHandler(None)
    signal.signal(USR, fake)
    out = SignalAt(tmp_path / "ckpt", total_steps=6, at=5)()
    assert fake.calls == []
    assert out["result"] == reference(tmp_path, 6)

"""The preemption guard as the slurm executor uses it, in-process: no cluster needed.

A `RunsJob` (what a SLURM job of a sweep runs) trains a tiny CartPole run; submitit's signal
handlers are replaced by fakes with the same contract (USR2: call the job's `checkpoint()`, then
requeue or raise; SIGTERM: log and ignore), and the signal is sent from inside the training loop at
a chosen agent step. The requeued job is the same object called again, as submitit does.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from run_helpers import assert_same_logs, prepare_tiny_run

pytest.importorskip("submitit")

from dqnlab import rundir  # noqa: E402
from dqnlab.sweep import preemption  # noqa: E402
from dqnlab.sweep.executors import slurm_job  # noqa: E402
from dqnlab.sweep.executors.slurm_job import RunsJob  # noqa: E402
from dqnlab.sweep.preemption import PreemptionGuard  # noqa: E402
from dqnlab.sweep.worker import RunOptions, run_one, run_pack  # noqa: E402

USR = preemption.preemption_signal()
STEPS = 300


class Requeued(BaseException):
    """What the fake submitit handler raises instead of sys.exit after a 'requeue'."""


class FakeSubmititHandler:
    """Mimics SignalHandler.checkpoint_and_try_requeue: checkpoint(), requeue, exit."""

    def __init__(self, job: RunsJob | None, requeue_error: BaseException | None = None) -> None:
        self.job = job
        self.requeue_error = requeue_error
        self.calls: list[int] = []
        self.blocked_during_call: set[int] = set()

    def __call__(self, signum, frame):
        self.calls.append(signum)
        self.blocked_during_call = signal.pthread_sigmask(signal.SIG_BLOCK, set())
        delayed = self.job.checkpoint()
        assert delayed.function is self.job  # resubmits the configuration-only job
        if self.requeue_error is not None:
            raise self.requeue_error
        raise Requeued


@pytest.fixture
def handlers():
    """Restore the USR2 and SIGTERM handlers a test installs."""
    saved = {sig: signal.getsignal(sig) for sig in (USR, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def signal_at(monkeypatch):
    """signal_at(step, *signals): the job's training loop receives `signals` once, at agent step
    `step` of the run's first attempt: sent from the should_stop poll at that step's boundary, after
    the step's evaluation (the loop also polls during evaluations and after writing a checkpoint,
    so the poll reads the trainer's step rather than counting calls)."""
    from dqnlab.train import Trainer

    def install(step: int, *signals: int) -> None:
        sent, trainer = [], {}
        run = Trainer.run

        def remember(self, should_stop):
            trainer["now"] = self
            return run(self, should_stop)

        def run_pack_with_signal(run_dirs, options, should_stop):
            def poll() -> bool:
                counters = trainer["now"].counters if "now" in trainer else None
                if counters is not None and counters.step == step and not counters.eval_due and not sent:
                    sent.append(step)
                    for sig in signals:
                        os.kill(os.getpid(), sig)
                return should_stop()

            return run_pack(run_dirs, options, poll)

        monkeypatch.setattr(Trainer, "run", remember)
        monkeypatch.setattr(slurm_job, "run_pack", run_pack_with_signal)

    return install


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The same run trained without interruption."""
    run_dir = prepare_tiny_run(tmp_path_factory.mktemp("reference") / "run", steps=STEPS)
    assert run_one(run_dir, RunOptions()) == "done"
    return run_dir


def job_for(tmp_path: Path) -> tuple[RunsJob, Path]:
    run_dir = prepare_tiny_run(tmp_path / "run", steps=STEPS)
    return RunsJob([[str(run_dir)]], RunOptions()), run_dir


def test_a_job_takes_packs_not_bare_runs(tmp_path):
    with pytest.raises(TypeError, match="list of packs"):
        RunsJob([str(tmp_path / "run")], RunOptions())


def test_outside_submitit_the_guard_is_inactive_and_the_job_just_trains(tmp_path, reference):
    assert not callable(signal.getsignal(USR))  # no submitit handler here
    with PreemptionGuard() as guard:
        assert not guard.active and not guard.requested
        with pytest.raises(RuntimeError):
            guard.hand_over()
    job, run_dir = job_for(tmp_path)
    assert job() == {str(run_dir.resolve()): "done"}
    assert_same_logs(run_dir, reference)


def test_usr2_checkpoints_at_the_step_boundary_then_the_requeued_job_resumes_exactly(
        tmp_path, reference, handlers, signal_at, capfd):
    job, run_dir = job_for(tmp_path)
    fake = FakeSubmititHandler(job)
    signal.signal(USR, fake)
    signal_at(120, USR)
    with pytest.raises(Requeued):
        job()
    assert fake.calls == [USR]
    assert signal.SIGTERM in fake.blocked_during_call  # inherited by `scontrol requeue`
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.getsignal(USR) is fake  # the guard put submitit's handler back
    status = rundir.read_status(run_dir)
    assert status["state"] == "pending" and status["steps_done"] == 120  # step 120 whole
    assert status["last_checkpoint"].endswith("step_000000000120.pt")
    assert "handing over to submitit for requeue" in capfd.readouterr().err

    # The requeued job: the same object in a fresh process state resumes from step 120.
    assert job() == {str(run_dir.resolve()): "done"}
    assert_same_logs(run_dir, reference)


def test_sigterm_checkpoints_and_training_goes_on(tmp_path, reference, handlers, signal_at,
                                                  monkeypatch, capfd):
    from dqnlab import checkpoint

    seen, saves = [], []
    save = checkpoint.save
    monkeypatch.setattr(checkpoint, "save", lambda d, step, state: saves.append(step) or save(d, step, state))
    signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))  # submitit's bypass
    signal.signal(USR, FakeSubmititHandler(None))
    job, run_dir = job_for(tmp_path)
    signal_at(130, signal.SIGTERM)
    assert job() == {str(run_dir.resolve()): "done"}
    assert seen == [signal.SIGTERM]  # submitit's handler still ran
    assert saves == [100, 130, 200, 300]  # the periodic ones, plus one at the SIGTERM's step
    assert "SIGTERM: " in capfd.readouterr().err
    assert_same_logs(run_dir, reference)


def test_killed_scontrol_requeue_is_treated_as_requeued(tmp_path, handlers, signal_at, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    monkeypatch.setattr(preemption, "_scontrol_restarts", lambda job_id: 1)
    job, run_dir = job_for(tmp_path)
    killed = subprocess.CalledProcessError(-signal.SIGTERM, ["scontrol", "requeue", "4242"])
    signal.signal(USR, FakeSubmititHandler(job, requeue_error=killed))
    signal_at(50, USR)
    with pytest.raises(SystemExit):  # exits like submitit does after a requeue
        job()
    assert rundir.read_status(run_dir)["steps_done"] == 50


def test_failed_requeue_is_not_hidden(tmp_path, handlers, signal_at, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    monkeypatch.setattr(preemption, "_scontrol_restarts", lambda job_id: 1)  # not bumped
    job, _ = job_for(tmp_path)
    failed = subprocess.CalledProcessError(1, ["scontrol", "requeue", "4242"])
    signal.signal(USR, FakeSubmititHandler(job, requeue_error=failed))
    signal_at(50, USR)
    with pytest.raises(subprocess.CalledProcessError):
        job()


def test_signal_during_the_last_step_finishes(tmp_path, reference, handlers, signal_at):
    job, run_dir = job_for(tmp_path)
    fake = FakeSubmititHandler(job)
    signal.signal(USR, fake)
    signal_at(STEPS, USR)
    assert job() == {str(run_dir.resolve()): "done"}
    assert fake.calls == []
    assert_same_logs(run_dir, reference)

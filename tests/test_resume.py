"""Resume == uninterrupted: after a stop at a checkpoint, or after SIGKILL, the same command finishes
with progress.csv and eval.csv identical to an uninterrupted run (wall-clock columns aside)."""

import signal
import subprocess
import sys
import time

import pytest
from run_helpers import ROOT, assert_same_logs, stop_at_step

from dqnlab import rundir
from dqnlab.cli import build_parser, main, resolve_from_args
from dqnlab.train import train


def _args(run_dir, tiny, spec="rainbow"):
    return ["train", "--env", "CartPole-v1", "--components", spec, "--steps", "1000", "--seed", "3",
            "--run-dir", str(run_dir), "--quiet", *tiny]


def _prepare(run_dir, tiny, spec="rainbow"):
    """Create the run directory exactly as `dqnlab train` would, without training."""
    args = build_parser().parse_args(_args(run_dir, tiny, spec))
    rundir.prepare(resolve_from_args(args), run_dir)


@pytest.mark.parametrize("spec", ["rainbow", "dqn"])
def test_stop_and_resume_equals_uninterrupted(tmp_path, tiny, spec):
    assert main(_args(tmp_path / "full", tiny, spec)) == 0
    # Interrupted: stop after 333 steps (not on a checkpoint or log boundary), then resume.
    interrupted = tmp_path / "cut"
    _prepare(interrupted, tiny, spec)
    with stop_at_step(333) as stop_once:
        assert train(interrupted, should_stop=stop_once, progress=False) == "stopped"
    status = rundir.read_status(interrupted)
    assert status["steps_done"] == 333 and status["state"] == "pending" and "rerun" in status["note"]
    assert train(interrupted, progress=False) == "done"
    assert_same_logs(tmp_path / "full", interrupted)
    assert "note" not in rundir.read_status(interrupted)  # it said how to resume: done now


def test_sigkill_then_same_command_equals_uninterrupted(tmp_path, tiny):
    assert main(_args(tmp_path / "full", tiny)) == 0
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "dqnlab.cli", *_args(killed, tiny)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    try:
        # Kill it once a checkpoint exists and it has gone past it.
        while time.time() < deadline:
            status = rundir.read_status(killed)
            if status.get("last_checkpoint") and status.get("steps_done", 0) >= 400:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert rundir.read_status(killed)["state"] == "running"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr
    assert_same_logs(tmp_path / "full", killed)


def test_corrupt_latest_checkpoint_falls_back_to_previous(tmp_path, tiny):
    assert main(_args(tmp_path / "full", tiny)) == 0
    cut = tmp_path / "cut"
    _prepare(cut, tiny)
    with stop_at_step(700) as stop:
        assert train(cut, should_stop=stop, progress=False) == "stopped"
    ckpts = sorted((cut / "checkpoint").glob("step_*.pt"))
    assert [p.name for p in ckpts][-1].endswith("700.pt") and len(ckpts) == 2
    ckpts[-1].write_bytes(b"garbage")  # a torn newest checkpoint
    assert train(cut, progress=False) == "done"
    assert_same_logs(tmp_path / "full", cut)
    aside = list((cut / "checkpoint").glob("corrupt-*/*.pt"))  # kept for a post-mortem
    assert [p.name for p in aside] == [ckpts[-1].name] and aside[0].read_bytes() == b"garbage"


def test_env_without_snapshot_resumes_with_a_new_episode(tmp_path, tiny):
    pytest.importorskip("Box2D")
    args = ["train", "--env", "LunarLander-v3", "--steps", "400", "--run-dir", str(tmp_path / "ll"),
            "--quiet", *tiny]
    rundir.prepare(resolve_from_args(build_parser().parse_args(args)), tmp_path / "ll")
    with stop_at_step(150) as stop:
        assert train(tmp_path / "ll", should_stop=stop, progress=False) == "stopped"
    assert train(tmp_path / "ll", progress=False) == "done"
    assert rundir.read_status(tmp_path / "ll")["steps_done"] == 400

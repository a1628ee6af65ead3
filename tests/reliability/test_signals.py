"""SIGTERM is answered from a command's first moments (issue 23, item 8).

Before: SIGTERM to the sweep launcher stopped its workers cleanly, but the launcher itself died
with status -15, no word and a leaked-semaphore warning; SIGTERM to `dqnlab train` in its first
seconds (while torch loads) was status -15, silent, with a run directory holding only `.lock`.
Now each says what happened and how to resume, exits 128 + 15, and the same command finishes the
run with the rows of an uninterrupted one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from run_helpers import ROOT, TINY, TINY_ARGS, assert_same_logs, run_cli, wait_until

from dqnlab import rundir
from dqnlab.sweep import Sweep
from dqnlab.sweep import status as st
from dqnlab.sweep.launch import launch

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
RUN = "CartPole-v1/dqn/seed_0"


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dqnlab.cli", *args], env=ENV, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (Linux: /proc/<pid>/status, SigCgt)."""
    try:
        fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except OSError:
        return False
    return bool(int(fields["SigCgt"], 16) >> (signal.SIGTERM - 1) & 1)


def test_sigterm_in_the_first_moments_of_train(tmp_path):
    """The signal comes as soon as the process catches it, while the command still loads."""
    run_dir = tmp_path / "run"
    args = ["train", "--env", "CartPole-v1", "--steps", "300", "--run-dir", str(run_dir), "--quiet", *TINY_ARGS]
    proc = start(*args, cwd=tmp_path)
    try:
        wait_until(lambda: catches_sigterm(proc.pid) or proc.poll() is not None, 60, "the handler")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    lines = err.strip().splitlines()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert len(lines) == 1 and "stopped by SIGTERM before training started" in lines[0], err
    assert not run_dir.exists() or {p.name for p in run_dir.iterdir()} <= {".lock", "config.json", "status.json"}
    again = run_cli(*args, timeout=300, cwd=tmp_path)
    assert again.returncode == 0 and "done" in again.stderr, again.stderr


def test_sigterm_to_the_sweep_launcher_stops_it_with_a_word(tmp_path):
    sweep = Sweep(name="one", envs=("CartPole-v1",), variants=("dqn",), seeds=1, steps=3000, overrides=TINY)
    (tmp_path / "one.py").write_text(
        "from dqnlab.sweep import Sweep\n"
        f"SWEEP = Sweep(name='one', envs=('CartPole-v1',), variants=('dqn',), seeds=1, steps=3000,\n"
        f"              overrides={TINY!r})\n")
    sweep_dir = tmp_path / "sweep"
    args = ["sweep", "one.py", "--sweep-dir", str(sweep_dir), "--workers", "1"]
    proc = start(*args, cwd=tmp_path)
    try:
        wait_until(lambda: (sweep_dir / "sweep.json").exists() and st.collect(sweep_dir)[0].steps_done >= 400,
                   120, "the worker to train")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "dqnlab: stopping (SIGTERM): each running pack of runs checkpoints" in err
    assert "run the same command again to resume" in out
    assert "leaked semaphore" not in err and "Traceback" not in err, err
    assert rundir.read_status(sweep_dir / RUN)["state"] == "pending"
    resumed = run_cli(*args, timeout=300, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    launch(sweep, sweep_dir=tmp_path / "reference", executor="debug", out=open(os.devnull, "w"))
    assert_same_logs(sweep_dir / RUN, tmp_path / "reference" / RUN)


def test_sigterm_before_the_sweep_starts_launches_nothing(tmp_path):
    """The signal comes while the launcher reads the sweep definition: deterministic, where a signal
    sent from here after a sleep raced the launcher's first write (it takes ~50 ms to get there)."""
    (tmp_path / "one.py").write_text(
        "import os, signal\n"
        "from dqnlab.sweep import Sweep\n"
        "SWEEP = Sweep(name='one', envs=('CartPole-v1',), variants=('dqn',), seeds=1, steps=300)\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n")
    proc = start("sweep", "one.py", "--sweep-dir", "sweep", cwd=tmp_path)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines() == ["dqnlab: stopped by SIGTERM before the sweep started; nothing was launched"]
    assert not (tmp_path / "sweep").exists()

"""Faults a run survives without losing or doubling a row: two trainers on one run directory, the
sweep launcher killed with -9 (its workers die with it, status shows no phantom runs, a relaunch
finishes the work), a run held by another process, a process killed mid-run (stale status), a stop
signal during an evaluation, and every checkpoint corrupt.

Every test that recovers a run compares its progress.csv and eval.csv, row by row, with those of
an uninterrupted run of the same config (wall-clock columns aside): "rows lost: 0" in the README's
reliability section is these comparisons. Runs are tiny CartPole runs (TINY) of a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from run_helpers import (
    ROOT,
    TINY,
    TINY_ARGS,
    assert_same_logs,
    prepare_tiny_run,
    run_cli,
    stop_at_step,
    wait_until,
)

from dqnlab import rundir, runlock
from dqnlab.cli import main
from dqnlab.sweep import Sweep
from dqnlab.sweep import status as st
from dqnlab.sweep.launch import launch
from dqnlab.train import train

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
RUN = "CartPole-v1/dqn/seed_0"


def cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dqnlab.cli", *args], env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def write_experiment(tmp_path: Path, steps: int) -> Path:
    path = tmp_path / "one.py"
    path.write_text(
        "from dqnlab.sweep import Sweep\n"
        f"SWEEP = Sweep(name='one', envs=('CartPole-v1',), variants=('dqn',), seeds=1, steps={steps},\n"
        f"              overrides={TINY!r})\n"
    )
    return path


def reference(tmp_path: Path, steps: int) -> Path:
    """The uninterrupted run every recovered run is compared with."""
    ref = tmp_path / "reference"
    launch(Sweep(name="one", envs=("CartPole-v1",), variants=("dqn",), seeds=1, steps=steps,
                 overrides=TINY), sweep_dir=ref, executor="debug", out=open(os.devnull, "w"))
    return ref / RUN


def state_of(run_dir: Path) -> str:
    return rundir.read_status(run_dir).get("state", "")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def test_two_trainers_on_one_run_dir(tmp_path):
    """The second `dqnlab train` of a directory in use exits 2 naming the first; the first's rows
    are each written once. (A budget the first cannot finish meanwhile; it is then stopped.)"""
    run_dir = tmp_path / "run"
    args = ["train", "--env", "CartPole-v1", "--steps", "100000", "--run-dir", str(run_dir),
            "--quiet", *TINY_ARGS]
    first = cli(*args)
    try:
        wait_until(lambda: state_of(run_dir) == "running", 120, "the first trainer to start")
        second = run_cli(*args, timeout=120)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"in use by pid {first.pid} on host " in lines[0], second.stderr
    assert first.returncode == 128 + signal.SIGINT, err
    steps = pd.read_csv(run_dir / "progress.csv")["step"]
    period = TINY["run.log_period_steps"]
    assert list(steps) == list(range(period, steps.iloc[-1] + 1, period))  # each row once


def test_kill_9_of_the_sweep_launcher(tmp_path, capsys):
    """The launcher dies; its worker checkpoints and exits within seconds; status shows no phantom
    running run; the same command finishes the sweep with the rows of an uninterrupted run."""
    experiment = write_experiment(tmp_path, steps=1000)
    sweep_dir = tmp_path / "sweep"
    args = ["sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--workers", "1"]
    launcher = cli(*args)
    try:
        wait_until(lambda: (sweep_dir / RUN / ".lock").exists() and state_of(sweep_dir / RUN) == "running"
                   and 0 < st.collect(sweep_dir)[0].steps_done, 120, "the worker to train")
        worker = runlock.read_holder(sweep_dir / RUN)
        assert worker is not None and worker.pid != launcher.pid
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=30)
        wait_until(lambda: not alive(worker.pid), 30, "the orphaned worker to exit")
    finally:
        launcher.kill()
    status = rundir.read_status(sweep_dir / RUN)
    assert status["state"] == "pending" and 0 < status["steps_done"] < 1000  # checkpointed, stopped
    assert main(["status", str(sweep_dir)]) == 0
    shown = capsys.readouterr().out
    assert "0 running" in shown and "1 pending" in shown
    again = run_cli(*args, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "1 run(s) done" in again.stdout
    assert_same_logs(sweep_dir / RUN, reference(tmp_path, 1000))


def test_a_run_held_by_another_process_is_not_trained_and_the_launch_says_so(tmp_path):
    from dqnlab.sweep import definition, grid

    experiment = write_experiment(tmp_path, steps=300)
    sweep_dir = tmp_path / "sweep"
    args = ["sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--executor", "debug"]
    one = definition.load(experiment)
    grid.prepare(one, grid.expand(one), sweep_dir)  # the sweep directory, before any training
    # The holder: another process holding the run's lock (as a `dqnlab train` of it would).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from dqnlab import runlock\n"
         f"with runlock.hold({str(sweep_dir / RUN)!r}):\n print('held', flush=True); time.sleep(120)"],
        env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        relaunch = run_cli(*args, timeout=120)
        assert relaunch.returncode == 1, relaunch.stderr
        assert "1 held by another process" in relaunch.stdout
        assert f"held by pid {holder.pid} on host" in relaunch.stderr
        assert not (sweep_dir / RUN / "progress.csv").exists()  # not trained by the relaunch
    finally:
        holder.kill()
        holder.wait()
    done = run_cli(*args, timeout=300)
    assert done.returncode == 0, done.stderr
    assert_same_logs(sweep_dir / RUN, reference(tmp_path, 300))


def test_a_killed_run_shows_as_stale_then_resumes(tmp_path, capsys):
    experiment = write_experiment(tmp_path, steps=1000)
    sweep_dir = tmp_path / "sweep"
    args = ["sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--executor", "debug"]
    proc = cli(*args)
    try:
        wait_until(lambda: state_of(sweep_dir / RUN) == "running"
                   and rundir.read_status(sweep_dir / RUN).get("last_checkpoint"), 120, "a checkpoint")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert state_of(sweep_dir / RUN) == "running"  # what the killed process left behind
    assert main(["status", str(sweep_dir)]) == 0
    shown = capsys.readouterr()
    assert "stale" in shown.out and "1 stale" in shown.out
    assert f"no live process (was pid {proc.pid}" in shown.out
    assert "run the sweep again" in shown.err
    again = run_cli(*args, timeout=300)
    assert again.returncode == 0, again.stderr
    assert_same_logs(sweep_dir / RUN, reference(tmp_path, 1000))


def test_stop_during_an_evaluation_resumes_exactly(tmp_path, monkeypatch):
    """A stop asked in the middle of an evaluation ends it there: checkpoint, exit; the resumed
    run evaluates again with the same seeds and ends equal to an uninterrupted run."""
    from dqnlab import run_state as train_module  # where the loop evaluates a run

    evaluating = {"now": False, "count": 0, "polls": 0}
    original = train_module.evaluate

    def watched(*args, **kwargs):
        evaluating.update(now=True, count=evaluating["count"] + 1, polls=0)
        try:
            return original(*args, **kwargs)
        finally:
            evaluating["now"] = False

    def stop_in_second_evaluation() -> bool:  # at its second step
        evaluating["polls"] += evaluating["now"]
        return evaluating["now"] and evaluating["count"] == 2 and evaluating["polls"] == 2

    run_dir = prepare_tiny_run(tmp_path / "run", steps=600)
    monkeypatch.setattr(train_module, "evaluate", watched)
    assert train(run_dir, should_stop=stop_in_second_evaluation, progress=False) == "stopped"
    status = rundir.read_status(run_dir)
    assert status["state"] == "pending" and status["steps_done"] == 300  # the second evaluation's
    assert len(pd.read_csv(run_dir / "eval.csv")) == 1  # the interrupted one wrote nothing
    assert train(run_dir, progress=False) == "done"
    assert_same_logs(run_dir, reference_run(tmp_path, 600))


def reference_run(tmp_path: Path, steps: int) -> Path:
    ref = prepare_tiny_run(tmp_path / "reference_run", steps=steps)
    assert train(ref, progress=False) == "done"
    return ref


def test_sigterm_during_a_breakout_evaluation_stops_within_seconds(tmp_path):
    """The issue's case: an untrained agent that never fires plays Breakout to the episode cap;
    a SIGTERM during that evaluation checkpoints and exits within seconds."""
    pytest.importorskip("ale_py")
    run_dir = tmp_path / "breakout"
    proc = cli("train", "--env", "ALE/Breakout-v5", "--components", "dqn", "--steps", "400",
               "--run-dir", str(run_dir), "--quiet", "--set", "replay.capacity=2000",
               "--set", "run.log_period_steps=400", "--set", "eval.max_steps=100000")
    try:
        wait_until(lambda: "\n400," in (run_dir / "progress.csv").read_text()
                   if (run_dir / "progress.csv").exists() else False, 120, "the final evaluation")
        time.sleep(1.0)  # well inside the evaluation (100k steps: minutes)
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - asked
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert took < 20, f"took {took:.1f} s to stop"  # a checkpoint write and exit, on a loaded machine
    assert "stopped at a checkpoint" in err
    status = rundir.read_status(run_dir)
    assert status["state"] == "pending" and status["last_checkpoint"].endswith("400.pt")
    assert not (run_dir / "eval.csv").exists() or len(pd.read_csv(run_dir / "eval.csv")) == 0


def test_breakout_evaluation_is_bounded_by_its_step_budget(tmp_path, monkeypatch):
    """`eval.max_steps` bounds the agent steps of one evaluation over all its episodes; episodes
    cut by it count as truncated; the budget is recorded in config.json (Atari: Dopamine's 125k)."""
    pytest.importorskip("ale_py")
    from dqnlab import run_state as train_module  # where the loop evaluates a run
    from dqnlab.presets import resolve_config

    assert resolve_config("ALE/Breakout-v5").eval.max_steps == 125_000
    steps = {"n": 0}
    make_env = train_module.make_env

    def counting(env_cfg, seed, **kw):
        env = make_env(env_cfg, seed, **kw)
        step = env.step

        def counted(action):
            steps["n"] += kw.get("evaluation", False)
            return step(action)

        env.step = counted
        return env

    monkeypatch.setattr(train_module, "make_env", counting)
    run_dir = tmp_path / "breakout"
    assert main(["train", "--env", "ALE/Breakout-v5", "--steps", "100", "--run-dir", str(run_dir),
                 "--quiet", "--set", "replay.capacity=1000", "--set", "eval.max_steps=305",
                 "--set", "run.log_period_steps=100"]) == 0
    row = pd.read_csv(run_dir / "eval.csv").iloc[-1]
    assert 305 - 10 < steps["n"] <= 305  # 10 episodes side by side, cut when the budget is spent
    assert row["episodes"] == 10 and row["truncated_episodes"] == 10
    assert json.loads((run_dir / "config.json").read_text())["eval"]["max_steps"] == 305


def test_every_checkpoint_corrupt_is_said_kept_aside_and_restarted(tmp_path, capsys):
    run_dir = prepare_tiny_run(tmp_path / "run", steps=600)
    with stop_at_step(450) as stop:  # after the checkpoints at 100 ... 400: two kept
        assert train(run_dir, should_stop=stop, progress=False) == "stopped"
    corrupt = sorted((run_dir / "checkpoint").glob("step_*.pt"))
    assert len(corrupt) == 2
    for i, path in enumerate(corrupt):
        path.write_bytes(f"torn {i}".encode())
    capsys.readouterr()
    assert main(["train", "--env", "CartPole-v1", "--steps", "600", "--run-dir", str(run_dir),
                 "--quiet", *TINY_ARGS]) == 0
    err = capsys.readouterr().err.splitlines()
    said = [line for line in err if "unreadable" in line]
    assert len(err) == 3 and len(said) == 1 and "every checkpoint is unreadable" in said[0], err
    assert "starts again from step 0" in said[0] and "corrupt-" in said[0]
    aside = sorted((run_dir / "checkpoint").glob("corrupt-*/step_*.pt"))
    assert [p.name for p in aside] == [p.name for p in corrupt]
    assert [p.read_bytes() for p in aside] == [b"torn 0", b"torn 1"]  # kept, never overwritten
    assert_same_logs(run_dir, reference_run(tmp_path, 600))

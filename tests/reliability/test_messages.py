"""Clearer lines (issue 23, item 10) where a message was wrong or missing. The bad inputs among
them (`--set components=double`, `dqn++double`, `rainbow-no-double-no-double`, `--seeds 0,0`, a
sweep's run whose config.json changed) are cases of test_bad_input.py's table; here are the rest:
a finished run said "resuming", and `status` showed a run whose status.json was deleted or corrupt
as pending without a word.
"""

from __future__ import annotations

import os

import pytest
from run_helpers import TINY, TINY_ARGS

from dqnlab.cli import main
from dqnlab.sweep import Sweep
from dqnlab.sweep.launch import launch

RUN = "CartPole-v1/dqn/seed_0"


def test_a_finished_run_says_it_is_done_not_resuming(tmp_path, capsys):
    argv = ["train", "--env", "CartPole-v1", "--steps", "200", "--run-dir", str(tmp_path / "run"), "--quiet",
            *TINY_ARGS]
    assert main(argv) == 0
    first = capsys.readouterr().err
    assert "starting dqn" in first and "resuming" not in first
    assert main(argv) == 0
    again = capsys.readouterr().err.strip().splitlines()
    assert again == [f"dqnlab: {tmp_path / 'run'} is already done (200 steps); nothing to train"]


@pytest.fixture
def finished_sweep(tmp_path):
    sweep = Sweep(name="one", envs=("CartPole-v1",), variants=("dqn",), seeds=1, steps=200, overrides=TINY)
    launch(sweep, sweep_dir=tmp_path / "sweep", executor="debug", out=open(os.devnull, "w"))
    return sweep, tmp_path / "sweep"


@pytest.mark.parametrize("damage, said", [
    (lambda p: p.unlink(), "status.json is missing; a relaunch resumes at step 200"),
    (lambda p: p.write_text('{"state": "do'), "status.json is unreadable; a relaunch resumes at step 200"),
    (lambda p: p.write_text("[1, 2]"), "status.json holds no status; a relaunch resumes at step 200"),
    (lambda p: p.write_text('{"state": "done", "steps_done": "many"}'), "status.json holds no status"),
], ids=["deleted", "torn", "not-a-status", "wrong-types"])
def test_status_says_why_a_run_reads_as_pending(finished_sweep, capsys, damage, said):
    sweep, sweep_dir = finished_sweep
    damage(sweep_dir / RUN / "status.json")
    capsys.readouterr()
    assert main(["status", str(sweep_dir)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(RUN))
    assert "pending" in row and said in row, row
    # The relaunch finishes it again from its last checkpoint, and status.json is whole again.
    assert launch(sweep, sweep_dir=sweep_dir, executor="debug", out=open(os.devnull, "w")).exit_code == 0
    assert main(["status", str(sweep_dir)]) == 0
    assert "1 done" in capsys.readouterr().out


def test_train_says_when_status_json_was_lost(tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = ["train", "--env", "CartPole-v1", "--steps", "200", "--run-dir", str(run_dir), "--quiet", *TINY_ARGS]
    assert main(argv) == 0
    (run_dir / "status.json").unlink()
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "status.json is missing; the run goes on from its checkpoints" in err
    assert "resuming dqn on CartPole-v1 at step 200" in err

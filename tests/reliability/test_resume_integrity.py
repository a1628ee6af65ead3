"""A resume never pads, drops or mixes rows (issue 23, items 1 and 2).

A checkpoint records what each log held when it was written (its length and a SHA-256 of those
bytes) and the config it was trained with. A resume whose logs do not hold that, or whose
config.json no longer says that, is refused with one line naming the file and how to recover
(`--resume-from-intact`: the newest checkpoint whose logs are intact, or step 0), never padded
with NUL bytes, never resumed with rows missing, never half one config and half another.

Each test stops a tiny CartPole run at a checkpoint (as a SIGTERM would), damages the run
directory as the issue did, and reruns the same `dqnlab train` command.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from run_helpers import TINY_ARGS, assert_same_logs, prepare_tiny_run, stop_at_step

from dqnlab.cli import main
from dqnlab.train import train

STEPS = 600
STOP = 450  # checkpoints at 100 ... 400 (two kept: 300, 400) and at the stop


def argv(run_dir: Path, *extra: str) -> list[str]:
    return ["train", "--env", "CartPole-v1", "--steps", str(STEPS), "--run-dir", str(run_dir),
            "--quiet", *TINY_ARGS, *extra]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    ref = prepare_tiny_run(tmp_path_factory.mktemp("ref") / "run", steps=STEPS)
    assert train(ref, progress=False) == "done"
    return ref


def stopped_run(tmp_path: Path, at: int = STOP) -> Path:
    run_dir = prepare_tiny_run(tmp_path / "run", steps=STEPS)
    with stop_at_step(at) as stop:
        assert train(run_dir, should_stop=stop, progress=False) == "stopped"
    return run_dir


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def rerun(run_dir: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(argv(run_dir, *extra))
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def assert_refused(run_dir: Path, capsys, *phrases: str) -> str:
    """The rerun exits 2 with one line holding `phrases`, and changes nothing in the directory."""
    before = snapshot(run_dir)
    code, err = rerun(run_dir, capsys)
    assert code == 2 and len(err) == 1, err
    for phrase in phrases:
        assert phrase in err[0], err[0]
    assert snapshot(run_dir) == before, "a refused resume changed the run directory"
    return err[0]


def cut(path: Path, keep: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:keep])


def last_row_start(path: Path) -> int:
    data = path.read_bytes()
    return data.rstrip(b"\n").rfind(b"\n") + 1


# -- item 1: logs that do not hold what the checkpoint recorded ---------------------------------


def test_a_log_cut_mid_row_is_refused_and_recovered_from_an_intact_checkpoint(tmp_path, capsys, reference):
    """The issue's case: the last line of progress.csv cut in half. Before: NUL bytes padded the
    row and fused it with the next one, and the run ended `done`."""
    run_dir = stopped_run(tmp_path)
    progress = run_dir / "progress.csv"
    start = last_row_start(progress)
    cut(progress, start + (progress.stat().st_size - start) // 2)
    line = assert_refused(run_dir, capsys, "progress.csv", "--resume-from-intact")
    assert "bytes" in line and "step 450" in line
    code, err = rerun(run_dir, capsys, "--resume-from-intact")
    assert code == 0, err
    assert b"\0" not in progress.read_bytes()
    assert_same_logs(run_dir, reference)


def test_a_log_cut_on_a_row_boundary_is_refused(tmp_path, capsys, reference):
    """Before: the rows cut off were silently missing from the finished run."""
    run_dir = stopped_run(tmp_path)
    progress = run_dir / "progress.csv"
    cut(progress, last_row_start(progress))
    assert_refused(run_dir, capsys, "progress.csv", "--resume-from-intact")
    assert rerun(run_dir, capsys, "--resume-from-intact")[0] == 0
    assert_same_logs(run_dir, reference)


@pytest.mark.parametrize("name", ["eval.csv", "progress.csv"])
def test_a_deleted_log_is_refused(tmp_path, capsys, reference, name):
    """Before: resumed without a word, the finished run missing every row before the stop."""
    run_dir = stopped_run(tmp_path)
    (run_dir / name).unlink()
    assert_refused(run_dir, capsys, name, "missing")
    assert rerun(run_dir, capsys, "--resume-from-intact")[0] == 0  # no intact checkpoint: step 0
    assert_same_logs(run_dir, reference)


def test_changed_bytes_inside_a_log_are_refused(tmp_path, capsys, reference):
    """Same length, one digit changed in an early row: only a digest of the bytes sees it."""
    run_dir = stopped_run(tmp_path)
    evals = run_dir / "eval.csv"
    data = bytearray(evals.read_bytes())
    row = data.index(b"\n") + 1  # the first row after the header
    digit = next(i for i in range(row, len(data)) if chr(data[i]).isdigit())
    data[digit] = ord("7") if data[digit] != ord("7") else ord("3")
    evals.write_bytes(bytes(data))
    assert_refused(run_dir, capsys, "eval.csv", "changed")
    assert rerun(run_dir, capsys, "--resume-from-intact")[0] == 0
    assert_same_logs(run_dir, reference)


def test_the_logs_are_fsynced_before_a_checkpoint_records_them(tmp_path, monkeypatch):
    """A host crash must not leave logs shorter than a durable checkpoint says they are."""
    synced: list[str] = []
    fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    run_dir = prepare_tiny_run(tmp_path / "run", steps=200)
    assert train(run_dir, progress=False) == "done"
    saves = [i for i, name in enumerate(synced) if name.startswith(".step_")]  # at 100 and 200
    assert len(saves) == 2, synced
    assert "progress.csv" in synced[:saves[0]], synced  # no evaluation before step 150
    assert {"progress.csv", "eval.csv"} <= set(synced[saves[0] + 1:saves[1]]), synced


def test_a_finished_run_with_a_damaged_log_is_not_done(tmp_path, capsys, reference):
    """Rerunning a finished run checks its logs against what its end recorded."""
    run_dir = prepare_tiny_run(tmp_path / "run", steps=STEPS)
    assert train(run_dir, progress=False) == "done"
    evals = run_dir / "eval.csv"
    cut(evals, last_row_start(evals))
    assert_refused(run_dir, capsys, "eval.csv", "--resume-from-intact")
    code, err = rerun(run_dir, capsys, "--resume-from-intact")
    assert code == 0, err
    assert_same_logs(run_dir, reference)


def test_a_checkpoint_with_changed_bytes_is_unreadable_not_loaded(tmp_path, capsys, reference):
    """torch.load does not check the zip's CRCs: changed bytes load as different weights. The
    checkpoint's own digest catches them; the older checkpoint is used, with one line."""
    run_dir = stopped_run(tmp_path)
    newest = max((run_dir / "checkpoint").glob("step_*.pt"))
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0x10
    newest.write_bytes(bytes(data))
    code, err = rerun(run_dir, capsys)
    assert code == 0, err
    assert any(newest.name in line and "corrupt-" in line for line in err), err
    assert_same_logs(run_dir, reference)


# -- item 2: a config that no longer matches the run ---------------------------------------------


def edit_config(run_dir: Path, block: str, key: str, value) -> None:
    path = run_dir / "config.json"
    config = json.loads(path.read_text())
    config[block][key] = value
    path.write_text(json.dumps(config, indent=2))


@pytest.mark.parametrize("key, value", [("batch_size", 32), ("learning_rate", 0.5)])
def test_an_edited_config_is_refused_against_the_checkpoint(tmp_path, capsys, key, value):
    """config.json edited and the matching --set passed: before, the run resumed half one config
    and half another (batch size), or config.json was simply wrong (the optimizer state's lr)."""
    run_dir = stopped_run(tmp_path)
    edit_config(run_dir, "agent", key, value)
    before = snapshot(run_dir)
    code, err = rerun(run_dir, capsys, "--set", f"agent.{key}={value}")
    assert code == 2 and len(err) == 1, err
    assert f"agent.{key}" in err[0] and "config.json" in err[0], err[0]
    assert snapshot(run_dir) == before


def test_an_edited_config_of_a_finished_run_is_refused(tmp_path, capsys):
    """A finished run's rerun said "done" whatever config.json said since; status.json records
    the digest of the config the run was trained with."""
    run_dir = prepare_tiny_run(tmp_path / "run", steps=STEPS)
    assert train(run_dir, progress=False) == "done"
    edit_config(run_dir, "agent", "learning_rate", 0.5)
    before = snapshot(run_dir)
    code, err = rerun(run_dir, capsys, "--set", "agent.learning_rate=0.5")
    assert code == 2 and len(err) == 1, err
    assert "config.json is not the config the run was trained with" in err[0], err[0]
    assert snapshot(run_dir) == before


def test_a_sweep_fails_a_damaged_run_and_resumes_it_from_an_intact_checkpoint(tmp_path, reference):
    """In a sweep the refusal is the run's failure (status shows how to recover); the same
    launch with --retry-failed --resume-from-intact finishes it, row for row."""
    from run_helpers import TINY

    from dqnlab import rundir
    from dqnlab.sweep import Sweep, grid
    from dqnlab.sweep.launch import launch
    from dqnlab.sweep.worker import RunOptions, run_one

    sweep = Sweep(name="one", envs=("CartPole-v1",), variants=("dqn",), seeds=1, steps=STEPS, overrides=TINY)
    sweep_dir = tmp_path / "sweep"
    grid.prepare(sweep, grid.expand(sweep), sweep_dir)
    run_dir = sweep_dir / "CartPole-v1/dqn/seed_0"
    with stop_at_step(STOP) as stop:
        assert run_one(run_dir, RunOptions(), stop) == "stopped"
    (run_dir / "eval.csv").unlink()
    quiet = open(os.devnull, "w")
    first = launch(sweep, sweep_dir=sweep_dir, executor="debug", out=quiet)
    assert first.exit_code == 1 and first.outcomes == {"CartPole-v1/dqn/seed_0": "failed"}
    status = rundir.read_status(run_dir)
    assert "eval.csv is missing" in status["error"] and "--resume-from-intact" in status["error"]
    again = launch(sweep, sweep_dir=sweep_dir, executor="debug", out=quiet, retry_failed=True,
                   resume_from_intact=True)
    assert again.exit_code == 0 and again.outcomes == {"CartPole-v1/dqn/seed_0": "done"}
    assert_same_logs(run_dir, reference)


def test_a_sweep_relaunch_names_a_finished_run_whose_log_changed(tmp_path, capsys, reference):
    """Before, a relaunch counted it "done" and exited 0; now it is skipped as damaged, named on
    stderr, the launch exits 1, and --resume-from-intact trains it again from an intact checkpoint."""
    from run_helpers import TINY

    from dqnlab.sweep import Sweep
    from dqnlab.sweep.launch import launch

    sweep = Sweep(name="one", envs=("CartPole-v1",), variants=("dqn",), seeds=1, steps=STEPS, overrides=TINY)
    quiet = open(os.devnull, "w")
    assert launch(sweep, sweep_dir=tmp_path / "sweep", executor="debug", out=quiet).exit_code == 0
    run_dir = tmp_path / "sweep" / "CartPole-v1/dqn/seed_0"
    progress = run_dir / "progress.csv"
    cut(progress, last_row_start(progress))
    capsys.readouterr()
    again = launch(sweep, sweep_dir=tmp_path / "sweep", executor="debug", out=quiet)
    err = capsys.readouterr().err
    assert again.exit_code == 1 and again.to_run == [] and list(again.damaged) == ["CartPole-v1/dqn/seed_0"]
    assert "progress.csv holds" in err and "when the run finished" in err, err
    fixed = launch(sweep, sweep_dir=tmp_path / "sweep", executor="debug", out=quiet, resume_from_intact=True)
    assert fixed.exit_code == 0 and fixed.outcomes == {"CartPole-v1/dqn/seed_0": "done"}
    assert_same_logs(run_dir, reference)

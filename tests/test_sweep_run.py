"""Sweeps that train: the local and debug executors end to end, relaunch, divergence, status,
wandb offline. Every run is a few hundred CartPole steps with a tiny network (about a second)."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from run_helpers import (
    OVERFLOW_ARGS,
    ROOT,
    TINY,
    assert_same_logs,
    prepare_tiny_run,
    run_cli,
    stop_at_step,
)

from dqnlab import rundir
from dqnlab.cli import main
from dqnlab.sweep import Sweep, grid, worker
from dqnlab.sweep import status as st
from dqnlab.sweep.launch import launch


def tiny_sweep(**kw) -> Sweep:
    fields = dict(name="tiny", envs=("CartPole-v1",), variants=("dqn", "dqn+double+per"), seeds=2,
                  steps=300, overrides=TINY)
    return Sweep(**{**fields, **kw})


def write_experiment(tmp_path: Path, steps: int = 300) -> Path:
    path = tmp_path / "tiny.py"
    path.write_text(
        "from dqnlab.sweep import Sweep\n"
        f"SWEEP = Sweep(name='tiny', envs=('CartPole-v1',), variants=('dqn', 'dqn+double+per'),\n"
        f"              seeds=2, steps={steps}, overrides={TINY!r})\n"
    )
    return path


def states(sweep_dir: Path) -> dict[str, str]:
    return {s.rel_dir: s.state for s in st.collect(sweep_dir)}


def test_local_sweep_end_to_end_then_relaunch_skips(tmp_path):
    experiment = write_experiment(tmp_path)
    sweep_dir = tmp_path / "sweep"
    proc = run_cli("sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--workers", "2", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert set(states(sweep_dir).values()) == {"done"} and len(states(sweep_dir)) == 4
    assert "0 failed" in proc.stdout and "4 to run" in proc.stdout
    progress = (sweep_dir / "progress.txt").read_text()
    assert progress.startswith("4/4 done") and "CartPole-v1/dqn+double+per/seed_1" in progress
    # Results equal a plain in-process run of the same config (workers change nothing).
    reference = tmp_path / "reference"
    launch(tiny_sweep(variants=("dqn+double+per",), seeds=(1,)), sweep_dir=reference, executor="debug")
    assert_same_logs(sweep_dir / "CartPole-v1/dqn+double+per/seed_1",
                     reference / "CartPole-v1/dqn+double+per/seed_1")
    # The same command again: nothing to run.
    again = run_cli("sweep", str(experiment), "--sweep-dir", str(sweep_dir), timeout=60)
    assert again.returncode == 0 and "0 to run, skipping 4 done" in again.stdout
    status = run_cli("status", str(sweep_dir), timeout=60)
    assert status.returncode == 0 and "100.0%" in status.stdout and "4 done" in status.stdout
    # A different definition in the same directory is refused (exit 2), nothing changes.
    (tmp_path / "other").mkdir()
    changed = run_cli("sweep", str(write_experiment(tmp_path / "other", steps=400)),
                      "--sweep-dir", str(sweep_dir), timeout=60)
    assert changed.returncode == 2 and "holds a different sweep" in changed.stderr
    assert len(changed.stderr.strip().splitlines()) == 1


def test_relaunch_resumes_unfinished_run_exactly(tmp_path):
    sweep_dir = tmp_path / "sweep"
    one = tiny_sweep(variants=("dqn+double+per",), seeds=1)
    calls = {"n": 0}

    def stop_after_checkpoint() -> bool:  # interrupt the run mid-way, at step 150
        calls["n"] += 1
        return calls["n"] >= 150

    rel = "CartPole-v1/dqn+double+per/seed_0"
    launch(one, sweep_dir=sweep_dir, executor="debug")
    reference = sweep_dir / rel
    interrupted_dir = tmp_path / "interrupted"
    grid.prepare(one, grid.expand(one), interrupted_dir)
    assert worker.run_one(interrupted_dir / rel, worker.RunOptions(), stop_after_checkpoint) == "stopped"
    assert states(interrupted_dir)[rel] == "pending"
    assert 0 < st.collect(interrupted_dir)[0].steps_done < 300
    result = launch(one, sweep_dir=interrupted_dir, executor="debug")
    assert result.to_run == [rel] and result.outcomes == {rel: "done"}
    assert_same_logs(interrupted_dir / rel, reference)


@pytest.mark.parametrize("runs_per_process", [1, "auto"])  # auto: the two seeds share a pack
def test_divergence_marks_failed_and_sweep_goes_on(tmp_path, monkeypatch, runs_per_process):
    from dqnlab.agent import Agent, UpdateInfo
    from dqnlab.packed import PackedLearner

    original, packed = Agent.update, PackedLearner.update

    def nan_for_seed_1(self, batch):
        info = original(self, batch)
        return info._replace(loss=float("nan")) if self.cfg.seed == 1 else info

    def packed_nan_for_seed_1(self, batches):
        return [info._replace(loss=float("nan")) if agent.cfg.seed == 1 else info
                for agent, info in zip(self.agents, packed(self, batches))]

    monkeypatch.setattr(Agent, "update", nan_for_seed_1)
    monkeypatch.setattr(PackedLearner, "update", packed_nan_for_seed_1)
    assert UpdateInfo._fields[0] == "loss"
    sweep_dir = tmp_path / "sweep"
    result = launch(tiny_sweep(variants=("dqn",)), sweep_dir=sweep_dir, executor="debug",
                    runs_per_process=runs_per_process)
    assert result.packs == ([["CartPole-v1/dqn/seed_0"], ["CartPole-v1/dqn/seed_1"]] if runs_per_process == 1
                            else [["CartPole-v1/dqn/seed_0", "CartPole-v1/dqn/seed_1"]])
    assert result.outcomes == {"CartPole-v1/dqn/seed_0": "done", "CartPole-v1/dqn/seed_1": "failed"}
    assert result.exit_code == 1
    failed = rundir.read_status(sweep_dir / "CartPole-v1/dqn/seed_1")
    assert failed["state"] == "failed" and failed["error"].startswith("Diverged: loss became nan")
    monkeypatch.setattr(Agent, "update", original)
    monkeypatch.setattr(PackedLearner, "update", packed)
    # status: a table with the error, exit 1
    assert main(["status", str(sweep_dir)]) == 1
    # Relaunch skips the failed run unless --retry-failed.
    again = launch(tiny_sweep(variants=("dqn",)), sweep_dir=sweep_dir, executor="debug")
    assert again.to_run == [] and again.skipped["CartPole-v1/dqn/seed_1"] == "failed"
    retry = launch(tiny_sweep(variants=("dqn",)), sweep_dir=sweep_dir, executor="debug", retry_failed=True)
    assert retry.outcomes == {"CartPole-v1/dqn/seed_1": "done"} and retry.exit_code == 0


def test_failure_before_the_training_loop_is_recorded(tmp_path, monkeypatch, capsys):
    """An error before the loop (e.g. the env cannot be made) still marks the run failed."""
    from dqnlab import train

    def broken(*args, **kwargs):
        raise OSError("no such env")

    monkeypatch.setattr(train.Trainer, "__init__", broken)
    run_dir = prepare_tiny_run(tmp_path / "run")
    assert worker.run_one(run_dir, worker.RunOptions()) == "failed"
    status = rundir.read_status(run_dir)
    assert status["state"] == "failed" and status["error"] == "OSError: no such env"
    assert capsys.readouterr().err.count("failed: OSError: no such env") == 1


def test_real_divergence_through_the_cli(tmp_path):
    """The loss overflows (OVERFLOW_ARGS): the run fails, the CLI exits 1, status too."""
    experiment = write_experiment(tmp_path)
    sweep_dir = tmp_path / "sweep"
    proc = run_cli("sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--executor", "debug",
                   "--variants", "dqn", "--seeds", "1", *OVERFLOW_ARGS, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "failed: CartPole-v1/dqn/seed_0: Diverged: loss became" in proc.stdout
    status = run_cli("status", str(sweep_dir), timeout=60)
    assert status.returncode == 1 and "failed" in status.stdout and "Diverged" in status.stdout


def test_local_ctrl_c_checkpoints_and_resumes(tmp_path):
    """SIGINT to the launcher: each worker checkpoints at a step boundary; the same command resumes
    and the logs end equal to an uninterrupted run's."""
    experiment = write_experiment(tmp_path, steps=3000)
    sweep_dir = tmp_path / "sweep"
    args = [sys.executable, "-m", "dqnlab.cli", "sweep", str(experiment), "--sweep-dir", str(sweep_dir),
            "--workers", "2", "--seeds", "1"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (sweep_dir / "sweep.json").exists() and any(s.steps_done >= 400 for s in st.collect(sweep_dir)):
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in out
    stopped = st.collect(sweep_dir)
    assert all(s.state == "pending" and s.steps_done < 3000 for s in stopped)
    assert "pending  " in st.format_table(stopped) and "rerun the same command to resume" in st.format_table(stopped)
    resumed = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert {s.note for s in st.collect(sweep_dir)} == {None}  # done: the note went with the stop
    reference = tmp_path / "reference"
    launch(tiny_sweep(steps=3000, seeds=1, variants=("dqn",)), sweep_dir=reference, executor="debug")
    assert_same_logs(sweep_dir / "CartPole-v1/dqn/seed_0", reference / "CartPole-v1/dqn/seed_0")


def test_wandb_offline_keeps_one_run_id(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    (tmp_path / "wandb").mkdir()
    sweep_dir = tmp_path / "sweep"
    two = tiny_sweep(variants=("dqn",), seeds=2)  # one pack: each run still logs on its own
    result = launch(two, sweep_dir=sweep_dir, executor="debug", wandb_project="dqnlab-test")
    assert result.exit_code == 0 and len(result.packs) == 1
    from dqnlab.sweep.wandb_log import run_id

    ids = set()
    for seed in (0, 1):
        run_dir = sweep_dir / f"CartPole-v1/dqn/seed_{seed}"
        state = json.loads((run_dir / "wandb.json").read_text())
        assert state["progress_step"] == 300 and state["eval_step"] == 300
        offline = list((tmp_path / "wandb" / "wandb").glob(f"offline-run-*-{state['id']}"))
        assert len(offline) == 1
        # The id is derived from the run directory: a relaunch (or a requeued job) reuses it.
        assert run_id(run_dir) == state["id"]
        ids.add(state["id"])
        progress = pd.read_csv(run_dir / "progress.csv")
        assert len(progress) == 300 // 50
    assert len(ids) == 2


# -- packs: the seeds of one config trained in lockstep by one process (issue 13) ----------------


def test_local_sweep_packs_seeds_and_matches_runs_trained_alone(tmp_path):
    """3 seeds x 2 variants on 2 workers: `auto` packs each variant's seeds into one process; the
    run directories, outcomes and results are those of the same sweep with each run alone
    (packed updates may differ in the last bits, so returns are compared with a tolerance)."""
    experiment = write_experiment(tmp_path)
    packed, alone = tmp_path / "packed", tmp_path / "alone"
    common = ("sweep", str(experiment), "--seeds", "3", "--workers", "2")
    proc = run_cli(*common, "--sweep-dir", str(packed), timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "6 to run (in 2 processes: 2 x 3 runs)" in proc.stdout and "6 run(s) done" in proc.stdout
    proc = run_cli(*common, "--sweep-dir", str(alone), "--runs-per-process", "1", timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "6 to run\n" in proc.stdout  # no pack mentioned
    assert states(packed) == states(alone) == {
        f"CartPole-v1/{v}/seed_{s}": "done" for v in ("dqn", "dqn+double+per") for s in range(3)}
    for rel in states(packed):
        a, b = (pd.read_csv(d / rel / "eval.csv") for d in (packed, alone))
        assert list(a["step"]) == list(b["step"]) and len(a) == 2, rel
        for col in ("return_mean", "return_std", "q_estimate_mean", "discounted_return_mean"):
            assert a[col].to_numpy() == pytest.approx(b[col].to_numpy(), rel=1e-4, abs=1e-4), (rel, col)
        steps = [list(pd.read_csv(d / rel / "progress.csv")["step"]) for d in (packed, alone)]
        assert steps[0] == steps[1], rel
    status = run_cli("status", str(packed), timeout=60)
    assert status.returncode == 0 and "6 done" in status.stdout


def test_relaunch_packs_only_the_runs_still_to_do(tmp_path):
    """A done run is never retrained; runs at different checkpoint steps go in different packs
    (a pack resumes from a step all its runs have); every run ends as if trained uninterrupted."""
    sweep = tiny_sweep(variants=("dqn",), seeds=4)
    sweep_dir = tmp_path / "sweep"
    grid.prepare(sweep, grid.expand(sweep), sweep_dir)
    rel = [f"CartPole-v1/dqn/seed_{s}" for s in range(4)]
    assert worker.run_one(sweep_dir / rel[1], worker.RunOptions()) == "done"
    done_log = (sweep_dir / rel[1] / "eval.csv").read_bytes()
    with stop_at_step(200) as stop:  # seed 3 stops at its step-200 checkpoint (periodic at 100)
        assert worker.run_one(sweep_dir / rel[3], worker.RunOptions(), stop) == "stopped"
    result = launch(sweep, sweep_dir=sweep_dir, executor="debug", out=io.StringIO())
    assert result.skipped == {rel[1]: "done"}
    assert sorted(map(sorted, result.packs)) == [[rel[0], rel[2]], [rel[3]]]
    assert result.outcomes == {rel[0]: "done", rel[2]: "done", rel[3]: "done"}
    assert (sweep_dir / rel[1] / "eval.csv").read_bytes() == done_log
    # Seed 3, resumed alone from step 200, equals seed 3 trained alone without a stop.
    reference = tmp_path / "reference"
    launch(tiny_sweep(variants=("dqn",), seeds=(3,)), sweep_dir=reference, executor="debug", out=io.StringIO())
    assert_same_logs(sweep_dir / rel[3], reference / rel[3])


def test_a_stopped_pack_resumes_exactly(tmp_path):
    """Stopped mid-way (Ctrl-C, preemption), a pack checkpoints every run at the same step; the
    relaunch resumes them as a pack and they end equal to an uninterrupted pack's runs."""
    sweep = tiny_sweep(variants=("dqn+double+per",), seeds=3)
    rels = [f"CartPole-v1/dqn+double+per/seed_{s}" for s in range(3)]
    reference = tmp_path / "reference"
    assert launch(sweep, sweep_dir=reference, executor="debug", out=io.StringIO()).packs == [rels]
    sweep_dir = tmp_path / "sweep"
    grid.prepare(sweep, grid.expand(sweep), sweep_dir)
    with stop_at_step(130) as stop:
        stopped = worker.run_pack([sweep_dir / r for r in rels], worker.RunOptions(), stop)
    assert list(stopped.values()) == ["stopped"] * 3
    assert {st.collect(sweep_dir)[i].steps_done for i in range(3)} == {130}
    result = launch(sweep, sweep_dir=sweep_dir, executor="debug", out=io.StringIO())
    assert result.packs == [rels] and set(result.outcomes.values()) == {"done"}
    for r in rels:
        assert_same_logs(sweep_dir / r, reference / r)


def test_a_pack_is_a_list_of_run_directories(tmp_path, monkeypatch):
    """A bare path is refused before anything is written (its characters are no run dirs)."""
    monkeypatch.chdir(tmp_path)
    run_dir = prepare_tiny_run(tmp_path / "run")
    for bad in (str(run_dir), run_dir):
        with pytest.raises(TypeError, match="list of run directories"):
            worker.run_pack(bad, worker.RunOptions())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_pack_with_a_run_held_elsewhere_is_busy(tmp_path):
    from dqnlab import runlock

    sweep = tiny_sweep(variants=("dqn",), seeds=2)
    grid.prepare(sweep, grid.expand(sweep), tmp_path)
    dirs = [tmp_path / f"CartPole-v1/dqn/seed_{s}" for s in range(2)]
    script = (f"import sys, time; from dqnlab import runlock\n"
              f"with runlock.hold({str(dirs[1])!r}):\n    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        assert holder.stdout.readline().strip() == "held"
        assert isinstance(runlock.probe(dirs[1]), runlock.Holder)
        assert worker.run_pack(dirs, worker.RunOptions()) == dict.fromkeys(map(str, dirs), "busy")
        assert {s.state for s in st.collect(tmp_path)} == {"pending"}  # nothing trained
    finally:
        holder.kill()
        holder.wait(timeout=30)

"""A sweep through the slurm executor on the one-node dev cluster (slurm/start_cluster.sh):
submitted as a job array, one job preempted mid-run (USR2, as Slurm sends before a time limit or on
preemption), requeued by submitit, and every run ends with logs identical to a local run's.

The sweep runs twice: each run alone, and each variant's seeds packed into one job (issue 13).
Every wait is bounded; the module takes about three minutes on 2 cores.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from run_helpers import ROOT, wait_until

pytestmark = pytest.mark.slurm

PROFILE = ROOT / "slurm" / "profiles" / "dev.toml"
CMD_TIMEOUT_S = 30
TINY = {
    "network.hidden_sizes": (16, 16), "agent.batch_size": 16, "agent.min_replay_steps": 100,
    "eval.period_steps": 1000, "eval.episodes": 2, "run.log_period_steps": 100,
    "run.checkpoint_period_steps": 1000,
}
WALL_CLOCK = ("sps", "wall_time_s", "eval_seconds")


def logs_without_wall_clock(run_dir: Path) -> dict[str, list[str]]:
    out = {}
    for name in ("progress.csv", "eval.csv"):
        rows = [line.split(",") for line in (run_dir / name).read_text().splitlines()]
        keep = [i for i, col in enumerate(rows[0]) if col not in WALL_CLOCK]
        out[name] = [",".join(row[i] for i in keep) for row in rows]
    return out


@pytest.mark.timeout(600)  # about 90 s each on an idle 2-core machine; the bound is for a loaded one
@pytest.mark.parametrize("runs_per_process", [1, "auto"])  # auto: each variant's 2 seeds, 1 job
def test_sweep_on_slurm_survives_preemption(slurm_cluster, tmp_path, runs_per_process):
    from dqnlab.sweep import Sweep, executors
    from dqnlab.sweep import status as st
    from dqnlab.sweep.launch import launch

    slurm = executors.create("slurm", executors.ExecutorSettings(profile=PROFILE))
    sweep = Sweep(name="slurm_tiny", envs=("CartPole-v1",), variants=("dqn", "dqn+double+per"),
                  seeds=2, steps=5000, overrides=TINY)
    sweep_dir = tmp_path / "sweep"
    result = launch(sweep, sweep_dir=sweep_dir, executor=slurm, runs_per_process=runs_per_process,
                    out=io.StringIO())
    jobs = result.jobs
    n_jobs = 4 if runs_per_process == 1 else 2
    assert len(result.packs) == len(jobs) == n_jobs and len({j.job_id.split("_")[0] for j in jobs}) == 1
    sbatch = Path(jobs[0].paths.submission_file).read_text()
    assert f"#SBATCH --array=0-{n_jobs - 1}%{n_jobs}" in sbatch and "#SBATCH --signal=USR2@30" in sbatch
    recorded = json.loads((sweep_dir / "slurm" / "jobs.json").read_text())  # per run, as status is
    assert recorded == {rel: job.job_id for pack, job in zip(result.packs, jobs) for rel in pack}

    # Relaunching while the jobs are queued or running submits nothing (no run trains twice).
    again = launch(sweep, sweep_dir=sweep_dir, executor=slurm, out=io.StringIO())
    assert again.to_run == [] and again.jobs == []

    # Preempt the job of one run (with auto: of its pack) once it is past its first checkpoint.
    target = "CartPole-v1/dqn+double+per/seed_0"
    job = next(j for pack, j in zip(result.packs, jobs) if target in pack)
    run_dir = sweep_dir / target

    def progress() -> int:
        return st.last_logged_step(run_dir / "progress.csv")

    wait_until(lambda: progress() >= 1200, 120, f"{target} to pass step 1200")
    preempted_at = progress()
    assert preempted_at < 5000
    subprocess.run(["scancel", "--signal=USR2", job.job_id], check=True, timeout=CMD_TIMEOUT_S)

    wait_until(lambda: all(j.done() for j in jobs), 300, "every job to finish")
    outcomes = {}
    for j in jobs:
        outcomes.update(j.result())
    assert set(outcomes.values()) == {"done"}, outcomes
    fields = subprocess.run(["scontrol", "show", "job", "-o", job.job_id], capture_output=True,
                            text=True, timeout=CMD_TIMEOUT_S).stdout
    assert "Restarts=1" in fields, fields  # requeued once, by submitit
    assert "handing over to submitit for requeue" in job.stderr()
    assert all(s.state == "done" for s in st.collect(sweep_dir))

    # Identical to the same sweep run locally (in-process, in the same packs), wall-clock columns aside.
    reference = tmp_path / "reference"
    local = launch(sweep, sweep_dir=reference, executor="debug", runs_per_process=runs_per_process,
                   out=io.StringIO())
    assert sorted(local.packs) == sorted(result.packs)
    for entry in st.collect(sweep_dir):
        assert logs_without_wall_clock(sweep_dir / entry.rel_dir) == \
            logs_without_wall_clock(reference / entry.rel_dir), entry.rel_dir

    # And the same command once more: everything is done, nothing is submitted.
    final = launch(sweep, sweep_dir=sweep_dir, executor=slurm, out=io.StringIO())
    assert final.to_run == [] and set(final.skipped.values()) == {"done"}


@pytest.mark.timeout(200)
def test_jobs_run_a_snapshot_of_the_installed_package(slurm_cluster, tmp_path):
    """With `snapshot = true`, the job imports dqnlab from a copy taken at submission, laid out
    as installed (dqnlab.analysis etc. inside dqnlab/), not from the live tree."""
    from dqnlab.sweep import Sweep, executors
    from dqnlab.sweep.launch import launch

    profile = tmp_path / "snapshot.toml"
    profile.write_text(PROFILE.read_text() + "snapshot = true\n")
    slurm = executors.create("slurm", executors.ExecutorSettings(profile=profile, wait=True))
    sweep = Sweep(name="slurm_snapshot", envs=("CartPole-v1",), variants=("dqn",), seeds=1,
                  steps=300, overrides=TINY)
    result = launch(sweep, sweep_dir=tmp_path / "sweep", executor=slurm, out=io.StringIO())
    assert result.outcomes == {"CartPole-v1/dqn/seed_0": "done"}
    (code,) = (tmp_path / "sweep" / "slurm").glob("code-*")
    for module in ("dqnlab/train.py", "dqnlab/analysis/load.py", "dqnlab/slurm/dev_cluster.py",
                   "dqnlab/experiments/classic_ablation.py", "dqnlab/sweep/preemption.py"):
        assert (code / module).is_file(), module
    assert f"dqnlab: running {code.resolve()}/dqnlab" in result.jobs[0].stderr()

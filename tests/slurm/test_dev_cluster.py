"""End-to-end tests against the real one-node SLURM cluster (slurm/start_cluster.sh).

The module fixture starts the cluster (skipping only when its packages are missing and we
are not in CI) and stops it at the end if it started it. Every test uses its own submitit
folder and bounds every wait. Jobs import dqnlab from the installed package only (no
PYTHONPATH), as on a cluster where dqnlab is pip-installed.

Preemption is triggered with ``scancel --signal=USR2 <job>``: it delivers exactly the
signal Slurm sends before a time limit (``--signal=USR2@N``) or on preemption with
``PreemptParameters=send_user_signal``, at a moment the test chooses, with no extra
delay. See docs/sweeps.md for why not ``scontrol requeue`` or a short time limit.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from run_helpers import assert_same_logs, prepare_tiny_run, wait_until

from dqnlab.sweep import status as st
from dqnlab.sweep.worker import RunOptions, run_one

pytestmark = pytest.mark.slurm

CMD_TIMEOUT_S = 30
STEPS = 12_000  # long enough to signal it twice mid-run (seconds of training)


def make_executor(folder: Path, **params):
    import submitit

    executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    executor.update_parameters(timeout_min=5, slurm_partition="debug", cpus_per_task=1, **params)
    return executor


def restarts(job_id: str) -> str:
    """The job's `Restarts=` field as `scontrol show job` prints it."""
    out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True,
                         timeout=CMD_TIMEOUT_S, check=True).stdout
    return next(f for f in out.split() if f.startswith("Restarts="))


def preempt(job_id: str, *signals: str) -> None:
    for sig in signals:
        subprocess.run(["scancel", f"--signal={sig}", job_id], check=True, timeout=CMD_TIMEOUT_S)


# -- plain jobs ---------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_trivial_job_returns_result(slurm_cluster, tmp_path):
    def square(x):
        return x * x, os.environ.get("SLURM_JOB_PARTITION")

    job = make_executor(tmp_path / "submitit").submit(square, 7)
    assert job.result() == (49, "debug")
    assert job.state == "COMPLETED" or job.done()


@pytest.mark.timeout(120)
def test_job_array_runs_concurrently(slurm_cluster, tmp_path):
    def timed(x):
        start = time.time()
        time.sleep(3)
        return x + 1, start, time.time(), os.environ.get("SLURM_ARRAY_TASK_ID")

    executor = make_executor(tmp_path / "submitit", slurm_array_parallelism=3)
    jobs = executor.map_array(timed, [10, 20, 30])
    assert len({job.job_id.split("_")[0] for job in jobs}) == 1  # one array, 3 tasks
    results = [job.result() for job in jobs]
    assert [r[0] for r in results] == [11, 21, 31]
    assert [r[3] for r in results] == ["0", "1", "2"]
    # 2 cores, OverSubscribe=FORCE:2 and parallelism 3: all three run at once.
    assert max(r[1] for r in results) < min(r[2] for r in results)
    sbatch = Path(jobs[0].paths.submission_file).read_text()
    assert "#SBATCH --array=0-2%3" in sbatch


@pytest.mark.timeout(120)
def test_batch_array_respects_parallelism(slurm_cluster, tmp_path):
    def timed(x):
        start = time.time()
        time.sleep(1)
        return x, start, time.time()

    executor = make_executor(tmp_path / "submitit", slurm_array_parallelism=1)
    with executor.batch():
        jobs = [executor.submit(timed, x) for x in range(3)]
    results = sorted((job.result() for job in jobs), key=lambda r: r[1])
    assert [r[0] for r in sorted(results)] == [0, 1, 2]
    # %1: the tasks never overlap.
    assert all(a[2] <= b[1] for a, b in zip(results, results[1:]))


# -- preemption of a sweep job ----------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The run of every preemption test, trained in-process without interruption."""
    run_dir = prepare_tiny_run(tmp_path_factory.mktemp("reference") / "run", steps=STEPS)
    assert run_one(run_dir, RunOptions()) == "done"
    return run_dir


SHIM = """#!/bin/bash
# Test shim: `scontrol requeue` that is still running when the requeue's SIGTERM lands.
if [[ ${1:-} == requeue ]]; then
    /usr/bin/env -u SHIM_MODE PATH="$REAL_PATH" scontrol "$@"; rc=$?
    if [[ $SHIM_MODE == die ]]; then kill -KILL $$; fi
    sleep 3  # the job step is being SIGTERMed meanwhile
    echo "shim: scontrol requeue survived (rc=$rc)" >&2
    exit $rc
fi
PATH="$REAL_PATH" exec scontrol "$@"
"""


@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["slow", "die"])
def test_requeue_survives_sigterm_race(slurm_cluster, tmp_path, reference, mode):
    """A sweep job (`RunsJob`) gets SIGTERM then USR2 mid-run, as `job._interrupt()` sends them:
    it checkpoints and goes on after SIGTERM, then checkpoints and is requeued after USR2, and the
    run ends equal to an uninterrupted one. `slow`: SIGTERM reaches the job step while `scontrol
    requeue` still runs -- the blocked mask keeps it alive. `die`: scontrol dies after requeueing
    -- hand_over checks Restarts= and still exits as requeued (plain submitit would record a
    failure)."""
    from dqnlab.sweep.executors.slurm_job import RunsJob

    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    (shim_dir / "scontrol").write_text(SHIM)
    (shim_dir / "scontrol").chmod(0o755)
    executor = make_executor(tmp_path / "submitit", slurm_setup=[
        'export REAL_PATH="$PATH"', f'export PATH="{shim_dir}:$PATH"', f"export SHIM_MODE={mode}",
    ])
    run_dir = prepare_tiny_run(tmp_path / "run", steps=STEPS)
    job = executor.submit(RunsJob([[str(run_dir)]], RunOptions()))

    def progress() -> int:
        return st.last_logged_step(run_dir / "progress.csv")

    wait_until(lambda: progress() >= 1000, 90, "1000 steps of progress")
    preempt(job.job_id, "TERM")
    wait_until(lambda: "SIGTERM: " in (job.stderr() or ""), 60, "the SIGTERM checkpoint")
    assert progress() < STEPS
    preempt(job.job_id, "USR2")
    assert job.result() == {str(run_dir.resolve()): "done"}
    assert restarts(job.job_id) == "Restarts=1"
    stderr = job.stderr()
    assert "handing over to submitit for requeue" in stderr
    if mode == "slow":
        assert "shim: scontrol requeue survived (rc=0)" in stderr
    else:
        assert "but Slurm shows Restarts=1: job requeued" in stderr
    assert_same_logs(run_dir, reference)

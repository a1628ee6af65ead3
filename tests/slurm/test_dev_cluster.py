"""End-to-end tests against the real one-node SLURM cluster (slurm/start_cluster.sh).

The module fixture starts the cluster (skipping only when its packages are missing and we
are not in CI) and stops it at the end if it started it. Every test uses its own submitit
folder and bounds every wait.

Preemption is triggered with ``scancel --signal=USR2 <job>``: it delivers exactly the
signal Slurm sends before a time limit (``--signal=USR2@N``) or on preemption with
``PreemptParameters=send_user_signal``, at a moment the test chooses, with no extra
delay. See slurm/README.md for why not ``scontrol requeue`` or a short time limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # plain `pytest` without an install
    sys.path.insert(0, str(REPO_ROOT))


pytestmark = pytest.mark.slurm

CMD_TIMEOUT_S = 30



def make_executor(folder: Path, **params):
    import submitit

    executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    executor.update_parameters(
        timeout_min=5,
        slurm_partition="debug",
        cpus_per_task=1,
        # The job's python must import `slurm.preemptible` (pickled by reference).
        slurm_setup=[f"export PYTHONPATH={REPO_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"],
        **params,
    )
    return executor


def wait_until(predicate, timeout_s: float, what: str, poll_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(poll_s)


def read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def scontrol_fields(job_id: str) -> dict[str, str]:
    out = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id],
        capture_output=True,
        text=True,
        timeout=CMD_TIMEOUT_S,
        check=True,
    ).stdout
    return dict(item.split("=", 1) for item in out.split() if "=" in item)


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


# -- preemption ---------------------------------------------------------------------------


def submit_counting_loop(tmp_path: Path, executor=None, total_steps: int = 40):
    from slurm.preemptible import CountingLoop

    loop = CountingLoop(
        tmp_path / "ckpt",
        total_steps=total_steps,
        checkpoint_every=7,
        step_seconds=0.25,
        progress_file=tmp_path / "progress",
    )
    executor = executor or make_executor(tmp_path / "submitit")
    job = executor.submit(loop)
    reference = CountingLoop(tmp_path / "reference", total_steps=total_steps)()["result"]
    return job, reference


def check_resumed(job, reference, preempted_at: int, total_steps: int = 40) -> dict:
    out = job.result()
    assert out["result"] == reference  # bit-identical to the uninterrupted run
    starts = out["starts"]
    assert len(starts) == 2, starts
    assert preempted_at <= starts[1]["from_step"] < total_steps
    assert [s["slurm_restart_count"] for s in starts] == [0, 1]
    assert scontrol_fields(job.job_id)["Restarts"] == "1"
    return out


@pytest.mark.timeout(180)
def test_preempted_loop_requeues_and_resumes(slurm_cluster, tmp_path):
    job, reference = submit_counting_loop(tmp_path)
    wait_until(lambda: read_int(tmp_path / "progress") >= 10, 90, "10 steps of progress")
    preempted_at = read_int(tmp_path / "progress")
    preempt(job.job_id, "USR2")
    check_resumed(job, reference, preempted_at)
    assert "handing over to submitit" in job.stderr()


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


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["slow", "die"])
def test_requeue_survives_sigterm_race(slurm_cluster, tmp_path, mode):
    """`slow`: SIGTERM reaches the job step while `scontrol requeue` still runs -- the
    blocked mask keeps it alive. `die`: scontrol dies after requeueing -- hand_over checks
    Restarts= and still exits as requeued (plain submitit would record a failure)."""
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    (shim_dir / "scontrol").write_text(SHIM)
    (shim_dir / "scontrol").chmod(0o755)
    executor = make_executor(tmp_path / "submitit")
    executor.update_parameters(
        slurm_setup=[
            *executor.parameters["setup"],
            'export REAL_PATH="$PATH"',
            f'export PATH="{shim_dir}:$PATH"',
            f"export SHIM_MODE={mode}",
        ]
    )
    job, reference = submit_counting_loop(tmp_path, executor)
    wait_until(lambda: read_int(tmp_path / "progress") >= 8, 90, "8 steps of progress")
    preempted_at = read_int(tmp_path / "progress")
    # Like submitit's job._interrupt(): SIGTERM first (the loop checkpoints and keeps
    # going, as submitit ignores SIGTERM), then USR2 (checkpoint + requeue).
    preempt(job.job_id, "TERM")
    wait_until(lambda: "SIGTERM: checkpointed" in (job.stderr() or ""), 60, "SIGTERM save")
    preempt(job.job_id, "USR2")
    check_resumed(job, reference, preempted_at)
    stderr = job.stderr()
    if mode == "slow":
        assert "shim: scontrol requeue survived (rc=0)" in stderr
    else:
        assert "but Slurm shows Restarts=1: job requeued" in stderr

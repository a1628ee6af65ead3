"""The `slurm` executor: job arrays through submitit, preemption-safe.

Each job is a `RunsJob`: a list of run directories (configuration only -- the configs are already
on disk, never a pickled model) trained one after another (`runs_per_job` packs small runs into one
job). All jobs of a launch go out as one array (`executor.batch()`), with `array_parallelism` from
the profile.

Preemption (the design of slurm/preemptible.py): submitit's USR2 handler (sent `signal_delay_s`
before the time limit, or on preemption with `PreemptParameters=send_user_signal`) is replaced by a
`PreemptionGuard` that only records the request. Training polls it through `should_stop` at every
agent step; the loop writes a checkpoint at that step boundary and returns "stopped"; then
`guard.hand_over()` runs submitit's handler, which calls `RunsJob.checkpoint()` -- resubmitting the
same configuration-only job -- requeues and exits. The requeued job starts over its list: finished
runs return at once, the interrupted one resumes from its checkpoint, exactly (its logs end equal to
an uninterrupted run's). A SIGTERM (which precedes a preemption or a kill) checkpoints the same way
and training goes on in this process, so a SIGKILL after it loses nothing.

Job ids are recorded in `<sweep_dir>/slurm/jobs.json`; a relaunch skips runs whose job is still
queued or running (per `squeue`), so launching twice never trains a run twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import submitit

from dqnlab import rundir
from dqnlab.sweep.profile import Profile
from dqnlab.sweep.worker import RunOptions, run_one

SLURM_DIR = "slurm"
JOBS_FILE = "jobs.json"
REPO_ROOT = Path(__file__).resolve().parents[2]


class RunsJob(submitit.helpers.Checkpointable):
    """Train a list of runs in one SLURM job; requeues itself on preemption (see module doc)."""

    def __init__(self, run_dirs: list[str], options: RunOptions) -> None:
        self.run_dirs = [str(Path(d).resolve()) for d in run_dirs]
        self.options = options

    def __call__(self) -> dict[str, str]:
        from slurm.preemptible import PreemptionGuard

        outcomes: dict[str, str] = {}
        with PreemptionGuard() as guard:
            # SIGTERM: checkpoint and go on (train() resumes exactly from that checkpoint).
            def should_stop() -> bool:
                return guard.requested or guard.take_sigterm()

            for run_dir in self.run_dirs:
                while True:
                    outcome = run_one(run_dir, self.options, should_stop)
                    if outcome != "stopped":
                        break
                    if guard.requested:
                        print(f"dqnlab: {run_dir} checkpointed; handing over to submitit "
                              "for requeue", file=sys.stderr, flush=True)
                        guard.hand_over()  # requeues and exits on rank 0
                    else:
                        print(f"dqnlab: SIGTERM: {run_dir} checkpointed, continuing",
                              file=sys.stderr, flush=True)
                outcomes[run_dir] = outcome
        return outcomes

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        # The state is in the run directories: resubmit this same configuration-only job.
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def jobs_path(sweep_dir: Path) -> Path:
    return Path(sweep_dir) / SLURM_DIR / JOBS_FILE


def read_jobs(sweep_dir: Path) -> dict[str, str]:
    try:
        return json.loads(jobs_path(sweep_dir).read_text())
    except (OSError, ValueError):
        return {}


def in_flight(sweep_dir: Path, rel_dirs: list[str]) -> set[str]:
    """Runs whose recorded job is still queued, running or requeued, per `squeue` (sacct lags
    behind a fresh submission; `-r` lists every array task on its own line)."""
    recorded = read_jobs(sweep_dir)
    jobs = {rel: recorded[rel] for rel in rel_dirs if rel in recorded}
    active: set[str] = set()
    for array_id in sorted({j.split("_")[0] for j in jobs.values()}):
        # One call per array: squeue rejects the whole list if one id has left the queue.
        try:
            out = subprocess.run(["squeue", "-h", "-r", "-o", "%i", "-j", array_id],
                                 capture_output=True, text=True, timeout=60, check=False).stdout
        except (OSError, subprocess.SubprocessError) as e:
            print(f"dqnlab: cannot ask squeue ({type(e).__name__}: {e}); assuming no job of this "
                  "sweep is still queued", file=sys.stderr)
            return set()
        active.update(out.split())
    return {rel for rel, job in jobs.items() if job in active}


def make_executor(sweep_dir: Path, profile: Profile, job_name: str,
                  code_dir: Path = REPO_ROOT) -> submitit.AutoExecutor:
    executor = submitit.AutoExecutor(folder=Path(sweep_dir) / SLURM_DIR / "logs", cluster="slurm",
                                     slurm_max_num_timeout=profile.max_requeues)
    params = profile.executor_parameters()
    # Jobs import dqnlab (and slurm.preemptible) by name: put the code on their path first, so
    # they work without an install and run the snapshot when there is one.
    params["slurm_setup"] = [*params["slurm_setup"],
                             f"export PYTHONPATH={code_dir}${{PYTHONPATH:+:$PYTHONPATH}}"]
    executor.update_parameters(name=job_name, **params)
    return executor


def submit(sweep_dir: Path, rel_dirs: list[str], profile: Profile, options: RunOptions,
           job_name: str) -> list[submitit.Job]:
    """Submit the runs as one job array; returns the jobs (one per chunk of runs_per_job runs)."""
    sweep_dir = Path(sweep_dir).resolve()
    code_dir = REPO_ROOT
    snapshot = None
    if profile.snapshot:
        # The jobs run a copy of the tracked code as it is now, not the live tree.
        code_dir = sweep_dir / SLURM_DIR / f"code-{time.strftime('%Y%m%d-%H%M%S')}"
        snapshot = submitit.helpers.RsyncSnapshot(snapshot_dir=code_dir, root_dir=REPO_ROOT)
    executor = make_executor(sweep_dir, profile, job_name, code_dir)
    chunks = _chunks(rel_dirs, profile.runs_per_job)
    cwd = os.getcwd()
    try:
        if snapshot is not None:
            snapshot.__enter__()
        with executor.batch():
            jobs = [executor.submit(RunsJob([str(sweep_dir / r) for r in chunk], options))
                    for chunk in chunks]
    finally:
        if snapshot is not None:
            snapshot.__exit__(None, None, None)
        os.chdir(cwd)
    recorded = read_jobs(sweep_dir)
    for chunk, job in zip(chunks, jobs):
        recorded.update(dict.fromkeys(chunk, job.job_id))
    rundir.atomic_write_json(jobs_path(sweep_dir), recorded)
    return jobs

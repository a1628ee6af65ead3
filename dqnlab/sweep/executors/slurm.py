"""The `slurm` executor: job arrays through submitit, preemption-safe.

Each job is a `RunsJob` (`slurm_job.py`: what runs inside the job, and how it survives preemption)
training one pack of runs (`packing.py`; a pack of one is a run alone), or several small packs one
after another, up to the profile's `runs_per_job` runs. All jobs of a launch go out as one array
(`executor.batch()`), with `array_parallelism` from the profile. With `snapshot = true` in the profile, the jobs run a copy of the package taken at
submission (`snapshot.py`); otherwise they import the installed package. Either way a job needs
nothing but an install of dqnlab in the Python its profile's `setup` lines activate.

Job ids are recorded per run in `<sweep_dir>/slurm/jobs.json`; a relaunch skips runs whose job is
still queued or running (per `squeue`), so launching twice never trains a run twice.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from dqnlab import rundir
from dqnlab.errors import ConfigError
from dqnlab.sweep import snapshot
from dqnlab.sweep.executors.base import Execution, ExecutorSettings
from dqnlab.sweep.packing import PackSize
from dqnlab.sweep.profile import Profile
from dqnlab.sweep.worker import RunOptions

SLURM_DIR = "slurm"
JOBS_FILE = "jobs.json"


class SlurmExecutor:
    help = "job arrays through submitit, preemption-safe (needs --profile)"

    def __init__(self, settings: ExecutorSettings) -> None:
        if settings.profile is None:
            raise ConfigError("--executor slurm needs --profile FILE (examples in slurm/profiles/)")
        profile = settings.loaded_profile()
        assert profile is not None
        self.profile: Profile = profile
        self.wait = settings.wait

    @property
    def device(self) -> str:
        return self.profile.run_device

    @property
    def runs_per_process(self) -> PackSize:
        return self.profile.runs_per_process

    slots_to_fill = None  # a queue, not idle cores: packing saves allocations and core-hours

    def parallelism(self, n_packs: int) -> tuple[int, str]:
        return min(self.profile.array_parallelism, n_packs), "job(s) in parallel"

    def check(self, device: str) -> None:
        # The device is the jobs' (checked by name only: they run on the cluster's nodes).
        if importlib.util.find_spec("submitit") is None:
            raise ConfigError("--executor slurm needs submitit: pip install 'dqnlab[slurm]'")
        check_cluster()

    def busy(self, sweep_dir: Path, rel_dirs: list[str]) -> set[str]:
        return in_flight(sweep_dir, rel_dirs)

    def run(self, sweep_dir: Path, packs: list[list[str]], options: RunOptions,
            out: TextIO) -> Execution:
        jobs = submit(sweep_dir, packs, self.profile, options, job_name=f"dqnlab-{options.sweep_name}")
        ids = sorted({j.job_id.split("_")[0] for j in jobs})
        rel_dirs = [rel for pack in packs for rel in pack]
        print(f"dqnlab: submitted {len(jobs)} job(s) for {len(rel_dirs)} run(s) "
              f"(array {', '.join(ids)}); follow with: dqnlab status {sweep_dir}", file=out)
        outcomes = wait_for_jobs(sweep_dir, jobs, rel_dirs) if self.wait else {}
        return Execution(outcomes, jobs)


def check_cluster(timeout_s: float = 30.0) -> None:
    """Refuse, with one line, a launch from a machine where no SLURM cluster answers (submitit
    would fail only after the sweep directory is written): its commands must be on PATH and
    `sinfo` must reach the controller."""
    missing = [c for c in ("sbatch", "srun", "squeue", "sinfo") if shutil.which(c) is None]
    if missing:
        raise ConfigError(f"--executor slurm: no SLURM here ({', '.join(missing)} not found on PATH); "
                          "launch from a cluster's login node")
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise ConfigError(f"--executor slurm: sinfo failed ({type(e).__name__}); is the cluster up?") from None
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise ConfigError(f"--executor slurm: no SLURM cluster answers from this machine (sinfo: {why})")


def jobs_of(packs: list[list[str]], profile: Profile) -> list[list[list[str]]]:
    """The packs each job trains, in order: whole packs, one after another, as many as fit in the
    profile's `runs_per_job` runs (at least one pack per job)."""
    jobs: list[list[list[str]]] = []
    for pack in packs:
        if jobs and sum(map(len, jobs[-1])) + len(pack) <= profile.runs_per_job:
            jobs[-1].append(pack)
        else:
            jobs.append([pack])
    return jobs


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


@contextlib.contextmanager
def code_for_jobs(sweep_dir: Path, profile: Profile) -> Iterator[list[str]]:
    """Yields the setup lines that give jobs their code. With a snapshot, submit inside this block:
    sbatch starts a job in the directory it was submitted from, here the snapshot."""
    if not profile.snapshot:
        yield []  # the installed package of the job's Python
        return
    parent = sweep_dir / SLURM_DIR
    parent.mkdir(parents=True, exist_ok=True)
    # Unique even for two launches within a second: a snapshot must never be shared.
    stamp = time.strftime("%Y%m%d-%H%M%S")
    unique = Path(tempfile.mkdtemp(prefix=f"code-{stamp}-", dir=parent))
    unique.chmod(0o777 & ~rundir.umask())  # mkdtemp's 0700 would hide it from colleagues
    code_dir = snapshot.take(unique)
    cwd = os.getcwd()
    os.chdir(code_dir)
    try:
        yield [f"export PYTHONPATH={code_dir}${{PYTHONPATH:+:$PYTHONPATH}}"]
    finally:
        os.chdir(cwd)


def submit(sweep_dir: Path, packs: list[list[str]], profile: Profile, options: RunOptions,
           job_name: str) -> list[Any]:
    """Submit the packs of runs as one job array; returns the submitit jobs (`jobs_of`)."""
    import submitit

    from dqnlab.sweep.executors.slurm_job import RunsJob

    sweep_dir = Path(sweep_dir).resolve()
    chunks = jobs_of(packs, profile)
    with code_for_jobs(sweep_dir, profile) as setup:
        executor = submitit.AutoExecutor(folder=sweep_dir / SLURM_DIR / "logs", cluster="slurm",
                                         slurm_max_num_timeout=profile.max_requeues)
        params = profile.executor_parameters()
        params["slurm_setup"] = [*params["slurm_setup"], *setup]
        executor.update_parameters(name=job_name, **params)
        with executor.batch():
            jobs = [executor.submit(RunsJob([[str(sweep_dir / r) for r in pack] for pack in chunk], options))
                    for chunk in chunks]
    recorded = read_jobs(sweep_dir)
    for chunk, job in zip(chunks, jobs):
        recorded.update(dict.fromkeys([rel for pack in chunk for rel in pack], job.job_id))
    rundir.atomic_write_json(jobs_path(sweep_dir), recorded)
    return jobs


def wait_for_jobs(sweep_dir: Path, jobs: list[Any], rel_dirs: list[str], poll_s: float = 5.0,
                  timeout_s: float | None = None) -> dict[str, str]:
    """Follow SLURM jobs with the live monitor until they end; outcomes from the run dirs."""
    from dqnlab.sweep.monitor import SweepMonitor

    monitor = SweepMonitor(sweep_dir, rel_dirs)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while not all(j.done() for j in jobs):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"SLURM jobs still running after {timeout_s} s")
        monitor.update()
        time.sleep(poll_s)
    states = {s.rel_dir: s.state for s in monitor.update(final=True)}
    return {rel: {"done": "done", "failed": "failed"}.get(states.get(rel, ""), "stopped")
            for rel in rel_dirs}

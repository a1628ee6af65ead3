"""Python helpers around the one-node dev cluster scripts (used by ``tests/slurm``).

    from dqnlab.slurm import dev_cluster
    env = dev_cluster.start("/tmp/dqnlab-slurm")   # {"SLURM_CONF": ".../etc/slurm.conf"}
    os.environ.update(env)                          # sbatch/sacct/submitit now find it
    ...
    dev_cluster.stop("/tmp/dqnlab-slurm")

Every subprocess call has a timeout; failures raise :class:`DevClusterError` carrying the
script's output. See slurm/README.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_STATE_DIR = Path("/tmp/dqnlab-slurm")

#: Programs the dev cluster needs (installed by ``install_dev_cluster.sh``).
REQUIRED_PROGRAMS = (
    "munged",
    "mungekey",
    "mariadbd",
    "mariadb-install-db",
    "slurmdbd",
    "slurmctld",
    "slurmd",
    "sbatch",
    "srun",
    "sacct",
    "sacctmgr",
    "scontrol",
    "sinfo",
)

START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 120.0


class DevClusterError(RuntimeError):
    """A dev cluster script failed or timed out."""


def missing_programs() -> list[str]:
    """Programs from :data:`REQUIRED_PROGRAMS` not found on PATH (or in /usr/sbin)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"])
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p, path=path) is None]


def is_available() -> bool:
    """True if the packages the dev cluster needs are installed."""
    return not missing_programs()


def _run_script(name: str, state_dir: Path, timeout_s: float) -> str:
    cmd = ["bash", str(HERE / name), str(state_dir)]
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([env.get("PATH", ""), "/usr/sbin", "/sbin"])
    if os.geteuid() != 0:
        # The daemons run as root; a CI user usually has password-less sudo.
        if shutil.which("sudo") is None:
            raise DevClusterError(f"{name} must run as root and sudo is not available")
        knobs = [k for k in env if k.startswith("DQNLAB_SLURM_")]
        cmd = ["sudo", "-n", f"--preserve-env={','.join(['PATH', *knobs])}", *cmd]
    try:
        proc = subprocess.run(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode() if isinstance(error.stdout, bytes) else error.stdout
        raise DevClusterError(f"{name} timed out after {timeout_s:.0f}s:\n{out or ''}") from error
    if proc.returncode != 0:
        raise DevClusterError(
            f"{name} exited with {proc.returncode} (logs in {state_dir}/log):\n{proc.stdout}"
        )
    return proc.stdout


def read_env(state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR) -> dict[str, str]:
    """The client environment recorded in ``STATE_DIR/env.sh`` (``export K=V`` lines)."""
    env: dict[str, str] = {}
    for line in (Path(state_dir) / "env.sh").read_text().splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export ") :].split("=", 1)
            env[key.strip()] = value.strip().strip("'\"")
    return env


def start(
    state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR, timeout_s: float = START_TIMEOUT_S
) -> dict[str, str]:
    """Start the cluster (no-op if it is already running) and return the client env."""
    state_dir = Path(state_dir).resolve()
    _run_script("start_cluster.sh", state_dir, timeout_s)
    return read_env(state_dir)


def stop(
    state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR, timeout_s: float = STOP_TIMEOUT_S
) -> None:
    """Stop the cluster's daemons (no-op if none are running)."""
    _run_script("stop_cluster.sh", Path(state_dir).resolve(), timeout_s)


def is_running(state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR) -> bool:
    """True if every daemon recorded in ``STATE_DIR/pids`` is alive."""
    pids = Path(state_dir) / "pids"
    names = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")
    for name in names:
        try:
            pid = int((pids / f"{name}.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return False
        if name.encode() not in cmdline:  # dead (zombies have an empty cmdline) or reused
            return False
    return True

"""What every executor is: the protocol `launch` talks to, and the settings it is built from.

An executor is built from `ExecutorSettings` (checking them: a bad setting is a one-line
ConfigError before anything is written or submitted). Unless the launch is a `--dry-run`, it is then
asked, in this order, whether it can run here at all and train on the runs' device (`check`,
before the sweep directory is written), which runs are being trained elsewhere right now (`busy`: those stay untouched) and to
train or submit the rest (`run`), grouped by the launch into packs (`packing.py`: runs that one
process trains in lockstep; a pack of one is a run alone). How a run trains is not the executor's
business: every executor calls `worker.run_pack` on a pack of run directories, in this process, in a
worker process or in a SLURM job, and reports every run's outcome on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from dqnlab import devices
from dqnlab.errors import ConfigError
from dqnlab.sweep.packing import AUTO, PackSize
from dqnlab.sweep.profile import Profile, load_profile
from dqnlab.sweep.worker import RunOptions


@dataclass(frozen=True)
class ExecutorSettings:
    """The command line's executor options (`--profile`, `--workers`, `--wait`); each executor
    reads those it uses and refuses the ones it cannot honour."""

    profile: str | Path | Profile | None = None
    """Cluster profile (TOML path or a loaded Profile): the slurm executor's, required there."""
    workers: int | None = None
    """Parallel runs of the local executor (None: one per core)."""
    wait: bool = False
    """slurm: follow the submitted jobs until they end."""

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}")

    def loaded_profile(self) -> Profile | None:
        if self.profile is None or isinstance(self.profile, Profile):
            return self.profile
        return load_profile(self.profile)

    def refuse_profile(self) -> None:
        """For the executors that run on this machine."""
        if self.profile is not None:
            raise ConfigError("--profile applies to --executor slurm only")


@dataclass
class Execution:
    """What an executor did with the runs it was given."""

    outcomes: dict[str, str] = field(default_factory=dict)
    """Run (relative dir) -> worker.OUTCOMES value, for the runs that ended while we watched."""
    jobs: list[Any] = field(default_factory=list)
    """submitit jobs (slurm executor)."""


class Executor(Protocol):
    """Trains a sweep's runs somewhere. See the module docstring for the order of calls."""

    help: str
    """One line for `dqnlab sweep --help`."""

    @property
    def device(self) -> str:
        """The runs' device when `--device` is not given."""
        ...

    @property
    def runs_per_process(self) -> PackSize:
        """The pack size when `--runs-per-process` is not given (a profile's, else auto)."""
        ...

    @property
    def slots_to_fill(self) -> int | None:
        """Processes on resources that sit idle unless there are at least that many packs (this
        machine's workers): `auto` then packs less. None: no such cap (a cluster's queue, where
        packing saves allocations and core-hours whatever the parallelism)."""
        ...

    def parallelism(self, n_packs: int) -> tuple[int, str]:
        """How many of `n_packs` packs (processes) train at once, and what those are called (for
        `--dry-run`)."""
        ...

    def check(self, device: str) -> None:
        """Raise a one-line ConfigError if this executor cannot run from this machine (a missing
        optional dependency, no cluster) or its runs cannot train on `device` (a name checked by
        `devices.check`). Not called for `--dry-run`, which only plans."""
        ...

    def busy(self, sweep_dir: Path, rel_dirs: list[str]) -> set[str]:
        """Runs among `rel_dirs` that are being trained elsewhere now (e.g. a queued SLURM job):
        this launch leaves them alone."""
        ...

    def run(self, sweep_dir: Path, packs: list[list[str]], options: RunOptions,
            out: TextIO) -> Execution:
        """Train or submit the packs of runs, in this order (longest first); report on `out`,
        every run's outcome on its own."""
        ...


class OnThisMachine:
    """What the debug and local executors share: no profile, CPU by default, runs on this
    machine's devices, and no record of runs in flight elsewhere (the launch asks every run's lock,
    `runlock.probe`, and run_one's lock turns a run another process takes meanwhile into "busy")."""

    device = "cpu"
    runs_per_process: PackSize = AUTO

    def __init__(self, settings: ExecutorSettings) -> None:
        settings.refuse_profile()

    def check(self, device: str) -> None:
        devices.check(device, here=True)

    def busy(self, sweep_dir: Path, rel_dirs: list[str]) -> set[str]:
        return set()

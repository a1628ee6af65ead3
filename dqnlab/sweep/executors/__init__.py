"""Executors by name: where a sweep's runs train (`dqnlab sweep --executor NAME`).

    base.py       the Executor protocol and ExecutorSettings (what the command line passes)
    debug.py      this process, one run after another
    local.py      worker processes on this machine
    slurm.py      job arrays through submitit (slurm_job.py: the job itself)

Adding one: a module with a class following `base.Executor`, built from `ExecutorSettings`, and a
line in EXECUTORS. `create` is all `launch` knows of them.
"""

from __future__ import annotations

from collections.abc import Callable

from dqnlab.errors import ConfigError
from dqnlab.sweep.executors.base import Execution, Executor, ExecutorSettings
from dqnlab.sweep.executors.debug import DebugExecutor
from dqnlab.sweep.executors.local import LocalExecutor
from dqnlab.sweep.executors.slurm import SlurmExecutor

EXECUTORS: dict[str, Callable[[ExecutorSettings], Executor]] = {
    "local": LocalExecutor,
    "slurm": SlurmExecutor,
    "debug": DebugExecutor,
}


def create(name: str, settings: ExecutorSettings | None = None) -> Executor:
    """The executor `name`, built from (and checking) `settings`; one-line ConfigError if bad."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    return EXECUTORS[name](settings or ExecutorSettings())


def describe() -> str:
    """One line per executor, for --help."""
    return "; ".join(f"{name}: {getattr(factory, 'help', '')}" for name, factory in EXECUTORS.items())


__all__ = ["EXECUTORS", "Execution", "Executor", "ExecutorSettings", "create", "describe"]

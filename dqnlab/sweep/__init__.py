"""Sweeps: envs x variants x seeds from `experiments/*.py`, run locally, in-process or on SLURM.

    definition.py   the frozen `Sweep` data type and loading an experiment file
    grid.py         expansion into runs and the sweep manifest (sweep.json)
    launch.py       definition -> sweep dir -> runs still to do -> an executor
    worker.py       train one run (every executor's unit of work)
    local.py        the debug (in-process) and local (worker processes) executors
    slurm_launch.py the slurm executor: submitit job arrays, preemption-safe requeue
    profile.py      cluster profiles (TOML)
    status.py       what every run is doing; `dqnlab status`
    monitor.py      live progress of a sweep (terminal and progress.txt)
    plan.py         `--dry-run`: grid, cost, replay memory
    throughput.py   measured steps/s behind the planner
    wandb_log.py    optional wandb logging by tailing a run's CSV logs
    cli.py          `dqnlab sweep` and `dqnlab status`
"""

from dqnlab.sweep.definition import GENERATORS, Sweep

__all__ = ["GENERATORS", "Sweep"]

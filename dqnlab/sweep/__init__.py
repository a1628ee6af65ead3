"""Sweeps: envs x variants x seeds from `experiments/*.py`, run locally, in-process or on SLURM.

    definition.py   the frozen `Sweep` data type, GridOptions, loading an experiment file
    grid.py         expansion into runs and the sweep manifest (sweep.json)
    launch.py       definition -> sweep dir -> runs still to do -> an executor
    executors/      debug (in-process), local (worker processes), slurm (submitit job arrays),
                    behind one protocol and chosen by name
    packing.py      which runs one process trains in lockstep (seeds of one config), and when it pays
    worker.py       train one pack of runs (every executor's unit of work; a run alone is a pack of one)
    preemption.py   checkpoint at a step boundary on SLURM preemption, then requeue
    snapshot.py     the copy of the package that SLURM jobs run
    profile.py      cluster profiles (TOML)
    status.py       what every run is doing; `dqnlab status`
    monitor.py      live progress of a sweep (terminal and progress.txt)
    plan.py         `--dry-run`: grid, cost, replay memory
    throughput.py   measured steps/s behind the planner
    wandb_log.py    optional wandb logging by tailing a run's CSV logs
    cli.py          `dqnlab sweep` and `dqnlab status`
"""

from dqnlab.sweep.definition import GENERATORS, GridOptions, Sweep

__all__ = ["GENERATORS", "GridOptions", "Sweep"]

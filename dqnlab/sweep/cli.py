"""`dqnlab sweep` and `dqnlab status` (added to the main CLI by `add_subcommands`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dqnlab.errors import ConfigError
from dqnlab.stopping import StoppedBeforeWriting, signal_name
from dqnlab.sweep import executors

SWEEP_EPILOG = """\
examples:
  dqnlab sweep experiments/classic_ablation.py --sweep-dir results/classic_ablation
  dqnlab sweep experiments/classic_ablation.py --full --dry-run
  dqnlab sweep experiments/minatar_ablation.py --runs-per-process 8   # 8 seeds per process
  dqnlab sweep experiments/atari_ablation.py --subset atari5 --executor slurm --profile slurm/profiles/example_gpu.toml
  dqnlab status results/classic_ablation

Run the same command again to resume: done runs are skipped, unfinished ones resume from their
checkpoints, failed ones rerun only with --retry-failed. A grid that grows (more seeds, envs,
variants) or a part of the directory's grid needs nothing more; replacing runs needs --force
(--dry-run lists them), and deleting finished runs also --delete-finished.
"""


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep", help="run a sweep of envs x variants x seeds (local workers, SLURM or in-process)",
        description="Run (or resume) a sweep defined in an experiments/*.py file.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SWEEP_EPILOG,
    )
    p.add_argument("experiment", help="an experiment file, e.g. experiments/classic_ablation.py")
    p.add_argument("--executor", choices=executors.EXECUTORS, default="local",
                   help=executors.describe())
    p.add_argument("--profile", type=Path, default=None,
                   help="cluster profile (TOML) for --executor slurm; see slurm/profiles/")
    p.add_argument("--sweep-dir", type=Path, default=None, help="default: results/<sweep name>")
    p.add_argument("--dry-run", action="store_true",
                   help="print the grid and its cost (runs, steps, hours, replay memory) and, for an "
                        "existing --sweep-dir, what a launch would train there; run nothing")
    p.add_argument("--full", action="store_true", help="the definition's full-size (paper) sweep")
    p.add_argument("--subset", default=None, help="a named env subset of the definition, e.g. atari5")
    p.add_argument("--variation", default=None,
                   help="a named variation of the definition (an A/B arm: other settings, its own "
                        "sweep <name>-<variation>), e.g. noise_per_step")
    p.add_argument("--seeds", default=None, help="N: the first N seeds; 0,3: exactly those seeds")
    p.add_argument("--envs", default=None, help="comma list of env ids replacing the definition's")
    p.add_argument("--variants", default=None,
                   help="comma list of variants (rainbow, rainbow-no-per, dqn+double, ...) or a "
                        "generator (leave_one_out, add_one, all_subsets)")
    p.add_argument("--steps", type=int, default=None, help="budget in agent steps for every run")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field for every run (see `dqnlab train --help`); repeatable")
    p.add_argument("--retry-failed", action="store_true", help="rerun failed runs (from their last checkpoint)")
    p.add_argument("--resume-from-intact", action="store_true",
                   help="a run whose logs do not hold what its newest checkpoint recorded resumes from "
                        "the newest checkpoint whose logs are intact (or step 0) instead of failing "
                        "(such a run failed before: add --retry-failed)")
    p.add_argument("--force", action="store_true",
                   help="replace a sweep dir made from a different definition: changed runs start over, "
                        "runs no longer in the grid are deleted (--dry-run lists them); "
                        "not needed to add seeds, envs or variants when the grid keeps the directory's runs")
    p.add_argument("--delete-finished", action="store_true",
                   help="with --force: confirm that finished runs may be deleted too")
    p.add_argument("--workers", type=int, default=None,
                   help="local executor: parallel processes (default: one per core)")
    p.add_argument("--runs-per-process", default=None, metavar="N|auto",
                   help="runs that differ only by seed train in lockstep in one process, N at a time "
                        "(1: each run alone). auto (default; a profile's runs_per_process first): 8 "
                        "where measured to pay (MLPs up to 256 wide and MinAtar, on the CPU), fewer "
                        "if the local workers would sit idle, else 1. Results equal training alone "
                        "up to floating-point rounding")
    p.add_argument("--device", default=None,
                   help="cpu | cuda | auto (default: cpu; with slurm the profile's)")
    p.add_argument("--wandb", nargs="?", const="dqnlab", default=None, metavar="PROJECT",
                   help="also log every run to wandb (project default: dqnlab); "
                        "WANDB_MODE=offline works without network")
    p.add_argument("--wait", action="store_true", help="slurm executor: follow the jobs until they end")
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser(
        "status", help="table of a sweep's runs: done / running / pending / failed (exit 1 if any failed)"
    )
    p.add_argument("sweep_dir", type=Path)
    p.set_defaults(func=cmd_status)


def cmd_sweep(args: argparse.Namespace) -> int:
    from dqnlab.config import parse_set_args
    from dqnlab.sweep.definition import GridOptions
    from dqnlab.sweep.launch import launch
    from dqnlab.sweep.packing import parse_pack_size

    stop = getattr(args, "stop", None)
    runs_per_process = None if args.runs_per_process is None else parse_pack_size(args.runs_per_process)
    executor = executors.create(args.executor, executors.ExecutorSettings(
        profile=args.profile, workers=args.workers, wait=args.wait))
    grid_options = GridOptions(
        full=args.full, subset=args.subset, variation=args.variation, seeds=args.seeds, envs=args.envs,
        variants=args.variants,
        steps=args.steps, overrides=parse_set_args(args.overrides),
    )
    try:
        result = launch(
            args.experiment, sweep_dir=args.sweep_dir, grid_options=grid_options, executor=executor,
            device=args.device, wandb_project=args.wandb, dry_run=args.dry_run,
            retry_failed=args.retry_failed, force=args.force, delete_finished=args.delete_finished,
            resume_from_intact=args.resume_from_intact, runs_per_process=runs_per_process,
            # the local executor stops its workers at a checkpoint on a signal, as on Ctrl-C
            before_writing=None if stop is None else stop.raising,
        )
        if stop is not None and args.dry_run:  # a dry run writes nothing: a signal during it ends it here
            stop.raising()
    except ConfigError:
        signum = None if stop is None else stop.signum
        if signum is None:
            raise
        return _stopped_before_start(signum)  # it came first (e.g. Ctrl-C killed sinfo in the cluster check)
    except StoppedBeforeWriting as e:  # a signal while the command loaded, read the grid or planned
        return _stopped_before_start(e.signum)
    if result.exit_code == 130 and stop is not None and stop.signum is not None:
        return 128 + stop.signum  # stopped by this signal (SIGTERM: 143)
    return result.exit_code


def _stopped_before_start(signum: int) -> int:
    print(f"dqnlab: stopped by {signal_name(signum)} before the sweep started; nothing was launched",
          file=sys.stderr)
    return 128 + signum


def cmd_status(args: argparse.Namespace) -> int:
    from dqnlab.sweep import status as st

    states = st.collect(args.sweep_dir)
    print(st.format_table(states))
    c = st.counts(states)
    if c["stale"]:
        print(f"dqnlab: {c['stale']} run(s) stale: marked running, but no process trains them "
              "(killed?); run the sweep again to resume them", file=sys.stderr)
    if c["failed"]:
        print(f"dqnlab: {c['failed']} run(s) failed; rerun the sweep with --retry-failed to retry",
              file=sys.stderr)
    return 1 if c["failed"] else 0

"""What runs inside a SLURM job of the slurm executor: `RunsJob`, submitit's checkpointable callable.

A job is a list of run directories (configuration only: the configs are already on disk, never a
pickled model) trained one after another (`runs_per_job` packs small runs into one job).

Preemption (`preemption.py`): submitit's USR2 handler (sent `signal_delay_s` before the time limit,
or on preemption with `PreemptParameters=send_user_signal`) is replaced by a `PreemptionGuard` that
only records the request. Training polls it through `should_stop` at every agent step; the loop
writes a checkpoint at that step boundary and returns "stopped"; then `guard.hand_over()` runs
submitit's handler, which calls `RunsJob.checkpoint()` -- resubmitting the same configuration-only
job -- requeues and exits. The requeued job starts over its list: finished runs return at once, the
interrupted one resumes from its checkpoint, exactly (its logs end equal to an uninterrupted run's).
A SIGTERM (which precedes a preemption or a kill) checkpoints the same way and training goes on in
this process, so a SIGKILL after it loses nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import submitit

import dqnlab
from dqnlab.sweep.preemption import PreemptionGuard
from dqnlab.sweep.worker import RunOptions, run_one


class RunsJob(submitit.helpers.Checkpointable):
    """Train a list of runs in one SLURM job; requeues itself on preemption (see module doc)."""

    def __init__(self, run_dirs: list[str], options: RunOptions) -> None:
        self.run_dirs = [str(Path(d).resolve()) for d in run_dirs]
        self.options = options

    def __call__(self) -> dict[str, str]:
        # Which code this job runs: the snapshot taken at submission, or the installed package.
        print(f"dqnlab: running {Path(dqnlab.__file__).parent}", file=sys.stderr, flush=True)
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

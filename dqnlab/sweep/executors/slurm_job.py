"""What runs inside a SLURM job of the slurm executor: `RunsJob`, submitit's checkpointable callable.

A job is a list of packs of run directories (configuration only: the configs are already on disk,
never a pickled model), trained one pack after another, each pack's runs in lockstep in this process
(`worker.run_pack`; a pack of one is a run alone). `runs_per_job` in the profile puts several small
packs into one job.

Preemption (`preemption.py`): submitit's USR2 handler (sent `signal_delay_s` before the time limit,
or on preemption with `PreemptParameters=send_user_signal`) is replaced by a `PreemptionGuard` that
only records the request. Training polls it through `should_stop` at every agent step; the loop
writes a checkpoint at that step boundary and returns "stopped"; then `guard.hand_over()` runs
submitit's handler, which calls `RunsJob.checkpoint()` -- resubmitting the same configuration-only
job -- requeues and exits. The requeued job starts over its list: finished runs return at once, the
interrupted pack resumes from its runs' checkpoints (all at the step where the pack stopped),
exactly: each run's logs end equal to those of the same pack trained without interruption.
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
from dqnlab.sweep.worker import RunOptions, run_pack


class RunsJob(submitit.helpers.Checkpointable):
    """Train packs of runs in one SLURM job; requeues itself on preemption (see module doc)."""

    def __init__(self, packs: list[list[str]], options: RunOptions) -> None:
        if any(isinstance(pack, (str, Path)) for pack in packs):  # a run where a pack belongs
            raise TypeError(f"RunsJob takes a list of packs (lists of run directories), got {packs!r}")
        self.packs = [[str(Path(d).resolve()) for d in pack] for pack in packs]
        self.options = options

    def __call__(self) -> dict[str, str]:
        """Each run's outcome (worker.OUTCOMES), keyed by its resolved directory."""
        # Which code this job runs: the snapshot taken at submission, or the installed package.
        print(f"dqnlab: running {Path(dqnlab.__file__).parent}", file=sys.stderr, flush=True)
        outcomes: dict[str, str] = {}
        with PreemptionGuard() as guard:
            # SIGTERM: checkpoint and go on (training resumes exactly from that checkpoint).
            def should_stop() -> bool:
                return guard.requested or guard.take_sigterm()

            for pack in self.packs:
                while True:
                    trained = run_pack(pack, self.options, should_stop)
                    if "stopped" not in trained.values():
                        break
                    if guard.requested:
                        print(f"dqnlab: {', '.join(pack)} checkpointed; handing over to submitit "
                              "for requeue", file=sys.stderr, flush=True)
                        guard.hand_over()  # requeues and exits on rank 0
                    else:
                        print(f"dqnlab: SIGTERM: {', '.join(pack)} checkpointed, continuing",
                              file=sys.stderr, flush=True)
                outcomes.update(trained)
        return outcomes

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        # The state is in the run directories: resubmit this same configuration-only job.
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)

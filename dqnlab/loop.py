"""The training loop: act, store, learn, evaluate, record, checkpoint, for a pack of K >= 1 runs.

A single run is a pack of one; K > 1 runs that differ only by seed train in lockstep. The loop
talks to one `learner.Learner` for all of them (`learner_for`: around the run's own `Agent`
alone, a `packed.PackedLearner` for a pack). Each run's own state (envs, replay, agent,
RNGs, counters, logs) is a `run_state.Run`, with its own run directory and checkpoints; the loop is
separate from what a run writes about itself (`run_log.py`), from the schedules (`schedules.py`)
and from checkpoint files (`checkpoint.py`); every stateful part has `state_dict()` /
`load_state_dict()`, so a resumed run continues exactly: on CPU its final progress.csv and
eval.csv equal those of an uninterrupted run, wall-clock columns aside. The entry points that
hold the runs' locks and record failures are in `train.py`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from dqnlab import checkpoint, host_memory, rundir
from dqnlab.learner import Learner, learner_class, learner_for
from dqnlab.pack_rules import pack_mismatch
from dqnlab.progress import ProgressLine
from dqnlab.run_state import Counters, Run
from dqnlab.schedules import beta_at, epsilon_at

__all__ = ["Diverged", "Trainer"]


class Diverged(RuntimeError):
    """The loss of a run (`run_dir`) became NaN or infinite."""

    def __init__(self, message: str, run_dir: Path | None = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir


class Trainer:
    """Trains a pack of K >= 1 runs in lockstep through one `learner.Learner` (alone for K = 1,
    packed for more: one forward for acting, one update for all K); the loop never asks which. The
    runs' step counters, schedules, evaluations and checkpoints move together."""

    def __init__(self, run_dirs: Path | str | Sequence[Path | str], *, device: str = "cpu",
                 progress: bool | None = None) -> None:
        dirs = [Path(run_dirs)] if isinstance(run_dirs, (str, Path)) else [Path(d) for d in run_dirs]
        if not dirs:
            raise ValueError("a pack needs at least one run directory")
        configs = [rundir.read_config(d) for d in dirs]
        if (why := pack_mismatch(configs)) is not None:
            raise ValueError(why)
        # A run alone stages its own batches (a pinned buffer on CUDA); a pack stacks them. One
        # live progress line per process: a run's own, or one over a pack's runs (theirs track
        # without showing).
        staging = learner_class(len(dirs)).stages_batches
        show = progress if len(dirs) == 1 else False
        self.runs = [Run(d, device=device, progress=show, staging=staging) for d in dirs]
        self.cfg = self.runs[0].cfg
        self.display = ProgressLine.over([r.line for r in self.runs], self.cfg.total_steps, enabled=progress)
        # Built by run() from the agents as restored (a pack stacks every network and Adam state).
        self.learner: Learner | None = None

    @property
    def counters(self) -> Counters:
        """The pack's clock: every run's counters step together (its first run's)."""
        return self.runs[0].counters

    @property
    def line(self) -> ProgressLine:
        """The live progress line (should_stop callbacks read its latest evaluation)."""
        return self.display

    # -- state ----------------------------------------------------------------------------------

    def restore(self) -> bool:
        """Load every run's newest readable checkpoint; runs of a pack left at different steps (a
        crash between their writes) go back to the newest step they all have. False if no run had
        a checkpoint (every run starts over)."""
        found = [r.restore() for r in self.runs]
        if not any(found):
            return False
        if all(found) and len({r.counters.step for r in self.runs}) == 1:
            return True
        listed = [set(checkpoint.steps(r.checkpoint_dir)) for r in self.runs]
        common = set.intersection(*listed)
        if not common:
            at = ", ".join(f"{r.run_dir} at {sorted(s) or 'none'}" for r, s in zip(self.runs, listed))
            raise ValueError(f"runs in a pack must resume from the same step; checkpoints: {at}")
        step = max(common)
        for r in self.runs:
            if r.counters.step != step and (not r.restore(at_most=step) or r.counters.step != step):
                raise ValueError(f"{r.run_dir}: no readable checkpoint at step {step}, where the "
                                 "pack resumes; train it alone")
        return True

    def _save_checkpoints(self) -> None:
        self.learner.sync()
        for r in self.runs:
            r.save_checkpoint()

    # -- the loop -------------------------------------------------------------------------------

    def _status(self, state: str, **extra) -> None:
        for r in self.runs:
            r.status(state, **extra)

    def _act(self, epsilon: float) -> list[list[int]]:
        """Every run's actions for its env copies (one forward over all of them)."""
        acts = self.learner.act([np.stack(r.obs) for r in self.runs], epsilon, [r.rng for r in self.runs])
        return [a.tolist() for a in acts]

    def _update(self, step: int) -> None:
        size, beta = self.cfg.agent.batch_size, beta_at(self.cfg, step)
        batches = [r.replay.sample(size, beta, r.staging) for r in self.runs]
        for r, batch, upd in zip(self.runs, batches, self.learner.update(batches)):
            if not math.isfinite(upd.loss):
                raise Diverged(f"loss became {upd.loss} at step {step}", r.run_dir)
            r.replay.update_priorities(batch.indices, upd.priorities)
            r.log.update(upd.loss, upd.q_mean)

    def _finished(self) -> bool:
        """Whether the budget is spent: total_steps agent steps, or in Dopamine's iterations
        (run.iteration_steps) total_steps / iteration_steps completed iterations."""
        c, cfg = self.counters, self.cfg
        if cfg.run.iteration_steps is None:
            return c.step >= cfg.total_steps
        return c.iterations >= cfg.total_steps // cfg.run.iteration_steps

    def _row_due(self, episodes_before: int) -> bool:
        """Whether the step just taken ends a progress.csv row: every run.log_period_steps (and
        at the end), or in Dopamine's iterations at the end of the first episode that brings the
        iteration to run.iteration_steps steps, which completes it (one run: iterations do not
        pack, `pack_rules.trains_alone`)."""
        c, cfg = self.counters, self.cfg
        every = cfg.run.iteration_steps
        if every is None:
            return c.step % cfg.run.log_period_steps == 0 or self._finished()
        if c.episodes == episodes_before or c.step - c.iteration_start < every:
            return False
        c.iterations += 1
        c.iteration_start = c.step
        return True

    def _boundary(self, should_stop: Callable[[], bool], epsilon: float) -> bool:
        """After a step: the evaluations due, the progress lines, the checkpoints, the stop check.
        Returns True if the runs stop here; they have saved a checkpoint at this step first. Each
        phase honours a stop: an evaluation polls should_stop at every one of its steps, and a stop
        asked while the checkpoints were being written is taken at once (no second checkpoint)."""
        cfg, step = self.cfg, self.counters.step
        last = self._finished()

        def poll() -> bool:  # every evaluation step: a heartbeat for every run, then the stop check
            for r in self.runs:
                r.log.beat(step)
            return should_stop()

        due = [r for r in self.runs if r.counters.eval_due]
        if due:
            self.learner.sync()  # each run evaluates through its own agent
        for r in due:
            if not r.evaluate(poll):
                self._save_checkpoints()  # eval_due stays set: the resumed run evaluates first
                return True
        self.display.update(step, epsilon)
        stop = should_stop()
        period = cfg.run.checkpoint_period_steps
        if (period and step % period == 0) or last or stop:
            self._save_checkpoints()
            self._status("running" if not last else "done")
            stop = stop or (not last and should_stop())
        return stop and not last

    def _stopped(self) -> str:
        self.display.close()
        self._status("pending", note="stopped; rerun the same command to resume")
        return "stopped"

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> str:
        """Train to the budget. Returns "done", or "stopped" when should_stop() asked for a halt
        (a checkpoint was written first)."""
        cfg, runs = self.cfg, self.runs
        c = self.counters  # the pack's clock: every run's counters step together
        # Process-wide (torch has no getter to restore it): every run sets it from its own config.
        torch.set_flush_denormal(cfg.run.flush_denormal)
        host_memory.retain_freed_memory()  # no page faults on each update's temporaries
        a_cfg = cfg.agent
        n = cfg.env.num_envs
        self.learner = learner_for([r.agent for r in runs])
        self._status("running")
        # A stop asked while the runs were being loaded: their checkpoints are still the latest state.
        if should_stop():
            return self._stopped()
        # Stopped during an evaluation: evaluate again (same seeds) before the next step.
        if any(r.counters.eval_due for r in runs) and self._boundary(should_stop, epsilon_at(cfg, c.step)):
            return self._stopped()
        t_last, step_last = time.perf_counter(), c.step
        t_prev = t_last
        while not self._finished():
            epsilon = epsilon_at(cfg, c.step)
            episodes_before = c.episodes
            for r, actions in zip(runs, self._act(epsilon)):
                for i, step in enumerate(r.envs.step(actions)):
                    r.record(i, actions[i], step)
            prev = c.step
            for r in runs:
                r.counters.step += n
            # Replay the step counter one agent step at a time: every update and target sync
            # falls on the agent step (and in the order) it falls on with one env, so the replay
            # ratio and the target schedule are the same whatever num_envs is.
            for s in range(prev + 1, c.step + 1):
                if s >= a_cfg.min_replay_steps and s % a_cfg.update_period_steps == 0:
                    self._update(s)
                if s % a_cfg.target_update_period_steps == 0:
                    self.learner.update_target()

            now = time.perf_counter()
            for r in runs:
                r.counters.wall_time_s += now - t_prev
                r.log.beat(c.step)
            t_prev = now
            # The periods below are multiples of num_envs (validated), so `%` sees every one.
            row_due = self._row_due(episodes_before)
            last = self._finished()
            if row_due:
                sps = (c.step - step_last) / max(now - t_last, 1e-9)  # each run's own steps/s
                t_last, step_last = now, c.step
                for r in runs:
                    r.log.write_progress(
                        c.step, episodes=r.counters.episodes, epsilon=epsilon_at(cfg, c.step),
                        updates=r.agent.updates, sps=sps, wall_time_s=r.counters.wall_time_s,
                    )
            if c.step % cfg.eval.period_steps == 0 or last:
                for r in runs:
                    r.counters.eval_due = True
            stopped = self._boundary(should_stop, epsilon)
            t_prev = time.perf_counter()  # evaluations and checkpoints are not training time
            if stopped:
                return self._stopped()
        self.display.close()
        self._status("done")
        return "done"

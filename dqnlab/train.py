"""The training loop: act, store, learn, evaluate, record, checkpoint.

`train(run_dir)` runs (or resumes) the run described by `run_dir/config.json` to its budget;
`train_pack(run_dirs)` does the same for several runs that differ only by seed, in lockstep in one
process (a pack: `packed.py`). A single run is a pack of one, trained by the same loop through its
own `Agent`. Each run's own state (envs, replay, agent, RNGs, counters, logs) is a `run_state.Run`,
with its own run directory and checkpoints; the loop is separate from what a run writes about
itself (`run_log.py`), from the schedules (`schedules.py`) and from checkpoint files
(`checkpoint.py`); every stateful part has `state_dict()` / `load_state_dict()`, so a resumed run
continues exactly: on CPU its final progress.csv and eval.csv equal those of an uninterrupted run,
wall-clock columns aside.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch

from dqnlab import checkpoint, config, rundir, runlock
from dqnlab.config import Config
from dqnlab.packed import PackedLearner
from dqnlab.run_state import Counters, Run, env_seed, resume_seed
from dqnlab.schedules import beta_at, epsilon_at

__all__ = ["Counters", "Diverged", "Trainer", "env_seed", "pack_mismatch", "resume_seed", "train", "train_pack"]


class Diverged(RuntimeError):
    """The loss of a run (`run_dir`) became NaN or infinite."""

    def __init__(self, message: str, run_dir: Path | None = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir


def pack_mismatch(configs: Sequence[Config]) -> str | None:
    """Why runs with these configs cannot share a pack (None if they can): only runs that differ
    by seed alone train the same networks on the same schedule."""
    def flat(cfg: Config) -> dict[str, object]:
        out: dict[str, object] = {}
        stack = [("", config.to_dict(dataclasses.replace(cfg, seed=0)))]
        while stack:
            prefix, d = stack.pop()
            for k, v in d.items():
                if isinstance(v, dict):
                    stack.append((f"{prefix}{k}.", v))
                else:
                    out[prefix + k] = v
        return out

    first = flat(configs[0])
    for cfg in configs[1:]:
        other = flat(cfg)
        if other != first:
            keys = sorted(k for k in first.keys() | other.keys() if first.get(k) != other.get(k))
            return f"runs in a pack must differ only by seed; these also differ in {', '.join(keys)}"
    seeds = [cfg.seed for cfg in configs]
    if len(set(seeds)) != len(seeds):
        return f"runs in a pack must have different seeds, got {seeds}"
    return None


def _first(name: str) -> property:
    return property(lambda self: getattr(self.runs[0], name),
                    doc=f"The run's `{name}` (for a pack, its first run's).")


class Trainer:
    """Trains a pack of K >= 1 runs in lockstep: K = 1 through the run's Agent, K > 1 through a
    PackedLearner (one forward for acting, one update for all K). The runs' step counters,
    schedules, evaluations and checkpoints move together."""

    def __init__(self, run_dirs: Path | str | Sequence[Path | str], *, device: str = "cpu",
                 progress: bool | None = None) -> None:
        dirs = [Path(run_dirs)] if isinstance(run_dirs, (str, Path)) else [Path(d) for d in run_dirs]
        if not dirs:
            raise ValueError("a pack needs at least one run directory")
        configs = [rundir.read_config(d) for d in dirs]
        if (why := pack_mismatch(configs)) is not None:
            raise ValueError(why)
        # One live progress line per process: the first run's.
        self.runs = [Run(d, device=device, progress=progress if i == 0 else False) for i, d in enumerate(dirs)]
        self.cfg = self.runs[0].cfg
        self.packed: PackedLearner | None = None
        self._stack()

    run_dir, counters, agent, envs, replay, obs = (_first(n) for n in ("run_dir", "counters", "agent", "envs", "replay", "obs"))
    line, log, staging, rng = (_first(n) for n in ("line", "log", "staging", "rng"))

    def _stack(self) -> None:
        self.packed = PackedLearner([r.agent for r in self.runs]) if len(self.runs) > 1 else None

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """A single run's full state (what its checkpoint holds)."""
        (run,) = self.runs
        return run.state_dict()

    def load_state_dict(self, state: dict) -> None:
        (run,) = self.runs
        run.load_state_dict(state)

    def restore(self) -> bool:
        """Load every run's newest checkpoint; for a pack, the newest step all its runs have (a
        crash between their writes leaves some a step ahead). False if no run had one."""
        if len(self.runs) == 1:
            return self.runs[0].restore()
        listed = [set(checkpoint.steps(r.checkpoint_dir)) for r in self.runs]
        if not any(listed):
            for r in self.runs:
                r.restore()
            return False
        common = set.intersection(*listed)
        if not common:
            at = ", ".join(f"{r.run_dir} at {sorted(s) or 'none'}" for r, s in zip(self.runs, listed))
            raise ValueError(f"runs in a pack must resume from the same step; checkpoints: {at}")
        step = max(common)
        for r in self.runs:
            if not r.restore(at_most=step) or r.counters.step != step:
                raise ValueError(f"{r.run_dir}: no readable checkpoint at step {step}, where the "
                                 "pack resumes; train it alone")
        self._stack()
        return True

    def _save_checkpoints(self) -> None:
        if self.packed is not None:
            self.packed.sync_agents()
        for r in self.runs:
            r.save_checkpoint()

    # -- the loop -------------------------------------------------------------------------------

    def _status(self, state: str, **extra) -> None:
        for r in self.runs:
            r.status(state, **extra)

    def _act(self, epsilon: float) -> list[list[int]]:
        """Every run's actions for its env copies."""
        if self.packed is not None:
            acts = self.packed.act([np.stack(r.obs) for r in self.runs], epsilon, [r.rng for r in self.runs])
            return [a.tolist() for a in acts]
        (r,) = self.runs
        if len(r.obs) == 1:
            return [[r.agent.act_one(r.obs[0], epsilon, r.rng)]]
        return [r.agent.act(np.stack(r.obs), epsilon, r.rng)[0].tolist()]  # one forward, every env copy

    def _update(self, step: int) -> None:
        size, beta = self.cfg.agent.batch_size, beta_at(self.cfg, step)
        if self.packed is None:
            (r,) = self.runs
            batches = [r.replay.sample(size, beta, r.staging)]
            infos = [r.agent.update(batches[0])]
        else:
            batches = [r.replay.sample(size, beta, None) for r in self.runs]
            infos = self.packed.update(batches)
        for r, batch, upd in zip(self.runs, batches, infos):
            if not math.isfinite(upd.loss):
                raise Diverged(f"loss became {upd.loss} at step {step}", r.run_dir)
            r.replay.update_priorities(batch.indices, upd.priorities)
            r.log.update(upd.loss, upd.q_mean)

    def _update_target(self) -> None:
        if self.packed is not None:
            self.packed.update_target()
        else:
            self.runs[0].agent.update_target()

    def _boundary(self, should_stop: Callable[[], bool], epsilon: float) -> bool:
        """After a step: the evaluations due, the progress lines, the checkpoints, the stop check.
        Returns True if the runs stop here; they have saved a checkpoint at this step first. Each
        phase honours a stop: an evaluation polls should_stop at every one of its steps, and a stop
        asked while the checkpoints were being written is taken at once (no second checkpoint)."""
        cfg, step = self.cfg, self.counters.step
        last = step == cfg.total_steps

        def poll() -> bool:  # every evaluation step: a heartbeat for every run, then the stop check
            for r in self.runs:
                r.log.beat(step)
            return should_stop()

        due = [r for r in self.runs if r.counters.eval_due]
        if due and self.packed is not None:
            self.packed.sync_agents()  # each run evaluates through its own agent
        for r in due:
            if not r.evaluate(poll):
                self._save_checkpoints()  # eval_due stays set: the resumed run evaluates first
                return True
        for r in self.runs:
            r.line.update(step, epsilon)
        stop = should_stop()
        period = cfg.run.checkpoint_period_steps
        if (period and step % period == 0) or last or stop:
            self._save_checkpoints()
            self._status("running" if not last else "done")
            stop = stop or (not last and should_stop())
        return stop and not last

    def _stopped(self) -> str:
        for r in self.runs:
            r.line.close()
        self._status("pending", note="stopped; rerun the same command to resume")
        return "stopped"

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> str:
        """Train to the budget. Returns "done", or "stopped" when should_stop() asked for a halt
        (a checkpoint was written first)."""
        cfg, runs = self.cfg, self.runs
        c = self.counters  # the pack's clock: every run's counters step together
        # Process-wide (torch has no getter to restore it): every run sets it from its own config.
        torch.set_flush_denormal(cfg.run.flush_denormal)
        a_cfg = cfg.agent
        n = cfg.env.num_envs
        self._status("running")
        # A stop asked while the runs were being loaded: their checkpoints are still the latest state.
        if should_stop():
            return self._stopped()
        # Stopped during an evaluation: evaluate again (same seeds) before the next step.
        if any(r.counters.eval_due for r in runs) and self._boundary(should_stop, epsilon_at(cfg, c.step)):
            return self._stopped()
        t_last, step_last = time.perf_counter(), c.step
        t_prev = t_last
        while c.step < cfg.total_steps:
            epsilon = epsilon_at(cfg, c.step)
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
                    self._update_target()

            now = time.perf_counter()
            for r in runs:
                r.counters.wall_time_s += now - t_prev
                r.log.beat(c.step)
            t_prev = now
            last = c.step == cfg.total_steps
            # The periods below are multiples of num_envs (validated), so `%` sees every one.
            if c.step % cfg.run.log_period_steps == 0 or last:
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
        for r in runs:
            r.line.close()
        self._status("done")
        return "done"


def _finished(run_dir: Path) -> bool:
    status = rundir.read_status(run_dir)
    return status.get("state") == "done" and status.get("steps_done", 0) >= status.get("total_steps", 1)


def _record_failure(run_dir: Path, trainer: Trainer | None, error: str) -> None:
    """Mark `run_dir` failed with `error` (at its step, when the trainer got that far) and say so
    on stderr, unless a failure is recorded already."""
    run = next((r for r in trainer.runs if r.run_dir == run_dir), None) if trainer is not None else None
    if run is not None:
        run.line.close()
        recorded = run.log.failed(run.counters.step, error)
    else:
        recorded = rundir.mark_failed(run_dir, error)
    if recorded:
        print(f"dqnlab: run {run_dir} failed: {error}", file=sys.stderr)


def train_pack(
    run_dirs: Sequence[Path],
    *,
    device: str = "cpu",
    should_stop: Callable[[], bool] = lambda: False,
    progress: bool | None = None,
) -> list[str]:
    """Run or resume runs that differ only by seed as one pack, holding every run's lock
    (RunDirBusy if another process trains one). Returns each run's outcome: "done", "stopped" or
    "failed". Finished runs are not trained again. A run whose loss diverges is marked failed and
    the others go on as a smaller pack from their last checkpoints (a resume is exact); any other
    error marks every run still training failed, with the reason and one line on stderr."""
    dirs = [Path(d) for d in run_dirs]
    outcomes = {d: "done" for d in dirs if _finished(d)}
    todo = [d for d in dirs if d not in outcomes]
    with ExitStack() as held:
        for d in todo:
            held.enter_context(runlock.hold(d))
        for d in todo:
            if rundir.read_status(d).get("state") == "failed":  # a retry: this attempt's outcome replaces the error
                rundir.write_status(d, "pending", error=None)
        while todo:
            trainer = None
            try:
                trainer = Trainer(todo, device=device, progress=progress)
                trainer.restore()
                outcome = trainer.run(should_stop)
                outcomes.update(dict.fromkeys(todo, outcome))
                todo = []
            except Diverged as e:
                failed = e.run_dir if e.run_dir in todo else None
                for d in [failed] if failed is not None else todo:
                    _record_failure(d, trainer, f"{type(e).__name__}: {e}")
                    outcomes[d] = "failed"
                todo = [d for d in todo if d != failed] if failed is not None else []
            except Exception as e:  # noqa: BLE001 - recorded per run; the caller reads the outcomes
                for d in todo:
                    _record_failure(d, trainer, f"{type(e).__name__}: {e}")
                    outcomes[d] = "failed"
                todo = []
    return [outcomes[d] for d in dirs]


def train(
    run_dir: Path,
    *,
    device: str = "cpu",
    should_stop: Callable[[], bool] = lambda: False,
    progress: bool | None = None,
) -> str:
    """Run or resume the run in `run_dir` (which must hold config.json), holding its lock
    (`runlock.hold`: RunDirBusy if another process trains it). Marks it failed, with the reason
    and one line on stderr, if anything raises (building the envs and agent, loading the
    checkpoint, training), and raises it again; returns "done" or "stopped"."""
    run_dir = Path(run_dir)
    if _finished(run_dir):
        return "done"
    with runlock.hold(run_dir):
        if rundir.read_status(run_dir).get("state") == "failed":  # a retry: this attempt's outcome replaces the error
            rundir.write_status(run_dir, "pending", error=None)
        trainer = None
        try:
            trainer = Trainer(run_dir, device=device, progress=progress)
            trainer.restore()
            return trainer.run(should_stop)
        except Exception as e:
            _record_failure(run_dir, trainer, f"{type(e).__name__}: {e}")
            raise

"""The training loop: act, store, learn, evaluate, record, checkpoint.

`train(run_dir)` runs (or resumes) the run described by `run_dir/config.json` to its budget. The
loop is separate from what the run writes about itself (`run_log.py`: progress and eval rows,
status), from the schedules (`schedules.py`) and from checkpoint files (`checkpoint.py`); every
stateful part has `state_dict()` / `load_state_dict()`, so a resumed run continues exactly: on CPU
its final progress.csv and eval.csv equal those of an uninterrupted run, wall-clock columns aside.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from dqnlab import checkpoint, devices, rundir, runlock
from dqnlab.agent import Agent
from dqnlab.envs import make_env
from dqnlab.envs.signals import ends_bootstrap, learning_reward
from dqnlab.envs.vector import Step, make_train_envs
from dqnlab.evaluate import evaluate
from dqnlab.replay import ReplayBuffer
from dqnlab.run_log import RunLog
from dqnlab.schedules import beta_at, epsilon_at


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class Counters:
    """Everything the loop counts, saved in checkpoints."""

    step: int = 0
    episodes: int = 0
    episode_return: list[float] = field(default_factory=lambda: [0.0])  # per env copy
    episode_length: list[int] = field(default_factory=lambda: [0])
    wall_time_s: float = 0.0
    evals: int = 0
    eval_due: bool = False
    """An evaluation is due at `step` and not yet written: set when it falls due, cleared when its
    row is written; a run stopped during it evaluates again first when it resumes."""


def env_seed(seed: int, index: int) -> int:
    """Seed of training env copy `index`: the run seed for the first (so one env is the classic
    single-env run), independent derived seeds for the others."""
    if index == 0:
        return seed
    # 31 bits: ALE's vector env takes C ints.
    return int(np.random.SeedSequence([seed, 5, index]).generate_state(1)[0] >> 1)


def resume_seed(seed: int, index: int, step: int) -> int:
    """Seed of the new episode that env copy `index` starts on a resume at `step` when its state
    could not be checkpointed (31 bits: ALE takes C ints)."""
    return int(np.random.SeedSequence([seed, 6, index, step]).generate_state(1)[0] >> 1)


class Trainer:
    def __init__(self, run_dir: Path, *, device: str = "cpu", progress: bool | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.cfg = cfg = rundir.read_config(self.run_dir)
        self.device = devices.resolve(device)
        n = cfg.env.num_envs
        self.envs = make_train_envs(cfg.env, [env_seed(cfg.seed, i) for i in range(n)])
        self.obs = self.envs.reset()
        self.num_actions = self.envs.num_actions
        obs_shape = tuple(self.obs[0].shape)
        self.agent = Agent(cfg, obs_shape, self.num_actions, self.device)
        # One replay stream per env copy: each episode's frames stay contiguous.
        self.replay = ReplayBuffer(
            cfg.replay.capacity, obs_shape, self.obs[0].dtype,
            stack=cfg.env.frame_stack, n_step=cfg.replay.n_step, gamma=cfg.agent.gamma,
            prioritized=cfg.replay.prioritized, alpha=cfg.replay.priority_exponent,
            priority_eps=cfg.replay.priority_eps, num_streams=n, seed=cfg.seed + 2,
        )
        for i, obs in enumerate(self.obs):
            self.replay.start_episode(i, obs)
        # Where every batch is gathered: on CUDA the agent's pinned staging buffer (one copy per
        # update), on the CPU None (the replay allocates and the tensors share its memory).
        self.staging = self.agent.transfer.host_batch(
            cfg.agent.batch_size, self.replay.obs_shape, self.replay.frames.dtype
        )
        self.rng = np.random.default_rng([cfg.seed, 3])  # exploration
        self.counters = Counters(episode_return=[0.0] * n, episode_length=[0] * n)
        self.log = RunLog(self.run_dir, cfg, progress=progress)
        self.line = self.log.line  # the live progress line (should_stop callbacks read eval_return)
        self.checkpoint_dir = self.run_dir / rundir.CHECKPOINT

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        return {
            "counters": asdict(self.counters),
            "agent": self.agent.state_dict(),
            "replay": self.replay.state_dict(),
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "envs": self.envs.snapshots(),
            "obs": list(self.obs),
            "log": self.log.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        if not {"envs", "log"} <= state.keys():
            raise RuntimeError("this checkpoint was written by an older dqnlab; delete the run "
                               "directory's checkpoint/ to start the run again")
        self.counters = Counters(**state["counters"])
        self.agent.load_state_dict(state["agent"])
        self.replay.load_state_dict(state["replay"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        c = self.counters
        for i, snap in enumerate(state["envs"]):
            if snap is not None:
                self.envs.restore(i, snap)
                self.obs[i] = state["obs"][i]
                continue
            # The env could not be snapshotted (Box2D's LunarLander, AtariVectorEnv): the episode in
            # progress at the checkpoint is dropped and a new one starts from a seed derived from
            # the step.
            self.obs[i] = self.envs.reset_copy(i, resume_seed(self.cfg.seed, i, c.step))
            c.episode_return[i], c.episode_length[i] = 0.0, 0
            self.replay.start_episode(i, self.obs[i])
        self.log.load_state_dict(state["log"])

    def save_checkpoint(self) -> None:
        path = checkpoint.save(self.checkpoint_dir, self.counters.step, self.state_dict())
        self.log.last_checkpoint = str(path.relative_to(self.run_dir))

    def restore(self) -> bool:
        found = checkpoint.load_latest(self.checkpoint_dir)
        if found is None:
            self.log.start_over()
            return False
        state, path = found
        self.load_state_dict(state)
        self.log.last_checkpoint = str(path.relative_to(self.run_dir))
        return True

    # -- the loop -------------------------------------------------------------------------------

    def _status(self, state: str, **extra) -> None:
        self.log.status(state, self.counters.step, **extra)

    def _evaluate(self, should_stop: Callable[[], bool]) -> bool:
        """The evaluation due now; False if should_stop() interrupted it (nothing is written)."""
        c, cfg = self.counters, self.cfg
        # Eval randomness depends only on (seed, eval index): evaluating never perturbs training,
        # and an evaluation interrupted by a stop is the same when it is run again.
        rng = np.random.default_rng([cfg.seed, 4, c.evals])
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=cfg.eval.episodes)]

        def poll() -> bool:  # every evaluation step: a heartbeat, then the stop check
            self.log.beat(c.step)
            return should_stop()

        result = evaluate(cfg, self.agent, lambda s: make_env(cfg.env, s, evaluation=True), rng,
                          seeds=seeds, should_stop=poll)
        if result is None:
            return False
        c.evals += 1
        c.eval_due = False
        self.log.write_eval(c.step, c.wall_time_s, result)
        return True

    def _record(self, i: int, action: int, step: Step) -> None:
        """Store env copy i's transition in its replay stream; count an episode that ended."""
        c = self.counters
        reward, env = step.reward, self.cfg.env
        self.replay.add(i, action, learning_reward(env, reward), step.next_obs,
                        ends_bootstrap(env, step.terminated, step.life_loss),
                        step.truncated and not step.terminated)
        c.episode_return[i] += float(reward)
        c.episode_length[i] += 1
        if step.reset_obs is None:
            self.obs[i] = step.next_obs
            return
        c.episodes += 1
        self.log.episode(c.episode_return[i], c.episode_length[i])
        c.episode_return[i], c.episode_length[i] = 0.0, 0
        self.obs[i] = step.reset_obs
        self.replay.start_episode(i, step.reset_obs)

    def _update(self, step: int) -> None:
        cfg, agent, replay = self.cfg, self.agent, self.replay
        batch = replay.sample(cfg.agent.batch_size, beta_at(cfg, step), self.staging)
        upd = agent.update(batch)
        if not math.isfinite(upd.loss):
            raise Diverged(f"loss became {upd.loss} at step {step}")
        replay.update_priorities(batch.indices, upd.priorities)
        self.log.update(upd.loss, upd.q_mean)

    def _boundary(self, should_stop: Callable[[], bool], epsilon: float) -> bool:
        """After a step: the evaluation due, the progress line, the checkpoint, the stop check.
        Returns True if the run stops here; it has saved a checkpoint at this step first. Each
        phase honours a stop: an evaluation polls should_stop at every one of its steps, and a stop
        asked while a checkpoint was being written is taken at once (no second checkpoint)."""
        c, cfg = self.counters, self.cfg
        last = c.step == cfg.total_steps
        if c.eval_due and not self._evaluate(should_stop):
            self.save_checkpoint()  # eval_due stays set: the resumed run evaluates first
            return True
        self.line.update(c.step, epsilon)
        stop = should_stop()
        period = cfg.run.checkpoint_period_steps
        if (period and c.step % period == 0) or last or stop:
            self.save_checkpoint()
            self._status("running" if not last else "done")
            stop = stop or (not last and should_stop())
        return stop and not last

    def _stopped(self) -> str:
        self.line.close()
        self._status("pending", note="stopped; rerun the same command to resume")
        return "stopped"

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> str:
        """Train to the budget. Returns "done", or "stopped" when should_stop() asked for a halt
        (a checkpoint was written first)."""
        cfg, c, agent = self.cfg, self.counters, self.agent
        # Process-wide (torch has no getter to restore it): every run sets it from its own config.
        torch.set_flush_denormal(cfg.run.flush_denormal)
        a_cfg = cfg.agent
        n = cfg.env.num_envs
        self._status("running")
        # A stop asked while the run was being loaded: its checkpoint is still the latest state.
        if should_stop():
            return self._stopped()
        # Stopped during an evaluation: evaluate again (same seeds) before the next step.
        if c.eval_due and self._boundary(should_stop, epsilon_at(cfg, c.step)):
            return self._stopped()
        t_last, step_last = time.perf_counter(), c.step
        t_prev = t_last
        while c.step < cfg.total_steps:
            epsilon = epsilon_at(cfg, c.step)
            if n == 1:
                actions = [agent.act_one(self.obs[0], epsilon, self.rng)]
            else:  # one batched forward pass acts for every env copy
                actions = agent.act(np.stack(self.obs), epsilon, self.rng)[0].tolist()
            for i, step in enumerate(self.envs.step(actions)):
                self._record(i, actions[i], step)
            prev = c.step
            c.step += n
            # Replay the step counter one agent step at a time: every update and target sync
            # falls on the agent step (and in the order) it falls on with one env, so the replay
            # ratio and the target schedule are the same whatever num_envs is.
            for s in range(prev + 1, c.step + 1):
                if s >= a_cfg.min_replay_steps and s % a_cfg.update_period_steps == 0:
                    self._update(s)
                if s % a_cfg.target_update_period_steps == 0:
                    agent.update_target()

            now = time.perf_counter()
            c.wall_time_s += now - t_prev
            t_prev = now
            self.log.beat(c.step)
            last = c.step == cfg.total_steps
            # The periods below are multiples of num_envs (validated), so `%` sees every one.
            if c.step % cfg.run.log_period_steps == 0 or last:
                sps = (c.step - step_last) / max(now - t_last, 1e-9)
                t_last, step_last = now, c.step
                self.log.write_progress(
                    c.step, episodes=c.episodes, epsilon=epsilon_at(cfg, c.step), updates=agent.updates,
                    sps=sps, wall_time_s=c.wall_time_s,
                )
            if c.step % cfg.eval.period_steps == 0 or last:
                c.eval_due = True
            stopped = self._boundary(should_stop, epsilon)
            t_prev = time.perf_counter()  # evaluations and checkpoints are not training time
            if stopped:
                return self._stopped()
        self.line.close()
        self._status("done")
        return "done"


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
    checkpoint, training); returns "done" or "stopped"."""
    status = rundir.read_status(run_dir)
    if status.get("state") == "done" and status.get("steps_done", 0) >= status.get("total_steps", 1):
        return "done"
    with runlock.hold(run_dir):
        if status.get("state") == "failed":  # a retry: this attempt's outcome replaces the error
            rundir.write_status(run_dir, "pending", error=None)
        trainer = None
        try:
            trainer = Trainer(run_dir, device=device, progress=progress)
            trainer.restore()
            return trainer.run(should_stop)
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
            if trainer is not None:
                trainer.line.close()
                recorded = trainer.log.failed(trainer.counters.step, error)
            else:
                recorded = rundir.mark_failed(run_dir, error)
            if recorded:
                print(f"dqnlab: run {run_dir} failed: {error}", file=sys.stderr)
            raise

"""The training loop: act, store, learn, evaluate, record, checkpoint.

`train(run_dir)` runs (or resumes) the run described by `run_dir/config.json` to its budget. The
loop is separate from recording (`recorder.py`) and checkpointing (`checkpoint.py`); every stateful
part has `state_dict()` / `load_state_dict()`, so a resumed run continues exactly: on CPU its final
progress.csv and eval.csv equal those of an uninterrupted run, wall-clock columns aside.
"""

from __future__ import annotations

import math
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from dqnlab import checkpoint, rundir
from dqnlab.agent import Agent
from dqnlab.config import Config
from dqnlab.envs import make_env, snapshot
from dqnlab.evaluate import evaluate
from dqnlab.progress import ProgressLine
from dqnlab.recorder import EVAL_COLUMNS, PROGRESS_COLUMNS, CsvLog
from dqnlab.replay import ReplayBuffer


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


def epsilon_at(cfg: Config, step: int) -> float:
    """Uniform random actions during the warm-up (for every variant, so all arms start from the
    same kind of data), then linear decay from epsilon_start to epsilon_end, then constant."""
    if step < cfg.agent.min_replay_steps:
        return 1.0
    e = cfg.explore
    if e.epsilon_decay_steps == 0:
        return e.epsilon_end
    frac = min(1.0, (step - cfg.agent.min_replay_steps) / e.epsilon_decay_steps)
    return e.epsilon_start + frac * (e.epsilon_end - e.epsilon_start)


def beta_at(cfg: Config, step: int) -> float:
    """PER importance exponent, annealed linearly over the whole budget."""
    r = cfg.replay
    frac = min(1.0, step / cfg.total_steps)
    return r.importance_exponent_start + frac * (r.importance_exponent_end - r.importance_exponent_start)


@dataclass
class Counters:
    """Everything the loop counts, saved in checkpoints."""

    step: int = 0
    episodes: int = 0
    episode_return: float = 0.0
    episode_length: int = 0
    wall_time_s: float = 0.0
    evals: int = 0
    window_returns: list[float] = field(default_factory=list)
    window_lengths: list[int] = field(default_factory=list)
    window_loss: list[float] = field(default_factory=list)
    window_q: list[float] = field(default_factory=list)


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda requested but CUDA is not available")
    return dev


class Trainer:
    def __init__(self, run_dir: Path, *, device: str = "cpu", progress: bool | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.cfg = cfg = rundir.read_config(self.run_dir)
        self.device = _resolve_device(device)
        self.env = make_env(cfg.env, cfg.seed)
        self.obs, _ = self.env.reset(seed=cfg.seed)
        self.num_actions = int(self.env.action_space.n)
        obs_shape = tuple(self.obs.shape)
        self.agent = Agent(cfg, obs_shape, self.num_actions, self.device)
        self.replay = ReplayBuffer(
            cfg.replay.capacity, obs_shape, self.obs.dtype,
            stack=cfg.env.frame_stack, n_step=cfg.replay.n_step, gamma=cfg.agent.gamma,
            prioritized=cfg.replay.prioritized, alpha=cfg.replay.priority_exponent,
            priority_eps=cfg.replay.priority_eps, seed=cfg.seed + 2,
        )
        self.replay.start_episode(0, self.obs)
        self.rng = np.random.default_rng([cfg.seed, 3])  # exploration
        self.counters = Counters()
        self.progress_log = CsvLog(self.run_dir / rundir.PROGRESS, PROGRESS_COLUMNS)
        self.eval_log = CsvLog(self.run_dir / rundir.EVAL, EVAL_COLUMNS)
        self.checkpoint_dir = self.run_dir / rundir.CHECKPOINT
        self.line = ProgressLine(cfg.total_steps, enabled=progress)
        self.last_checkpoint: str | None = None
        self._warned_snapshot = False

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        return {
            "counters": asdict(self.counters),
            "agent": self.agent.state_dict(),
            "replay": self.replay.state_dict(),
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "env": self._env_snapshot(),
            "obs": self.obs,
            "log_offsets": {"progress": self.progress_log.offset(), "eval": self.eval_log.offset()},
        }

    def load_state_dict(self, state: dict) -> None:
        self.counters = Counters(**state["counters"])
        self.agent.load_state_dict(state["agent"])
        self.replay.load_state_dict(state["replay"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        if state["env"] is not None:
            snapshot.restore(self.env, state["env"])
            self.obs = state["obs"]
        else:
            # The env could not be snapshotted (e.g. Box2D's LunarLander): the episode in progress at
            # the checkpoint is dropped and a fresh one starts from a seed derived from the step.
            c = self.counters
            self.obs, _ = self.env.reset(seed=self.cfg.seed + 1_000_003 * c.step)
            c.episode_return, c.episode_length = 0.0, 0
            self.replay.start_episode(0, self.obs)
        self.progress_log.truncate(state["log_offsets"]["progress"])
        self.eval_log.truncate(state["log_offsets"]["eval"])

    def _env_snapshot(self) -> bytes | None:
        try:
            return snapshot.snapshot(self.env)
        except (TypeError, AttributeError, pickle.PicklingError) as e:
            if not self._warned_snapshot:
                print(f"dqnlab: env state cannot be checkpointed ({e}); a resume starts a new episode",
                      file=sys.stderr)
                self._warned_snapshot = True
            return None

    def save_checkpoint(self) -> None:
        path = checkpoint.save(self.checkpoint_dir, self.counters.step, self.state_dict())
        self.last_checkpoint = str(path.relative_to(self.run_dir))

    def restore(self) -> bool:
        found = checkpoint.load_latest(self.checkpoint_dir)
        if found is None:
            # No checkpoint: start over, dropping rows a killed first attempt may have written.
            self.progress_log.truncate(0)
            self.eval_log.truncate(0)
            return False
        state, path = found
        self.load_state_dict(state)
        self.last_checkpoint = str(path.relative_to(self.run_dir))
        return True

    # -- the loop -------------------------------------------------------------------------------

    def _status(self, state: str, **extra) -> None:
        rundir.write_status(
            self.run_dir, state, steps_done=self.counters.step, total_steps=self.cfg.total_steps,
            last_checkpoint=self.last_checkpoint, **extra,
        )

    def _evaluate(self) -> None:
        c, cfg = self.counters, self.cfg
        # Eval randomness depends only on (seed, eval index): evaluating never perturbs training.
        rng = np.random.default_rng([cfg.seed, 4, c.evals])
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=cfg.eval.episodes)]
        result = evaluate(cfg, self.agent, lambda s: make_env(cfg.env, s, evaluation=True), rng, seeds=seeds)
        c.evals += 1
        self.eval_log.write(
            {"step": c.step, "frame": c.step * cfg.env.frame_skip, "wall_time_s": c.wall_time_s, **result}
        )
        self.line.note_eval(result["return_mean"])

    def _log_progress(self, sps: float) -> None:
        c = self.counters
        self.progress_log.write({
            "step": c.step,
            "frame": c.step * self.cfg.env.frame_skip,
            "episodes": c.episodes,
            "episode_return": _mean(c.window_returns),
            "episode_length": _mean(c.window_lengths),
            "loss": _mean(c.window_loss),
            "q_mean": _mean(c.window_q),
            "epsilon": epsilon_at(self.cfg, c.step),
            "updates": self.agent.updates,
            "sps": sps,
            "wall_time_s": c.wall_time_s,
        })
        c.window_returns, c.window_lengths, c.window_loss, c.window_q = [], [], [], []

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> str:
        """Train to the budget. Returns "done", or "stopped" when should_stop() asked for a halt
        (a checkpoint was written first)."""
        cfg, c = self.cfg, self.counters
        agent, replay, env = self.agent, self.replay, self.env
        a_cfg = cfg.agent
        clip = cfg.env.reward_clip
        life_terminal = cfg.env.terminal_on_life_loss
        ckpt_period = cfg.run.checkpoint_period_steps
        self._status("running")
        t_last, step_last = time.perf_counter(), c.step
        t_prev = t_last
        while c.step < cfg.total_steps:
            epsilon = epsilon_at(cfg, c.step)
            action = agent.act_one(self.obs, epsilon, self.rng)
            next_obs, reward, terminated, truncated, info = env.step(action)
            learn_reward = float(np.clip(reward, -1.0, 1.0)) if clip else float(reward)
            terminal = terminated or (life_terminal and bool(info.get("life_loss", False)))
            replay.add(0, action, learn_reward, next_obs, terminal, truncated and not terminated)
            c.step += 1
            c.episode_return += float(reward)
            c.episode_length += 1
            if terminated or truncated:
                c.episodes += 1
                c.window_returns.append(c.episode_return)
                c.window_lengths.append(c.episode_length)
                self.line.note_return(c.episode_return)
                c.episode_return, c.episode_length = 0.0, 0
                self.obs, _ = env.reset()
                replay.start_episode(0, self.obs)
            else:
                self.obs = next_obs

            if c.step >= a_cfg.min_replay_steps and c.step % a_cfg.update_period_steps == 0:
                # On CUDA the replay gathers straight into the agent's pinned staging buffer.
                out = agent.transfer.host_batch(a_cfg.batch_size, replay.obs_shape, replay.frames.dtype)
                batch = replay.sample(a_cfg.batch_size, beta_at(cfg, c.step), out)
                upd = agent.update(batch)
                if not math.isfinite(upd.loss):
                    raise Diverged(f"loss became {upd.loss} at step {c.step}")
                replay.update_priorities(batch.indices, upd.priorities)
                c.window_loss.append(upd.loss)
                c.window_q.append(upd.q_mean)
            if c.step % a_cfg.target_update_period_steps == 0:
                agent.update_target()

            now = time.perf_counter()
            c.wall_time_s += now - t_prev
            t_prev = now
            last = c.step == cfg.total_steps
            if c.step % cfg.run.log_period_steps == 0 or last:
                sps = (c.step - step_last) / max(now - t_last, 1e-9)
                t_last, step_last = now, c.step
                self._log_progress(sps)
            if c.step % cfg.eval.period_steps == 0 or last:
                self._evaluate()
                t_prev = time.perf_counter()
            self.line.update(c.step, epsilon)
            stop = should_stop()
            if (ckpt_period and c.step % ckpt_period == 0) or last or stop:
                self.save_checkpoint()
                self._status("running" if not last else "done")
                t_prev = time.perf_counter()
            if stop and not last:
                self.line.close()
                self._status("pending", note="stopped; rerun the same command to resume")
                return "stopped"
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
    """Run or resume the run in `run_dir` (which must hold config.json). Marks it failed, with the
    reason, if training raises; returns "done" or "stopped"."""
    status = rundir.read_status(run_dir)
    if status.get("state") == "done" and status.get("steps_done", 0) >= status.get("total_steps", 1):
        return "done"
    trainer = Trainer(run_dir, device=device, progress=progress)
    trainer.restore()
    try:
        return trainer.run(should_stop)
    except Exception as e:
        trainer.line.close()
        trainer._status("failed", error=f"{type(e).__name__}: {e}")
        print(f"dqnlab: run {run_dir} failed: {type(e).__name__}: {e}", file=sys.stderr)
        raise

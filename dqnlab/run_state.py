"""One run's own state in the training loop: its env copies, replay, agent, random streams,
counters and logs, and how it is checkpointed, restored, recorded and evaluated.

The loop (`train.Trainer`) drives one or several of these in lockstep; nothing here is shared
between runs, so a run checkpointed in a pack resumes alone, or in another pack, from the same
files in the same format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from dqnlab import checkpoint, devices, rundir
from dqnlab.agent import Agent, agent_seed
from dqnlab.config import to_dict
from dqnlab.envs import make_env
from dqnlab.envs.signals import ends_bootstrap, learning_reward
from dqnlab.envs.vector import Step, make_train_envs
from dqnlab.errors import ResumeRefused
from dqnlab.evaluate import evaluate
from dqnlab.replay import ReplayBuffer
from dqnlab.run_log import RECOVERY, RunLog, logs_problem


@dataclass
class Counters:
    """Everything the loop counts, saved in checkpoints."""

    step: int = 0
    episodes: int = 0
    episode_return: list[float] = field(default_factory=lambda: [0.0])  # per env copy
    episode_length: list[int] = field(default_factory=lambda: [0])
    wall_time_s: float = 0.0
    evals: int = 0
    iterations: int = 0
    """Dopamine iterations completed (run.iteration_steps; 0 otherwise)."""
    iteration_start: int = 0
    """The step the current Dopamine iteration began at."""
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


def drop_damaged_checkpoints(run_dir: Path) -> str | None:
    """`--resume-from-intact`: delete the checkpoints newer than the newest one whose logs hold
    what it recorded (every one when none does: the run then starts again from step 0, its
    logs cut to nothing), so the resume that follows starts there and trains the rest again,
    row for row as an uninterrupted run. Returns what was done, None if the newest is intact."""
    directory = Path(run_dir) / rundir.CHECKPOINT
    dropped: list[Path] = []
    at_most, intact = None, None
    while (found := checkpoint.load_latest(directory, at_most)) is not None:
        state, path = found
        if logs_problem(run_dir, RunLog.marks_of(state["log"])) is None:
            intact = state["counters"]["step"]
            break
        dropped.append(path)
        at_most = state["counters"]["step"] - 1
    if not dropped:
        return None
    for path in dropped:
        path.unlink()
    names = ", ".join(p.name for p in dropped)
    if intact is None:
        return f"{run_dir}: no checkpoint's logs are intact; deleted {names}; the run starts again from step 0"
    return (f"{run_dir}: resuming from step {intact:,}, the newest checkpoint whose logs are intact; "
            f"deleted {names}; the steps after it are trained again")


class Run:
    def __init__(self, run_dir: Path, *, device: str = "cpu", progress: bool | None = None,
                 staging: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.cfg = cfg = rundir.read_config(self.run_dir)
        self.device = devices.resolve(device)
        n = cfg.env.num_envs
        self.envs = make_train_envs(cfg.env, [env_seed(cfg.seed, i) for i in range(n)])
        self.obs = self.envs.reset()
        obs_shape = tuple(self.obs[0].shape)
        self.agent = Agent(cfg, obs_shape, self.envs.num_actions, self.device)
        # One replay stream per env copy: each episode's frames stay contiguous.
        self.replay = ReplayBuffer(
            cfg.replay.capacity, obs_shape, self.obs[0].dtype,
            stack=cfg.env.frame_stack, n_step=cfg.replay.n_step, gamma=cfg.agent.gamma,
            prioritized=cfg.replay.prioritized, alpha=cfg.replay.priority_exponent,
            priority_eps=cfg.replay.priority_eps, num_streams=n, seed=cfg.seed + 2,
            timeout=cfg.replay.timeout,
        )
        for i, obs in enumerate(self.obs):
            self.replay.start_episode(i, obs)
        # Where a run trained alone gathers its batches: on CUDA the agent's pinned staging buffer
        # (one copy per update), on the CPU None (the replay allocates and the tensors share its
        # memory). A pack stacks its runs' batches and asks for none (staging=False).
        self.staging = self.agent.transfer.host_batch(
            cfg.agent.batch_size, self.replay.obs_shape, self.replay.frames.dtype
        ) if staging else None
        self.rng = np.random.default_rng([agent_seed(cfg), 3])  # exploration
        self.counters = Counters(episode_return=[0.0] * n, episode_length=[0] * n)
        self.log = RunLog(self.run_dir, cfg, progress=progress)
        self.line = self.log.line  # the live progress line (should_stop callbacks read eval_return)
        self.checkpoint_dir = self.run_dir / rundir.CHECKPOINT

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        return {
            "config": to_dict(self.cfg),  # what a resume checks config.json against
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

    def check(self, state: dict, path: Path) -> None:
        """Refuse (ResumeRefused, one line) to resume from a checkpoint that config.json no longer
        describes, or whose logs do not hold what it recorded: the run would be half one config
        and half another, or its logs padded or missing rows. Checks only; changes nothing."""
        where = f"the checkpoint at step {state['counters']['step']:,} ({path.name})"
        changes = rundir.config_changes(state.get("config", to_dict(self.cfg)), self.cfg)
        if changes is not None:
            raise ResumeRefused(
                f"{self.run_dir / rundir.CONFIG} is not the config {where} was trained with: {changes}; "
                "put config.json back as it was, or train this config in another run directory", self.run_dir)
        problem = self.log.problem(state["log"])
        if problem is not None:
            raise ResumeRefused(f"{problem} by {where}: {RECOVERY.format(run_dir=self.run_dir)}", self.run_dir)

    def save_checkpoint(self) -> None:
        path = checkpoint.save(self.checkpoint_dir, self.counters.step, self.state_dict())
        self.log.last_checkpoint = str(path.relative_to(self.run_dir))

    def restore(self, at_most: int | None = None) -> bool:
        """Load the newest checkpoint (at step <= `at_most` when given; newer ones are dropped);
        False, with the logs started over, when there is none."""
        if at_most is not None:
            checkpoint.drop_after(self.checkpoint_dir, at_most)
        found = checkpoint.load_latest(self.checkpoint_dir, at_most)
        if found is None:
            self.log.start_over()
            return False
        state, path = found
        self.check(state, path)
        self.load_state_dict(state)
        self.log.last_checkpoint = str(path.relative_to(self.run_dir))
        return True

    # -- events ---------------------------------------------------------------------------------

    def status(self, state: str, **extra) -> None:
        self.log.status(state, self.counters.step, **extra)

    def record(self, i: int, action: int, step: Step) -> None:
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

    def evaluate(self, poll: Callable[[], bool]) -> bool:
        """The evaluation due now, with the run's agent; False if poll() interrupted it (nothing
        is written). poll is called at every evaluation step."""
        c, cfg = self.counters, self.cfg
        # Eval randomness depends only on (seed, eval index): evaluating never perturbs training,
        # and an evaluation interrupted by a stop is the same when it is run again.
        rng = np.random.default_rng([cfg.seed, 4, c.evals])
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=cfg.eval.episodes)]
        result = evaluate(cfg, self.agent, lambda s: make_env(cfg.env, s, evaluation=True), rng,
                          seeds=seeds, should_stop=poll)
        if result is None:
            return False
        c.evals += 1
        c.eval_due = False
        self.log.write_eval(c.step, c.wall_time_s, result)
        return True

"""The training envs of one run: `env.num_envs` copies stepped together, behind one interface.

Two backends (`env.vector_backend`):
* `copies` (default, every family): copies of `make_env`'s pipeline stepped one after another in
  this process, like gymnasium's SyncVectorEnv but with our reset and bootstrap contract. Exact
  checkpoints (each copy is snapshotted).
* `ale` (Atari, machado2018 only): ale-py's C++ `AtariVectorEnv`, which steps the emulators in its
  own threads. Checked pixel for pixel against the `copies` pipeline (same grayscale, max-pool,
  INTER_AREA resize, zero-padded stack; tests/test_vector_envs.py). Its sticky actions draw from
  its own RNG, and its state cannot be saved: a resume starts new episodes in every copy.
  nature2015 is refused: its no-op starts (0..30 here vs our 1..30) and its life-loss signal differ.

`step(actions)` returns one `Step` per copy; when an episode ended, the copy has already been reset
and `reset_obs` holds the new episode's first observation (the learner needs both the final
observation, for a truncation's bootstrap, and the new one).
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from dqnlab.envs import snapshot
from dqnlab.envs.families import ale_games
from dqnlab.envs.make import make_env

BACKENDS = ("copies", "ale")


class Step(NamedTuple):
    next_obs: np.ndarray  # after the action (the final observation if the episode ended)
    reward: float  # raw game reward
    terminated: bool
    truncated: bool
    life_loss: bool  # a life was lost and the config treats that as terminal (nature2015)
    reset_obs: np.ndarray | None  # the next episode's first observation, if this one ended


class EnvCopies:
    """`make_env` copies stepped in turn in this process."""

    def __init__(self, env_cfg: Any, seeds: Sequence[int]) -> None:
        self.seeds = list(seeds)
        self.envs = [make_env(env_cfg, s) for s in self.seeds]
        self.num_actions = int(self.envs[0].action_space.n)
        self._warned = False

    def reset(self) -> list[np.ndarray]:
        return [env.reset(seed=s)[0] for env, s in zip(self.envs, self.seeds)]

    def reset_copy(self, i: int, seed: int) -> np.ndarray:
        return self.envs[i].reset(seed=seed)[0]

    def step(self, actions: Sequence[int]) -> list[Step]:
        out = []
        for env, action in zip(self.envs, actions):
            obs, reward, terminated, truncated, info = env.step(action)
            reset_obs = env.reset()[0] if terminated or truncated else None
            out.append(Step(obs, reward, terminated, truncated, info["life_loss"], reset_obs))
        return out

    def snapshots(self) -> list[bytes | None]:
        """Exact env states for a checkpoint; None for a copy that cannot be saved (Box2D)."""
        out: list[bytes | None] = []
        for env in self.envs:
            try:
                out.append(snapshot.snapshot(env))
            except (TypeError, AttributeError, pickle.PicklingError) as e:
                if not self._warned:
                    print(f"dqnlab: env state cannot be checkpointed ({e}); a resume starts a new "
                          "episode", file=sys.stderr)
                    self._warned = True
                out.append(None)
        return out

    def restore(self, i: int, data: bytes) -> None:
        snapshot.restore(self.envs[i], data)


def check_ale_backend(env_cfg: Any) -> str | None:
    """Why `vector_backend=ale` cannot run this env config (None if it can)."""
    if env_cfg.family != "atari":
        return f"env.vector_backend=ale needs an Atari env, not {env_cfg.id}"
    if env_cfg.noop_max or env_cfg.terminal_on_life_loss:
        return ("env.vector_backend=ale supports the machado2018 protocol only (no no-op starts, "
                "no life-loss terminal): AtariVectorEnv's differ from ours")
    if env_cfg.max_episode_steps is not None:
        return "env.vector_backend=ale has no agent-step episode cap: use env.max_episode_frames"
    return None


class AleVectorEnvs:
    """ale-py's `AtariVectorEnv` with the settings of our Atari pipeline."""

    def __init__(self, env_cfg: Any, seeds: Sequence[int]) -> None:
        problem = check_ale_backend(env_cfg)
        if problem:
            raise ValueError(problem)
        import gymnasium as gym
        from ale_py.vector_env import AtariVectorEnv

        ale_games()  # registers the ALE ids (or raises the install hint)
        self.seeds = np.asarray(seeds, dtype=np.int64) % (2**31)  # ALE takes C ints
        self.venv = AtariVectorEnv(
            gym.spec(env_cfg.id).kwargs["game"], len(self.seeds),
            repeat_action_probability=env_cfg.sticky_action_prob,
            full_action_space=env_cfg.full_action_space,
            max_num_frames_per_episode=env_cfg.max_episode_frames or 108_000,
            frameskip=env_cfg.frame_skip, stack_num=env_cfg.frame_stack,
            img_height=env_cfg.screen_size, img_width=env_cfg.screen_size,
            grayscale=True, maxpool=True, noop_max=0, episodic_life=False, life_loss_info=False,
            # Rewards stay raw (the learner clips; scores are raw); no fire reset (ours has none).
            reward_clipping=False, use_fire_reset=False, autoreset_mode="SameStep",
        )
        self.num_actions = int(self.venv.single_action_space.n)

    def reset(self) -> list[np.ndarray]:
        obs, _ = self.venv.reset(seed=self.seeds)
        return list(obs.copy())

    def reset_copy(self, i: int, seed: int) -> np.ndarray:
        mask = np.zeros(len(self.seeds), dtype=bool)
        mask[i] = True
        obs, _ = self.venv.reset(seed=np.array([seed % 2**31]), options={"reset_mask": mask})
        return obs[i].copy()

    def step(self, actions: Sequence[int]) -> list[Step]:
        obs, rewards, terminated, truncated, info = self.venv.step(np.asarray(actions))
        out = []
        for i in range(len(self.seeds)):
            done = bool(terminated[i] or truncated[i])
            # SameStep autoreset: a finished copy returns its reset observation, the final one is
            # in info["final_obs"].
            final = np.array(info["final_obs"][i]) if done else obs[i].copy()
            out.append(Step(final, float(rewards[i]), bool(terminated[i]), bool(truncated[i]), False,
                            obs[i].copy() if done else None))
        return out

    def snapshots(self) -> list[bytes | None]:
        return [None] * len(self.seeds)  # AtariVectorEnv cannot save its emulators' states

    def restore(self, i: int, data: bytes) -> None:
        raise ValueError("AtariVectorEnv states cannot be restored")


def make_train_envs(env_cfg: Any, seeds: Sequence[int]) -> EnvCopies | AleVectorEnvs:
    if env_cfg.vector_backend == "ale":
        return AleVectorEnvs(env_cfg, seeds)
    return EnvCopies(env_cfg, seeds)

"""The few wrappers that give every family the same observation/info contract.

Imported lazily by `make_env` (it needs gymnasium; importing `dqnlab.envs` must stay cheap).
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces


def derived_seed(seed: int, stream: int) -> int:
    """An independent 32-bit seed for a named RNG stream of a run seed.

    gymnasium seeds envs and spaces with the same PCG64(seed) construction, so seeding the action
    space with the env's own seed would correlate random actions with the env's randomness.
    """
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0])


class Contract(gym.Wrapper):
    """Outermost wrapper: float rewards, a bool `info["life_loss"]`, a seeded action space.

    `info["life_loss"]` is True only on a step where a life was lost AND the config asks for a
    zero discount there (`terminal_on_life_loss`, i.e. the nature2015 protocol); it is always
    present so the learner can read it unconditionally.
    """

    def __init__(self, env: gym.Env, family: str, seed: int | None = None) -> None:
        super().__init__(env)
        self.family = family
        # `make_env(cfg, seed)` then `reset()` is as deterministic as `reset(seed=seed)`.
        self._first_seed = seed

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is None:
            seed = self._first_seed
        self._first_seed = None
        if seed is not None:
            # Random actions (epsilon-greedy, random warm-up) drawn from env.action_space.sample()
            # are then reproducible too.
            self.action_space.seed(derived_seed(seed, 1))
        obs, info = self.env.reset(seed=seed, options=options)
        info["life_loss"] = bool(info.get("life_loss", False))
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["life_loss"] = bool(info.get("life_loss", False))
        return obs, float(reward), bool(terminated), bool(truncated), info


class Float32Observation(gym.ObservationWrapper):
    """Classic control: a float32 vector whatever the env's own dtype."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        box = env.observation_space
        assert isinstance(box, spaces.Box)
        self.observation_space = spaces.Box(
            box.low.astype(np.float32), box.high.astype(np.float32), dtype=np.float32
        )

    def observation(self, observation: Any) -> np.ndarray:
        return np.asarray(observation, dtype=np.float32)


class MinAtarChannelsFirst(gym.ObservationWrapper):
    """MinAtar: bool [10, 10, C] -> uint8 [C, 10, 10] (channels first, like the Atari stack).

    Also seeds MinAtar's own RNG explicitly on `reset(seed=...)`: the game (its spawns and its own
    sticky actions) draws from `env.unwrapped.game.random`, a RandomState separate from
    gymnasium's `np_random`. minatar 1.0.15's reset does seed it; older releases did not.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        h, w, c = env.observation_space.shape
        self.observation_space = spaces.Box(0, 1, shape=(c, h, w), dtype=np.uint8)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self.env.unwrapped.game.seed(seed)
        return super().reset(seed=seed, options=options)

    def observation(self, observation: Any) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(observation, dtype=np.uint8).transpose(2, 0, 1))


class AtariLifeLoss(gym.Wrapper):
    """Sets `info["life_loss"]` on steps where the ALE life counter dropped (nature2015).

    The episode is NOT ended: the game continues, the score keeps accumulating, and only the
    learner's bootstrap uses discount 0 there (DQN Zoo / Hessel et al. 2018). The step that ends the
    game also loses a life in most games, so `life_loss` and `terminated` can both be True.
    When `report` is False (machado2018) the key is always False. `info["lives"]` is ALE's count.
    """

    def __init__(self, env: gym.Env, report: bool) -> None:
        super().__init__(env)
        self.report = report
        self._lives = 0

    def _ale_lives(self) -> int:
        return int(self.env.unwrapped.ale.lives())

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._lives = self._ale_lives()  # after the no-ops, which cannot count as a loss
        info["life_loss"] = False
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = self._ale_lives()
        info["life_loss"] = self.report and lives < self._lives
        self._lives = lives
        return obs, reward, terminated, truncated, info


class FrameStack(gym.Wrapper):
    """Stack the last `k` frames along a new first axis: uint8 [k, H, W], newest last.

    Within an episode the stack slides by one frame per step (obs_{t+1}[:-1] == obs_t[1:]), so a
    replay buffer can store only `obs[-1]` per step. At reset the k-1 frames before the first are
    ZEROS (Dopamine's convention), so a replay that zero-pads across episode starts reconstructs
    every observation exactly without storing anything extra at reset. Each returned observation is
    a fresh array (the agent may keep it).
    """

    def __init__(self, env: gym.Env, k: int) -> None:
        super().__init__(env)
        if k < 1:
            raise ValueError(f"frame_stack must be >= 1, got {k}")
        box = env.observation_space
        assert isinstance(box, spaces.Box)
        self.k = k
        self.observation_space = spaces.Box(0, 255, shape=(k, *box.shape), dtype=box.dtype)
        self._frames = np.zeros((k, *box.shape), dtype=box.dtype)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        frame, info = self.env.reset(seed=seed, options=options)
        self._frames[:-1] = 0
        self._frames[-1] = frame
        return self._frames.copy(), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        frame, reward, terminated, truncated, info = self.env.step(action)
        # numpy handles the overlapping copy correctly (it buffers when memory overlaps).
        self._frames[:-1] = self._frames[1:]
        self._frames[-1] = frame
        return self._frames.copy(), reward, terminated, truncated, info

"""`make_env`: one gymnasium env per config, with the observation/info contract of `dqnlab.envs`."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from dqnlab.envs.families import ATARI_INSTALL_HINT, ale_games, ensure_registered, env_family

if TYPE_CHECKING:
    import gymnasium


def unsupported_settings(cfg: Any) -> str | None:
    """Why the env config cannot be made (its family differs from its id's, or Atari-only
    settings on classic/MinAtar, which would otherwise be silently ignored); None if it can.
    Checked by `make_env` and, before anything is written, by `dqnlab.validation`."""
    family = env_family(cfg.id)
    if cfg.family != family:
        return f"env.family is {cfg.family!r} but {cfg.id} is a {family!r} env"
    if family == "atari":
        return None
    wrong = []
    if cfg.frame_skip != 1:
        wrong.append(f"frame_skip={cfg.frame_skip} (must be 1)")
    if cfg.noop_max != 0:
        wrong.append(f"noop_max={cfg.noop_max} (must be 0)")
    if cfg.terminal_on_life_loss:
        wrong.append("terminal_on_life_loss=True (no lives)")
    if cfg.frame_stack != 1:
        wrong.append(f"frame_stack={cfg.frame_stack} (must be 1)")
    if cfg.max_episode_frames is not None:
        wrong.append("max_episode_frames (use max_episode_steps)")
    if family == "classic" and cfg.sticky_action_prob != 0.0:
        wrong.append(f"sticky_action_prob={cfg.sticky_action_prob} (must be 0)")
    if family == "minatar" and cfg.full_action_space != cfg.id.endswith("-v0"):
        wrong.append(
            f"full_action_space={cfg.full_action_space} (the id decides: -v0 full, -v1 minimal)"
        )
    return f"{cfg.id} ({family}) does not support: " + "; ".join(wrong) if wrong else None


def make_env(cfg: Any, seed: int, *, evaluation: bool = False) -> gymnasium.Env:
    """Build the env described by an `EnvConfig` (read through attributes only).

    Contract (all families): numpy observations (classic float32 [d]; MinAtar uint8 [C, 10, 10];
    Atari uint8 [frame_stack, S, S], a zero-padded sliding window); RAW rewards as float (the
    learner clips); gymnasium terminated/truncated, every time limit being a truncation; a bool
    `info["life_loss"]`. The first `reset()` is seeded with `seed` (or with the seed passed to
    it), which fixes every RNG: the game's, sticky actions, no-ops and `action_space.sample()`.

    `evaluation` selects nothing yet: both protocols evaluate with the training env settings.
    """
    del evaluation  # same protocol in evaluation; kept so callers need not change later
    if (problem := unsupported_settings(cfg)) is not None:
        raise ValueError(problem)
    family = env_family(cfg.id)
    ensure_registered(family)

    import gymnasium as gym

    from dqnlab.envs import wrappers as w

    if family == "atari":
        env = _make_atari(cfg)
    else:
        # MinAtar's own sticky actions (its default is 0.1, per frame = per step) come from the
        # config, so they are recorded; it has no default time limit.
        kwargs = {} if family == "classic" else {"sticky_action_prob": cfg.sticky_action_prob}
        with warnings.catch_warnings():
            # gymnasium calls CartPole-v0 and MinAtar's v0 ids (all 6 actions) out of date, but
            # they are what Revisiting Rainbow ran.
            warnings.filterwarnings("ignore", message=".*out of date", category=DeprecationWarning)
            env = gym.make(cfg.id, max_episode_steps=cfg.max_episode_steps, **kwargs)
        env = w.Float32Observation(env) if family == "classic" else w.MinAtarChannelsFirst(env)
    return w.Contract(env, family, seed)


def _make_atari(cfg: Any) -> gymnasium.Env:
    import gymnasium as gym

    from dqnlab.envs import wrappers as w

    try:
        from gymnasium.wrappers import AtariPreprocessing
    except ImportError as exc:  # pragma: no cover - gymnasium always has it; cv2 is checked below
        raise ImportError(ATARI_INSTALL_HINT) from exc
    try:
        import cv2  # noqa: F401  (AtariPreprocessing imports it lazily, on the first step)
    except ImportError as exc:
        raise ImportError(ATARI_INSTALL_HINT + " (opencv-python-headless is missing)") from exc
    ale_games()  # raises the install hint if ale-py is missing

    kwargs: dict[str, Any] = {
        # Skipping is done by AtariPreprocessing, one ALE frame at a time, so sticky actions apply
        # per emulator frame (Machado et al. 2018) and the last two frames can be max-pooled.
        "frameskip": 1,
        "repeat_action_probability": cfg.sticky_action_prob,
        "full_action_space": cfg.full_action_space,
    }
    # None keeps the v5 default (108,000 frames); ALE counts every frame, no-ops included, and
    # reports reaching the cap as a truncation.
    if cfg.max_episode_frames is not None:
        kwargs["max_num_frames_per_episode"] = cfg.max_episode_frames
    env = gym.make(cfg.id, **kwargs)
    env = AtariPreprocessing(
        env,
        noop_max=cfg.noop_max,  # 1..noop_max no-ops drawn from the ALE env's seeded np_random
        frame_skip=cfg.frame_skip,
        screen_size=cfg.screen_size,
        terminal_on_life_loss=False,  # never end the episode on a life loss (see AtariLifeLoss)
        grayscale_obs=True,
        grayscale_newaxis=False,
        scale_obs=False,
    )
    env = w.AtariLifeLoss(env, report=cfg.terminal_on_life_loss)
    env = w.FrameStack(env, cfg.frame_stack)
    if cfg.max_episode_steps is not None:
        # An agent-step cap on top of the frame cap, outside the frame skipping.
        env = gym.wrappers.TimeLimit(env, max_episode_steps=cfg.max_episode_steps)
    return env

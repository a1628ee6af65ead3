"""The two named Atari evaluation protocols, as data.

Every key of a protocol is an `EnvConfig` field, so `presets.py` can copy a protocol straight into
the run's config (and hence into config.json). Preprocessing facts that are the same under both
protocols and have no config field are listed in `ATARI_FIXED` instead.

Sources:
* `machado2018`: Machado et al. 2018, "Revisiting the ALE", as used by Dopamine: sticky actions
  (0.25 per emulator frame), no no-op starts, no life-loss signal, 108k-frame episode cap.
* `nature2015`: Mnih et al. 2015 as used by Hessel et al. 2018 and DQN Zoo: deterministic ALE,
  1..30 random no-ops at reset, a life loss bootstraps with discount 0 but does not reset the game.
"""

from __future__ import annotations

import copy
from typing import Any

_COMMON: dict[str, Any] = {
    "frame_skip": 4,
    "screen_size": 84,
    "frame_stack": 4,
    # Clipping is applied by the learner, never by the env: evaluation reports raw game scores.
    "reward_clip": True,
    # ALE counts emulator frames, so 108k frames = 27k agent steps at frame_skip 4 (30 minutes).
    "max_episode_frames": 108_000,
    "max_episode_steps": None,
    "full_action_space": False,
}

PROTOCOLS: dict[str, dict[str, Any]] = {
    "machado2018": {
        **_COMMON,
        "sticky_action_prob": 0.25,
        "noop_max": 0,
        "terminal_on_life_loss": False,
    },
    "nature2015": {
        **_COMMON,
        "sticky_action_prob": 0.0,
        "noop_max": 30,
        # In EnvConfig this means "discount 0 on a life loss, no reset": the env reports it as
        # info["life_loss"]; the episode (and the score) continues until the game is over.
        "terminal_on_life_loss": True,
    },
}

# Identical under both protocols and not configurable: recorded here so they are stated once.
ATARI_FIXED: dict[str, Any] = {
    "ale_version": "v5",
    "ale_frameskip": 1,  # frame skipping is done by the wrapper so sticky actions apply per frame
    "max_pool_last_frames": 2,  # max over the last 2 emulator frames of each agent step
    "grayscale": True,
    "resize_interpolation": "cv2.INTER_AREA",
    "frame_stack_padding": "zeros",  # as Dopamine: frames before the episode start are zero
    "fire_on_reset": False,
    "action_set": "minimal unless full_action_space",
}


def protocol_settings(protocol: str) -> dict[str, Any]:
    """A copy of the `EnvConfig` settings of a named Atari protocol.

    `"none"` (classic control and MinAtar) has no settings and returns `{}`.
    """
    if protocol == "none":
        return {}
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown Atari protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    return copy.deepcopy(PROTOCOLS[protocol])

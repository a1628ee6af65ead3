"""The two named Atari protocols: how the games are played and scored.

They set `env.*` only; the agent's hyperparameters are the `atari` preset's (Hessel et al. 2018,
Table 1), the same under both. Preprocessing facts that are the same under both protocols and
have no config field are listed in `ATARI_FIXED`.

Sources:
* `machado2018`: Machado et al. 2018, "Revisiting the ALE", as used by Dopamine: sticky actions
  (0.25 per emulator frame), no no-op starts, no life-loss signal, 108k-frame episode cap.
* `nature2015`: Mnih et al. 2015 as used by Hessel et al. 2018 and DQN Zoo: deterministic ALE,
  1..30 random no-ops at reset, a life loss bootstraps with discount 0 but does not reset the game.
"""

from __future__ import annotations

from typing import Any

from dqnlab.protocols import Protocol

_COMMON: dict[str, Any] = {
    "env.frame_skip": 4,
    "env.screen_size": 84,
    "env.frame_stack": 4,
    # Clipping is applied by the learner, never by the env: evaluation reports raw game scores.
    "env.reward_clip": True,
    # ALE counts emulator frames, so 108k frames = 27k agent steps at frame_skip 4 (30 minutes).
    "env.max_episode_frames": 108_000,
    "env.max_episode_steps": None,
    "env.full_action_space": False,
}

MACHADO2018 = Protocol(
    name="machado2018",
    source="Machado et al. 2018, as in Dopamine",
    families={"atari": {
        **_COMMON,
        "env.sticky_action_prob": 0.25,
        "env.noop_max": 0,
        "env.terminal_on_life_loss": False,
    }},
)

NATURE2015 = Protocol(
    name="nature2015",
    source="Mnih et al. 2015, as in Hessel et al. 2018",
    families={"atari": {
        **_COMMON,
        "env.sticky_action_prob": 0.0,
        "env.noop_max": 30,
        # In EnvConfig this means "discount 0 on a life loss, no reset": the env reports it as
        # info["life_loss"]; the episode (and the score) continues until the game is over.
        "env.terminal_on_life_loss": True,
    }},
)

PROTOCOLS: tuple[Protocol, ...] = (MACHADO2018, NATURE2015)

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

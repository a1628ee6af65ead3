"""Environment construction for three families: classic control, MinAtar and Atari (ALE v5).

Public API:
* `env_family(env_id)` -> "classic" | "minatar" | "atari" (ValueError for anything else).
* `make_env(cfg, seed, evaluation=False)`: a gymnasium env with the contract documented there.

Importing this package is cheap: gymnasium, minatar and ale-py are imported on first use, and
ale-py (the optional extra `dqnlab[atari]`) only for Atari ids.
"""

from __future__ import annotations

from dqnlab.envs.families import (
    CLASSIC_IDS,
    LUNAR_LANDER_ID,
    MINATAR_GAMES,
    MINATAR_IDS,
    box2d_available,
    classic_ids,
    env_family,
)
from dqnlab.envs.make import make_env

__all__ = [
    "CLASSIC_IDS",
    "LUNAR_LANDER_ID",
    "MINATAR_GAMES",
    "MINATAR_IDS",
    "box2d_available",
    "classic_ids",
    "env_family",
    "make_env",
]

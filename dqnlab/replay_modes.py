"""The replay's choices that papers' code made differently, as data: how a time-limit truncation is
stored (`replay.timeout`) and what a scalar head's priority is (`replay.scalar_priority`).

Its own module, free of numpy kernels and torch, so config validation and sweep planning read it
without importing the replay; `replay/accumulator.py` and the agent act on the names.
"""

from __future__ import annotations

TIMEOUTS: dict[str, str] = {
    "bootstrap": "the n-step return stops at the time limit and bootstraps from the episode's last "
    "observation (the limit is not part of the task)",
    "terminal": "stored as a termination: the n-step return stops there with no bootstrap "
    "(Dopamine 3.1.8: Runner._end_episode -> JaxDQNAgent.end_episode stores every episode end with "
    "is_terminal=True)",
    "next_episode": "stored as non-terminal with no episode end, the final observation dropped: the "
    "pending n-step returns run on into the next episode's first rewards and bootstrap from its "
    "states (Dopamine >= 3.1.9 with Revisiting Rainbow's _store_transition, which has no "
    "episode_end argument)",
}
"""`replay.timeout`: what a time-limit truncation stores."""

SCALAR_PRIORITIES: dict[str, str] = {
    "abs_td": "|TD error| (Schaul et al. 2016)",
    "loss": "the per-sample loss (Dopamine's and Revisiting Rainbow's prioritized DQN agents: "
    "priority sqrt(loss + 1e-10), i.e. alpha 0.5 on the loss)",
}
"""`replay.scalar_priority`: a scalar head's new priority after an update."""

"""Prioritized experience replay (Schaul et al. 2016), proportional variant: the replay's sampler
is swapped for `replay.samplers.PrioritizedSampler`, the learner weights each sample's loss by its
importance weight, and the trainer writes new priorities after every update. Off: the uniform
sampler and no weights (`replay.ReplayBuffer` reads replay.prioritized).
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="per",
    paper="Schaul et al. 2016, https://arxiv.org/abs/1511.05952",
    slot="sampler",
    settings={"replay.prioritized": True},
    couplings=(
        "proportional prioritized sampler (alpha = replay.priority_exponent)",
        "per-sample losses weighted by importance weights (beta annealed to 1), normalized by their max",
        "priorities updated after every gradient step; new transitions enter at the max priority seen",
    ),
)

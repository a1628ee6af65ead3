"""Multi-step returns (Sutton 1988; as in Rainbow, Hessel et al. 2018): the replay's accumulator
sums n discounted rewards and the bootstrap uses gamma^n, so every target (scalar, categorical,
double, munchausen) serves n-step transitions unchanged. Off: n = 1
(`replay.accumulator.NStepAccumulator` reads replay.n_step).
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="nstep",
    paper="Sutton 1988; Hessel et al. 2018, https://arxiv.org/abs/1710.02298",
    slot="returns",
    settings={"replay.n_step": 3},
    couplings=("n = 3 step returns; bootstrap with gamma^n (or gamma^k when the episode is cut after k steps)",),
)

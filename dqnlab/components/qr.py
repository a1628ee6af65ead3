"""QR-DQN (Dabney et al. 2018a), a component beyond Rainbow's six: the quantile head
(`dqnlab/heads/quantile.py`), whose quantiles at fixed fractions are regressed with the quantile
Huber loss. Off: a scalar head with the preset's loss. It is a head, so it cannot run with
another head's component (c51, iqn).
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="qr",
    paper="Dabney et al. 2018a, https://arxiv.org/abs/1710.10044",
    slot="head",
    settings={"network.head": "quantile", "agent.loss": "quantile_huber"},
    couplings=(
        "quantile head: quantile.num_quantiles quantiles per action at fractions (2i + 1) / 2N, Q their mean",
        "target = the target network's quantiles at a*, r + gamma^n theta_j",
        "quantile Huber loss (quantile.kappa); with per, priorities come from that loss",
    ),
    incompatible={"c51": "both are heads: a network has one", "iqn": "both are heads: a network has one"},
)

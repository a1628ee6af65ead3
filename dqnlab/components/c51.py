"""Distributional RL with a categorical head, C51 (Bellemare et al. 2017): the network outputs a
distribution over num_atoms fixed atoms per action (Q is its mean), the bootstrap is the projection
of r + gamma^n z onto the support, and the loss is the cross-entropy to it. The head decides the
rest (`dqnlab/heads/categorical.py`: its TD loss, bootstrap, atoms and support).
Off: a scalar head with the preset's huber or mse loss.
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="c51",
    paper="Bellemare et al. 2017, https://arxiv.org/abs/1707.06887",
    slot="head",
    settings={"network.head": "categorical", "agent.loss": "cross_entropy"},
    couplings=(
        "categorical head (dqnlab/heads/categorical.py): categorical.num_atoms (51) atoms on "
        "[categorical.v_min, categorical.v_max]",
        "target = the categorical projection of r + gamma^n z (Bellemare et al. 2017, eq. 7)",
        "cross-entropy loss; with per, priorities come from that loss instead of |TD error|",
    ),
)

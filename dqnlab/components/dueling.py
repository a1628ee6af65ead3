"""Dueling networks (Wang et al. 2016): the head splits into a value stream V(s) and an advantage
stream A(s, a), recombined as V + A - mean_a A (per atom for a categorical head). Off: one stream
(`networks.QNetwork` reads network.dueling).
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="dueling",
    paper="Wang et al. 2016, https://arxiv.org/abs/1511.06581",
    slot="head",
    settings={"network.dueling": True},
    couplings=("value and advantage streams; advantages centred by their mean over actions",),
)

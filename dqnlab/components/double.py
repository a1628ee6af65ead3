"""Double DQN (van Hasselt et al. 2016): the online network selects the bootstrap action and the
target network evaluates it, which removes most of max-Q's overestimation. For a distributional
head the online network's means select the action whose target distribution (C51: projected) or
quantiles (QR-DQN, IQN: at their own fractions) are used (Double C51, as in Rainbow). Off: the
target network both selects and evaluates (textbook DQN / C51 / QR-DQN / IQN). Every head's own
bootstrap does the selecting (`select="online"`), so double serves every head.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dqnlab import heads
from dqnlab.components.base import Bootstrap, Component

if TYPE_CHECKING:
    from dqnlab.config import Config


def _targets(cfg: Config) -> Mapping[str, Bootstrap]:
    """Every head's textbook bootstrap with the online network selecting a*."""
    return {name: functools.partial(head.bootstrap, select="online") for name, head in heads.HEADS.items()}


COMPONENT = Component(
    name="double",
    paper="van Hasselt et al. 2016, https://arxiv.org/abs/1509.06461",
    slot="target",
    settings={"agent.double": True},
    couplings=("the online network selects the bootstrap action, the target network evaluates it",),
    targets=_targets,
)

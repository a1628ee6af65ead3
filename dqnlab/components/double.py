"""Double DQN (van Hasselt et al. 2016): the online network selects the bootstrap action and the
target network evaluates it, which removes most of max-Q's overestimation. For a categorical head
the online network's means select the action whose target distribution is projected (Double C51,
as in Rainbow). Off: the target network both selects and evaluates (textbook DQN / C51).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dqnlab.components.base import Bootstrap, Component

if TYPE_CHECKING:
    from dqnlab.config import Config


def _targets(cfg: Config) -> Mapping[str, Bootstrap]:
    from dqnlab import bootstrap, targets  # torch: imported when an agent is built

    def scalar(online, target, b):
        t_out = target(b.next_obs)
        return targets.double_q_learning_target(
            b.ret, b.discount, t_out.q_values, bootstrap.by_online(online, t_out, b.next_obs)
        )

    return {"scalar": scalar, "categorical": functools.partial(bootstrap.categorical, select=bootstrap.by_online)}


COMPONENT = Component(
    name="double",
    paper="van Hasselt et al. 2016, https://arxiv.org/abs/1509.06461",
    slot="target",
    settings={"agent.double": True},
    couplings=("the online network selects the bootstrap action, the target network evaluates it",),
    targets=_targets,
)

"""Bootstrap targets computed from the networks: what the loss regresses on, per head kind.

The math is in `targets.py` (pure functions of tensors); here each is fed from the online and
target networks and a batch, as `(online, target, batch) -> target` (`components.base.Bootstrap`).
`TEXTBOOK` is the bootstrap of each head kind with no target component on; a `target` component
(double, munchausen) brings its own, built from these parts.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from dqnlab import targets
from dqnlab.batch import TensorBatch
from dqnlab.networks import QNetwork, QOutput

Selector = Callable[[QNetwork, QOutput, torch.Tensor], torch.Tensor]
"""(online, target network's output at s_t, s_t) -> [B, A] values whose argmax is the bootstrap action."""


def by_target(online: QNetwork, target_out: QOutput, next_obs: torch.Tensor) -> torch.Tensor:
    """The target network picks a* (DQN, C51)."""
    return target_out.q_values


def by_online(online: QNetwork, target_out: QOutput, next_obs: torch.Tensor) -> torch.Tensor:
    """The online network picks a* (Double DQN; Double C51 as in Rainbow)."""
    return online(next_obs).q_values


def q_learning(online: QNetwork, target: QNetwork, b: TensorBatch) -> torch.Tensor:
    """y = r_t + discount_t max_a q_target(s_t, a) (Mnih et al. 2015). [B]"""
    return targets.q_learning_target(b.ret, b.discount, target(b.next_obs).q_values)


def categorical(
    online: QNetwork, target: QNetwork, b: TensorBatch, select: Selector = by_target
) -> torch.Tensor:
    """The C51 target distribution: r_t + discount_t z under the target network's distribution at
    a* = argmax of `select`, projected onto the support (Bellemare et al. 2017). [B, N]"""
    t_out = target(b.next_obs)
    return targets.categorical_q_learning_target(
        b.ret, b.discount, torch.softmax(t_out.logits, dim=-1), select(online, t_out, b.next_obs),
        online.support,
    )


TEXTBOOK = {"scalar": q_learning, "categorical": categorical}
"""Each head kind's bootstrap when no target component is on."""

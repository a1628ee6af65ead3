"""The scalar head (Mnih et al. 2015): one expected return Q(s, a) per action, regressed on the
bootstrap target y by a loss of the TD error y - Q(s, a) (Huber or squared).

Its new PER priority is |TD error| (Schaul et al. 2016), or the per-sample loss under
`replay.scalar_priority = loss` (Dopamine's and Revisiting Rainbow's DQN agents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dqnlab import losses, targets
from dqnlab.heads.base import (
    Bootstrap,
    Head,
    LossOutput,
    QOutput,
    TauSampler,
    TDLoss,
    by_policy,
    taken,
)

if TYPE_CHECKING:
    import torch

    from dqnlab.batch import TensorBatch
    from dqnlab.config import Config

LOSSES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"huber": losses.huber, "mse": losses.squared}


def output(out: torch.Tensor, taus: torch.Tensor | None, net: Any) -> QOutput:
    """[.., A, 1] -> Q [.., A]."""
    return QOutput(out.squeeze(-1))


def bootstrap(online: Any, target: Any, b: TensorBatch, taus: TauSampler, *, select: str = "target") -> torch.Tensor:
    """y = r_t + discount_t q_target(s_t, a*) with a* the argmax of the target network's Q-values
    (DQN, Mnih et al. 2015) or the online network's (double, van Hasselt et al. 2016). [B]"""
    q_t = target(b.next_obs).q_values
    if select == "target":
        return targets.q_learning_target(b.ret, b.discount, q_t)
    return targets.double_q_learning_target(b.ret, b.discount, q_t, online(b.next_obs).q_values)


def td_loss(cfg: Config, boot: Bootstrap) -> TDLoss:
    import torch

    loss_fn = LOSSES[cfg.agent.loss]
    priority_is_loss = cfg.replay.scalar_priority == "loss"

    def scalar_td_loss(online: Any, target: Any, b: TensorBatch, taus: TauSampler) -> LossOutput:
        """Regression of the online Q(s, a) on the (n-step) bootstrap target y [B]."""
        q_taken = taken(online(b.obs).q_values, b.action)
        with torch.no_grad():
            y = boot(online, target, b, taus)
        td = y - q_taken
        per_sample = loss_fn(td)
        priority = per_sample.detach() if priority_is_loss else td.detach().abs()
        return LossOutput(per_sample, priority, q_taken.detach())

    return scalar_td_loss


HEAD = Head(
    name="scalar",
    paper="Mnih et al. 2015, https://doi.org/10.1038/nature14236",
    describe="one expected return Q(s, a) per action",
    losses={"huber": "Huber loss of the TD error, delta 1", "mse": "the squared TD error (RR's DQN: no 1/2)"},
    width=lambda cfg: 1,
    output=output,
    td_loss=td_loss,
    bootstrap=bootstrap,
    policy_q=by_policy,
)

"""The categorical head, C51 (Bellemare et al. 2017): per action, logits over num_atoms fixed
atoms on [v_min, v_max]; Q is the distribution's mean. The bootstrap is the projection of
r + gamma^n z onto the support, the loss the cross-entropy to it, and the new PER priority that
loss (as Rainbow, Hessel et al. 2018). The c51 component switches it on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
    taken_dist,
)
from dqnlab.knobs import knob

if TYPE_CHECKING:
    import torch

    from dqnlab.batch import TensorBatch
    from dqnlab.config import Config


@dataclass(frozen=True)
class CategoricalConfig:
    num_atoms: int = knob(51, "atoms of the return distribution (C51: 51)")
    v_min: float = knob(-10.0, "lowest atom of the support")
    v_max: float = knob(10.0, "highest atom of the support")


def check(cfg: Config) -> str | None:
    c = cfg.categorical
    if c.num_atoms < 2:
        return f"categorical.num_atoms must be >= 2, got {c.num_atoms}"
    if not (math.isfinite(c.v_min) and math.isfinite(c.v_max) and c.v_min < c.v_max):
        return f"a categorical head (c51) needs finite v_min < v_max, got [{c.v_min}, {c.v_max}]"
    return None


def buffers(cfg: Config) -> dict[str, torch.Tensor]:
    """The support: num_atoms atoms evenly spaced on [v_min, v_max]."""
    import torch

    c = cfg.categorical
    return {"support": torch.linspace(c.v_min, c.v_max, c.num_atoms)}


def output(out: torch.Tensor, taus: torch.Tensor | None, net: Any) -> QOutput:
    """[.., A, N] logits -> Q [.., A], the mean over the support."""
    return QOutput((out.softmax(dim=-1) * net.support).sum(dim=-1), out)


def bootstrap(online: Any, target: Any, b: TensorBatch, taus: TauSampler, *, select: str = "target") -> torch.Tensor:
    """The C51 target distribution: r_t + discount_t z under the target network's distribution at
    a*, the argmax of the target network's means (C51) or the online network's (Double C51, as in
    Rainbow), projected onto the support (Bellemare et al. 2017, eq. 7). [B, N]"""
    t_out = target(b.next_obs)
    selector = t_out.q_values if select == "target" else online(b.next_obs).q_values
    return targets.categorical_q_learning_target(
        b.ret, b.discount, t_out.dist.softmax(dim=-1), selector, target.support,
    )


def td_loss(cfg: Config, boot: Bootstrap) -> TDLoss:
    import torch

    def categorical_td_loss(online: Any, target: Any, b: TensorBatch, taus: TauSampler) -> LossOutput:
        """Cross-entropy between the bootstrap target distribution [B, N] and the online logits."""
        out = online(b.obs)
        with torch.no_grad():
            target_probs = boot(online, target, b, taus)
        ce = losses.categorical_cross_entropy(target_probs, taken_dist(out.dist, b.action))
        return LossOutput(ce, ce.detach(), taken(out.q_values, b.action).detach())

    return categorical_td_loss


HEAD = Head(
    name="categorical",
    paper="Bellemare et al. 2017, https://arxiv.org/abs/1707.06887",
    describe="per action, logits over categorical.num_atoms atoms on [v_min, v_max]; Q is their mean",
    losses={"cross_entropy": "cross-entropy to the projected target distribution"},
    width=lambda cfg: cfg.categorical.num_atoms,
    output=output,
    buffers=buffers,
    td_loss=td_loss,
    bootstrap=bootstrap,
    policy_q=by_policy,
    config=CategoricalConfig,
    check=check,
)

"""The quantile head, QR-DQN (Dabney et al. 2018a, "Distributional Reinforcement Learning with
Quantile Regression", https://arxiv.org/abs/1710.10044): per action, the values of N quantiles
of the return at the fixed fractions tau_i = (2i + 1) / 2N; Q is their mean. The bootstrap moves
the target network's quantiles at a* (r_t + discount_t theta_j), the loss is the quantile Huber
loss with threshold kappa, not divided by kappa (their eq. 10; `losses.quantile_huber`), and the
new PER priority is that loss. The qr component switches it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dqnlab import targets
from dqnlab.heads.base import (
    Bootstrap,
    Head,
    LossOutput,
    QOutput,
    TauSampler,
    TDLoss,
    by_policy,
    quantile_loss,
)
from dqnlab.knobs import knob

if TYPE_CHECKING:
    import torch

    from dqnlab.batch import TensorBatch
    from dqnlab.config import Config


@dataclass(frozen=True)
class QuantileConfig:
    num_quantiles: int = knob(200, "N, quantiles per action at fractions (2i + 1) / 2N (Dabney et al.: 200)")
    kappa: float = knob(1.0, "threshold of the quantile Huber loss (0: the quantile regression L1 loss)")


def check(cfg: Config) -> str | None:
    q = cfg.quantile
    if q.num_quantiles < 1:
        return f"quantile.num_quantiles must be >= 1, got {q.num_quantiles}"
    if not q.kappa >= 0:
        return f"quantile.kappa must be >= 0, got {q.kappa}"
    return None


def fractions(n: int) -> torch.Tensor:
    """tau_i = (2i + 1) / 2N, i = 0 .. N-1: the midpoints QR-DQN's quantiles sit at. [N]"""
    import torch

    return (2 * torch.arange(n, dtype=torch.float32) + 1) / (2 * n)


def output(out: torch.Tensor, taus: torch.Tensor | None, net: Any) -> QOutput:
    """[.., A, N] quantile values -> Q [.., A], their mean."""
    return QOutput(out.mean(dim=-1), out, net.taus)


def bootstrap(online: Any, target: Any, b: TensorBatch, taus: TauSampler, *, select: str = "target") -> torch.Tensor:
    """r_t + discount_t theta_j(s_t, a*) for the target network's quantiles, a* the argmax of its
    means (QR-DQN) or of the online network's (double). [B, N]"""
    t_out = target(b.next_obs)
    selector = t_out.q_values if select == "target" else online(b.next_obs).q_values
    return targets.quantile_q_learning_target(b.ret, b.discount, t_out.dist, selector)


def td_loss(cfg: Config, boot: Bootstrap) -> TDLoss:
    import torch

    kappa = cfg.quantile.kappa

    def quantile_td_loss(online: Any, target: Any, b: TensorBatch, taus: TauSampler) -> LossOutput:
        """The quantile Huber loss of the taken action's quantiles against the target's."""
        out = online(b.obs)
        with torch.no_grad():
            y = boot(online, target, b, taus)
        return quantile_loss(out, b.action, y, kappa, divide_by_kappa=False)

    return quantile_td_loss


HEAD = Head(
    name="quantile",
    paper="Dabney et al. 2018a, https://arxiv.org/abs/1710.10044",
    describe="per action, the values of quantile.num_quantiles quantiles at fixed fractions; Q is their mean",
    losses={"quantile_huber": "the quantile Huber loss, threshold quantile.kappa"},
    width=lambda cfg: cfg.quantile.num_quantiles,
    output=output,
    buffers=lambda cfg: {"taus": fractions(cfg.quantile.num_quantiles)},
    td_loss=td_loss,
    bootstrap=bootstrap,
    policy_q=by_policy,
    config=QuantileConfig,
    check=check,
    cost_sizes=lambda cfg: (cfg.quantile.num_quantiles,),
)

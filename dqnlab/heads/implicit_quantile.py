"""The implicit quantile head, IQN (Dabney et al. 2018b, "Implicit Quantile Networks for
Distributional Reinforcement Learning", https://arxiv.org/abs/1806.06923): the network takes
quantile fractions tau ~ U(0, 1) as an input and outputs, per action, the return's quantile at
each. The fractions enter by a cosine embedding, phi(tau) = ReLU(W [cos(pi i tau)]_{i=1..d} + b),
multiplied elementwise into the torso's features (Dopamine's ImplicitQuantileNetwork; Revisiting
Rainbow networks_new.py L361-374 @ 7cd2bc6), then the action streams.

Per update (Dopamine's and RR's sample sizes): N fractions for the online quantiles, N' for the
target's, and K for each network's Q-values that choose a* (the mean over K sampled quantiles);
the loss is the quantile Huber loss (`losses.quantile_huber`) and the new PER priority that loss.
Acting and evaluation read Q as the mean over K fractions drawn from the run's own rng, after its
epsilon draws (RR's select_action). An update's fractions are drawn per transition, as the paper;
Dopamine's and RR's JAX agents draw one set for the whole batch (one key under vmap), which
`implicit_quantile.fractions = per_batch` reproduces (`draw_fractions`; RR's protocols set it).
The iqn component switches it on; with munchausen it is M-IQN (components/munchausen.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    quantile_loss,
)
from dqnlab.knobs import knob

if TYPE_CHECKING:
    import numpy as np
    import torch

    from dqnlab.batch import TensorBatch
    from dqnlab.config import Config


@dataclass(frozen=True)
class ImplicitQuantileConfig:
    num_tau_samples: int = knob(64, "N, fractions for the online quantiles in the loss (Dabney et al.: 64)")
    num_tau_prime_samples: int = knob(64, "N', fractions for the target quantiles in the loss (64)")
    num_quantile_samples: int = knob(32, "K, fractions whose mean quantile is Q for acting and for a* (32)")
    embedding_dim: int = knob(64, "d, cosines cos(pi i tau), i = 1..d, in the fraction embedding (64)")
    kappa: float = knob(1.0, "threshold of the quantile Huber loss (0: the quantile regression L1 loss)")
    fractions: str = knob(
        "per_transition", "an update's fraction draws: per_transition (each transition of the batch its "
        "own N, N' and K, Dabney et al. 2018b) | per_batch (one set of each for the whole batch, as "
        "Dopamine's and Revisiting Rainbow's JAX agents: one key under vmap)"
    )


FRACTION_DRAWS = ("per_transition", "per_batch")


def check(cfg: Config) -> str | None:
    c = cfg.implicit_quantile
    sizes = {"num_tau_samples": c.num_tau_samples, "num_tau_prime_samples": c.num_tau_prime_samples,
             "num_quantile_samples": c.num_quantile_samples, "embedding_dim": c.embedding_dim}
    for name, n in sizes.items():
        if n < 1:
            return f"implicit_quantile.{name} must be >= 1, got {n}"
    if not c.kappa >= 0:
        return f"implicit_quantile.kappa must be >= 0, got {c.kappa}"
    if c.fractions not in FRACTION_DRAWS:
        return f"implicit_quantile.fractions must be one of {', '.join(FRACTION_DRAWS)}, got {c.fractions!r}"
    return None


def draw_fractions(cfg: Config, rows: int, n: int, generator: torch.Generator, device: Any) -> torch.Tensor:
    """An update's n fractions U(0, 1) for each of its `rows` transitions, from `generator`: [rows, n],
    or with fractions = per_batch one draw [1, n] that the batch shares by broadcasting (the
    embedding then runs on n rows, not rows x n)."""
    import torch

    return torch.rand(1 if cfg.implicit_quantile.fractions == "per_batch" else rows, n, generator=generator,
                      device=device)


def embedding(cfg: Config, features: int, pack: int | None) -> Any:
    import torch
    from torch import nn

    from dqnlab.packed_layers import PackedLinear

    dim = cfg.implicit_quantile.embedding_dim

    class CosineEmbedding(nn.Module):
        """features [.., B, F], fractions [.., B, n] -> [.., B, n, F]: the features times
        ReLU(linear(cos(pi i tau))), i = 1..d. The linear layer is plain (RR's nn.Dense), noisy
        nets or not."""

        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(dim, features) if pack is None else PackedLinear(pack, dim, features)
            self.register_buffer("frequencies", math.pi * torch.arange(1, dim + 1, dtype=torch.float32),
                                 persistent=False)

        def forward(self, h: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
            """h [.., B, F], taus [.., B, n] or [.., 1, n] (shared by the batch) -> [.., B, n, F]."""
            assert taus is not None, "an implicit quantile head needs quantile fractions"
            phi = torch.relu(self.linear(torch.cos(taus[..., None] * self.frequencies)))
            return h[..., None, :] * phi

    return CosineEmbedding()


def output(out: torch.Tensor, taus: torch.Tensor | None, net: Any) -> QOutput:
    """[.., B, n, A, 1] (one value per fraction and action) -> quantiles [.., B, A, n] and
    Q [.., B, A], their mean."""
    dist = out.squeeze(-1).transpose(-1, -2)
    return QOutput(dist.mean(dim=-1), dist, taus)


def policy_q(net: Any, obs: torch.Tensor, rngs: Sequence[np.random.Generator | None]) -> torch.Tensor:
    """Q as the mean quantile over K fractions per observation, drawn from each run's rng (one rng
    for a network alone; a pack's, one per run, for observations [K, E, ...]; a run given None
    draws nothing and gets fractions 1/2, for Q-values nobody reads)."""
    import numpy
    import torch

    k = net.cfg.implicit_quantile.num_quantile_samples
    rows = obs.shape[-len(net.obs_shape) - 1]
    draws = numpy.stack([rng.random((rows, k)) if rng is not None else numpy.full((rows, k), 0.5) for rng in rngs])
    taus = torch.as_tensor(draws if net.pack is not None else draws[0], dtype=torch.float32, device=obs.device)
    return net(obs, taus).q_values


def bootstrap(online: Any, target: Any, b: TensorBatch, taus: TauSampler, *, select: str = "target") -> torch.Tensor:
    """r_t + discount_t theta_j(s_t, a*) for the target network's quantiles at N' fresh fractions,
    a* the argmax of the mean over K fractions of the target network (IQN) or of the online one
    (double). [B, N']"""
    c = target.cfg.implicit_quantile
    chooser = target if select == "target" else online
    selector = chooser(b.next_obs, taus(c.num_quantile_samples)).q_values
    dist_t = target(b.next_obs, taus(c.num_tau_prime_samples)).dist
    return targets.quantile_q_learning_target(b.ret, b.discount, dist_t, selector)


def td_loss(cfg: Config, boot: Bootstrap) -> TDLoss:
    import torch

    c = cfg.implicit_quantile

    def implicit_quantile_td_loss(online: Any, target: Any, b: TensorBatch, taus: TauSampler) -> LossOutput:
        """The quantile Huber loss of the taken action's quantiles at N fractions against the
        target's N' quantiles."""
        out = online(b.obs, taus(c.num_tau_samples))
        with torch.no_grad():
            y = boot(online, target, b, taus)
        return quantile_loss(out, b.action, y, c.kappa, divide_by_kappa=True)

    return implicit_quantile_td_loss


HEAD = Head(
    name="implicit_quantile",
    paper="Dabney et al. 2018b, https://arxiv.org/abs/1806.06923",
    describe="per action, the return's quantile at each sampled fraction tau (a cosine embedding "
    "of tau enters the network); Q is the mean over K fractions",
    losses={"quantile_huber": "the quantile Huber loss, threshold implicit_quantile.kappa"},
    width=lambda cfg: 1,
    output=output,
    td_loss=td_loss,
    bootstrap=bootstrap,
    policy_q=policy_q,
    embedding=embedding,
    fractions=draw_fractions,
    config=ImplicitQuantileConfig,
    check=check,
    # The last size is the rows of fractions an update's embedding runs on per sample size: 1 set
    # (per_batch) or one per transition of the batch.
    cost_sizes=lambda cfg: (cfg.implicit_quantile.num_tau_samples, cfg.implicit_quantile.num_tau_prime_samples,
                            cfg.implicit_quantile.num_quantile_samples, cfg.implicit_quantile.embedding_dim,
                            1 if cfg.implicit_quantile.fractions == "per_batch" else cfg.agent.batch_size),
)

"""Per-sample losses as pure functions. The learner weights and averages them (PER importance
weights multiply the per-sample values before the mean), so every function here returns [B].

Each head (`dqnlab/heads/`) names the ones it takes (`agent.loss`). The functions use tensor
methods only, so this module (and the head registry that config validation reads) imports
without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def huber(td: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Huber loss of TD errors: 0.5 x^2 for |x| <= delta, delta (|x| - 0.5 delta) beyond. [B] -> [B]."""
    abs_td = td.abs()
    quadratic = abs_td.clamp(max=delta)
    return 0.5 * quadratic**2 + delta * (abs_td - quadratic)


def squared(td: torch.Tensor) -> torch.Tensor:
    """x^2, the squared TD error, whose batch mean is the MSE. No 1/2: Revisiting Rainbow's DQN
    loss is mean((y - q)^2) (RR Agents/dqn_agent_new.py L36-37). Under Adam a factor c on the loss
    acts only as Adam's eps / c, so this is the faithful choice rather than a different method.
    [B] -> [B]."""
    return td**2


def categorical_cross_entropy(target_probs: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """-sum_i p_target[i] log softmax(logits)[i], the C51 loss. [B, N], [B, N] -> [B]."""
    assert target_probs.shape == logits.shape
    return -(target_probs * logits.log_softmax(dim=-1)).sum(dim=-1)


def quantile_huber(
    dist_tm1: torch.Tensor, tau: torch.Tensor, target: torch.Tensor, kappa: float = 1.0,
    *, divide_by_kappa: bool = True,
) -> torch.Tensor:
    """The quantile Huber loss of QR-DQN and IQN, as Dopamine and Revisiting Rainbow take it: for
    the online quantile values theta_i at fractions tau_i and the target values T_j, with
    u_ij = T_j - theta_i,

        rho_ij = |tau_i - 1{u_ij < 0}| * L_kappa(u_ij) [/ kappa],   loss = sum_i mean_j rho_ij,

    L_kappa the Huber loss with threshold kappa (0.5 u^2 for |u| <= kappa, kappa (|u| - kappa/2)
    beyond). IQN divides by kappa (Dabney et al. 2018b, eq. 3), QR-DQN does not (2018a, eq. 10):
    the two agree at kappa = 1. kappa = 0 is the quantile regression (L1) loss of both papers,
    rho_ij = |tau_i - 1{u_ij < 0}| |u_ij|. Shapes: dist_tm1 [B, N], tau [B, N] (or [N], shared),
    target [B, N'] (no gradient is taken through it) -> [B].
    """
    assert dist_tm1.shape[:-1] == target.shape[:-1], (dist_tm1.shape, target.shape)
    u = target[..., None, :] - dist_tm1[..., :, None]  # [B, N, N']
    weight = (tau[..., :, None] - (u < 0).to(u.dtype)).abs()
    if kappa == 0:
        rho = weight * u.abs()
    else:
        rho = weight * huber(u, kappa) / (kappa if divide_by_kappa else 1.0)
    return rho.mean(dim=-1).sum(dim=-1)


def weighted_mean(per_sample: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of per-sample losses, each scaled by its importance weight when given. [B], [B] -> [];
    a pack's [K, B] -> [K], one loss per run."""
    if weights is None:
        return per_sample.mean(dim=-1)
    assert weights.shape == per_sample.shape
    return (weights * per_sample).mean(dim=-1)

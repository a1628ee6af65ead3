"""Per-sample losses as pure functions. The learner weights and averages them (PER importance
weights multiply the per-sample values before the mean), so every function here returns [B].

`LOSSES` is the registry of losses per head kind (`agent.loss` must name one of its head's).
The functions use tensor methods only, so this module (and the registry that config validation
reads) imports without torch.
"""

from __future__ import annotations

from collections.abc import Callable
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


def weighted_mean(per_sample: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of per-sample losses, each scaled by its importance weight when given. [B], [B] -> [];
    a pack's [K, B] -> [K], one loss per run."""
    if weights is None:
        return per_sample.mean(dim=-1)
    assert weights.shape == per_sample.shape
    return (weights * per_sample).mean(dim=-1)


SCALAR_LOSSES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"huber": huber, "mse": squared}
"""Losses of TD errors y - Q(s, a) [B] -> [B], for scalar heads."""
CATEGORICAL_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cross_entropy": categorical_cross_entropy,
}
"""Losses of (target distribution [B, N], logits [B, N]) -> [B], for categorical heads."""
LOSSES: dict[str, dict[str, Callable]] = {"scalar": SCALAR_LOSSES, "categorical": CATEGORICAL_LOSSES}
"""The losses each head kind takes, by `agent.loss` name."""

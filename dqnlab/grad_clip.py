"""Global gradient-norm clipping in three foreach ops.

torch.nn.utils.clip_grad_norm_ does the same math, but its grouping of tensors by device and
dtype and its checks cost as much as the math for a small network: one call on a 2x128 MLP's
gradients takes ~60 us here against ~120 us. End to end a 2x128 DQN run is no faster for it
(benchmarks/README.md, `train/clip_*`): clipping still costs it ~10%.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def clip_grad_norm_(params: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale the gradients of `params` (one device and dtype) in place so that their global L2
    norm is at most `max_norm`; returns the norm before clipping. Same signature as torch's.

    torch's arithmetic exactly: the norm of the per-tensor norms, coefficient
    max_norm / (norm + 1e-6) clamped at 1, every gradient multiplied by it (also when it is 1,
    so the result does not depend on a host-side comparison and never syncs a GPU).
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))
    return total


def clip_grad_norm_per_run_(grads: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """`clip_grad_norm_` for K runs whose gradients are stacked along a leading axis (a pack,
    `packed.py`): each run's global L2 norm over its own slices [K], and each run's slices scaled
    by its own coefficient, with the same formula. Returns the K norms before clipping. The sums
    are reduced in another order than `clip_grad_norm_`'s, so a run's coefficient may differ from
    its unpacked one in the last bit."""
    k = grads[0].shape[0]
    norms = torch.stack([torch.linalg.vector_norm(g.reshape(k, -1), dim=1) for g in grads])  # [P, K]
    total = torch.linalg.vector_norm(norms, dim=0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.view(k, *[1] * (g.ndim - 1)))
    return total

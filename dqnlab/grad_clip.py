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

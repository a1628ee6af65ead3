"""The three shapes a replay batch takes on its way to the learner, in one dependency-free module.

`HostBatch` is where the replay gathers (a pinned staging buffer on CUDA), `Batch` is what it
returns (numpy, host memory), `TensorBatch` is what the learner consumes (tensors on the device).
The replay fills them and `transfer` moves them; both import this module and not each other.
Torch is only named in annotations, so importing this module never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import torch


class Batch(NamedTuple):
    indices: np.ndarray  # [B] slots, for priority updates
    obs: np.ndarray  # [B, *obs_shape]
    action: np.ndarray  # [B] int64
    ret: np.ndarray  # [B] float32, n-step return (learning units)
    discount: np.ndarray  # [B] float32, gamma^k or 0
    next_obs: np.ndarray  # [B, *obs_shape]
    weights: np.ndarray | None  # [B] float32 importance weights (PER) or None


class HostBatch(NamedTuple):
    """Numpy views into the staging buffer, shaped as `ReplayBuffer.batch_at` fills them."""

    obs: np.ndarray  # [B, stack * frame size] (flat rows: the replay's gather layout)
    action: np.ndarray  # [B] int64
    ret: np.ndarray  # [B] float32
    discount: np.ndarray  # [B] float32
    next_obs: np.ndarray  # [B, stack * frame size]
    weights: np.ndarray  # [B] float32 (unused without PER)


class TensorBatch(NamedTuple):
    obs: torch.Tensor
    action: torch.Tensor
    ret: torch.Tensor
    discount: torch.Tensor
    next_obs: torch.Tensor
    weights: torch.Tensor | None

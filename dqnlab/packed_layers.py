"""Layers of a pack of K networks (`packed.py`): K independent Linear, Conv2d and NoisyLinear
layers whose parameters are stacked along a leading axis, applied to inputs [K, ..., features].

Each has the parameter and buffer names of its single-network counterpart with a leading K
dimension, so a pack's state is the K networks' states stacked. A linear layer is one batched
matrix product (baddbmm) rather than torch.vmap over F.linear: on one CPU thread vmap's batching
costs ~100 us per layer at these sizes against ~10 us for baddbmm (benchmarks/README.md, `pack`).
A convolution is a grouped convolution (groups = K) or K calls, whichever is faster for its rows.
Parameters are created empty: a pack is always loaded from its K networks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def packed_affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Run k's x[k] @ weight[k]^T + bias[k]: x [K, ..., in], weight [K, out, in], bias [K, out]."""
    k, out = weight.shape[0], weight.shape[1]
    rows = x.reshape(k, -1, x.shape[-1])
    if bias is None:
        y = torch.bmm(rows, weight.transpose(1, 2))
    else:
        y = torch.baddbmm(bias[:, None, :], rows, weight.transpose(1, 2))
    return y.reshape(*x.shape[:-1], out)


class PackedLinear(nn.Module):
    def __init__(self, pack: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.zeros(pack, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(pack, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return packed_affine(x, self.weight, self.bias)


class PackedConv2d(nn.Module):
    """x [K, B, C, H, W] -> [K, B, C', H', W']. For a few rows per run (acting) the K convolutions
    are one grouped convolution (groups = K: one call instead of K); for a training batch they
    are K calls, because oneDNN's grouped kernels are slower there than K separate ones
    (forward + backward, 1 thread, K = 8, batch 32: MinAtar's 4->16 3x3 conv 5.9 ms grouped
    against 4.0 ms separate; the Nature CNN's first layer 110 ms against 72 ms)."""

    GROUPED_MAX_ROWS = 4

    def __init__(self, pack: int, in_channels: int, out_channels: int, kernel: int, *, stride: int = 1,
                 padding: int | str = 0) -> None:
        super().__init__()
        self.pack, self.stride, self.padding = pack, stride, padding
        self.weight = nn.Parameter(torch.zeros(pack, out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(pack, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, b = x.shape[0], x.shape[1]
        if b > self.GROUPED_MAX_ROWS:
            return torch.stack([F.conv2d(x[i], self.weight[i], self.bias[i], stride=self.stride, padding=self.padding)
                                for i in range(k)])
        side_by_side = x.transpose(0, 1).reshape(b, k * x.shape[2], *x.shape[3:])
        y = F.conv2d(side_by_side, self.weight.flatten(0, 1), self.bias.flatten(), stride=self.stride,
                     padding=self.padding, groups=k)
        return y.view(b, k, -1, *y.shape[2:]).transpose(0, 1)


class PackedNoisyLinear(nn.Module):
    """K factorized noisy linear layers (`networks.NoisyLinear`, same math and the same choice
    between the factorized and the built-matrix form by rows per run); eps_in [K, in] and
    eps_out [K, out] hold each run's own noise."""

    FACTORIZED_MAX_ROWS = 4

    def __init__(self, pack: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight_mu = nn.Parameter(torch.zeros(pack, out_features, in_features))
        self.bias_mu = nn.Parameter(torch.zeros(pack, out_features))
        self.weight_sigma = nn.Parameter(torch.zeros(pack, out_features, in_features))
        self.bias_sigma = nn.Parameter(torch.zeros(pack, out_features))
        self.register_buffer("eps_in", torch.zeros(pack, in_features))
        self.register_buffer("eps_out", torch.zeros(pack, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return packed_affine(x, self.weight_mu, self.bias_mu)
        bias = torch.addcmul(self.bias_mu, self.bias_sigma, self.eps_out)
        k = self.weight_mu.shape[0]
        rows = x.reshape(k, -1, self.in_features)
        if rows.shape[1] <= self.FACTORIZED_MAX_ROWS:
            noise = packed_affine(rows * self.eps_in[:, None, :], self.weight_sigma, None) * self.eps_out[:, None, :]
            y = packed_affine(rows, self.weight_mu, bias) + noise
        else:
            weight = torch.addcmul(self.weight_mu, self.weight_sigma, self.eps_out[:, :, None] * self.eps_in[:, None, :])
            y = packed_affine(rows, weight, bias)
        return y.reshape(*x.shape[:-1], self.out_features)

"""Layers of a pack of K networks (`packed.py`): K independent Linear, Conv2d and NoisyLinear
layers whose parameters are stacked along a leading axis, applied to inputs [K, ..., features].

Each has the parameter and buffer names of its single-network counterpart with a leading K
dimension, so a pack's state is the K networks' states stacked. A linear layer is one batched
matrix product (baddbmm) rather than torch.vmap over F.linear: on one CPU thread vmap's batching
costs ~100 us per layer at these sizes against ~10 us for baddbmm (benchmarks/README.md, `pack`).
A convolution is a grouped convolution (groups = K), K calls, or one batched matrix product over
the input's patches (im2col), whichever was measured fastest for its rows and its place in the
network (`PackedConv2d`).
Parameters are created empty: a pack is always loaded from its K networks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dqnlab.noisy_weights import BuildsNoisyWeight


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
    """x [K, B, C, H, W] -> [K, B, C', H', W'], by one of three kernels, each measured faster where
    it is used (1 thread; benchmarks/README.md, 2026-11-30):

    * a few rows per run (acting): one grouped convolution (groups = K), one call instead of K;
    * a training batch through a layer built with `im2col` (the network's first conv, at stride 1:
      MinAtar's torso): one batched matrix product over x's patches, whose weight gradient is one
      more. oneDNN's weight-gradient kernel is the slow part at these sizes (MinAtar's 4->16 3x3
      conv with its ReLU and head, K = 8, batch 32, forward + backward: 3.3 ms against 4.8 ms as K
      calls; a pack's whole update 8.0 ms against 9.0-11.3 ms);
    * otherwise K calls. Grouped convolution on a batch made no difference end to end (two
      microbenchmarks disagreed on which is faster), and for the Nature CNN's first layer, at
      stride 4, gathering patches costs more than it saves (163 ms against 80 ms as K calls).
    """

    GROUPED_MAX_ROWS = 4

    def __init__(self, pack: int, in_channels: int, out_channels: int, kernel: int, *, stride: int = 1,
                 padding: int | str = 0, im2col: bool = False) -> None:
        super().__init__()
        if not isinstance(padding, (int, str)) or (im2col and stride != 1):
            raise ValueError(f"PackedConv2d takes an int or str padding ({padding!r}), and im2col at stride 1 only")
        self.pack, self.stride, self.padding, self.im2col = pack, stride, padding, im2col
        self.weight = nn.Parameter(torch.zeros(pack, out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(pack, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, b = x.shape[0], x.shape[1]
        if b <= self.GROUPED_MAX_ROWS:
            side_by_side = x.transpose(0, 1).reshape(b, k * x.shape[2], *x.shape[3:])
            y = F.conv2d(side_by_side, self.weight.flatten(0, 1), self.bias.flatten(), stride=self.stride,
                         padding=self.padding, groups=k)
            return y.view(b, k, -1, *y.shape[2:]).transpose(0, 1)
        if self.im2col:
            return self._im2col(x)
        return torch.stack([F.conv2d(x[i], self.weight[i], self.bias[i], stride=self.stride, padding=self.padding)
                            for i in range(k)])

    def _im2col(self, x: torch.Tensor) -> torch.Tensor:
        """Stride 1: run k's output is weight[k] [C', C*kh*kw] @ its patches [C*kh*kw, B*H'*W'].
        The patches are kh*kw shifted views of the (padded) input, stacked in the (c, dy, dx)
        order of the weight's flattened rows."""
        out_channels, kh, kw = self.weight.shape[1], self.weight.shape[3], self.weight.shape[4]
        x = F.pad(x, self._pads(kh, kw))
        k, b, c, h, w = x.shape
        oh, ow = h - kh + 1, w - kw + 1
        by_channel = x.transpose(1, 2)  # [K, C, B, H, W]: patches come out [K, C, taps, B, H', W']
        patches = torch.stack([by_channel[..., dy:dy + oh, dx:dx + ow] for dy in range(kh) for dx in range(kw)],
                              dim=2).view(k, c * kh * kw, b * oh * ow)
        y = torch.baddbmm(self.bias[:, :, None], self.weight.view(k, out_channels, -1), patches)
        return y.view(k, out_channels, b, oh, ow).transpose(1, 2)

    def _pads(self, kh: int, kw: int) -> tuple[int, int, int, int]:
        """F.pad's (left, right, top, bottom) for F.conv2d's `padding` at stride 1 ("same" puts
        the odd pixel of an even kernel on the right and bottom, as F.conv2d does)."""
        if self.padding == "same":
            return (kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2
        p = 0 if self.padding == "valid" else int(self.padding)
        return p, p, p, p


class PackedNoisyLinear(BuildsNoisyWeight, nn.Module):
    """K factorized noisy linear layers (`networks.NoisyLinear`, same math and the same choice
    between the factorized and the built-matrix form by rows per run); eps_in [K, in] and
    eps_out [K, out] hold each run's own noise."""

    FACTORIZED_MAX_ROWS = 4

    def __init__(self, pack: int, in_features: int, out_features: int, *, noisy_in_eval: bool = False) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.noisy_in_eval = noisy_in_eval  # as NoisyLinear's
        self.weight_mu = nn.Parameter(torch.zeros(pack, out_features, in_features))
        self.bias_mu = nn.Parameter(torch.zeros(pack, out_features))
        self.weight_sigma = nn.Parameter(torch.zeros(pack, out_features, in_features))
        self.bias_sigma = nn.Parameter(torch.zeros(pack, out_features))
        self.register_buffer("eps_in", torch.zeros(pack, in_features))
        self.register_buffer("eps_out", torch.zeros(pack, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training or self.noisy_in_eval):
            return packed_affine(x, self.weight_mu, self.bias_mu)
        bias = torch.addcmul(self.bias_mu, self.bias_sigma, self.eps_out)
        k = self.weight_mu.shape[0]
        rows = x.reshape(k, -1, self.in_features)
        if rows.shape[1] <= self.FACTORIZED_MAX_ROWS:
            noise = packed_affine(rows * self.eps_in[:, None, :], self.weight_sigma, None) * self.eps_out[:, None, :]
            y = packed_affine(rows, self.weight_mu, bias) + noise
        else:
            weight = self.noisy_weight(lambda: torch.addcmul(
                self.weight_mu, self.weight_sigma, self.eps_out[:, :, None] * self.eps_in[:, None, :]))
            y = packed_affine(rows, weight, bias)
        return y.reshape(*x.shape[:-1], self.out_features)

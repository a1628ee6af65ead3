"""Building a noisy layer's weight once per update.

A noisy layer (`networks.NoisyLinear`, `packed_layers.PackedNoisyLinear`) builds its weight
W_mu + W_sigma * (eps_out eps_in^T) for every training batch it sees. Within one update the online
network sees two (the batch's observations, then the next observations for double's argmax) with
the same parameters and the same noise, so the second build repeats the first bit for bit: a
third of a 2x512 noisy update's weight builds (benchmarks/README.md, issue 24).
`weights_built_once(layers)` scopes a memo of the first build to the update's loss; outside the
scope (acting, evaluation, after the optimizer step) every forward builds afresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch


class BuildsNoisyWeight:
    """Mixin of the noisy layers: `noisy_weight(build)` returns the memo of this scope's first
    build, when there is one that can serve the call: a build made without gradients cannot serve
    a forward that needs them (the loss would silently not train the noise's parameters)."""

    _memo_on: bool = False
    _built: torch.Tensor | None = None

    def noisy_weight(self, build: Callable[[], torch.Tensor]) -> torch.Tensor:
        built = self._built
        if built is not None and (built.requires_grad or not torch.is_grad_enabled()):
            return built
        weight = build()
        if self._memo_on:
            self._built = weight
        return weight


@contextlib.contextmanager
def weights_built_once(layers: Sequence[BuildsNoisyWeight]) -> Iterator[None]:
    """Within the block each of `layers` builds its noisy weight at most once (once more if the
    first build had no gradients and a later forward needs them). The parameters and the noise
    must not change inside it: the memo is dropped on exit, so the next update builds anew."""
    for layer in layers:
        layer._memo_on = True
    try:
        yield
    finally:
        for layer in layers:
            layer._memo_on = False
            layer._built = None

"""dqnlab.grad_clip against torch.nn.utils.clip_grad_norm_: the same bits, with and without a clip."""

from __future__ import annotations

import pytest
import torch

from dqnlab.grad_clip import clip_grad_norm_


def _params(grads: list[list[float]] | None = None, scale: float = 1.0) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(0)
    shapes = [(128, 4), (128,), (128, 128), (128,), (2, 128), (2,)]
    values = [torch.tensor(v) for v in grads] if grads else [scale * torch.randn(s, generator=g) for s in shapes]
    params = [torch.nn.Parameter(torch.zeros_like(v)) for v in values]
    for p, v in zip(params, values):
        p.grad = v.clone()
    return params


@pytest.mark.parametrize("scale", [1e-3, 1.0, 100.0])  # below, around and far above max_norm
def test_matches_torch_bitwise(scale: float) -> None:
    ours, theirs = _params(scale=scale), _params(scale=scale)
    norm_ours = clip_grad_norm_(ours, 10.0)
    norm_theirs = torch.nn.utils.clip_grad_norm_(theirs, 10.0, foreach=True)
    assert torch.equal(norm_ours, norm_theirs)
    for a, b in zip(ours, theirs):
        assert torch.equal(a.grad, b.grad)


def test_hand_computed_clip() -> None:
    params = _params([[3.0, 0.0], [4.0]])  # global norm 5
    assert clip_grad_norm_(params, 1.0).item() == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    assert torch.allclose(params[0].grad, torch.tensor([3.0 * coef, 0.0]), rtol=0, atol=1e-7)
    assert torch.allclose(params[1].grad, torch.tensor([4.0 * coef]), rtol=0, atol=1e-7)
    small = _params([[0.3, 0.4]])
    clip_grad_norm_(small, 1.0)  # norm 0.5 < 1: unchanged
    assert torch.equal(small[0].grad, torch.tensor([0.3, 0.4]))
    no_grad = torch.nn.Parameter(torch.ones(2))  # a parameter without a gradient is skipped
    assert clip_grad_norm_([no_grad], 1.0).item() == 0.0 and no_grad.grad is None

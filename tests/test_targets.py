"""Hand-computed values for the pure target and loss functions."""

import pytest
import torch

from dqnlab import losses, targets


def t(x):
    return torch.tensor(x, dtype=torch.float32)


def test_q_learning_target_by_hand():
    r = t([1.0, 0.0, -1.0])
    d = t([0.9, 0.0, 0.5])
    q_t = t([[1.0, 3.0], [5.0, 2.0], [-4.0, -2.0]])
    # 1 + .9*3 = 3.7; 0 + 0*5 = 0; -1 + .5*(-2) = -2
    assert torch.allclose(targets.q_learning_target(r, d, q_t), t([3.7, 0.0, -2.0]))


def test_double_q_target_uses_online_argmax_and_target_value():
    r = t([1.0, 2.0])
    d = t([0.5, 0.5])
    q_target = t([[10.0, 0.0], [4.0, 8.0]])
    q_online = t([[0.0, 1.0], [3.0, 2.0]])  # selects action 1, then action 0
    # 1 + .5*0 = 1 ; 2 + .5*4 = 4 (plain DQN would give 6 and 6)
    assert torch.allclose(targets.double_q_learning_target(r, d, q_target, q_online), t([1.0, 4.0]))
    assert torch.allclose(targets.q_learning_target(r, d, q_target), t([6.0, 6.0]))


def test_projection_example_clips_and_splits():
    support = t([4.0, 5.0, 6.0, 7.0, 8.0])
    z = t([[0.0, 2.0, 4.0, 6.0, 8.0]])
    p = t([[0.1, 0.6, 0.1, 0.1, 0.1]])
    out = targets.categorical_projection(z, p, support)
    assert torch.allclose(out, t([[0.8, 0.0, 0.1, 0.0, 0.1]]), atol=1e-6)


def test_terminal_reward_projects_between_two_atoms():
    support = torch.linspace(-10, 10, 51)
    p_t = torch.full((1, 1, 51), 1 / 51)
    out = targets.categorical_q_learning_target(t([2.3]), t([0.0]), p_t, t([[0.0]]), support)
    i_lo = int(torch.argmin((support - 2.0).abs()))
    assert support[i_lo] == pytest.approx(2.0, abs=1e-5)
    assert support[i_lo + 1] == pytest.approx(2.4, abs=1e-5)
    assert out[0, i_lo] == pytest.approx(0.25, abs=1e-4)
    assert out[0, i_lo + 1] == pytest.approx(0.75, abs=1e-4)
    assert out.sum() == pytest.approx(1.0, abs=1e-6)


def test_exact_hit_keeps_all_mass_on_the_atom():
    support = torch.linspace(-10, 10, 51)
    out = targets.categorical_projection(t([[2.0]]), t([[1.0]]), support)
    assert out.max() == pytest.approx(1.0, abs=1e-6)
    assert support[out.argmax()] == pytest.approx(2.0, abs=1e-5)


def test_projection_conserves_mass_on_random_inputs():
    g = torch.Generator().manual_seed(0)
    support = torch.linspace(-5, 5, 11)
    z = torch.randn(64, 11, generator=g) * 8
    p = torch.softmax(torch.randn(64, 11, generator=g), dim=1)
    out = targets.categorical_projection(z, p, support)
    assert torch.allclose(out.sum(1), torch.ones(64), atol=1e-5)
    assert (out >= 0).all()
    # The projection preserves the mean for atoms inside the support.
    inside = targets.categorical_projection(z.clamp(-5, 5), p, support)
    assert torch.allclose((inside * support).sum(1), (p * z.clamp(-5, 5)).sum(1), atol=1e-4)


def test_categorical_target_selects_argmax_action_and_shifts():
    support = t([0.0, 1.0, 2.0])
    p_t = t([[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])  # action 1 has the higher mean
    selector = (p_t * support).sum(-1)
    out = targets.categorical_q_learning_target(t([0.5]), t([0.5]), p_t, selector, support)
    # z' = 0.5 + 0.5*2 = 1.5 -> half on atom 1, half on atom 2
    assert torch.allclose(out, t([[0.0, 0.5, 0.5]]))


def test_losses_by_hand():
    td = t([0.5, -2.0, 3.0])
    assert torch.allclose(losses.huber(td), t([0.125, 1.5, 2.5]))
    assert torch.allclose(losses.squared(td), t([0.25, 4.0, 9.0]))  # RR: mean((y - q)^2), no 1/2
    logits = torch.log(t([[0.25, 0.75]]))
    ce = losses.categorical_cross_entropy(t([[1.0, 0.0]]), logits)
    assert ce.item() == pytest.approx(-torch.log(t(0.25)).item(), rel=1e-6)
    assert losses.weighted_mean(t([1.0, 3.0]), t([1.0, 0.5])).item() == pytest.approx(1.25)
    assert losses.weighted_mean(t([1.0, 3.0]), None).item() == pytest.approx(2.0)

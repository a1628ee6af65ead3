"""Bootstrap targets as small pure functions (batch first, time-indexed names as in rlax).

Shapes are written for one run's batch ([B], [B, A]); every function also takes leading dims
before B (a pack of K runs: [K, B], [K, B, A]), reducing over the last axes only.

`r_t` is the (possibly n-step) return accumulated after taking `a_tm1` in `s_tm1`, and `discount_t`
is the bootstrap discount: gamma^k for a k-step transition cut by a time limit or still running,
0 when the episode terminated inside those k steps (see `dqnlab.replay.accumulator`). So one function
serves 1-step and n-step targets alike: the n-step bootstrap is just `discount_t = gamma^n`.

Tensor methods only, so the heads that name these functions import without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _check_batch(r_t: torch.Tensor, discount_t: torch.Tensor, q_t: torch.Tensor) -> None:
    assert discount_t.shape == r_t.shape, (r_t.shape, discount_t.shape)
    assert q_t.shape[:-1] == r_t.shape, (q_t.shape, r_t.shape)


def q_learning_target(
    r_t: torch.Tensor, discount_t: torch.Tensor, q_t: torch.Tensor
) -> torch.Tensor:
    """DQN target r_t + discount_t * max_a q_t[a] (Mnih et al. 2015).

    Shapes: r_t [B], discount_t [B], q_t [B, A] (target network) -> [B].
    """
    _check_batch(r_t, discount_t, q_t)
    return r_t + discount_t * q_t.max(dim=-1).values


def double_q_learning_target(
    r_t: torch.Tensor, discount_t: torch.Tensor, q_t_value: torch.Tensor, q_t_selector: torch.Tensor
) -> torch.Tensor:
    """Double DQN target r_t + discount_t * q_t_value[argmax_a q_t_selector[a]] (van Hasselt et al. 2016).

    Shapes: r_t [B], discount_t [B], q_t_value [B, A] (target net), q_t_selector [B, A] (online net).
    """
    _check_batch(r_t, discount_t, q_t_value)
    assert q_t_selector.shape == q_t_value.shape
    a_t = q_t_selector.argmax(dim=-1, keepdim=True)
    return r_t + discount_t * q_t_value.gather(-1, a_t).squeeze(-1)


def categorical_projection(
    z_q: torch.Tensor, p_q: torch.Tensor, z_p: torch.Tensor
) -> torch.Tensor:
    """Project the distribution (z_q, p_q) onto the fixed support z_p (Bellemare et al. 2017, eq. 7).

    Each atom z_q[b, j] is clipped to [z_p[0], z_p[-1]] and its mass p_q[b, j] split between the two
    nearest atoms of z_p in proportion to closeness; an exact hit puts all of it on that atom. Mass
    is conserved. Shapes: z_q [B, N] (e.g. r + gamma^n z), p_q [B, N], z_p [M] (evenly spaced) -> [B, M].
    """
    assert z_q.shape == p_q.shape and z_q.ndim >= 2 and z_p.ndim == 1
    v_min, v_max = z_p[0], z_p[-1]
    num_atoms = z_p.shape[0]
    delta_z = (v_max - v_min) / (num_atoms - 1)
    # Position of each clipped target atom on the support grid, in units of delta_z.
    b = (z_q.clamp(v_min, v_max) - v_min) / delta_z
    lower = b.floor().long().clamp(0, num_atoms - 1)
    upper = b.ceil().long().clamp(0, num_atoms - 1)
    # When b is integral lower == upper: give the whole mass to it (weights 1 and 0), otherwise
    # the naive (upper - b, b - lower) weights would both be 0 and lose the mass.
    w_upper = b - lower.to(b.dtype)
    w_lower = 1.0 - w_upper
    out = p_q.new_zeros(*z_q.shape[:-1], num_atoms)
    out.scatter_add_(-1, lower, p_q * w_lower)
    out.scatter_add_(-1, upper, p_q * w_upper)
    return out


def categorical_q_learning_target(
    r_t: torch.Tensor,
    discount_t: torch.Tensor,
    p_t: torch.Tensor,
    q_t_selector: torch.Tensor,
    support: torch.Tensor,
) -> torch.Tensor:
    """The C51 target distribution: project r_t + discount_t * z under p_t(s_t, a*) onto the support.

    a* = argmax_a q_t_selector[a]: the target network's means for C51, the online network's for
    Double C51 (as in Rainbow). Shapes: r_t [B], discount_t [B], p_t [B, A, N] (target network
    probabilities), q_t_selector [B, A], support [N] -> [B, N].
    """
    _check_batch(r_t, discount_t, q_t_selector)
    assert p_t.shape[:-1] == q_t_selector.shape and p_t.shape[-1] == support.shape[0]
    a_t = q_t_selector.argmax(dim=-1)
    p_t_star = p_t.gather(-2, a_t[..., None, None].expand(*a_t.shape, 1, p_t.shape[-1])).squeeze(-2)
    z_t = r_t[..., None] + discount_t[..., None] * support
    return categorical_projection(z_t, p_t_star, support)


def quantile_q_learning_target(
    r_t: torch.Tensor, discount_t: torch.Tensor, dist_t: torch.Tensor, q_t_selector: torch.Tensor
) -> torch.Tensor:
    """The quantile target of QR-DQN and IQN (Dabney et al. 2018a, b): the quantile values of the
    target network at a* = argmax_a q_t_selector[a], shifted and discounted,
    r_t + discount_t * dist_t[a*, j] for every target quantile j.

    q_t_selector are the target network's means (QR-DQN) or the online network's (double); for IQN
    they come from their own fractions. Shapes: r_t [B], discount_t [B], dist_t [B, A, N'] (target
    quantile values), q_t_selector [B, A] -> [B, N'].
    """
    _check_batch(r_t, discount_t, q_t_selector)
    assert dist_t.shape[:-1] == q_t_selector.shape, (dist_t.shape, q_t_selector.shape)
    a_t = q_t_selector.argmax(dim=-1)
    dist_star = dist_t.gather(-2, a_t[..., None, None].expand(*a_t.shape, 1, dist_t.shape[-1])).squeeze(-2)
    return r_t[..., None] + discount_t[..., None] * dist_star

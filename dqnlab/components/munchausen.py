"""Munchausen-DQN (Vieillard, Pietquin & Geist 2020, "Munchausen Reinforcement Learning",
https://arxiv.org/abs/2007.14430), a component beyond Rainbow's six.

The bootstrap target adds the scaled log-policy of the replayed action to the reward and replaces
the max by a soft value, with pi = softmax(q / tau) of the target network (`munchausen_target`).
It replaces the target only: acting stays epsilon-greedy on Q (the paper's default "greedy"
interaction), the loss is the preset's, and PER's priorities are |y - Q(s, a)|.

Defaults, as published: tau = 0.03, alpha = 0.9, l0 = -1 (the paper's M-DQN hyperparameters; the
authors' code, google-research/munchausen_rl, train.py flags tau, alpha and clip_value_min).

With the implicit quantile head (iqn) it is M-IQN, Munchausen-IQN (Vieillard et al. 2020, sec. 4;
Revisiting Rainbow's `target_opt = 1`): the bonus and the policy come from the target network's
mean quantiles, and the soft value is taken per target quantile (`munchausen_quantile_target`).

Decisions, recorded in `incompatible` and shown by `dqnlab components`:
* c51, qr: the bonus and the soft value need Q-values the policy can be read from, and a target
  they can be added to: a scalar head's, or IQN's quantiles (RR has M-DQN and M-IQN only).
* double: the soft value has no argmax for the online network to select; Revisiting Rainbow's code
  (Obando-Ceron & Castro 2021, dqn_agent_new.py) makes double and munchausen exclusive values of
  one `target_opt`.
* nstep: r_t is the n-step return and discount_t gamma^n (0 if the episode ended), so the bonus is
  for the first action a_tm1 of the n-step transition only, once per transition (as Revisiting
  Rainbow adds it to the n-step reward).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dqnlab.components.base import Bootstrap, Component
from dqnlab.knobs import knob

if TYPE_CHECKING:
    import torch

    from dqnlab.config import Config


@dataclass(frozen=True)
class MunchausenConfig:
    enabled: bool = knob(False, "the Munchausen-DQN target (Vieillard et al. 2020); set by the munchausen component")
    tau: float = knob(0.03, "entropy temperature: pi = softmax(q_target / tau)")
    alpha: float = knob(0.9, "scale of the Munchausen bonus alpha * clip(tau log pi(a|s), l0, 0)")
    l0: float = knob(-1.0, "lower clip of tau log pi(a|s) in the bonus (keeps it finite as pi(a|s) -> 0)")


def munchausen_target(
    q_tm1: torch.Tensor,
    a_tm1: torch.Tensor,
    r_t: torch.Tensor,
    discount_t: torch.Tensor,
    q_t: torch.Tensor,
    *,
    tau: float,
    alpha: float,
    l0: float,
) -> torch.Tensor:
    """y = r_t + alpha clip(tau log pi(a_tm1|s_tm1), l0, 0)
           + discount_t sum_a pi(a|s_t) (q_t[a] - tau log pi(a|s_t)),   pi = softmax(q / tau).

    q_tm1 and q_t are the target network's Q-values at s_tm1 and s_t (as in the authors' code).
    Stable for small tau: tau log pi = tau log_softmax(q / tau), a log-sum-exp, and the soft value
    sum_a pi(a) (q[a] - tau log pi(a)) equals tau logsumexp(q / tau), computed as such.
    With n-step transitions the bonus is for the first action only (module docstring).

    Shapes: q_tm1 [B, A], a_tm1 [B] int, r_t [B], discount_t [B], q_t [B, A] -> [B].
    """
    assert discount_t.shape == r_t.shape == a_tm1.shape, (r_t.shape, a_tm1.shape)
    assert q_tm1.shape == q_t.shape and q_t.shape[:-1] == r_t.shape
    tau_log_pi_tm1 = tau * (q_tm1 / tau).log_softmax(dim=-1).gather(-1, a_tm1[..., None]).squeeze(-1)
    bonus = alpha * tau_log_pi_tm1.clamp(l0, 0.0)
    soft_value_t = tau * (q_t / tau).logsumexp(dim=-1)
    return r_t + bonus + discount_t * soft_value_t


def munchausen_quantile_target(
    q_tm1: torch.Tensor,
    a_tm1: torch.Tensor,
    r_t: torch.Tensor,
    discount_t: torch.Tensor,
    q_t: torch.Tensor,
    dist_t: torch.Tensor,
    *,
    tau: float,
    alpha: float,
    l0: float,
) -> torch.Tensor:
    """M-IQN's target quantiles (Vieillard et al. 2020, sec. 4; Revisiting Rainbow's
    implicit_quantile_agent_new.py L96-141 @ 7cd2bc6): for every target quantile j,

        y_j = r_t + alpha clip(tau log pi(a_tm1|s_tm1), l0, 0)
              + discount_t sum_a pi(a|s_t) (dist_t[a, j] - tau log pi(a|s_t)),   pi = softmax(q / tau),

    with q_tm1, q_t the target network's Q-values (mean quantiles) at s_tm1 and s_t. With every
    dist_t[a, j] = q_t[a] it is `munchausen_target`. Shapes: q_tm1 [B, A], a_tm1 [B], r_t [B],
    discount_t [B], q_t [B, A], dist_t [B, A, N'] -> [B, N'].
    """
    assert dist_t.shape[:-1] == q_t.shape == q_tm1.shape
    tau_log_pi_tm1 = tau * (q_tm1 / tau).log_softmax(dim=-1).gather(-1, a_tm1[..., None]).squeeze(-1)
    bonus = alpha * tau_log_pi_tm1.clamp(l0, 0.0)
    log_pi_t = (q_t / tau).log_softmax(dim=-1)
    soft_t = (log_pi_t.exp()[..., None] * (dist_t - tau * log_pi_t[..., None])).sum(dim=-2)
    return (r_t + bonus)[..., None] + discount_t[..., None] * soft_t


def _targets(cfg: Config) -> Mapping[str, Bootstrap]:
    m = cfg.munchausen

    def scalar(online, target, b, taus):
        return munchausen_target(
            target(b.obs).q_values, b.action, b.ret, b.discount, target(b.next_obs).q_values,
            tau=m.tau, alpha=m.alpha, l0=m.l0,
        )

    def implicit_quantile(online, target, b, taus):
        # As RR's M-IQN: the policy's Q-values are mean quantiles over K fractions, the values at
        # N' more, all of the target network.
        c = target.cfg.implicit_quantile
        return munchausen_quantile_target(
            target(b.obs, taus(c.num_quantile_samples)).q_values, b.action, b.ret, b.discount,
            target(b.next_obs, taus(c.num_quantile_samples)).q_values,
            target(b.next_obs, taus(c.num_tau_prime_samples)).dist,
            tau=m.tau, alpha=m.alpha, l0=m.l0,
        )

    return {"scalar": scalar, "implicit_quantile": implicit_quantile}


def _check(cfg: Config) -> str | None:
    m = cfg.munchausen
    if not m.tau > 0:
        return f"munchausen.tau must be > 0, got {m.tau}"
    if not 0.0 <= m.alpha <= 1.0:
        return f"munchausen.alpha must be in [0, 1], got {m.alpha}"
    if not m.l0 < 0:
        return f"munchausen.l0 must be < 0, got {m.l0}"
    return None


COMPONENT = Component(
    name="munchausen",
    paper="Vieillard et al. 2020, https://arxiv.org/abs/2007.14430",
    slot="target",
    settings={"munchausen.enabled": True},
    couplings=(
        "target r + alpha clip(tau log pi(a|s), l0, 0) + gamma^n sum_a' pi(a'|s') (q(s',a') - tau log pi(a'|s')), "
        "pi = softmax(q_target / tau)",
        "the bonus is for the first action of an n-step transition; acting stays epsilon-greedy on Q",
    ),
    targets=_targets,
    incompatible={
        "c51": "its bonus and soft value need a scalar or an implicit quantile head (M-DQN, M-IQN)",
        "qr": "its bonus and soft value need a scalar or an implicit quantile head (M-DQN, M-IQN)",
        "double": "its soft value has no argmax for double to select (one target_opt in Revisiting Rainbow)",
    },
    config=MunchausenConfig,
    check=_check,
)

"""The two schedules of a run, as pure functions of the config and the agent step."""

from __future__ import annotations

from dqnlab.config import Config


def epsilon_at(cfg: Config, step: int) -> float:
    """explore.warmup_epsilon during the warm-up (1.0, uniform random actions, unless the protocol
    says otherwise: Revisiting Rainbow's identity_epsilon is 0.01 from the first step), then linear
    decay from epsilon_start to epsilon_end over epsilon_decay_steps, then constant. Dopamine's
    linearly_decaying_epsilon is this with warmup_epsilon = epsilon_start = 1."""
    if step < cfg.agent.min_replay_steps:
        return cfg.explore.warmup_epsilon
    e = cfg.explore
    if e.epsilon_decay_steps == 0:
        return e.epsilon_end
    frac = min(1.0, (step - cfg.agent.min_replay_steps) / e.epsilon_decay_steps)
    return e.epsilon_start + frac * (e.epsilon_end - e.epsilon_start)


def beta_at(cfg: Config, step: int) -> float:
    """PER importance exponent, annealed linearly over the whole budget."""
    r = cfg.replay
    frac = min(1.0, step / cfg.total_steps)
    return r.importance_exponent_start + frac * (r.importance_exponent_end - r.importance_exponent_start)

"""The two schedules of a run, as pure functions of the config and the agent step."""

from __future__ import annotations

from dqnlab.config import Config


def epsilon_at(cfg: Config, step: int) -> float:
    """Uniform random actions during the warm-up (for every variant, so all arms start from the
    same kind of data), then linear decay from epsilon_start to epsilon_end, then constant."""
    if step < cfg.agent.min_replay_steps:
        return 1.0
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

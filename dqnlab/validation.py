"""What a config may hold, as one table: every numeric field's range (`RANGES`), every constraint
between fields (`CONSTRAINTS`), and the keys that select settings and so are not `--set` keys
(`SELECTORS`). `check(cfg)` applies the table; `presets.validate` calls it (before its checks
against the registries: heads, torsos, components), so every bad value is refused with one line
before anything is written, never at run start.

A range bounds what can be meant: an upper bound is far beyond any published setting (Atari's
50M-step budget and 1M replay, Agent57's 90 billion frames) and exists so that a typo (`1e23`)
is a one-line error, not a run that cannot end or an allocation that cannot succeed. A new
numeric knob needs a row here (tests/reliability/test_validation.py fails without one).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dqnlab.config import Config, EnvConfig, get_path
from dqnlab.errors import ConfigError

MAX_STEPS = 10**11
"""Agent steps: budgets, periods and warm-ups (Agent57 trained for 90 billion frames, 2.25e10
agent steps; 1e11 steps take years at the fastest rate measured here)."""
MAX_SEED = 2**31 - 1
"""ALE and the envs take their seeds as C ints."""
MAX_SEEDS = 1_000
"""Seeds in one sweep (published ablations use 3 to 100)."""
MAX_RUNS = 100_000
"""Runs in one sweep (Atari-57 x all 64 component subsets x 10 seeds is 36,480)."""


@dataclass(frozen=True)
class Range:
    """The values a numeric field (each item of a tuple field) may take."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    """The low end itself is excluded: (low, ...]."""
    optional: bool = False
    """None is allowed too (it means 'no limit' or 'derived', see the field's doc)."""
    name: str = ""
    """What the field is called in messages, when not only its key (e.g. the budget, --steps)."""

    def holds(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high

    def text(self) -> str:
        if self.low is None and self.high is None:
            return "finite"
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        return f"{'(' if self.low_open or self.low is None else '['}{low}, {high}{')' if self.high is None else ']'}"


def _number(x: float) -> str:
    if abs(x) >= 10**6 and abs(x) == 10 ** round(math.log10(abs(x))):  # 1e11, not 100000000000
        return f"{'-' if x < 0 else ''}1e{round(math.log10(abs(x)))}"
    return f"{x:g}" if isinstance(x, float) else str(x)


def between(low: float, high: float, *, low_open: bool = False) -> Range:
    return Range(low, high, low_open)


def steps(low: int = 1) -> Range:
    return Range(low, MAX_STEPS)


PROBABILITY = between(0.0, 1.0)
FRACTION = between(0.0, 1.0, low_open=True)  # (0, 1]
FINITE = Range()

RANGES: Mapping[str, Range] = {
    "seed": Range(0, MAX_SEED, name="the seed (--seed)"),
    "total_steps": Range(1, MAX_STEPS, name="the budget (--steps)"),
    "env.frame_skip": between(1, 100),
    "env.sticky_action_prob": PROBABILITY,
    "env.noop_max": between(0, 10_000),
    "env.max_episode_frames": Range(1, MAX_STEPS, optional=True),
    "env.max_episode_steps": Range(1, MAX_STEPS, optional=True),
    "env.frame_stack": between(1, 64),
    "env.screen_size": between(1, 1024),
    "env.num_envs": between(1, 4096),
    "network.hidden_sizes": between(1, 65_536),
    "network.input_low": FINITE,
    "network.input_high": FINITE,
    "network.noisy_sigma0": between(0.0, 10.0),
    "categorical.num_atoms": between(1, 10_000),  # >= 2 when the head is on (heads/categorical.py)
    "categorical.v_min": FINITE,
    "categorical.v_max": FINITE,
    "quantile.num_quantiles": between(1, 10_000),
    "quantile.kappa": between(0.0, 1e6),
    "implicit_quantile.num_tau_samples": between(1, 10_000),
    "implicit_quantile.num_tau_prime_samples": between(1, 10_000),
    "implicit_quantile.num_quantile_samples": between(1, 10_000),
    "implicit_quantile.embedding_dim": between(1, 65_536),
    "implicit_quantile.kappa": between(0.0, 1e6),
    "replay.capacity": between(1, 10**9),
    "replay.n_step": between(1, 10_000),
    "replay.priority_exponent": between(0.0, 10.0),
    "replay.importance_exponent_start": PROBABILITY,
    "replay.importance_exponent_end": PROBABILITY,
    "replay.priority_eps": FRACTION,
    "agent.gamma": FRACTION,
    "agent.learning_rate": FRACTION,
    "agent.adam_eps": FRACTION,
    "agent.batch_size": between(1, 2**20),
    "agent.min_replay_steps": steps(0),
    "agent.update_period_steps": steps(),
    "agent.target_update_period_steps": steps(),
    "agent.target_update_tau": FRACTION,
    "agent.max_grad_norm": Range(0.0, 1e12, low_open=True, optional=True),
    "agent.shared_seed": Range(0, MAX_SEED, optional=True),
    "explore.warmup_epsilon": PROBABILITY,
    "explore.epsilon_start": PROBABILITY,
    "explore.epsilon_end": PROBABILITY,
    "explore.epsilon_decay_steps": steps(0),
    "eval.period_steps": steps(),
    "eval.max_steps": Range(1, MAX_STEPS, optional=True),
    "eval.episodes": between(1, 100_000),
    "eval.epsilon": PROBABILITY,
    "eval.value_tail_steps": Range(0, 10**7, optional=True),
    "run.log_period_steps": steps(),
    "run.iteration_steps": Range(1, MAX_STEPS, optional=True),
    "run.checkpoint_period_steps": steps(0),
    "munchausen.tau": Range(0.0, 100.0, low_open=True),
    "munchausen.alpha": PROBABILITY,
    "munchausen.l0": between(-1e6, 0.0),
}


@dataclass(frozen=True)
class Constraint:
    """A rule between fields: `holds(cfg)`, else the one line `message(cfg)`."""

    keys: tuple[str, ...]
    holds: Callable[[Config], bool]
    message: Callable[[Config], str]


def _periods(cfg: Config) -> tuple[int, ...]:
    return (cfg.total_steps, cfg.eval.period_steps, cfg.run.log_period_steps, cfg.run.checkpoint_period_steps)


@functools.cache
def observation_features(env: EnvConfig) -> int | None:
    """The length of the last axis of the env's observations (what input normalization maps);
    None for Atari (images, never normalized by bounds). Made once per env config."""
    if env.family == "atari":
        return None
    from dqnlab.envs import make_env

    made = make_env(env, 0)
    try:
        obs, _ = made.reset(seed=0)
    finally:
        made.close()
    return int(obs.shape[-1])


def _bounds_fit(cfg: Config) -> bool:
    net = cfg.network
    return not net.input_low or observation_features(cfg.env) in (None, len(net.input_low))


def _env_problem(cfg: Config) -> str | None:
    from dqnlab.envs.make import unsupported_settings

    return unsupported_settings(cfg.env)


CONSTRAINTS: tuple[Constraint, ...] = (
    # First: the bounds' check below makes the env.
    Constraint(("env.id", "env.family", "env.frame_skip", "env.noop_max", "env.terminal_on_life_loss",
                "env.frame_stack", "env.max_episode_frames", "env.sticky_action_prob", "env.full_action_space"),
               lambda c: _env_problem(c) is None, lambda c: str(_env_problem(c))),
    Constraint(("replay.capacity", "agent.batch_size"),
               lambda c: c.replay.capacity >= c.agent.batch_size,
               lambda c: f"replay.capacity ({c.replay.capacity}) must be >= agent.batch_size ({c.agent.batch_size})"),
    Constraint(("eval.max_steps", "eval.episodes"),
               lambda c: c.eval.max_steps is None or c.eval.max_steps >= c.eval.episodes,
               lambda c: f"eval.max_steps must be >= eval.episodes ({c.eval.episodes}): every episode needs a step"),
    Constraint(("env.num_envs", "total_steps", "eval.period_steps", "run.log_period_steps",
                "run.checkpoint_period_steps"),
               lambda c: all(n % c.env.num_envs == 0 for n in _periods(c)),
               lambda c: f"total_steps and the eval, log and checkpoint periods must be multiples of "
                         f"env.num_envs ({c.env.num_envs}): each iteration takes that many steps"),
    Constraint(("run.iteration_steps", "total_steps"),
               lambda c: c.run.iteration_steps is None or c.total_steps % c.run.iteration_steps == 0,
               lambda c: f"run.iteration_steps ({c.run.iteration_steps}) must divide the budget "
                         f"({c.total_steps} steps): the run trains total_steps / iteration_steps iterations"),
    Constraint(("run.iteration_steps", "env.num_envs"),
               lambda c: c.run.iteration_steps is None or c.env.num_envs == 1,
               lambda c: "run.iteration_steps (Dopamine's iterations of whole episodes) needs env.num_envs = 1"),
    Constraint(("replay.timeout", "env.frame_stack"),
               lambda c: c.replay.timeout != "next_episode" or c.env.frame_stack == 1,
               lambda c: "replay.timeout=next_episode needs env.frame_stack = 1 (stacked frames pad each reset)"),
    Constraint(("network.input_low", "network.input_high"),
               lambda c: len(c.network.input_low) == len(c.network.input_high)
               and all(h > lo for lo, h in zip(c.network.input_low, c.network.input_high)),
               lambda c: "network.input_low and input_high need the same length and high > low in every feature"),
    Constraint(("network.input_low", "env.id"), _bounds_fit,
               lambda c: f"network.input_low/high give {len(c.network.input_low)} bounds and "
                         f"{c.env.id}'s observations have {observation_features(c.env)} features"),
)

SELECTORS: Mapping[str, tuple[str, str]] = {
    "seed": ("the run", "--seed (a sweep's seeds)"),
    "variant": ("the components and their settings", "--components (a sweep's variants)"),
    "components": ("the components and their settings", "--components (a sweep's variants)"),
    "preset": ("a family's settings", "--preset (a sweep's preset)"),
    "protocol": ("a paper's settings", "--protocol (a sweep's protocol or arm_protocols)"),
    "env.id": ("the env and its settings", "--env (a sweep's envs)"),
    "env.family": ("the env's settings", "--env (the family follows from the env id)"),
}
"""Keys that name the settings a run takes, or the run itself, rather than hold one setting:
`--set protocol=X` recorded X in config.json and kept the old settings, `--set env.id=...` kept
the other env's, a sweep's `--set seed=3` would train every seed's directory with seed 3. They are
chosen by the options named here: key -> (what it selects, the option)."""


def check_overrides(overrides: Mapping[str, Any]) -> None:
    """Refuse, with one line, an override (`--set`, a sweep's overrides) of a key that selects
    settings (SELECTORS)."""
    for key in overrides:
        if key in SELECTORS:
            what, option = SELECTORS[key]
            raise ConfigError(f"{key} is not a --set key: it selects {what}, which --set would record "
                              f"without applying; use {option}")


def range_problem(key: str, value: Any) -> str | None:
    """Why `value` is out of `key`'s range (RANGES), None if it is in it."""
    rng = RANGES.get(key)
    if rng is None:
        return None
    if value is None:
        return None if rng.optional else f"{key} needs a value in {rng.text()}, got None"
    items = value if isinstance(value, tuple) else (value,)
    bad = [v for v in items if not rng.holds(v)]
    if not bad:
        return None
    what = f"every item of {key}" if isinstance(value, tuple) else f"{rng.name} {key}" if rng.name else key
    where = "be finite" if rng.low is None and rng.high is None else f"be in {rng.text()}"
    return f"{what} must {where}{' or None' if rng.optional else ''}, got {bad[0]!r}"


def check_ranges(cfg: Config) -> None:
    """Refuse, with one line, the first field out of its range."""
    for key in RANGES:
        problem = range_problem(key, get_path(cfg, key))
        if problem is not None:
            raise ConfigError(problem)


def check(cfg: Config) -> None:
    """Refuse, with one line, a config that breaks the table: a field out of range, then a
    constraint between fields."""
    check_ranges(cfg)
    for rule in CONSTRAINTS:
        if not rule.holds(cfg):
            raise ConfigError(rule.message(cfg))

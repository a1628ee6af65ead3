"""Presets per env family, and the one function that resolves a run's config.

A preset gives every field its "component off" value (textbook DQN) and the harness's own periods
(evaluation, logging, checkpoints); the named protocol (`dqnlab/protocols/`) then sets what a
paper's experiments used, per family and per env; the registry in `components/` switches
components on (with the protocol's values for them); `--set` overrides come last.

* `atari`: Hessel et al. 2018 (Rainbow), Table 1, in agent steps (frames / 4): Adam lr 6.25e-5,
  eps 1.5e-4; 80k frames of warm-up; target period 32k frames; replay 1M; batch 32; update every
  4 steps; n=3; 51 atoms on [-10, 10]; PER alpha 0.5, beta 0.4 -> 1; without noisy, epsilon
  1 -> 0.01 over 250k frames. Budget 200M frames. The protocol (machado2018 / nature2015) fills the
  env settings. Noisy sigma0: 0.1, not Table 1's 0.5 (our decision): DQN Zoo's Rainbow (which
  reproduces Hessel et al.'s results; dqn_zoo/rainbow/run_atari.py `noisy_weight_init`), Dopamine's
  full_rainbow and Kaixhin's Rainbow all use 0.1 in the same parametrization, sigma = sigma0 /
  sqrt(fan_in) (dqn_zoo/networks.py `noisy_linear`); and 0.5 swamped a C51 head's small logits
  at the small scale (docs/fidelity.md). `--set network.noisy_sigma0=0.5` gives
  Table 1's value.
* `classic`, `minatar`: the harness's periods only; every hyperparameter comes from the protocol
  (`revisiting_rainbow` by default: Obando-Ceron & Castro 2021).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dqnlab import components as comps
from dqnlab import heads, protocols, validation
from dqnlab.architecture import DUELING_LAYOUTS, INITS, NOISE_DRAWS, TORSOS
from dqnlab.config import Config, apply_settings, replace_path
from dqnlab.envs import env_family
from dqnlab.envs.vector import BACKENDS, check_ale_backend
from dqnlab.errors import ConfigError
from dqnlab.realized_values import tail_steps
from dqnlab.replay_modes import SCALAR_PRIORITIES, TIMEOUTS

PRESETS: dict[str, dict[str, Any]] = {
    "atari": {
        "total_steps": 50_000_000,
        "network.torso": "nature",
        "network.hidden_sizes": (512,),
        "network.noisy_sigma0": 0.1,  # see the module docstring
        "categorical.v_min": -10.0,
        "categorical.v_max": 10.0,
        "replay.capacity": 1_000_000,
        "agent.loss": "huber",
        "agent.learning_rate": 6.25e-5,
        "agent.adam_eps": 1.5e-4,
        "agent.batch_size": 32,
        "agent.min_replay_steps": 20_000,
        "agent.update_period_steps": 4,
        "agent.target_update_period_steps": 8_000,
        "explore.epsilon_decay_steps": 62_500,
        "eval.period_steps": 250_000,
        "eval.episodes": 10,
        "eval.max_steps": 125_000,  # the size of Dopamine's Atari evaluation phase (evaluation_steps)
        "eval.epsilon": 0.001,
        "run.log_period_steps": 10_000,
        "run.checkpoint_period_steps": 250_000,
    },
    # Our evaluation protocol (Revisiting Rainbow has none): 10 episodes at epsilon 0.001
    # (Dopamine's epsilon_eval) every 2.5k steps, 12 points over a 30k-step run.
    "classic": {
        "network.torso": "mlp",
        "eval.period_steps": 2_500,
        "eval.episodes": 10,
        "eval.epsilon": 0.001,
        "run.log_period_steps": 1_000,
        "run.checkpoint_period_steps": 10_000,
    },
    "minatar": {
        "network.torso": "minatar",
        "eval.period_steps": 100_000,
        "eval.episodes": 10,
        "eval.epsilon": 0.001,
        "run.log_period_steps": 10_000,
        "run.checkpoint_period_steps": 100_000,
    },
}


def family_of(env_id: str) -> str:
    try:
        return env_family(env_id)
    except ValueError as e:
        raise ConfigError(str(e)) from None


def default_preset(env_id: str) -> str:
    return family_of(env_id)


def resolve_config(
    env_id: str,
    components: str = "dqn",
    *,
    seed: int = 0,
    total_steps: int | None = None,
    preset: str | None = None,
    protocol: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Preset, then the protocol's family and env settings, then components (with the
    protocol's values for them), then overrides; validated. `protocol` None: the family's default."""
    validation.check_overrides(overrides or {})
    enabled = comps.parse_variant(components)
    family = family_of(env_id)
    preset = preset or default_preset(env_id)
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    if preset != family:  # a preset is a family's settings; the protocol would override only part of them
        raise ConfigError(f"preset {preset} is for {preset} envs, and {env_id} is {family}; "
                          f"leave --preset out (default: {family}) and use --set for single values")
    chosen = protocols.for_run(family, protocol)
    settings: dict[str, Any] = dict(PRESETS[preset])
    settings.update(chosen.settings(env_id, family))
    settings.update(comps.settings_for(enabled, chosen.components))
    settings.update({"env.id": env_id, "env.family": family})
    if family == "minatar":  # MinAtar's id names its action set: -v0 all 6 actions, -v1 minimal
        settings["env.full_action_space"] = env_id.endswith("-v0")
    settings.update(
        variant=comps.variant_name(enabled), components=enabled, preset=preset,
        protocol=chosen.name, seed=seed,
    )
    if total_steps is not None:
        settings["total_steps"] = total_steps
    cfg = apply_settings(Config(), settings)
    cfg = apply_settings(cfg, dict(overrides or {}))
    validation.check_ranges(cfg)  # before values derived from them (the value tail from gamma)
    if cfg.eval.value_tail_steps is None:
        cfg = replace_path(cfg, "eval.value_tail_steps", tail_steps(cfg.agent.gamma))
    validate(cfg)
    return cfg


# The side of the square frames a family's observations have (None: a vector, not an image).
_FRAME_SIDE = {"classic": lambda env: None, "minatar": lambda env: 10, "atari": lambda env: env.screen_size}


def fits_observation(cfg: Config) -> tuple[bool, str]:
    """Whether the torso can read the env's observations: a conv torso needs images at least as
    large as its conv stack consumes (Nature's needs 36x36), an MLP reads anything flattened."""
    torso = TORSOS.get(cfg.network.torso)
    if torso is None or not torso.convs:
        return True, ""
    side = _FRAME_SIDE[cfg.env.family](cfg.env)
    need = 1
    for conv in reversed(torso.convs):  # smallest input giving a 1x1 output
        # A SAME-padded conv keeps any input at stride 1; a VALID one consumes kernel - 1 pixels.
        need = (need - 1) * conv.stride + (1 if conv.padding == "same" else conv.kernel)
    if side is None:
        return False, (f"network.torso={cfg.network.torso} needs image observations, and "
                       f"{cfg.env.id} gives vectors (preset {cfg.preset}): use network.torso=mlp "
                       "or the env's own preset")
    return side >= need, (f"network.torso={cfg.network.torso} needs frames of at least {need}x{need}; "
                          f"{cfg.env.id} gives {side}x{side}")


def validate(cfg: Config) -> None:
    """Reject configs that cannot run, with a one-line reason. Every field's range and the
    constraints between fields are one table (`validation.py`); names are checked against the
    registries they select from (heads, losses, torsos, vector backends, components)."""
    net = cfg.network
    comps.check_switches(cfg)  # first: an override behind a variant's back is named as such
    validation.check(cfg)  # every field's range, the constraints between fields
    heads.check(cfg)  # the head's loss and its own section
    checks = [
        (net.torso in TORSOS, f"unknown torso {net.torso!r}; choose from {', '.join(TORSOS)}"),
        (net.init in INITS, f"unknown network.init {net.init!r}; choose from {', '.join(INITS)}"),
        (net.dueling_layout in DUELING_LAYOUTS,
         f"unknown network.dueling_layout {net.dueling_layout!r}; choose from {', '.join(DUELING_LAYOUTS)}"),
        (net.noise_draw in NOISE_DRAWS,
         f"unknown network.noise_draw {net.noise_draw!r}; choose from {', '.join(NOISE_DRAWS)}"),
        (cfg.replay.timeout in TIMEOUTS,
         f"unknown replay.timeout {cfg.replay.timeout!r}; choose from {', '.join(TIMEOUTS)}"),
        (cfg.replay.scalar_priority in SCALAR_PRIORITIES,
         f"unknown replay.scalar_priority {cfg.replay.scalar_priority!r}; choose from {', '.join(SCALAR_PRIORITIES)}"),
        (cfg.protocol in (*protocols.PROTOCOLS, "none"),
         f"unknown protocol {cfg.protocol!r}; choose from {', '.join(protocols.PROTOCOLS)}"),
    ]
    checks.append((cfg.env.vector_backend in BACKENDS,
                   f"env.vector_backend must be one of {', '.join(BACKENDS)}, got {cfg.env.vector_backend!r}"))
    if cfg.env.vector_backend == "ale":
        problem = check_ale_backend(cfg.env)
        checks.append((problem is None, problem or ""))
    checks.append(fits_observation(cfg))
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    if cfg.components != comps.canonical(cfg.components):
        raise ConfigError(f"components must be in canonical order, got {cfg.components}")
    if cfg.variant != comps.variant_name(cfg.components):
        raise ConfigError(f"variant {cfg.variant!r} does not match components {cfg.components}")
    comps.check(cfg)

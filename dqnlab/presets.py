"""Hyperparameter presets per env family, and the one function that resolves a run's config.

Each preset gives every field its "component off" value (textbook DQN); the registry in
`components.py` switches components on; `--set` overrides come last. Sources:

* `atari`: Hessel et al. 2018 (Rainbow), Table 1, in agent steps (frames / 4): Adam lr 6.25e-5,
  eps 1.5e-4; 80k frames of warm-up; target period 32k frames; replay 1M; batch 32; update every
  4 steps; n=3; 51 atoms on [-10, 10]; PER alpha 0.5, beta 0.4 -> 1; sigma0 0.5; without noisy,
  epsilon 1 -> 0.01 over 250k frames. Budget 200M frames. The protocol (machado2018 / nature2015)
  fills the env settings.
* `classic`: Obando-Ceron & Castro 2021 ("Revisiting Rainbow"), classic control: MLP 2x512,
  batch 128, replay 50k, warm-up 500, update period 2, target period 100, lr 1e-4 (LunarLander
  1e-3), Adam eps 3.125e-4, budget 30k steps (LunarLander 120k), vmax 200 (LunarLander 300,
  MountainCar 100).
  CartPole-v1 differs, because Revisiting Rainbow tuned for CartPole-v0's 200-step cap: v1 caps
  episodes at 500 steps, so learning needs more steps. We use a 50k budget and lr 5e-4 (vmax 200
  already covers the largest discounted return, 1/(1-0.99) = 100). Measured here (seed 0): dqn
  first evaluates at 500 at 32.5k steps, rainbow at 35k (tests/test_learning.py checks 2 of 3 seeds).
* `minatar`: Revisiting Rainbow, MinAtar: conv 16 3x3 stride 1 (then fc 128 as in MinAtar's own
  DQN), batch 32, replay 100k, warm-up 1000, update period 4, target period 1000, lr 1e-4,
  Adam eps 3.125e-4, vmax 100, budget 10M steps.

The epsilon decay of the small-scale presets (1 -> 0.01 over 10k / 250k agent steps) and the scalar
loss (MSE for classic control, Huber elsewhere) are our choices; they are recorded in config.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dqnlab import components as comps
from dqnlab.architecture import HEADS, TORSOS
from dqnlab.config import Config, apply_settings
from dqnlab.envs import PROTOCOLS, env_family, protocol_settings
from dqnlab.envs.vector import BACKENDS, check_ale_backend
from dqnlab.errors import ConfigError
from dqnlab.losses import LOSSES

PRESETS: dict[str, dict[str, Any]] = {
    "atari": {
        "total_steps": 50_000_000,
        "network.torso": "nature",
        "network.hidden_sizes": (512,),
        "network.v_min": -10.0,
        "network.v_max": 10.0,
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
    "classic": {
        "total_steps": 30_000,
        "network.torso": "mlp",
        "network.hidden_sizes": (512, 512),
        "network.v_min": -200.0,
        "network.v_max": 200.0,
        "replay.capacity": 50_000,
        "agent.loss": "mse",
        "agent.learning_rate": 1e-4,
        "agent.adam_eps": 3.125e-4,
        "agent.batch_size": 128,
        "agent.min_replay_steps": 500,
        "agent.update_period_steps": 2,
        "agent.target_update_period_steps": 100,
        "explore.epsilon_decay_steps": 10_000,
        "eval.period_steps": 2_500,
        "eval.episodes": 10,
        "eval.epsilon": 0.001,
        "run.log_period_steps": 1_000,
        "run.checkpoint_period_steps": 10_000,
    },
    "minatar": {
        "total_steps": 10_000_000,
        "network.torso": "minatar",
        "network.hidden_sizes": (128,),
        "network.v_min": -100.0,
        "network.v_max": 100.0,
        "replay.capacity": 100_000,
        "agent.loss": "huber",
        "agent.learning_rate": 1e-4,
        "agent.adam_eps": 3.125e-4,
        "agent.batch_size": 32,
        "agent.min_replay_steps": 1_000,
        "agent.update_period_steps": 4,
        "agent.target_update_period_steps": 1_000,
        "explore.epsilon_decay_steps": 250_000,
        "eval.period_steps": 100_000,
        "env.sticky_action_prob": 0.1,
        "eval.episodes": 10,
        "eval.epsilon": 0.001,
        "run.log_period_steps": 10_000,
        "run.checkpoint_period_steps": 100_000,
    },
}

# Per-env adjustments inside a family's preset (see the module docstring for why).
ENV_ADJUSTMENTS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "total_steps": 50_000,
        "agent.learning_rate": 5e-4,
    },
    "LunarLander-v3": {
        "total_steps": 120_000,
        "agent.learning_rate": 1e-3,
        "network.v_min": -300.0,
        "network.v_max": 300.0,
    },
    "MountainCar-v0": {"network.v_min": -100.0, "network.v_max": 100.0},
}

DEFAULT_PROTOCOL = "machado2018"


def family_of(env_id: str) -> str:
    try:
        return env_family(env_id)
    except ValueError as e:
        raise ConfigError(str(e)) from None


def default_preset(env_id: str) -> str:
    return family_of(env_id)


def env_settings(env_id: str, protocol: str | None) -> dict[str, Any]:
    """The `env.*` settings of an env id under a protocol (Atari only)."""
    family = family_of(env_id)
    out: dict[str, Any] = {"env.id": env_id, "env.family": family}
    if family == "atari":
        name = protocol or DEFAULT_PROTOCOL
        try:
            settings = protocol_settings(name)
        except (KeyError, ValueError):
            raise ConfigError(f"unknown protocol {name!r}; choose from {', '.join(PROTOCOLS)}") from None
        for key, value in settings.items():
            out[f"env.{key}"] = value
        out["env.protocol"] = name
    elif protocol not in (None, "none"):
        raise ConfigError(f"--protocol applies to Atari envs only, not {env_id}")
    return out


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
    """Preset, then env and protocol, then components, then overrides; validated."""
    enabled = comps.parse_variant(components)
    preset = preset or default_preset(env_id)
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    settings: dict[str, Any] = dict(PRESETS[preset])
    settings.update(ENV_ADJUSTMENTS.get(env_id, {}))
    settings.update(env_settings(env_id, protocol))
    settings.update(comps.settings_for(enabled))
    settings.update(
        variant=comps.variant_name(enabled), components=enabled, preset=preset, seed=seed
    )
    if total_steps is not None:
        settings["total_steps"] = total_steps
    cfg = apply_settings(Config(), settings)
    cfg = apply_settings(cfg, dict(overrides or {}))
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
    for _, kernel, stride in reversed(torso.convs):  # smallest input giving a 1x1 output
        need = (need - 1) * stride + kernel
    if side is None:
        return False, (f"network.torso={cfg.network.torso} needs image observations, and "
                       f"{cfg.env.id} gives vectors (preset {cfg.preset}): use network.torso=mlp "
                       "or the env's own preset")
    return side >= need, (f"network.torso={cfg.network.torso} needs frames of at least {need}x{need}; "
                          f"{cfg.env.id} gives {side}x{side}")


def validate(cfg: Config) -> None:
    """Reject configs that cannot run, with a one-line reason. Names are checked against the
    registries they select from (heads, losses, torsos, vector backends, components)."""
    net, head = cfg.network, cfg.network.head
    categorical = head == "categorical"
    if head not in HEADS:
        raise ConfigError(f"unknown network.head {head!r}; choose from {', '.join(HEADS)}")
    comps.check_switches(cfg)  # first: an override behind a variant's back is named as such
    checks = [
        (cfg.total_steps > 0, f"the budget must be positive, got --steps {cfg.total_steps}"),
        (cfg.seed >= 0, f"the seed must be >= 0, got {cfg.seed}"),
        (net.num_atoms >= 2 if categorical else net.num_atoms == 1,
         f"a {head} head needs network.num_atoms {'>= 2' if categorical else '= 1'}, got {net.num_atoms}"),
        (not categorical or net.v_min < net.v_max, f"a categorical head (c51) needs v_min < v_max, got [{net.v_min}, {net.v_max}]"),
        (cfg.agent.loss in LOSSES[head], f"agent.loss={cfg.agent.loss} does not fit a {head} head: "
         f"choose from {', '.join(LOSSES[head])}"),
        (net.torso in TORSOS, f"unknown torso {net.torso!r}; choose from {', '.join(TORSOS)}"),
        (cfg.replay.n_step >= 1, "replay.n_step must be >= 1"),
        (cfg.replay.capacity >= cfg.agent.batch_size, "replay.capacity must be >= agent.batch_size"),
        (0.0 <= cfg.replay.priority_exponent, "replay.priority_exponent must be >= 0"),
        (cfg.replay.priority_eps > 0, "replay.priority_eps must be > 0"),
        (0.0 < cfg.agent.gamma <= 1.0, "agent.gamma must be in (0, 1]"),
        (cfg.agent.learning_rate > 0, "agent.learning_rate must be > 0"),
        (cfg.agent.batch_size >= 1, "agent.batch_size must be >= 1"),
        (cfg.agent.update_period_steps >= 1, "agent.update_period_steps must be >= 1"),
        (cfg.agent.target_update_period_steps >= 1, "agent.target_update_period_steps must be >= 1"),
        (0.0 < cfg.agent.target_update_tau <= 1.0, "agent.target_update_tau must be in (0, 1]"),
        (cfg.agent.max_grad_norm is None or cfg.agent.max_grad_norm > 0, "agent.max_grad_norm must be > 0"),
        (0.0 <= cfg.explore.epsilon_end <= 1.0 and 0.0 <= cfg.explore.epsilon_start <= 1.0,
         "epsilons must be in [0, 1]"),
        (cfg.explore.epsilon_decay_steps >= 0, "explore.epsilon_decay_steps must be >= 0"),
        (0.0 <= cfg.eval.epsilon <= 1.0, "eval.epsilon must be in [0, 1]"),
        (cfg.eval.episodes >= 1, "eval.episodes must be >= 1"),
        (cfg.eval.period_steps >= 1, "eval.period_steps must be >= 1"),
        (cfg.run.log_period_steps >= 1, "run.log_period_steps must be >= 1"),
        (cfg.run.checkpoint_period_steps >= 0, "run.checkpoint_period_steps must be >= 0"),
        (cfg.env.frame_stack >= 1 and cfg.env.frame_skip >= 1, "frame_stack and frame_skip must be >= 1"),
        (cfg.env.num_envs >= 1, "env.num_envs must be >= 1"),
        (cfg.env.num_envs < 1 or all(n % cfg.env.num_envs == 0 for n in (
            cfg.total_steps, cfg.eval.period_steps, cfg.run.log_period_steps, cfg.run.checkpoint_period_steps,
        )), f"total_steps and the eval, log and checkpoint periods must be multiples of env.num_envs "
            f"({cfg.env.num_envs}): each iteration takes that many steps"),
        (all(math.isfinite(v) for v in (cfg.network.v_min, cfg.network.v_max)), "v_min/v_max must be finite"),
    ]
    checks.append((cfg.env.vector_backend in BACKENDS,
                   f"env.vector_backend must be one of {', '.join(BACKENDS)}, got {cfg.env.vector_backend!r}"))
    if cfg.env.vector_backend == "ale":
        problem = check_ale_backend(cfg.env)
        checks.append((problem is None, problem or ""))
    checks += [
        (cfg.eval.max_steps is None or cfg.eval.max_steps >= cfg.eval.episodes,
         f"eval.max_steps must be >= eval.episodes ({cfg.eval.episodes}): every episode needs a step"),
        fits_observation(cfg),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    if cfg.components != comps.canonical(cfg.components):
        raise ConfigError(f"components must be in canonical order, got {cfg.components}")
    if cfg.variant != comps.variant_name(cfg.components):
        raise ConfigError(f"variant {cfg.variant!r} does not match components {cfg.components}")
    comps.check(cfg)

"""The frozen, typed config that fully describes a run.

Every knob is a dataclass field whose `doc` metadata is shown by `dqnlab train --help`; units are
part of the names (`*_steps` are agent steps, `*_frames` emulator frames). Nothing is global: a run
is `Config` + seed, and `config.json` in the run directory is `to_dict(config)`.

`Config` is `CoreConfig` plus one section per registered component or head that owns config
fields of its own (e.g. `munchausen.tau`, `categorical.num_atoms`): each module declares its
section, the registries collect them, and they are shown, overridden and saved like every other
field. A new component or head with its own knobs therefore needs no edit here.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dqnlab import components, heads
from dqnlab.errors import ConfigError
from dqnlab.knobs import knob  # noqa: F401 - re-exported: the config's field helper


@dataclass(frozen=True)
class EnvConfig:
    id: str = knob("CartPole-v1", "gymnasium id: a classic-control id, MinAtar/<Game>-v1 or ALE/<Game>-v5")
    family: str = knob("classic", "env family, derived from the id: classic | minatar | atari")
    frame_skip: int = knob(1, "emulator frames per agent step (frame = step * frame_skip)")
    sticky_action_prob: float = knob(0.0, "probability that the emulator repeats the previous action")
    noop_max: int = knob(0, "up to this many random no-op actions at reset (0 = none)")
    terminal_on_life_loss: bool = knob(False, "treat a life loss as terminal for bootstrapping (no reset)")
    reward_clip: bool = knob(False, "clip rewards to [-1, 1] for learning (scores stay raw)")
    max_episode_frames: int | None = knob(None, "episode cap in emulator frames (Atari)")
    max_episode_steps: int | None = knob(None, "episode cap in agent steps (None = gymnasium default)")
    frame_stack: int = knob(1, "observations stacked along the first axis")
    screen_size: int = knob(84, "Atari frames are resized to screen_size x screen_size grayscale")
    full_action_space: bool = knob(False, "Atari: all 18 actions instead of the minimal set")
    num_envs: int = knob(
        1, "training env copies stepped in lockstep, acted for by one batched forward pass; every "
        "env step counts as an agent step (budgets, update and target periods, replay ratio)"
    )
    vector_backend: str = knob(
        "copies", "how the num_envs training copies step: copies (our wrappers, in this process) | "
        "ale (ale-py's threaded C++ AtariVectorEnv; Atari machado2018 only)"
    )


@dataclass(frozen=True)
class NetworkConfig:
    torso: str = knob("mlp", "feature extractor: mlp | minatar (conv 16 3x3) | nature (Mnih et al. 2015)")
    hidden_sizes: tuple[int, ...] = knob((512, 512), "fully connected layers after the torso")
    init: str = knob(
        "uniform_fan_in", "initialization of plain layers: uniform_fan_in (weights and biases "
        "U(+-1/sqrt(fan_in)), PyTorch's default and DQN Zoo's) | glorot_uniform (Glorot-uniform "
        "weights, zero biases) | variance_scaling_fan_in (weights U(+-3^(1/4)/sqrt(fan_in)), zero "
        "biases: flax variance_scaling(1/sqrt(3), fan_in, uniform), Revisiting Rainbow's rainbow "
        "configs from 2021-02-03 to 2021-05-25); noisy layers keep their own (see network.noisy)"
    )
    input_low: tuple[float, ...] = knob(
        (), "lower bounds of the observation, one per feature: with input_high, inputs are mapped "
        "by 2 (x - low) / (high - low) - 1 before the torso (empty = no normalization)"
    )
    input_high: tuple[float, ...] = knob((), "upper bounds of the observation (see input_low)")
    dueling: bool = knob(False, "dueling head: V(s) + A(s,a) - mean_a A(s,a) (Wang et al. 2016)")
    dueling_layout: str = knob(
        "streams", "where dueling splits: streams (the last hidden layer is duplicated into a value "
        "and an advantage stream, Wang et al. 2016) | heads (every hidden layer is shared; value "
        "and advantage are two linear heads on it, Revisiting Rainbow)"
    )
    noisy: bool = knob(
        False, "every fully connected layer (hidden and output) becomes a factorized Gaussian "
        "NoisyLinear layer (Fortunato et al. 2018); conv layers stay plain"
    )
    noisy_sigma0: float = knob(0.1, "initial noise scale sigma0 of NoisyLinear: sigma = sigma0 / sqrt(fan_in)")
    noise_draw: str = knob(
        "per_step", "when noisy layers draw their noise: per_step (fresh noise for every acting "
        "step and for the online and the target network of every update; evaluation uses the mean "
        "weights: Fortunato et al. 2018) | per_run (one draw from the run's seed for the whole run, "
        "shared by acting, evaluation and both networks: Revisiting Rainbow's code) | fixed (that "
        "one draw from seed 0, the same in every run, as RR's PRNGKey(0) before 2021-05-25). In "
        "per_run and fixed, a noise vector of length n is the same wherever it is used, as a JAX "
        "draw with one key (docs/fidelity.md)"
    )
    head: str = knob(
        "scalar", "head kind (dqnlab/heads/): scalar (one Q-value per action) | categorical (c51) "
        "| quantile (qr) | implicit_quantile (iqn); each distributional head's own settings are "
        "its section (categorical.*, quantile.*, implicit_quantile.*)"
    )


@dataclass(frozen=True)
class ReplayConfig:
    capacity: int = knob(50_000, "replay capacity in transitions")
    n_step: int = knob(1, "multi-step return length n (bootstrap with gamma^n)")
    prioritized: bool = knob(False, "proportional prioritized sampling (Schaul et al. 2016)")
    priority_exponent: float = knob(0.5, "PER alpha: sampling probability ~ priority^alpha")
    importance_exponent_start: float = knob(0.4, "PER beta at step 0, annealed linearly to the end value")
    importance_exponent_end: float = knob(1.0, "PER beta at the end of the budget")
    priority_eps: float = knob(1e-6, "added to |TD error| (or loss) so no transition has priority 0")
    scalar_priority: str = knob(
        "abs_td", "PER: a scalar head's new priority: abs_td (|TD error|, Schaul et al. 2016) | loss "
        "(the per-sample loss, as Dopamine's and Revisiting Rainbow's DQN agents: with alpha 0.5 "
        "that is sqrt(huber) or |TD|); a categorical head's is always its loss"
    )
    importance_weights: bool = knob(
        True, "PER: weight each sample's loss by its importance weight; False leaves the loss "
        "unweighted, priorities still updated (Revisiting Rainbow's code before 2021-02-26)"
    )
    timeout: str = knob(
        "bootstrap", "what a time-limit truncation stores: bootstrap (the n-step return stops "
        "there and bootstraps from the last observation) | terminal (stored as a termination: no "
        "bootstrap, as Dopamine 3.1.8) | next_episode (stored as non-terminal with no episode end: "
        "the pending n-step returns take their rewards and bootstrap state from the next episode's "
        "first steps, as Dopamine >= 3.1.9 with Revisiting Rainbow's _store_transition; needs "
        "env.frame_stack = 1)"
    )


@dataclass(frozen=True)
class AgentConfig:
    gamma: float = knob(0.99, "discount factor")
    double: bool = knob(False, "Double Q-learning target: online net selects, target net evaluates")
    loss: str = knob("huber", "huber | mse (scalar heads) | cross_entropy (categorical heads)")
    learning_rate: float = knob(1e-4, "Adam learning rate")
    adam_eps: float = knob(3.125e-4, "Adam epsilon")
    batch_size: int = knob(128, "transitions per gradient update")
    min_replay_steps: int = knob(500, "agent steps collected before the first update (warm-up)")
    update_period_steps: int = knob(2, "agent steps between gradient updates")
    target_update_period_steps: int = knob(100, "agent steps between target network updates")
    target_update_tau: float = knob(1.0, "1.0 = hard copy; < 1 = Polyak averaging at each target update")
    max_grad_norm: float | None = knob(10.0, "clip the global gradient norm (None = no clipping)")
    shared_seed: int | None = knob(
        None, "seed of the initial weights, the exploration draws and IQN's quantile fractions, when "
        "not the run's seed: every run given the same value starts from the same weights and draws "
        "the same epsilon-greedy numbers and fractions, and runs differ only by their envs, replay "
        "sampling and noise (Dopamine 3.1.8's JaxDQNAgent and RR's agents before 2021-03-09: "
        "PRNGKey(0) in every run). None = the seed"
    )


@dataclass(frozen=True)
class ExploreConfig:
    warmup_epsilon: float = knob(1.0, "training epsilon during the warm-up (before agent.min_replay_steps)")
    epsilon_start: float = knob(1.0, "training epsilon when the warm-up ends")
    epsilon_end: float = knob(0.01, "training epsilon after the decay")
    epsilon_decay_steps: int = knob(10_000, "agent steps of linear decay, counted after the warm-up")


@dataclass(frozen=True)
class EvalConfig:
    period_steps: int = knob(2_500, "agent steps between evaluations (one is always run at the end)")
    max_steps: int | None = knob(
        None, "step budget of one evaluation, in agent steps over all its episodes (the size of "
        "Dopamine's evaluation_steps, as a cap); episodes still running when it is spent are cut "
        "there and count as truncated; None = no budget beyond the episode caps"
    )
    episodes: int = knob(10, "episodes per evaluation")
    epsilon: float = knob(0.001, "evaluation epsilon")
    value_tail_steps: int | None = knob(
        None, "steps an evaluation episode that hits its time limit goes on (same policy, score "
        "already cut) so the realized discounted values of its states need no truncation; None = "
        "ceil(log(1e-3) / log(gamma)), 688 at gamma 0.99 (docs/run_directory.md); 0 = none"
    )


@dataclass(frozen=True)
class RunConfig:
    log_period_steps: int = knob(1_000, "agent steps between rows of progress.csv")
    iteration_steps: int | None = knob(
        None, "Dopamine's iterations (Revisiting Rainbow's metric): when set, a progress.csv row ends "
        "an iteration at the end of the first training episode that brings it to at least this many "
        "steps (whole episodes, Dopamine run_experiment._run_one_phase), so each row's "
        "episode_return is the mean over that iteration's episodes; the run trains "
        "total_steps / iteration_steps such iterations, i.e. somewhat past total_steps "
        "(run.log_period_steps is then unused; needs env.num_envs = 1). None = a row every "
        "run.log_period_steps"
    )
    checkpoint_period_steps: int = knob(10_000, "agent steps between checkpoints (0 = only at the end)")
    flush_denormal: bool = knob(
        True, "CPU: flush subnormal floats to zero (torch.set_flush_denormal) while the run trains; "
        "Adam's first-moment state turns subnormal and slows every update (docs/fidelity.md)"
    )


@dataclass(frozen=True)
class CoreConfig:
    """The fields every run has; `Config` adds the components' own sections."""

    variant: str = knob("dqn", "canonical variant name, derived from the components")
    components: tuple[str, ...] = knob((), "enabled components, canonical order")
    preset: str = knob("classic", "hyperparameter preset the config started from")
    protocol: str = knob(
        "none", "the named protocol whose settings the config took (dqnlab/protocols/): "
        "machado2018 | nature2015 (Atari), revisiting_rainbow | revisiting_rainbow_dqn | "
        "revisiting_rainbow_icml2021 | revisiting_rainbow_icml2021_dqn | revisiting_rainbow_qrdqn | "
        "revisiting_rainbow_iqn (classic control, MinAtar)"
    )
    seed: int = knob(0, "seed of every random number generator of the run")
    total_steps: int = knob(30_000, "training budget in agent steps")
    env: EnvConfig = field(default_factory=EnvConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    explore: ExploreConfig = field(default_factory=ExploreConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    run: RunConfig = field(default_factory=RunConfig)

    @property
    def total_frames(self) -> int:
        return self.total_steps * self.env.frame_skip


def _with_component_sections(core: type) -> type:
    """`core` plus a field `<name>` per component and head that declares its own config section."""
    owned = [*components.config_sections(), *heads.config_sections()]
    sections = [(name, section, field(default_factory=section)) for name, section in owned]
    cls = dataclasses.make_dataclass(
        "Config", sections, bases=(core,), frozen=True,
        namespace={"__doc__": "A run's full config: CoreConfig and the components' and heads' own sections."},
    )
    cls.__module__ = __name__  # so pickle (sweep workers, SLURM jobs) finds it as dqnlab.config.Config
    return cls


# Built from the registry: a class like any other dataclass (pickled by name, typed fields).
Config = _with_component_sections(CoreConfig)


# ----------------------------------------------------------------------------------------------
# Walking, overriding and (de)serializing


@functools.cache
def _field_types(cls: type) -> Mapping[str, Any]:
    # Cached: resolving the string annotations is most of what reading a config costs (a config
    # class never changes once built). Read-only, as every caller shares it.
    return types.MappingProxyType(typing.get_type_hints(cls))


@functools.cache
def _leaf_types() -> Mapping[str, Any]:
    return types.MappingProxyType({key: tp for key, tp, _, _ in iter_fields()})


def iter_fields(cls: type = Config, prefix: str = "") -> Iterator[tuple[str, Any, Any, str]]:
    """Yield (dotted key, type, default, doc) for every leaf field."""
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            yield from iter_fields(tp, key + ".")
        else:
            yield key, tp, f.default, f.metadata.get("doc", "")


def leaf_type(key: str) -> Any:
    leaves = _leaf_types()
    if key in leaves:
        return leaves[key]
    raise ConfigError(f"unknown config key {key!r} (see `dqnlab train --help` for the list)")


def type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def parse_value(key: str, raw: Any) -> Any:
    """Convert `raw` (a string from the command line, or a Python value) to the type of `key`."""
    tp = leaf_type(key)
    try:
        value = _coerce(tp, raw)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"bad value for {key} (expects {type_name(tp)}): {raw!r}") from e
    if any(isinstance(v, float) and not math.isfinite(v) for v in (value if isinstance(value, tuple) else (value,))):
        raise ConfigError(f"bad value for {key}: {raw!r} is not finite")  # no knob means inf or nan
    return value


def _coerce(tp: Any, raw: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if raw is None or (isinstance(raw, str) and raw.lower() in ("none", "null")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], raw)
    if origin is tuple:
        items = raw
        if isinstance(raw, str):
            items = [s for s in raw.strip("()[] ").split(",") if s.strip()]
        return tuple(_coerce(args[0], x) for x in items)
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(raw, str) and raw.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(raw)
    if tp is int:
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError(raw)
        if isinstance(raw, str):
            value = float(raw.replace("_", ""))
            if not value.is_integer():
                raise ValueError(raw)
            return int(value)
        return int(raw)
    if tp is float:
        if isinstance(raw, bool):
            raise ValueError(raw)
        return float(raw)
    if tp is str:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return raw
    raise TypeError(f"unsupported config type {tp}")


def replace_path(cfg: Any, key: str, value: Any) -> Any:
    """`dataclasses.replace` along a dotted path."""
    head, _, rest = key.partition(".")
    if not rest:
        return dataclasses.replace(cfg, **{head: value})
    return dataclasses.replace(cfg, **{head: replace_path(getattr(cfg, head), rest, value)})


def get_path(cfg: Any, key: str) -> Any:
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def apply_settings(cfg: Config, settings: Mapping[str, Any]) -> Config:
    """Apply dotted-key settings, each type-checked against its field."""
    for key, raw in settings.items():
        cfg = replace_path(cfg, key, parse_value(key, raw))
    return cfg


def parse_set_args(pairs: list[str]) -> dict[str, str]:
    """`["a.b=1", ...]` -> `{"a.b": "1"}`; keys are checked against the config."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        leaf_type(key.strip())
        out[key.strip()] = value.strip()
    return out


def to_dict(cfg: Config) -> dict[str, Any]:
    def convert(x: Any) -> Any:
        if dataclasses.is_dataclass(x):
            return {f.name: convert(getattr(x, f.name)) for f in dataclasses.fields(x)}
        if isinstance(x, tuple):
            return [convert(v) for v in x]
        return x

    return convert(cfg)


def from_dict(data: Mapping[str, Any]) -> Config:
    """Inverse of `to_dict`; extra keys (such as `meta`) are ignored, missing ones take defaults."""

    def build(cls: type, d: Mapping[str, Any], prefix: str) -> Any:
        hints = _field_types(cls)
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in d:
                continue
            tp = hints[f.name]
            if dataclasses.is_dataclass(tp):
                kwargs[f.name] = build(tp, d[f.name], prefix + f.name + ".")
            else:
                kwargs[f.name] = parse_value(prefix + f.name, d[f.name])
        return cls(**kwargs)

    return build(Config, data, "")


def help_text() -> str:
    """Every config key with its type, range, default and doc, for `--help`; a component's switch
    is marked (chosen by `--components`, refused by `--set` when it would disagree), and so are
    the keys that select settings (not `--set` keys: their options are named)."""
    from dqnlab.validation import RANGES, SELECTORS  # it imports this module

    switches = components.switch_keys()
    lines = []
    for key, tp, default, doc in iter_fields():
        default_s = "" if default is dataclasses.MISSING else f" [{default}]"
        each = " each" if typing.get_origin(tp) is tuple else ""
        rng = RANGES[key].text() if key in RANGES else None
        range_s = "" if rng is None else f",{each} finite" if rng == "finite" else f",{each} in {rng}"
        mark = f" (the switch of {switches[key]}: use --components)" if key in switches else ""
        if key in SELECTORS:
            mark = f" (not a --set key: use {SELECTORS[key][1]})"
        lines.append(f"  {key} ({type_name(tp)}){default_s}{range_s}: {doc}{mark}")
    return "\n".join(lines)

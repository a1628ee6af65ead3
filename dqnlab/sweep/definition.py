"""A sweep definition: envs x variants x seeds, as frozen data loaded from `experiments/*.py`.

An experiment file is plain Python holding one module-level `SWEEP = Sweep(...)`: no code runs
except building that value, so a definition reads like a table and diffs like one. A definition
describes its default size; `full` names the field replacements that `--full` applies (the
paper-sized sweep), `subsets` names smaller env lists (`--subset atari5`), and `variations` names
other field replacements (`--variation noise_per_step`: an A/B arm that switches one setting, its
`overrides` merged over the definition's), each its own sweep (`<name>-<variation>`).

`resolve(sweep, GridOptions(...))` applies the command line's changes, in order: `--full`,
`--subset`, `--variation`, then the shrink overrides (`--seeds`, `--envs`, `--variants`,
`--steps`, `--set`). The
result is again a `Sweep` whose `to_dict()` is what the manifest records and compares on relaunch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dqnlab import components as comps
from dqnlab.errors import ConfigError
from dqnlab.validation import MAX_RUNS, MAX_SEED, MAX_SEEDS

#: Variant generators a definition may name instead of listing variants.
GENERATORS: dict[str, Any] = {
    "leave_one_out": comps.leave_one_out,
    "add_one": comps.add_one,
    "all_subsets": lambda: [comps.variant_name(c) for c in comps.all_subsets()],
}


@dataclass(frozen=True)
class Sweep:
    """One grid of runs. Every field is data; `overrides` are dotted config keys (`--set` keys)."""

    name: str
    """Identifies the sweep in the manifest and in wandb (the project's group)."""
    envs: tuple[str, ...]
    """gymnasium ids, e.g. CartPole-v1, MinAtar/Breakout-v1, ALE/Pong-v5."""
    variants: tuple[str, ...] | str
    """Variant specs (`rainbow`, `rainbow-no-per`, `dqn+double`), or a generator name from
    GENERATORS (leave_one_out, add_one, all_subsets)."""
    seeds: int | tuple[int, ...] = 3
    """A count n (seeds 0 .. n-1) or an explicit tuple of seeds."""
    preset: str | None = None
    """Hyperparameter preset (default: each env's family)."""
    protocol: str | None = None
    """Named protocol for every run (dqnlab/protocols/), e.g. nature2015 or revisiting_rainbow;
    None: each env family's default. A protocol applies to the families it names; runs of other
    families take their family's default."""
    arm_protocols: Mapping[str, str] = field(default_factory=dict)
    """Variant -> the protocol that arm runs under instead, e.g. {"dqn": "revisiting_rainbow_dqn"}:
    the dqn baseline with its own tuned config, as Revisiting Rainbow and Hessel et al. compared
    it. Each run's config.json records its protocol and the figures' captions name it."""
    steps: int | None = None
    """Budget in agent steps for every run (None: each env's preset budget)."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Config overrides for every run, e.g. {"eval.period_steps": 5000}."""
    full: Mapping[str, Any] = field(default_factory=dict)
    """Field replacements applied by `--full` (the paper-sized sweep); empty = already full."""
    subsets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Named smaller env lists, selected with `--subset NAME`."""
    variations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Named field replacements, selected with `--variation NAME` (e.g. an A/B arm that switches
    one setting on some variants): applied like `full`, except that `overrides` are merged over
    the definition's; the result is the sweep `<name>-<NAME>` (its own directory)."""
    description: str = ""

    def __post_init__(self) -> None:
        # Freeze containers given as lists so the definition is hashable-ish and diffs cleanly.
        object.__setattr__(self, "envs", tuple(self.envs))
        if not isinstance(self.variants, str):
            object.__setattr__(self, "variants", tuple(self.variants))
        if not isinstance(self.seeds, int):
            object.__setattr__(self, "seeds", tuple(self.seeds))
        object.__setattr__(self, "overrides", dict(self.overrides))
        object.__setattr__(self, "arm_protocols", {
            comps.variant_name(comps.parse_variant(v)): p for v, p in dict(self.arm_protocols).items()
        })
        object.__setattr__(self, "full", dict(self.full))
        object.__setattr__(self, "subsets", {k: tuple(v) for k, v in self.subsets.items()})
        object.__setattr__(self, "variations", {k: dict(v) for k, v in self.variations.items()})

    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    def variant_list(self) -> list[str]:
        """Canonical variant names, in definition order, without duplicates."""
        return expand_variants(self.variants)

    def to_dict(self) -> dict[str, Any]:
        """The resolved grid as JSON data (what the manifest stores and compares)."""
        return {
            "name": self.name,
            "envs": list(self.envs),
            "variants": self.variant_list(),
            "seeds": self.seed_list(),
            "preset": self.preset,
            "protocol": self.protocol,
            "arm_protocols": dict(sorted(self.arm_protocols.items())),
            "steps": self.steps,
            "overrides": {k: _jsonable(v) for k, v in sorted(self.overrides.items())},
        }


def _fields(sweep: Sweep, what: str, replacements: Mapping[str, Any]) -> dict[str, Any]:
    """`replacements` checked to name fields of a Sweep (that `what` may replace)."""
    unknown = set(replacements) - {f.name for f in dataclasses.fields(Sweep)} | (
        set(replacements) & {"name", "full", "subsets", "variations"})
    if unknown:
        raise ConfigError(f"sweep {sweep.name}: {what} cannot set {', '.join(sorted(unknown))}")
    return dict(replacements)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def expand_variants(spec: str | Sequence[str]) -> list[str]:
    """A generator name or a list of variant specs -> canonical names, deduplicated, in order."""
    if isinstance(spec, str):
        if spec in GENERATORS:
            spec = GENERATORS[spec]()
        else:
            spec = [spec]
    out: list[str] = []
    for item in spec:
        if item in GENERATORS:
            names = expand_variants(item)
        else:
            try:
                names = [comps.variant_name(comps.parse_variant(item))]
            except ConfigError as e:  # perhaps a misspelled generator: name them too
                raise ConfigError(f"bad variant {item!r} ({e}); a variant is dqn, rainbow, "
                                  f"rainbow-no-X, dqn+X+Y, or a generator: {', '.join(GENERATORS)}") from None
        out += [n for n in names if n not in out]
    if not out:
        raise ConfigError("the sweep has no variants")
    return out


def load(path: str | Path) -> Sweep:
    """Load `SWEEP` from an experiment file; every failure is a one-line ConfigError."""
    path = Path(path)
    if not path.is_file():
        hint = f"; shipped experiments: {', '.join(shipped())}" if shipped() else ""
        raise ConfigError(f"no experiment file {path}{hint}")
    module_name = f"dqnlab_experiment_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - any error in a user's file becomes one line
        raise ConfigError(f"{path} failed to load: {type(e).__name__}: {e}") from None
    finally:
        sys.modules.pop(module_name, None)
    sweep = getattr(module, "SWEEP", None)
    if not isinstance(sweep, Sweep):
        raise ConfigError(f"{path} must define SWEEP = Sweep(...)")
    return sweep


def shipped() -> list[str]:
    """The experiment files installed as `dqnlab.experiments` (experiments/ in a source checkout),
    relative to the current directory when they lie under it."""
    from dqnlab.sweep.snapshot import package_dir

    try:
        root = package_dir("dqnlab.experiments")
    except ModuleNotFoundError:
        return []
    here = Path.cwd().resolve()
    files = [p for p in root.glob("*.py") if p.stem != "__init__"]
    return sorted(str(p.relative_to(here) if p.is_relative_to(here) else p) for p in files)


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def parse_seeds(text: str, sweep: Sweep) -> tuple[int, ...] | int:
    """`N` = the first N seeds of the definition; `0,3` (any comma) = exactly those seeds."""
    try:
        if "," in text:
            seeds: tuple[int, ...] | int = tuple(int(s) for s in _split(text))
        else:
            n = int(text)
            if n < 1:
                raise ValueError
            seeds = tuple(sweep.seed_list()[:n]) if n <= _count(sweep.seeds) else n
    except ValueError:
        raise ConfigError(f"--seeds expects a count N or a comma list of seeds, got {text!r}") from None
    check_seeds(seeds, f"--seeds {text}")
    return seeds


def _count(seeds: int | tuple[int, ...]) -> int:
    return seeds if isinstance(seeds, int) else len(seeds)


def check_seeds(seeds: int | tuple[int, ...], where: str) -> None:
    """Refuse, with one line, seeds that cannot be meant: more than MAX_SEEDS, one out of the
    seed's range, or one listed twice (it would be one run, counted twice)."""
    if _count(seeds) > MAX_SEEDS:
        raise ConfigError(f"{where}: {_count(seeds):,} seeds, more than the {MAX_SEEDS:,} a sweep may hold")
    if isinstance(seeds, int):
        return
    for s in seeds:
        if not 0 <= s <= MAX_SEED:
            raise ConfigError(f"{where}: seeds must be in [0, {MAX_SEED}], got {s}")
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:
        raise ConfigError(f"{where}: seed {twice[0]} is listed twice (one run); list each seed once")


@dataclass(frozen=True)
class GridOptions:
    """The command line's changes to a definition's grid, applied by `resolve` in this order:
    `--full`, `--subset`, then the shrink overrides (`--seeds`, `--envs`, `--variants`, `--steps`,
    `--set`). None (or empty) leaves the definition's value."""

    full: bool = False
    """Apply the definition's `full` replacements (the paper-sized sweep)."""
    subset: str | None = None
    """A named env subset of the definition."""
    variation: str | None = None
    """A named variation of the definition (`Sweep.variations`)."""
    seeds: str | None = None
    """`N`: the first N seeds; `0,3`: exactly those seeds."""
    envs: str | None = None
    """Comma list of env ids replacing the definition's."""
    variants: str | None = None
    """Comma list of variant specs or generator names replacing the definition's."""
    steps: int | None = None
    """Budget in agent steps for every run."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Config overrides for every run, merged over the definition's."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", dict(self.overrides))


def resolve(sweep: Sweep, options: GridOptions | None = None) -> Sweep:
    """Apply `options` to a definition (see GridOptions); validates the result."""
    o = options or GridOptions()
    if o.full and sweep.full:
        sweep = dataclasses.replace(sweep, **_fields(sweep, "full", sweep.full))
    if o.subset is not None:
        if o.subset not in sweep.subsets:
            names = ", ".join(sweep.subsets) or "none"
            raise ConfigError(f"sweep {sweep.name} has no subset {o.subset!r} (subsets: {names})")
        sweep = dataclasses.replace(sweep, envs=sweep.subsets[o.subset])
    if o.variation is not None:
        if o.variation not in sweep.variations:
            names = ", ".join(sweep.variations) or "none"
            raise ConfigError(f"sweep {sweep.name} has no variation {o.variation!r} (variations: {names})")
        changes = _fields(sweep, f"variation {o.variation}", sweep.variations[o.variation])
        changes["overrides"] = {**sweep.overrides, **changes.get("overrides", {})}
        sweep = dataclasses.replace(sweep, **changes, name=f"{sweep.name}-{o.variation}")
    changes: dict[str, Any] = {}
    if o.seeds is not None:
        changes["seeds"] = parse_seeds(o.seeds, sweep)
    if o.envs is not None:
        changes["envs"] = tuple(_split(o.envs))
    if o.variants is not None:
        changes["variants"] = tuple(_split(o.variants))
    if o.steps is not None:
        changes["steps"] = o.steps
    if o.overrides:
        changes["overrides"] = {**sweep.overrides, **o.overrides}
    sweep = dataclasses.replace(sweep, **changes)
    if not sweep.envs:
        raise ConfigError(f"sweep {sweep.name} has no envs")
    check_seeds(sweep.seeds, f"sweep {sweep.name}")  # before a count becomes a list
    if not sweep.seed_list():
        raise ConfigError(f"sweep {sweep.name} has no seeds")
    runs = len(sweep.envs) * len(sweep.variant_list()) * len(sweep.seed_list())  # validates every variant spec
    if runs > MAX_RUNS:
        raise ConfigError(f"sweep {sweep.name}: {len(sweep.envs)} env(s) x {len(sweep.variant_list())} "
                          f"variant(s) x {len(sweep.seed_list())} seed(s) = {runs:,} runs, more than the "
                          f"{MAX_RUNS:,} a sweep may hold; split it into several sweeps")
    return sweep

"""The run-directory contract (docs/run_directory.md), shared by training, sweeps and analysis.

Torch-free and dependency-free on purpose: `analysis` imports this module (and nothing else of
dqnlab), so reading results never pulls in torch. It holds what both sides must agree on:
file names, CSV columns, run-directory naming and the variant-name grammar.

Variant grammar. `RAINBOW` is an explicit tuple of Hessel et al.'s six components; components
registered beyond them (e.g. munchausen) never change what `rainbow` means. Canonical order is the
registry's: the six first, then the others in registration order.

  dqn                       no component
  rainbow                   the six
  rainbow-no-X[-no-Y]       the six without X (and Y)
  dqn+X+Y                   only X and Y
  <any of the above>+E      plus the components E (e.g. rainbow-no-c51+munchausen)
  X,Y                       a comma list, the same as dqn+X+Y

The one canonical name of a set: its Rainbow part is `rainbow` (all six), `rainbow-no-X` (five) or
`dqn+...`/`dqn`; the other components follow as `+E` in canonical order.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# -- files and columns ---------------------------------------------------------------------------

CONFIG = "config.json"
STATUS = "status.json"
PROGRESS = "progress.csv"
EVAL = "eval.csv"
CHECKPOINT = "checkpoint"
"""The run's checkpoint directory: one `step_<n>.pt` per save (`checkpoint_file`)."""
LOCK = ".lock"
"""Held (fcntl) by the process training the run; holds that process's pid, host and start time."""
MANIFEST = "sweep.json"
"""A sweep directory's manifest."""

_CHECKPOINT_FILE = re.compile(r"^step_(\d+)\.pt$")


def checkpoint_file(step: int) -> str:
    """The name of the checkpoint saved at agent step `step`."""
    return f"step_{step:012d}.pt"


def checkpoint_files(directory: Path) -> list[tuple[int, Path]]:
    """(step, path) of the checkpoints in a checkpoint directory, newest first, by their names
    alone (readable or not): what a launch plans from without loading anything."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(((int(m.group(1)), p) for p in directory.iterdir() if (m := _CHECKPOINT_FILE.match(p.name))),
                  reverse=True)


# -- what a checkpoint records of each log ------------------------------------------------------
#
# A log mark is {"bytes": n, "sha256": hex digest of those n bytes}: what a CSV log held when a
# checkpoint was written (checkpoint state and status.json's `logs`). A resume checks each log
# against it before cutting the log back to n bytes; analysis checks a finished run's logs.


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of a config dict as config.json holds it, its `meta` block aside: status.json's
    `config_sha256`, the config a run was trained with (a finished run's config.json is checked
    against it by a rerun and by analysis)."""
    trained = {k: v for k, v in config.items() if k != "meta"}
    return hashlib.sha256(json.dumps(trained, sort_keys=True).encode()).hexdigest()


LOGS: tuple[str, ...] = (PROGRESS, EVAL)
"""The logs a checkpoint and status.json keep marks of."""


def is_mark(mark: Any) -> bool:
    """Whether `mark` is a log mark (a damaged status.json may hold anything)."""
    return (isinstance(mark, Mapping) and isinstance(mark.get("bytes"), int) and mark["bytes"] >= 0
            and isinstance(mark.get("sha256", ""), str | None))


def log_mark(data: bytes) -> dict[str, Any]:
    """The mark of a log holding `data`."""
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def log_problem(path: Path, mark: Mapping[str, Any], *, whole: bool = False) -> str | None:
    """Why the log at `path` does not hold what `mark` recorded, as the middle of a sentence that
    starts with the file's name and goes on with who recorded it; None if it does. It must hold the `bytes` recorded with their
    digest (and nothing after them when `whole`). A mark without a digest (checkpoints written
    before digests) checks the length and that the recorded bytes end a row."""
    expected, digest = int(mark["bytes"]), mark.get("sha256")
    try:
        with open(path, "rb") as f:
            head = f.read(expected)
            more = len(f.read(1)) > 0
    except FileNotFoundError:
        return None if expected == 0 else f"is missing; {expected:,} bytes of it were recorded"
    if len(head) < expected:
        return f"holds {len(head):,} bytes, fewer than the {expected:,} recorded"
    if digest is not None and hashlib.sha256(head).hexdigest() != digest:
        return f"was changed: its first {expected:,} bytes are not those recorded"
    if digest is None and expected and not head.endswith(b"\n"):
        return f"does not end a row at the {expected:,} bytes recorded"
    if whole and more:
        return f"holds more than the {expected:,} bytes recorded"
    return None


PROGRESS_COLUMNS: tuple[str, ...] = (
    "step", "frame", "episodes", "episode_return", "episode_length", "loss", "q_mean",
    "epsilon", "updates", "sps", "wall_time_s",
)  # fmt: skip
EVAL_COLUMNS: tuple[str, ...] = (
    "step", "frame", "return_mean", "return_std", "episodes", "q_estimate_mean",
    "discounted_return_mean", "truncated_episodes", "wall_time_s", "eval_seconds",
)  # fmt: skip
WALL_CLOCK_COLUMNS: tuple[str, ...] = ("sps", "wall_time_s", "eval_seconds")
"""The only columns that may differ between two runs of the same config and seed on CPU."""

COMPAT_SWITCHES: dict[str, object] = {
    "network.noise_draw": "per_step",
    "replay.timeout": "bootstrap",
    "replay.scalar_priority": "abs_td",
    "replay.importance_weights": True,
    "run.iteration_steps": None,
    "agent.shared_seed": None,
}
"""Config keys that reproduce a paper's code where it departs from the method it describes
(Revisiting Rainbow's; docs/fidelity.md), with their default (off) values: captions name the ones
a run turned on. tests/test_contract.py checks the defaults against the config's."""


def compat_switches_on(config: dict) -> str:
    """The compatibility switches a config.json (as a dict) turns on, as `key=value` joined by
    ", " in COMPAT_SWITCHES order ("" when none is on; a key absent from an older config is off)."""
    on = []
    for key, default in COMPAT_SWITCHES.items():
        value: object = config
        for part in key.split("."):
            value = value.get(part, default) if isinstance(value, dict) else default
        if value != default:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            on.append(f"{key}={text}")
    return ", ".join(on)


STATES: tuple[str, ...] = ("pending", "running", "done", "failed")
"""Values of status.json's `state`."""


def run_rel_dir(env_id: str, variant: str, seed: int) -> str:
    """A run's directory relative to its sweep (or to `runs/` for `dqnlab train`)."""
    return f"{env_id.replace('/', '-')}/{variant}/seed_{seed}"


# -- variant grammar -----------------------------------------------------------------------------

RAINBOW: tuple[str, ...] = ("double", "dueling", "per", "nstep", "c51", "noisy")
"""Hessel et al. 2018's six components, in canonical order."""
RAINBOW_NAME, DQN_NAME = "rainbow", "dqn"
_NO = "-no-"


class GrammarError(ValueError):
    """A variant spec or name that does not parse."""


def canonical(names: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """`names` in `known`'s order; unknown or repeated names raise GrammarError."""
    names = list(names)
    for n in names:
        if n not in known:
            raise GrammarError(f"unknown component {n!r}; choose from {', '.join(known)}")
    if len(set(names)) != len(names):
        raise GrammarError(f"component listed twice in {'+'.join(names)!r}")
    return tuple(n for n in known if n in names)


def parse_variant(spec: str, known: Sequence[str] = RAINBOW) -> tuple[str, ...]:
    """A variant spec (module docstring) -> its components in canonical order (`known`'s order).

    Raises GrammarError naming the problem."""
    s = spec.strip().lower()
    if not s:
        raise GrammarError("empty variant spec; try dqn, rainbow, rainbow-no-per or dqn+double")
    if "," in s:
        return canonical(_named(s.split(","), spec, "listed"), known)
    head, *extras = s.split("+")
    extras = _named(extras, spec, "added")
    if head == DQN_NAME:
        base: list[str] = []
    elif head == RAINBOW_NAME:
        base = list(RAINBOW)
    elif head.startswith(RAINBOW_NAME + _NO):
        removed = canonical(_named(head[len(RAINBOW_NAME + _NO):].split(_NO), spec, "removed"), RAINBOW)
        base = [n for n in RAINBOW if n not in removed]
    else:  # a bare component list: per+double, noisy
        base, extras = [], [*_named([head], spec, "added"), *extras]
    for name in extras:
        if name in base:
            raise GrammarError(f"{name!r} is added in {spec!r} but is part of {head!r} already")
    return canonical([*base, *extras], known)


def _named(parts: Sequence[str], spec: str, verb: str) -> list[str]:
    """The component names of one part of a spec, stripped; a one-line GrammarError quoting the
    spec for an empty name (`dqn++double`) or a name given twice (`rainbow-no-double-no-double`)."""
    names = [p.strip() for p in parts]
    if any(not n for n in names):
        raise GrammarError(f"empty component name in {spec!r} (a separator doubled, or at an end)")
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise GrammarError(f"{twice!r} is {verb} twice in {spec!r}")
    return names


def variant_name(components: Iterable[str], known: Sequence[str] = RAINBOW) -> str:
    """The one canonical name of a set of components."""
    comps = canonical(components, known)
    rainbow = [n for n in comps if n in RAINBOW]
    others = [n for n in comps if n not in RAINBOW]
    if len(rainbow) == len(RAINBOW):
        head = RAINBOW_NAME
    elif len(rainbow) == len(RAINBOW) - 1:
        (missing,) = (n for n in RAINBOW if n not in rainbow)
        head = f"{RAINBOW_NAME}{_NO}{missing}"
    else:
        head = "+".join([DQN_NAME, *rainbow])
    return "+".join([head, *others])


def variant_components(variant: str) -> tuple[str, ...]:
    """The components of a canonical variant name as written in config.json, without knowing the
    registry (analysis): Rainbow's six in their order, then the others as written."""
    head, *extras = variant.split("+")
    if head not in (DQN_NAME, RAINBOW_NAME) and not head.startswith(RAINBOW_NAME + _NO):
        raise GrammarError(f"not a variant name: {variant!r}")
    return parse_variant(variant, (*RAINBOW, *[e for e in extras if e not in RAINBOW]))


def removed_component(variant: str) -> str | None:
    """X for the leave-one-out arm `rainbow-no-X` (nothing added); None for any other name."""
    prefix = RAINBOW_NAME + _NO
    if variant.startswith(prefix) and variant[len(prefix):] in RAINBOW:
        return variant[len(prefix):]
    return None


def leave_one_out() -> list[str]:
    """rainbow, the six rainbow-no-X and dqn: Hessel et al. 2018's ablation (Fig. 3)."""
    return [RAINBOW_NAME, *(f"{RAINBOW_NAME}{_NO}{n}" for n in RAINBOW), DQN_NAME]


def add_one() -> list[str]:
    """dqn, the six dqn+X and rainbow."""
    return [DQN_NAME, *(f"{DQN_NAME}+{n}" for n in RAINBOW), RAINBOW_NAME]


def sort_variants(variants: Iterable[str]) -> list[str]:
    """Display order: rainbow, rainbow-no-X (canonical X order), dqn+..., dqn, then other names
    (variants with non-Rainbow components, unparsable names) alphabetically. Deterministic, so
    legends and table rows come out in the same order in every figure."""

    def key(name: str) -> tuple[int, int, str]:
        if name == RAINBOW_NAME:
            return (0, 0, name)
        removed = removed_component(name)
        if removed is not None:
            return (1, RAINBOW.index(removed), name)
        if name == DQN_NAME:
            return (3, 0, name)
        try:
            comps = variant_components(name)
        except GrammarError:
            return (5, 0, name)
        if any(c not in RAINBOW for c in comps):
            return (4, 0, name)
        mask = sum(1 << RAINBOW.index(c) for c in comps)
        return (2, len(comps) * 64 + mask, name)

    return sorted(set(variants), key=key)

"""The component registry: one module per component (`dqnlab/components/<name>.py`, its test
`tests/components/test_<name>.py`), collected here in canonical order.

A component is data (`base.Component`): its paper, the config fields it sets when on, its couplings
in words, the part of the agent it plugs into, a bootstrap-target hook for `target` components,
the components it cannot run with, and optionally its own config section. The preset holds every
field's "off" value (textbook DQN), so `rainbow-no-X` differs from `rainbow` by exactly the fields
of X (tests/test_components.py).

The variant-name grammar lives in `dqnlab.contract`, shared with analysis; here it is bound to the
registered names. `rainbow` is always Hessel et al.'s six (`contract.RAINBOW`); components
registered beyond them are written `+name` (`rainbow-no-c51+munchausen`), and the ablation grids
(`leave_one_out`, `add_one`, `all_subsets`) stay over the six.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import TYPE_CHECKING, Any

from dqnlab import contract
from dqnlab.components.base import SLOTS, Bootstrap, Component, TargetHook
from dqnlab.errors import ConfigError

if TYPE_CHECKING:
    from dqnlab.config import Config

__all__ = [
    "COMPONENTS", "COMPONENT_NAMES", "RAINBOW", "REGISTRY", "SLOTS", "Bootstrap", "Component",
    "TargetHook", "add_one", "all_subsets", "canonical", "check", "check_switches", "config_sections",
    "leave_one_out", "parse_variant", "settings_for", "switch_keys", "target_hook", "variant_name",
]  # fmt: skip

# Canonical order: Rainbow's six, then the other heads, then the other targets (iqn+munchausen is
# M-IQN). Registering a component is adding its module here.
MODULES: tuple[str, ...] = ("double", "dueling", "per", "nstep", "c51", "noisy", "qr", "iqn", "munchausen")

COMPONENTS: tuple[Component, ...] = tuple(importlib.import_module(f"{__name__}.{m}").COMPONENT for m in MODULES)
REGISTRY: dict[str, Component] = {c.name: c for c in COMPONENTS}
COMPONENT_NAMES: tuple[str, ...] = tuple(REGISTRY)
RAINBOW: tuple[str, ...] = contract.RAINBOW


def canonical(names: Iterable[str]) -> tuple[str, ...]:
    """Sort component names into canonical order, rejecting unknown names and duplicates."""
    return _checked(lambda: contract.canonical(names, COMPONENT_NAMES))


def parse_variant(spec: str) -> tuple[str, ...]:
    """Parse a variant spec (grammar in `dqnlab.contract`) into canonical component names."""
    return _checked(lambda: contract.parse_variant(spec, COMPONENT_NAMES))


def variant_name(components: Iterable[str]) -> str:
    """The one canonical name of a set of components."""
    return _checked(lambda: contract.variant_name(components, COMPONENT_NAMES))


def _checked(parse):
    try:
        return parse()
    except contract.GrammarError as e:
        raise ConfigError(str(e)) from None


def settings_for(
    components: Iterable[str], protocol_values: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The merged config settings of the enabled components (keys never collide; tested), each
    component's own values updated by the protocol's values for it (`Protocol.components`: e.g.
    noisy's exploration under Revisiting Rainbow)."""
    values = protocol_values or {}
    named = canonical(components)
    for name in named:  # before merging: two heads would leave one silently switched off
        for other, why in REGISTRY[name].incompatible.items():
            if other in named:
                raise ConfigError(f"{name} cannot run with {other}: {why}")
    out: dict[str, Any] = {}
    for name in named:
        out.update(REGISTRY[name].settings)
        out.update(values.get(name, {}))
    return out


def switch_keys() -> dict[str, str]:
    """Config key -> the components it switches (each component's first setting; `network.head`
    is the switch of every head's component: "c51, qr, iqn"). These keys are set only through the
    variant's name (`--components`, a sweep's variants); every other key a component sets or owns
    is a parameter and stays settable (`categorical.num_atoms`, `replay.priority_exponent`,
    `network.noisy_sigma0`, `munchausen.tau`, ...)."""
    out: dict[str, str] = {}
    for c in COMPONENTS:
        out[c.switch] = f"{out[c.switch]}, {c.name}" if c.switch in out else c.name
    return out


def check_switches(cfg: Config) -> None:
    """Refuse, with one line, a config whose switches disagree with the components it names: an
    override (`--set agent.double=true` on `dqn`) must not run one variant under another's name.
    A switch may still take another "on" value (`replay.n_step=5` with nstep named)."""
    named = set(cfg.components)
    for comp in COMPONENTS:
        if comp.is_on(cfg) != (comp.name in named):
            value = functools.reduce(getattr, comp.switch.split("."), cfg)
            turns = "on" if comp.is_on(cfg) else "off"
            raise ConfigError(
                f"{comp.switch}={value} switches {comp.name} {turns} behind the variant's name "
                f"{cfg.variant}: choose components with --components (a sweep's variants), not "
                "--set or overrides"
            )


def check(cfg: Config) -> None:
    """Refuse, with one line, a config whose switches disagree with its named components, that
    switches on two components that cannot run together, or gives a component that is on values
    it cannot run with."""
    check_switches(cfg)
    on = [c for c in COMPONENTS if c.is_on(cfg)]
    for comp in on:
        for other, why in comp.incompatible.items():
            if REGISTRY[other].is_on(cfg):
                raise ConfigError(f"{comp.name} cannot run with {other}: {why}")
        problem = comp.check(cfg) if comp.check is not None else None
        if problem:
            raise ConfigError(f"{comp.name}: {problem}")


def target_hook(cfg: Config) -> TargetHook | None:
    """The hook of the `target` component `cfg` switches on, None for the textbook bootstrap.
    At most one is on: target components declare each other incompatible (tested)."""
    hooks = [c.targets for c in COMPONENTS if c.targets is not None and c.is_on(cfg)]
    if len(hooks) > 1:
        raise ConfigError("more than one component replaces the bootstrap target")
    return hooks[0] if hooks else None


def config_sections() -> list[tuple[str, type]]:
    """(component name, its config section class) for the components that own config fields."""
    return [(c.name, c.config) for c in COMPONENTS if c.config is not None]


def all_subsets() -> list[tuple[str, ...]]:
    """All 64 subsets of Rainbow's six, smallest first: the ablation space."""
    return [c for k in range(len(RAINBOW) + 1) for c in combinations(RAINBOW, k)]


leave_one_out = contract.leave_one_out
add_one = contract.add_one

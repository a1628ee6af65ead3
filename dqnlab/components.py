"""The registry of the six Rainbow components, and the variant-name grammar.

A component is data: the config fields it sets when switched on, and the couplings that follow from
it, declared here and nowhere else. The preset holds every field's "off" value (textbook DQN), so
`rainbow-no-X` differs from `rainbow` by exactly the fields of X (tested in tests/test_components.py).

The variant-name grammar (dqn, rainbow, rainbow-no-X, dqn+X+Y, X,Y) lives in `dqnlab.contract`,
shared with analysis; here it is bound to the registered names. Every subset has exactly one
canonical name (`variant_name`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from dqnlab import contract
from dqnlab.errors import ConfigError


@dataclass(frozen=True)
class Component:
    name: str
    paper: str
    settings: Mapping[str, Any]
    """Config fields (dotted keys) and the values they take when the component is on."""
    couplings: tuple[str, ...]
    """What switching the component on implies beyond its own flag, in words (shown by `dqnlab components`)."""


COMPONENTS: tuple[Component, ...] = (
    Component(
        "double",
        "van Hasselt et al. 2016, https://arxiv.org/abs/1509.06461",
        {"agent.double": True},
        ("the online network selects the bootstrap action, the target network evaluates it",),
    ),
    Component(
        "dueling",
        "Wang et al. 2016, https://arxiv.org/abs/1511.06581",
        {"network.dueling": True},
        ("value and advantage streams; advantages centred by their mean over actions",),
    ),
    Component(
        "per",
        "Schaul et al. 2016, https://arxiv.org/abs/1511.05952",
        {"replay.prioritized": True},
        (
            "proportional prioritized sampler (alpha = replay.priority_exponent)",
            "per-sample losses weighted by importance weights (beta annealed to 1), normalized by their max",
            "priorities updated after every gradient step; new transitions enter at the max priority seen",
        ),
    ),
    Component(
        "nstep",
        "Sutton 1988; Hessel et al. 2018, https://arxiv.org/abs/1710.02298",
        {"replay.n_step": 3},
        ("n = 3 step returns; bootstrap with gamma^n (or gamma^k when the episode is cut after k steps)",),
    ),
    Component(
        "c51",
        "Bellemare et al. 2017, https://arxiv.org/abs/1707.06887",
        {"network.num_atoms": 51, "agent.loss": "cross_entropy"},
        (
            "categorical head with 51 atoms on [network.v_min, network.v_max]",
            "target = the categorical projection of r + gamma^n z (Bellemare et al. 2017, eq. 7)",
            "cross-entropy loss; with per, priorities come from that loss instead of |TD error|",
        ),
    ),
    Component(
        "noisy",
        "Fortunato et al. 2018, https://arxiv.org/abs/1706.10295",
        {"network.noisy": True, "explore.epsilon_start": 0.0, "explore.epsilon_end": 0.0},
        (
            "factorized Gaussian NoisyLinear layers in the head, sigma0 = network.noisy_sigma0",
            "no epsilon-greedy exploration in training (epsilon 0); evaluation keeps eval.epsilon",
            "noise resampled every step; mean weights (no noise) in evaluation",
        ),
    ),
)

REGISTRY: dict[str, Component] = {c.name: c for c in COMPONENTS}
COMPONENT_NAMES: tuple[str, ...] = tuple(c.name for c in COMPONENTS)


def canonical(names: Iterable[str]) -> tuple[str, ...]:
    """Sort component names into canonical order, rejecting unknown names and duplicates."""
    return _checked(lambda: contract.canonical(names, COMPONENT_NAMES))


def parse_variant(spec: str) -> tuple[str, ...]:
    """Parse a variant spec (grammar in `dqnlab.contract`) into canonical component names."""
    return _checked(lambda: contract.parse_variant(spec, COMPONENT_NAMES))


def variant_name(components: Iterable[str]) -> str:
    """The one canonical name of a subset of components."""
    return _checked(lambda: contract.variant_name(components, COMPONENT_NAMES))


def _checked(parse):
    try:
        return parse()
    except contract.GrammarError as e:
        raise ConfigError(str(e)) from None


def settings_for(components: Iterable[str]) -> dict[str, Any]:
    """The merged config settings of the enabled components (keys never collide; tested)."""
    out: dict[str, Any] = {}
    for name in canonical(components):
        out.update(REGISTRY[name].settings)
    return out


def all_subsets() -> list[tuple[str, ...]]:
    """All 64 subsets, smallest first."""
    return [c for k in range(len(COMPONENT_NAMES) + 1) for c in combinations(COMPONENT_NAMES, k)]


leave_one_out = contract.leave_one_out
add_one = contract.add_one

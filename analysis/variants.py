"""Variant names as written in `config.json`, read without importing dqnlab (analysis only
reads the run-directory contract).

Grammar (DESIGN.md): `dqn` (no component), `rainbow` (all six), `rainbow-no-X` (all but X),
otherwise `dqn+X+Y...` with components in the canonical order below.
"""

from __future__ import annotations

from collections.abc import Iterable

COMPONENTS: tuple[str, ...] = ("double", "dueling", "per", "nstep", "c51", "noisy")
"""The six Rainbow components in canonical order (Hessel et al. 2018)."""

RAINBOW = "rainbow"
DQN = "dqn"
_NO_PREFIX = "rainbow-no-"


def removed_component(variant: str) -> str | None:
    """The component X of a leave-one-out variant `rainbow-no-X`; None for any other name."""
    if variant.startswith(_NO_PREFIX) and variant[len(_NO_PREFIX) :] in COMPONENTS:
        return variant[len(_NO_PREFIX) :]
    return None


def variant_components(variant: str) -> tuple[str, ...]:
    """Components switched on in `variant`, canonical order. Raises ValueError if malformed."""
    if variant == DQN:
        return ()
    if variant == RAINBOW:
        return COMPONENTS
    removed = removed_component(variant)
    if removed is not None:
        return tuple(c for c in COMPONENTS if c != removed)
    if variant.startswith(DQN + "+"):
        parts = variant.split("+")[1:]
        if all(p in COMPONENTS for p in parts) and len(set(parts)) == len(parts):
            return tuple(c for c in COMPONENTS if c in parts)
    raise ValueError(f"not a variant name: {variant!r}")


def sort_variants(variants: Iterable[str]) -> list[str]:
    """Display order: rainbow, rainbow-no-X (canonical X order), dqn+..., dqn, then unknown names.

    Deterministic, so legends and table rows come out in the same order in every figure.
    """

    def key(name: str) -> tuple[int, int, str]:
        if name == RAINBOW:
            return (0, 0, name)
        removed = removed_component(name)
        if removed is not None:
            return (1, COMPONENTS.index(removed), name)
        if name == DQN:
            return (3, 0, name)
        try:
            components = variant_components(name)
        except ValueError:
            return (4, 0, name)
        # dqn+X...: fewer components first, then by the bitmask of the canonical order.
        mask = sum(1 << COMPONENTS.index(c) for c in components)
        return (2, len(components) * 64 + mask, name)

    return sorted(set(variants), key=key)

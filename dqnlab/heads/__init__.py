"""The head registry: one module per head kind (`dqnlab/heads/<kind>.py`, its tests in
`tests/heads/`), collected here. `network.head` names one; the component that switches a head on
(c51, qr, iqn) sets it. A head is data (`base.Head`): what it outputs, the losses it takes, its
TD loss, its textbook bootstrap, how its Q-values are read for acting, its config section and its
validation. Target components (double, munchausen) say which heads they serve.

Torch-free, as the component registry: config validation reads it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dqnlab.errors import ConfigError
from dqnlab.heads.base import Bootstrap, Head, LossOutput, QOutput, TauSampler, TDLoss

if TYPE_CHECKING:
    from dqnlab.config import Config

__all__ = ["HEADS", "Bootstrap", "Head", "LossOutput", "QOutput", "TauSampler", "TDLoss", "check",
           "config_sections", "of"]

MODULES: tuple[str, ...] = ("scalar", "categorical", "quantile", "implicit_quantile")

HEADS: dict[str, Head] = {h.name: h for h in (importlib.import_module(f"{__name__}.{m}").HEAD for m in MODULES)}


def of(cfg: Config) -> Head:
    """The head `cfg.network.head` names (validated: `check`)."""
    return HEADS[cfg.network.head]


def check(cfg: Config) -> None:
    """Refuse, with one line, an unknown head, a loss it does not take, or values of its own
    section it cannot run with."""
    name = cfg.network.head
    if name not in HEADS:
        raise ConfigError(f"unknown network.head {name!r}; choose from {', '.join(HEADS)}")
    head = HEADS[name]
    if cfg.agent.loss not in head.losses:
        raise ConfigError(f"agent.loss={cfg.agent.loss} does not fit a {name} head: choose from "
                          f"{', '.join(head.losses)}")
    problem = head.check(cfg) if head.check is not None else None
    if problem:
        raise ConfigError(problem)


def config_sections() -> list[tuple[str, type]]:
    """(head name, its config section class) for the heads that own config fields."""
    return [(h.name, h.config) for h in HEADS.values() if h.config is not None]

"""What a component is: a frozen record that its module declares and the registry collects.

Importing a component never imports torch: the registry is read by config resolution, sweep
planning and `dqnlab components`. A component's torch code (its bootstrap target) is built by its
`targets` hook, which the agent calls once, at construction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from dqnlab.heads.base import Bootstrap

if TYPE_CHECKING:
    from dqnlab.config import Config

TargetHook = Callable[["Config"], Mapping[str, Bootstrap]]
"""Called once, when the agent is built: the component's bootstrap for each head it serves
(`heads.base.Bootstrap`: (online, target, batch, taus) -> what the loss regresses on)."""

SLOTS: tuple[str, ...] = ("target", "head", "sampler", "returns", "exploration")
"""The parts of the agent a component can plug into."""


@dataclass(frozen=True)
class Component:
    name: str
    paper: str
    slot: str
    """The part of the agent it changes (one of SLOTS). A `target` component replaces the bootstrap
    target through `targets`; the others act only through the config fields they set, which the
    network (head), the replay (sampler, returns) or the schedules (exploration) read."""
    settings: Mapping[str, Any]
    """Config fields (dotted keys) and the values they take when the component is on. The first
    one is its switch (see `is_on`)."""
    couplings: tuple[str, ...]
    """What switching the component on implies beyond its own flag, in words (`dqnlab components`)."""
    targets: TargetHook | None = None
    """`target` components only: the bootstrap per head (`dqnlab/heads/`); a head it leaves out is
    one it cannot serve (declare the component that sets that head in `incompatible`)."""
    incompatible: Mapping[str, str] = field(default_factory=dict)
    """Components it cannot run with -> why, in one line; refused when a config is resolved."""
    check: Callable[[Config], str | None] | None = None
    """When it is on: why `cfg`'s values for it cannot run, in one line (None: they can). For the
    settings it owns; shared fields are checked by `presets.validate`."""
    config: type | None = None
    """Its own config section, a frozen dataclass of knobs at `cfg.<name>`: fields that exist only
    because of this component. None when it only sets fields that others read too."""

    @property
    def switch(self) -> str:
        return next(iter(self.settings))

    def is_on(self, cfg: Config) -> bool:
        """Whether `cfg` switches the component on: its switch field differs from textbook DQN's
        value, the config default (so `replay.n_step=5` is nstep too, not only the value it sets).
        A switch that names one choice of several (`network.head`: c51, qr and iqn each set their
        own head) is on only at that component's choice."""
        value, mine = _get(cfg, self.switch), self.settings[self.switch]
        if isinstance(mine, str):
            return value == mine
        return value != _get(_defaults(type(cfg)), self.switch)

    def describe(self) -> list[str]:
        """The lines `dqnlab components` prints for it."""
        lines = [f"{self.name}: {self.paper}", f"    plugs into: {self.slot}",
                 "    sets: " + ", ".join(f"{k}={v}" for k, v in self.settings.items())]
        if self.config is not None:
            owned = ", ".join(f"{self.name}.{k}={v}" for k, v in asdict(self.config()).items())
            lines.append(f"    owns (defaults): {owned}")
        lines += [f"    - {line}" for line in self.couplings]
        lines += [f"    incompatible with {other}: {why}" for other, why in self.incompatible.items()]
        return lines


def _get(cfg: Any, key: str) -> Any:
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


@functools.cache
def _defaults(config_class: type) -> Any:
    return config_class()

"""Named protocols: the settings of a paper's experiments, as data.

A protocol is a table of config settings (dotted keys, as `--set` takes them) per env family and
per env id, plus the values some components take under it (noisy's exploration differs between
Hessel et al. and Revisiting Rainbow). Every value carries its source in a comment beside it.
`presets.resolve_config` applies, in order: the family's preset (textbook DQN and the harness's
own periods), the protocol's family settings, its settings for the env id, the enabled
components (with the protocol's values for them), then `--set` overrides. The protocol's name is
recorded at the top level of config.json (`protocol`).

* Atari (`atari.py`): `machado2018` (default), `nature2015`; the agent's hyperparameters are the
  `atari` preset's (Hessel et al. 2018, Table 1).
* Classic control and MinAtar (`revisiting_rainbow.py`): `revisiting_rainbow` (default), the
  settings of Obando-Ceron & Castro 2021's rainbow_*.gin, shared by every component subset; and
  `revisiting_rainbow_dqn`, their tuned DQN baseline (dqn_*.gin), which a sweep can give its
  dqn arm (`Sweep.arm_protocols`), as they and Hessel et al. did. Both are RR's code as it stands
  today, with two of its bugs left out.
* `revisiting_rainbow_icml2021.py`: `revisiting_rainbow_icml2021` and `..._dqn`, the same two
  tables as the code that drew RR's published ICML figure had them (its bugs included: constant
  noise, time-outs stored as terminal, Huber, Dopamine's iterations): what reproduces the figure.
* `revisiting_rainbow_beyond.py`: `revisiting_rainbow_qrdqn` (quantile_*.gin) and
  `revisiting_rainbow_iqn` (implicit_*.gin), RR's QR-DQN, IQN and M-IQN.

Torch-free: config resolution and sweep planning read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dqnlab.errors import ConfigError


@dataclass(frozen=True)
class Protocol:
    name: str
    source: str
    """The paper (and code) whose experiments it reproduces."""
    families: Mapping[str, Mapping[str, Any]]
    """Env family -> its settings; the families the protocol applies to."""
    envs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Env id -> settings over its family's (episode caps, budgets, per-env hyperparameters)."""
    components: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Component name -> the values its settings take under this protocol, over (or beside) the
    component's own. Read only when the component is on, so rainbow-no-X still differs from
    rainbow only by X's settings."""
    choices: tuple[str, ...] = ()
    """Where the protocol keeps a setting of ours, not the paper's: what and why, in words."""
    inferred: tuple[str, ...] = ()
    """What the protocol takes as the paper's without reading it in the paper's code (which commit
    drew a figure, which config an arm ran): what and why, in words."""

    def settings(self, env_id: str, family: str) -> dict[str, Any]:
        """The protocol's settings for one env: its family's, then the env id's."""
        if family not in self.families:
            raise ConfigError(
                f"protocol {self.name} does not apply to {env_id} ({family}); "
                f"choose from {', '.join(names_for(family))}"
            )
        return {**self.families[family], **self.envs.get(env_id, {})}


def _registry() -> dict[str, Protocol]:
    from dqnlab.protocols import (
        atari,
        revisiting_rainbow,
        revisiting_rainbow_beyond,
        revisiting_rainbow_icml2021,
    )

    return {p.name: p for p in (*atari.PROTOCOLS, *revisiting_rainbow.PROTOCOLS,
                                *revisiting_rainbow_icml2021.PROTOCOLS, *revisiting_rainbow_beyond.PROTOCOLS)}


PROTOCOLS: dict[str, Protocol] = _registry()

DEFAULTS: dict[str, str] = {
    "atari": "machado2018",
    "classic": "revisiting_rainbow",
    "minatar": "revisiting_rainbow",
}
"""The protocol a run takes when none is named, per env family."""


def names_for(family: str) -> list[str]:
    """The protocols that apply to an env family."""
    return [name for name, p in PROTOCOLS.items() if family in p.families]


def get(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ConfigError(f"unknown protocol {name!r}; choose from {', '.join(PROTOCOLS)}") from None


def for_run(family: str, name: str | None) -> Protocol:
    """The named protocol (or the family's default), checked to apply to the family."""
    protocol = get(name or DEFAULTS[family])
    if family not in protocol.families:
        raise ConfigError(
            f"protocol {protocol.name} does not apply to {family} envs; "
            f"choose from {', '.join(names_for(family))}"
        )
    return protocol

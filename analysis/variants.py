"""Variant names as written in `config.json`: the grammar is the run-directory contract's
(`dqnlab.contract`, torch-free), re-exported here for the analysis modules."""

from __future__ import annotations

from dqnlab.contract import DQN_NAME as DQN
from dqnlab.contract import RAINBOW as COMPONENTS
from dqnlab.contract import RAINBOW_NAME as RAINBOW
from dqnlab.contract import removed_component, sort_variants, variant_components, variant_name

__all__ = [
    "COMPONENTS", "DQN", "RAINBOW", "removed_component", "sort_variants", "variant_components",
    "variant_name",
]  # fmt: skip

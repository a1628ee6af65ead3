"""`knob`: a config field with its documentation (shown by `dqnlab train --help`).

Its own module so that component modules can declare their config sections without importing
`dqnlab.config`, which collects those sections into `Config`.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any


def knob(default: Any, doc: str) -> Any:
    """A config field with its documentation (shown in `--help`)."""
    return field(default=default, metadata={"doc": doc})

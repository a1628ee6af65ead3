"""Checkpoints: the full training state in one file per save, written atomically; the two newest
are kept, and loading falls back to the older one when the newest is unreadable."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import torch

from dqnlab.rundir import atomic_write_bytes

_NAME = re.compile(r"^step_(\d+)\.pt$")
KEEP = 2


def _checkpoints(directory: Path) -> list[tuple[int, Path]]:
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found, reverse=True)


def save(directory: Path, step: int, state: dict[str, Any]) -> Path:
    buf = io.BytesIO()
    torch.save(state, buf)
    path = Path(directory) / f"step_{step:012d}.pt"
    atomic_write_bytes(path, buf.getvalue())
    for _, old in _checkpoints(Path(directory))[KEEP:]:
        old.unlink(missing_ok=True)
    return path


def load_latest(directory: Path) -> tuple[dict[str, Any], Path] | None:
    """The newest readable checkpoint, or None if there is none."""
    for _, path in _checkpoints(Path(directory)):
        try:
            # Our own files: they hold numpy arrays and RNG states, so not weights-only.
            return torch.load(path, map_location="cpu", weights_only=False), path
        except Exception as e:  # noqa: BLE001 - any unreadable file means: try the previous one
            print(f"dqnlab: checkpoint {path.name} is unreadable ({type(e).__name__}); "
                  "falling back to the previous one", file=sys.stderr)
    return None

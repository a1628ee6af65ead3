"""Checkpoints: the full training state in one file per save, written atomically; the two newest
are kept, and loading falls back to the older one when the newest is unreadable.

An unreadable checkpoint is never deleted or overwritten: it is moved into `corrupt-<time>/` beside
the others (for a post-mortem), with one line on stderr saying which and what happens next (resuming
from an older one, or, when every one is unreadable, starting the run again from step 0).
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any

import torch

from dqnlab.contract import checkpoint_file, checkpoint_files
from dqnlab.rundir import atomic_write_bytes

KEEP = 2


def save(directory: Path, step: int, state: dict[str, Any]) -> Path:
    buf = io.BytesIO()
    torch.save(state, buf)
    path = Path(directory) / checkpoint_file(step)
    atomic_write_bytes(path, buf.getvalue())
    for _, old in checkpoint_files(Path(directory))[KEEP:]:
        old.unlink(missing_ok=True)
    return path


def steps(directory: Path) -> list[int]:
    """The steps of the checkpoints in `directory`, newest first (readable or not)."""
    return [step for step, _ in checkpoint_files(Path(directory))]


def drop_after(directory: Path, step: int) -> None:
    """Delete the checkpoints newer than `step`: a pack resumed from an older step that all its
    runs have (a crash between its runs' writes) recomputes them, bitwise, and a newer one left
    behind would be a future that this run's truncated logs no longer match."""
    for s, path in checkpoint_files(Path(directory)):
        if s > step:
            path.unlink(missing_ok=True)


def load_latest(directory: Path, at_most: int | None = None) -> tuple[dict[str, Any], Path] | None:
    """The newest readable checkpoint (of those at step <= `at_most` when given), or None if there
    is none (or none is readable)."""
    directory = Path(directory)
    bad: list[tuple[Path, str]] = []
    for step, path in checkpoint_files(directory):
        if at_most is not None and step > at_most:
            continue
        try:
            # Our own files: they hold numpy arrays and RNG states, so not weights-only.
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001 - any unreadable file means: try the previous one
            bad.append((path, type(e).__name__))
            continue
        if bad:
            print(f"dqnlab: {_set_aside(directory, bad)}; resuming from {path.name}", file=sys.stderr)
        return state, path
    if bad:
        print(f"dqnlab: every checkpoint is unreadable: {_set_aside(directory, bad)}; the run starts "
              "again from step 0", file=sys.stderr)
    return None


def _set_aside(directory: Path, bad: list[tuple[Path, str]]) -> str:
    """Move unreadable checkpoints into a fresh corrupt-<time>/ folder; returns what was done."""
    aside = directory / time.strftime("corrupt-%Y%m%d-%H%M%S")
    n = 0
    while aside.exists():  # two set-asides within a second
        n += 1
        aside = aside.with_name(f"{aside.name.split('.')[0]}.{n}")
    aside.mkdir()
    for path, _ in bad:
        path.rename(aside / path.name)
    names = ", ".join(f"{p.name} ({why})" for p, why in bad)
    return f"{names} in {directory} moved to {aside.name}/"

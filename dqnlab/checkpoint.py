"""Checkpoints: the full training state in one file per save, written atomically; the two newest
are kept, and loading falls back to the older one when the newest is unreadable.

Each file is torch.save's zip followed by a footer: FOOTER and the SHA-256 of the zip. torch.load
does not check the zip's CRCs (a changed byte loads as a changed weight), so the digest is what
tells a damaged checkpoint from a good one; files without a footer (written before it) load as
they are, unless the state they hold says it was written with one (the footer was cut off).

An unreadable checkpoint is never deleted or overwritten: it is moved into `corrupt-<time>/` beside
the others (for a post-mortem), with one line on stderr saying which and what happens next (resuming
from an older one, or, when every one is unreadable, starting the run again from step 0).
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
from pathlib import Path
from typing import Any

import torch

from dqnlab.contract import checkpoint_file, checkpoint_files
from dqnlab.rundir import atomic_write_bytes

KEEP = 2
FOOTER = b"\ndqnlab-sha256:"
"""Precedes the 32-byte SHA-256 of the zip at the end of every checkpoint file (torch.load
ignores bytes after the zip)."""
FORMAT = 2
"""state["format"]: 2 = written with the footer."""
_CHUNK = 1 << 24


class Damaged(Exception):
    """A checkpoint whose bytes are not those written."""


def save(directory: Path, step: int, state: dict[str, Any]) -> Path:
    buf = io.BytesIO()
    torch.save({**state, "format": FORMAT}, buf)
    buf.write(FOOTER + hashlib.sha256(buf.getbuffer()).digest())
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
            state = _load(path)
        except Exception as e:  # noqa: BLE001 - any unreadable file means: try the previous one
            bad.append((path, "digest mismatch" if isinstance(e, Damaged) else type(e).__name__))
            continue
        if bad:
            print(f"dqnlab: {_set_aside(directory, bad)}; resuming from {path.name}", file=sys.stderr)
        return state, path
    if bad:
        print(f"dqnlab: every checkpoint is unreadable: {_set_aside(directory, bad)}; the run starts "
              "again from step 0", file=sys.stderr)
    return None


def _load(path: Path) -> dict[str, Any]:
    """The state in a checkpoint file, after checking its digest (Damaged if it differs)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - len(FOOTER) - 32))
        tail = f.read()
        footed = tail[: len(FOOTER)] == FOOTER
        if footed:  # hashed in chunks: an Atari checkpoint holds gigabytes of replay
            f.seek(0)
            digest, remaining = hashlib.sha256(), size - len(tail)
            while remaining > 0 and (chunk := f.read(min(_CHUNK, remaining))):
                digest.update(chunk)
                remaining -= len(chunk)
            if digest.digest() != tail[len(FOOTER):]:
                raise Damaged(path.name)
    # Our own files: they hold numpy arrays and RNG states, so not weights-only.
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not footed and state.get("format", 1) >= FORMAT:
        raise Damaged(f"{path.name}: its footer is missing")
    return state


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

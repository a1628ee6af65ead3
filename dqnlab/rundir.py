"""Reading and writing the run directory (docs/run_directory.md): atomic files, status, config."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from dqnlab import __version__
from dqnlab.config import Config, from_dict, to_dict
from dqnlab.contract import CHECKPOINT, CONFIG, EVAL, LOCK, PROGRESS, STATES, STATUS  # noqa: F401 - re-exported
from dqnlab.errors import ConfigError


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def umask() -> int:
    """The process's umask, read without changing it where Linux allows (os.umask can only read it
    by setting it, for a moment, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_dir(path: Path) -> None:
    """Make the directory entries in `path` durable (a file created or renamed there survives a
    host crash); a no-op where directories cannot be opened (not POSIX)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over `path` (and fsync
    the directory, so the rename is durable too). The file
    gets the permissions of any new file (0666 less the umask), not mkstemp's private 0600, so
    colleagues sharing a cluster's scratch can read results when the umask lets them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def meta() -> dict[str, Any]:
    import numpy
    import torch

    return {
        "dqnlab_version": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "host": platform.node(),
        "created": now(),
    }


def config_record(cfg: Config) -> dict[str, Any]:
    return {**to_dict(cfg), "meta": meta()}


def read_config(run_dir: Path) -> Config:
    path = Path(run_dir) / CONFIG
    if not path.exists():
        raise ConfigError(f"{run_dir} is not a run directory (no {CONFIG})")
    return from_dict(json.loads(path.read_text()))


def check_creatable(path: Path, what: str) -> None:
    """Refuse, with one line, a directory path that cannot be created or used: an existing file
    there or above it, or a parent this user may not write."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{what} {path} exists and is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{what} {path} is not writable")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{what} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {path}: cannot create it, {parent} is not writable")


def check(cfg: Config, run_dir: Path, *, remedy: str = "use another --run-dir") -> bool:
    """What `prepare` would do, without writing anything: True if `run_dir` holds this config (a
    resume), False if it is absent or empty (a new run); ConfigError with one line otherwise,
    ending in `remedy` (what the command that asked can do about it)."""
    run_dir = Path(run_dir)
    check_creatable(run_dir, "run directory")
    path = run_dir / CONFIG
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"{path} is unreadable ({type(e).__name__}); {remedy}") from None
        if not isinstance(stored, dict):
            raise ConfigError(f"{path} does not hold a config; {remedy}")
        stored.pop("meta", None)
        if stored != to_dict(cfg):
            diff = sorted(_diff_keys(stored, to_dict(cfg)))
            raise ConfigError(
                f"{run_dir} already holds a different config in {CONFIG} (differs in {', '.join(diff[:5])}); {remedy}"
            )
        return True
    if run_dir.exists() and any(p.name != LOCK for p in run_dir.iterdir()):
        raise ConfigError(f"{run_dir} exists, is not empty and holds no {CONFIG}; {remedy}")
    return False


def prepare(cfg: Config, run_dir: Path) -> bool:
    """Create the run directory with config.json first, or check an existing one holds the same
    config. Returns True if the directory already existed (a resume)."""
    run_dir = Path(run_dir)
    if check(cfg, run_dir):
        return True
    atomic_write_json(run_dir / CONFIG, config_record(cfg))
    write_status(run_dir, "pending", steps_done=0, total_steps=cfg.total_steps)
    return False


def _diff_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in set(a) | set(b):
            out += _diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [prefix.rstrip(".")]


def config_changes(trained: dict[str, Any], cfg: Config, limit: int = 3) -> str | None:
    """How `cfg` differs from the config dict a checkpoint was `trained` with, e.g.
    `agent.batch_size (16 in the checkpoint, 32 in config.json)`; None if it does not. A key the checkpoint lacks (a
    field added by a later dqnlab) counts as its default."""
    now, defaults = to_dict(cfg), to_dict(Config())
    keys = sorted(k for k in _diff_keys(trained, now)
                  if not (_lookup(trained, k) is _ABSENT and _lookup(now, k) == _lookup(defaults, k)))
    if not keys:
        return None
    shown = [f"{k} ({_shown(_lookup(trained, k))} in the checkpoint, {_shown(_lookup(now, k))} in config.json)"
             for k in keys[:limit]]
    return ", ".join(shown) + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


_ABSENT = object()


def _lookup(d: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(d, dict) or part not in d:
            return _ABSENT
        d = d[part]
    return d


def _shown(value: Any) -> str:
    return "absent" if value is _ABSENT else json.dumps(value)


def _load_status(run_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """status.json's content, or None and why it cannot be used."""
    try:
        status = json.loads((Path(run_dir) / STATUS).read_text())
    except FileNotFoundError:
        return None, f"{STATUS} is missing"
    except (OSError, ValueError):
        return None, f"{STATUS} is unreadable"
    if not isinstance(status, dict) or status.get("state") not in STATES or any(
            key in status and not isinstance(status[key], kind) for key, kind in _STATUS_FIELDS.items()):
        return None, f"{STATUS} holds no status"
    return status, None


_STATUS_FIELDS: dict[str, type | tuple[type, ...]] = {
    "steps_done": int, "total_steps": int, "updated": str, "error": (str, type(None)),
    "last_checkpoint": (str, type(None)), "note": (str, type(None)), "config_sha256": (str, type(None)),
    "logs": (dict, type(None)),
}
"""The types status.json's fields must have to be read (a damaged one may hold anything)."""


def read_status(run_dir: Path) -> dict[str, Any]:
    """status.json's content; a missing or unreadable one reads as pending at step 0
    (`status_problem` says why)."""
    status, _ = _load_status(run_dir)
    return status if status is not None else {"state": "pending", "steps_done": 0, "error": None}


def status_problem(run_dir: Path) -> str | None:
    """Why status.json cannot be read (missing, not JSON, not a status), None if it can."""
    return _load_status(run_dir)[1]


def write_status(run_dir: Path, state: str, **fields: Any) -> None:
    """The one writer of status.json: `state` plus `fields` over what the file holds, stamped
    `updated`. Callers: `prepare` (pending), the training loop (running / done / pending when
    stopped / failed) and `mark_failed`. A `note` belongs to the write that gave it (how to
    resume a stopped run): any later write drops it unless it gives one."""
    status = read_status(run_dir) if (Path(run_dir) / STATUS).exists() else {}
    status.pop("note", None)
    status.update(fields)
    status.update(state=state, updated=now())
    status.setdefault("error", None)
    status.setdefault("last_checkpoint", None)
    atomic_write_json(Path(run_dir) / STATUS, status)


def mark_failed(run_dir: Path, error: str, **fields: Any) -> bool:
    """Record a failure (with `fields`, e.g. the step) unless one is recorded already: the first
    writer (the training loop, with its step) wins over the callers around it. Returns True if it
    recorded this one."""
    if read_status(run_dir).get("state") == "failed":
        return False
    write_status(run_dir, "failed", error=error, **fields)
    return True

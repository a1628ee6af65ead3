"""The run directory's lock: one process trains a run at a time, and everyone can see who.

`hold(run_dir)` takes an exclusive POSIX record lock (`fcntl.lockf`) on `<run_dir>/.lock` for as
long as the block runs and writes the holder's pid, host and start time into the file. A second
process (a second `dqnlab train`, a sweep worker, a SLURM job) gets `RunDirBusy`, naming them. The
kernel drops the lock when the holder exits, however it exits (kill -9 included), so a lock is never
stale; the file stays and only its content says who held it last.

On NFS (cluster scratch, home directories) fcntl locks go through the NFS lock manager (lockd, or
NFSv4's built-in locking), so a job on one node and a launch on the login node see each other's
locks. Lustre and BeeGFS honour them only when mounted with `flock` (not `localflock`); where the
filesystem refuses locks (ENOLCK, EINVAL) the run trains unlocked, with one warning.

`probe(run_dir)` asks, without writing anything, whether another process holds the lock: it takes
a shared lock for an instant (shared locks never conflict with each other, so two probes never
see each other as holders). A trainer starting in that instant retries for a moment instead of
reporting the probe as a holder.

POSIX locks belong to the process, and closing *any* descriptor of the file releases them, so this
module keeps the descriptors of the locks this process holds: a nested `hold` of the same run is
re-entrant and a `probe` of it answers from memory without opening the file.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dqnlab.contract import LOCK
from dqnlab.errors import ConfigError

#: How long `hold` retries a lock that is taken (a probe holds one for microseconds).
RETRY_S = 1.0


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a run directory's lock, as written in its lock file."""

    pid: int | None
    host: str | None
    since: str | None

    def __str__(self) -> str:
        who = f"pid {self.pid}" if self.pid is not None else "an unknown process"
        where = f" on host {self.host}" if self.host else ""
        when = f" since {self.since}" if self.since else ""
        return f"{who}{where}{when}"

    @property
    def here(self) -> bool:
        """Whether the holder ran on this machine (then its pid can be checked)."""
        return self.host == platform.node()

    def alive(self) -> bool | None:
        """Whether the holder process still exists: None when that cannot be told from here."""
        if not self.here or self.pid is None:
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True


class RunDirBusy(ConfigError):
    """Another process holds the run directory's lock."""

    def __init__(self, run_dir: Path, holder: Holder) -> None:
        super().__init__(f"{run_dir} is in use by {holder}; wait for it to finish or stop it "
                         "(the same command resumes the run afterwards)")
        self.run_dir, self.holder = Path(run_dir), holder


# Locks this process holds: resolved lock path -> [descriptor, depth].
_HELD: dict[Path, list[int]] = {}


def _lock_path(run_dir: Path) -> Path:
    return (Path(run_dir) / LOCK).resolve()


def _unsupported(error: OSError) -> bool:
    return error.errno in (errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS)


def read_holder(run_dir: Path) -> Holder | None:
    """The holder recorded in the lock file (the current one if the lock is held, else the last)."""
    try:
        data = json.loads((Path(run_dir) / LOCK).read_text() or "{}")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not data:
        return None
    pid = data.get("pid")
    return Holder(pid if isinstance(pid, int) else None, data.get("host"), data.get("since"))


def _me() -> Holder:
    return Holder(os.getpid(), platform.node(),
                  time.strftime("%Y-%m-%dT%H:%M:%S%z"))


@contextmanager
def hold(run_dir: Path) -> Iterator[None]:
    """Hold `run_dir`'s lock for the block (creating the directory and lock file if needed).
    Raises RunDirBusy, naming the holder, if another process holds it."""
    path = _lock_path(run_dir)
    if path in _HELD:  # re-entrant within this process
        _HELD[path][1] += 1
        try:
            yield
        finally:
            _HELD[path][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask decides who may read it
    try:
        locked = _acquire(fd, run_dir)
        if locked:
            me = _me()
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps({"pid": me.pid, "host": me.host, "since": me.since}) + "\n").encode(), 0)
            _HELD[path] = [fd, 1]
        try:
            yield
        finally:
            _HELD.pop(path, None)
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, run_dir: Path) -> bool:
    """Take the exclusive lock on `fd`: True if taken, False if the filesystem has no locks."""
    deadline = time.monotonic() + RETRY_S
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as e:
            if _unsupported(e):
                print(f"dqnlab: warning: the filesystem of {run_dir} refuses file locks ({e.strerror}); "
                      "training without the run-directory lock", file=sys.stderr)
                return False
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() > deadline:
            raise RunDirBusy(run_dir, read_holder(run_dir) or Holder(None, None, None))
        time.sleep(0.05)


def probe(run_dir: Path) -> Holder | None | bool:
    """Who holds `run_dir`'s lock: a Holder if another process holds it, None if nobody does,
    False if this cannot be told (no lock support). Writes nothing. This process's own locks
    count as held by it."""
    path = _lock_path(run_dir)
    if path in _HELD:
        return _me()
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return read_holder(run_dir) or Holder(None, None, None)
        return False
    finally:
        os.close(fd)
    return None

"""What every run of a sweep directory is doing, read only from the run-directory contract.

`collect(sweep_dir)` returns one `RunState` per manifest entry; `format_table` prints them as
`dqnlab status` does. Steps come from the newest of status.json (written at checkpoints and state
changes) and the last row of progress.csv (written every log period), so a live run's progress
moves between checkpoints too.

A run whose status.json says `running` but whose process is gone (killed with -9, its node lost) is
shown as `stale`: nobody holds its lock (`runlock`; the kernel releases a lock with its process).
Where the filesystem has no locks, the holder's pid decides on its own machine and the heartbeat
elsewhere (status.json's `updated`, rewritten at least every `run_log.HEARTBEAT_S` while a run
trains). Reading the state writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from dqnlab import rundir, runlock
from dqnlab.contract import checkpoint_files
from dqnlab.errors import ConfigError
from dqnlab.sweep.grid import MANIFEST, read_manifest

STATES = ("done", "running", "pending", "failed", "stale")
STALE_AFTER_S = 600.0
"""Without locks, a `running` run from another machine whose heartbeat is older is stale."""


@dataclass(frozen=True)
class RunState:
    rel_dir: str
    env: str
    variant: str
    seed: int
    state: str
    steps_done: int
    total_steps: int
    error: str | None
    """The error of a failed run, or why a stale run is stale."""
    note: str | None = None
    """status.json's note: how to resume a run that was stopped."""

    @property
    def fraction(self) -> float:
        return min(1.0, self.steps_done / self.total_steps) if self.total_steps else 0.0


def last_logged_step(csv_path: Path) -> int:
    """The `step` of the last complete row of a CSV log (0 if none), reading only its tail."""
    try:
        with open(csv_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4096))
            tail = f.read().decode(errors="replace")
    except OSError:
        return 0
    lines = tail.split("\n")[:-1]  # drop the text after the last newline: a row being written
    for line in reversed(lines):
        head = line.split(",", 1)[0]
        if head.isdigit():
            return int(head)
    return 0


def run_state(sweep_dir: Path, entry: dict) -> RunState:
    run_dir = Path(sweep_dir) / entry["run_dir"]
    status = rundir.read_status(run_dir)
    total = int(status.get("total_steps") or entry.get("config", {}).get("total_steps") or 0)
    state = status.get("state", "pending")
    error = status.get("error")
    if state == "running":
        why = staleness(run_dir, status)
        if why is not None:
            state, error = "stale", why
    steps = int(status.get("steps_done") or 0)
    if state != "done":
        steps = max(steps, last_logged_step(run_dir / rundir.PROGRESS))
    return RunState(
        entry["run_dir"], entry["env"], entry["variant"], int(entry["seed"]), state,
        steps, total, error, status.get("note") or _unread_note(run_dir),
    )


def _unread_note(run_dir: Path) -> str | None:
    """What `status` says of a run whose status.json cannot be read (shown as pending)."""
    if not run_dir.is_dir():
        return "no run directory yet"
    problem = rundir.status_problem(run_dir)
    if problem is None:
        return None
    found = checkpoint_files(run_dir / rundir.CHECKPOINT)
    return f"{problem}; a relaunch {'resumes at step ' + format(found[0][0], ',') if found else 'starts at step 0'}"


def staleness(run_dir: Path, status: dict) -> str | None:
    """Why a run whose status says `running` has no live process; None if it may be alive."""
    holder = runlock.probe(run_dir)
    if isinstance(holder, runlock.Holder):
        return None
    last = runlock.read_holder(run_dir)
    was = f" (was pid {last.pid} on {last.host})" if last else ""
    if holder is None:
        return f"no live process{was}"
    if last is not None and last.alive() is False:  # no locks here: ask for the pid
        return f"its process is gone{was}"
    try:
        age = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(status["updated"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None
    if age > STALE_AFTER_S:
        return f"no heartbeat for {age / 60:.0f} min{was}"
    return None


def collect(sweep_dir: Path) -> list[RunState]:
    data = read_manifest(Path(sweep_dir))
    if data is None:
        raise ConfigError(f"{sweep_dir} is not a sweep directory (no {MANIFEST})")
    return [run_state(sweep_dir, entry) for entry in data["runs"]]


def counts(states: list[RunState]) -> dict[str, int]:
    out = dict.fromkeys(STATES, 0)
    for s in states:
        out[s.state] = out.get(s.state, 0) + 1
    return out


def summary_line(states: list[RunState]) -> str:
    c = counts(states)
    done_steps = sum(s.steps_done for s in states)
    total = sum(s.total_steps for s in states) or 1
    stale = f", {c['stale']} stale" if c["stale"] else ""
    return (f"{len(states)} runs: {c['done']} done, {c['running']} running, {c['pending']} pending, "
            f"{c['failed']} failed{stale}; {100 * done_steps / total:.1f}% of {total:,} steps")


def format_table(states: list[RunState], *, max_error: int = 60) -> str:
    header = ("run", "state", "progress", "steps", "last error / note")
    rows = [
        (s.rel_dir, s.state, f"{100 * s.fraction:5.1f}%", f"{s.steps_done:,}/{s.total_steps:,}",
         _one_line(s.error or s.note, max_error))
        for s in states
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join([*lines, "", summary_line(states)])


def _one_line(text: str | None, limit: int) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."

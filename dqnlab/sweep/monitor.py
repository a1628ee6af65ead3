"""Live progress of a whole sweep: runs done / running / failed, aggregate steps/s, ETA.

Read from the run directories only (status.json and the tail of progress.csv), so it works the same
whether runs train in local workers or in SLURM jobs. Shown on a terminal as one refreshing line
(a line every 30 s otherwise) and written to `progress.txt` in the sweep directory, together with
the per-run table of `dqnlab status`.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path
from typing import TextIO

from dqnlab import rundir
from dqnlab.progress import _duration
from dqnlab.sweep import status as st

PROGRESS_FILE = "progress.txt"


class SweepMonitor:
    def __init__(self, sweep_dir: Path, rel_dirs: list[str], *, stream: TextIO | None = None,
                 window_s: float = 60.0, plain_period_s: float = 30.0) -> None:
        self.sweep_dir = Path(sweep_dir)
        self.rel_dirs = set(rel_dirs)
        """The runs this launch trains: their remaining steps make the ETA."""
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.window_s, self.plain_period_s = window_s, plain_period_s
        self._marks: deque[tuple[float, int]] = deque()
        self._last_plain = 0.0

    def line(self, states: list[st.RunState]) -> str:
        now = time.monotonic()
        mine = [s for s in states if s.rel_dir in self.rel_dirs]
        done_steps = sum(s.steps_done for s in mine)
        self._marks.append((now, done_steps))
        while len(self._marks) > 2 and now - self._marks[0][0] > self.window_s:
            self._marks.popleft()
        t0, s0 = self._marks[0]
        sps = (done_steps - s0) / (now - t0) if now > t0 else 0.0
        remaining = sum(max(0, s.total_steps - s.steps_done) for s in mine if s.state != "failed")
        eta = _duration(remaining / sps) if sps > 0 else "--:--"
        c = st.counts(states)
        return (f"{c['done']}/{len(states)} done, {c['running']} running, {c['failed']} failed | "
                f"{sps:,.0f} steps/s | ETA {eta}")

    def update(self, *, final: bool = False) -> list[st.RunState]:
        states = st.collect(self.sweep_dir)
        line = self.line(states)
        rundir.atomic_write_bytes(
            self.sweep_dir / PROGRESS_FILE, f"{line}\n\n{st.format_table(states)}\n".encode()
        )
        if self.tty:
            self.stream.write(f"\r\033[K{line}" + ("\n" if final else ""))
            self.stream.flush()
        elif final or time.monotonic() - self._last_plain >= self.plain_period_s:
            self._last_plain = time.monotonic()
            self.stream.write(line + "\n")
            self.stream.flush()
        return states

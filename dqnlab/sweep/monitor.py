"""Live progress of a whole sweep: runs done / running / failed, aggregate steps/s, ETA.

Read from the run directories only (status.json and the tail of progress.csv), so it works the same
whether runs train in local workers or in SLURM jobs. Shown on a terminal as one refreshing line
(a line every 30 s otherwise) and written to `progress.txt` in the sweep directory, together with
the per-run table of `dqnlab status`.

The ETA weighs each run by the planner's cost of its config (`plan.pack_seconds`, what
`--dry-run` prints), not by its steps: a rainbow step costs about five dqn steps, and a sweep that
trains its rainbow runs first would otherwise be expected to take several times too long. The
remaining planned work is divided by the rate at which planned work gets done (measured over the
last minute, so the machine's own speed counts); before that rate is measured, by the number of
workers, as the planner does.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path
from typing import TextIO

from dqnlab import rundir
from dqnlab.config import from_dict
from dqnlab.progress import _duration
from dqnlab.sweep import plan
from dqnlab.sweep import status as st
from dqnlab.sweep.grid import Run, read_manifest

PROGRESS_FILE = "progress.txt"
MIN_RATE_WINDOW_S = 20.0
"""Measured progress over less time than this is too noisy for an ETA: the planner's is used."""


def planned_costs(sweep_dir: Path, packs: list[list[str]], device: str = "cpu") -> dict[str, float]:
    """Each run's share of its pack's planned seconds (`plan.pack_seconds`, from the configs in
    sweep.json). Where a config has no throughput row, every run weighs its budget in steps
    instead (a relative weight, so the ETA stays a ratio of like units)."""
    entries = {e["run_dir"]: e for e in (read_manifest(Path(sweep_dir)) or {}).get("runs", [])}
    costs: dict[str, float] = {}
    for pack in packs:
        runs = [Run(e["env"], e["variant"], e["seed"], from_dict(e["config"]), rel)
                for rel in pack if (e := entries.get(rel)) is not None]
        seconds = plan.pack_seconds(runs, device)[0] if runs else None
        if seconds is None:
            return {rel: float(e["config"].get("total_steps") or 1) for rel, e in entries.items()}
        costs.update(dict.fromkeys((r.rel_dir for r in runs), seconds / len(runs)))
    return costs


class SweepMonitor:
    def __init__(self, sweep_dir: Path, rel_dirs: list[str] | list[list[str]], *, workers: int | None = None,
                 device: str = "cpu", costs: dict[str, float] | None = None, stream: TextIO | None = None,
                 window_s: float = 60.0, plain_period_s: float = 30.0) -> None:
        self.sweep_dir = Path(sweep_dir)
        packs = [r if isinstance(r, list) else [r] for r in rel_dirs]
        self.rel_dirs = {rel for pack in packs for rel in pack}
        """The runs this launch trains: their remaining planned work makes the ETA."""
        self.packs = packs
        self.workers = workers
        """Packs trained at once (None: unknown, e.g. a cluster's queue)."""
        self.costs = costs if costs is not None else planned_costs(self.sweep_dir, packs, device)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.window_s, self.plain_period_s = window_s, plain_period_s
        self._marks: deque[tuple[float, int, float]] = deque()
        self._last_plain = 0.0

    def eta_seconds(self, states: list[st.RunState], now: float | None = None) -> float | None:
        """Seconds until this launch's runs end (None: not known yet); records a progress mark."""
        now = time.monotonic() if now is None else now
        mine = [s for s in states if s.rel_dir in self.rel_dirs]
        cost = {s.rel_dir: self.costs.get(s.rel_dir, 0.0) for s in mine}
        done = sum(cost[s.rel_dir] * s.fraction for s in mine)
        left = {s.rel_dir: cost[s.rel_dir] * (1 - s.fraction) for s in mine if s.state not in ("done", "failed")}
        self._mark(now, sum(s.steps_done for s in mine), done)
        t0, _, done0 = self._marks[0]
        if now - t0 >= MIN_RATE_WINDOW_S and done > done0:
            return sum(left.values()) / ((done - done0) / (now - t0))
        if self.workers is None:
            return None
        # The planner's wall time: the work spread over the workers, no less than the longest pack.
        longest = max((sum(left.get(rel, 0.0) for rel in pack) for pack in self.packs), default=0.0)
        return max(sum(left.values()) / self.workers, longest)

    def _mark(self, now: float, steps: int, work: float) -> None:
        self._marks.append((now, steps, work))
        while len(self._marks) > 2 and now - self._marks[0][0] > self.window_s:
            self._marks.popleft()

    def line(self, states: list[st.RunState], now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        eta = self.eta_seconds(states, now)
        t0, s0, _ = self._marks[0]
        steps = self._marks[-1][1]
        sps = (steps - s0) / (now - t0) if now > t0 else 0.0
        c = st.counts(states)
        return (f"{c['done']}/{len(states)} done, {c['running']} running, {c['failed']} failed | "
                f"{sps:,.0f} steps/s | ETA {'--:--' if eta is None else _duration(eta)}")

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

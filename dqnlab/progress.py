"""A live one-line progress display (steps/s, recent return, epsilon, ETA) for terminals; silent
when stdout is not a terminal (sweeps, CI), where progress.csv carries the same numbers. A pack's
line (`runs=`) shows the mean over its runs of each run's recent return and latest evaluation.

The line fits the terminal's width (a line that wraps would scroll a new line every refresh):
narrower terminals drop the least useful fields first (epsilon, the training return, steps/s).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import deque
from collections.abc import Sequence

SEPARATOR = " | "
DROP_FIRST = ("eps", "return", "sps", "eval", "runs", "eta")
"""Fields left out, in this order, until the line fits; the step count always stays."""


def fit(fields: dict[str, str], width: int) -> str:
    """The fields joined by SEPARATOR in their order, leaving out DROP_FIRST's fields in turn
    until the line is at most `width` characters (cut at `width` if even the step count is not)."""
    shown = dict(fields)
    line = SEPARATOR.join(shown.values())
    for name in DROP_FIRST:
        if len(line) <= width:
            break
        shown.pop(name, None)
        line = SEPARATOR.join(shown.values())
    return line[:width]


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


class ProgressLine:
    """One run's line; with `runs` (the lines of a pack's runs, which track but do not show), the
    pack's: "K runs" and the mean over the runs of each one's recent training return and of each
    one's latest evaluation, so no run is hidden behind the first (over the runs that have one:
    early on, before every run has ended an episode, fewer than K)."""

    def __init__(self, total_steps: int, *, enabled: bool | None = None, period_s: float = 0.5,
                 runs: Sequence[ProgressLine] = ()) -> None:
        self.total = total_steps
        self.enabled = sys.stdout.isatty() if enabled is None else enabled
        self.period_s = period_s
        self.runs = list(runs)
        self.returns: deque[float] = deque(maxlen=20)
        self.eval_return: float | None = None
        self._next = 0.0
        self._marks: deque[tuple[float, int]] = deque(maxlen=20)
        self._shown = False  # a line is on the terminal, not yet ended by close()

    @classmethod
    def over(cls, lines: Sequence[ProgressLine], total_steps: int, *, enabled: bool | None = None) -> ProgressLine:
        """The line a process shows for these runs' lines: a run's own, or a pack's over them."""
        if len(lines) == 1:
            return lines[0]
        return cls(total_steps, enabled=enabled, runs=lines)

    def note_return(self, value: float) -> None:
        self.returns.append(value)

    def note_eval(self, value: float) -> None:
        self.eval_return = value

    def recent_return(self) -> float | None:
        """The mean training return of the last 20 episodes (a pack: the mean over its runs)."""
        if self.runs:
            return _mean([r for r in (line.recent_return() for line in self.runs) if r is not None])
        return _mean(self.returns)

    def latest_eval(self) -> float | None:
        """The latest evaluation's mean return (a pack: the mean over the runs evaluated so far)."""
        if self.runs:
            return _mean([line.eval_return for line in self.runs if line.eval_return is not None])
        return self.eval_return

    def update(self, step: int, epsilon: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now < self._next and step < self.total:
            return
        self._next = now + self.period_s
        self._marks.append((now, step))
        (t0, s0) = self._marks[0]
        sps = (step - s0) / (now - t0) if now > t0 else 0.0
        eta = (self.total - step) / sps if sps > 0 else float("nan")
        ret, ev = (f"{v:8.1f}" if v is not None else "       -" for v in (self.recent_return(), self.latest_eval()))
        eta_s = _duration(eta) if eta == eta else "--:--"
        line = fit({
            "step": f"{step:>10,}/{self.total:,} {100 * step / self.total:5.1f}%",
            **({"runs": f"{len(self.runs)} runs"} if self.runs else {}),
            "sps": f"{sps:7.0f} steps/s", "return": f"return {ret}", "eval": f"eval {ev}",
            "eps": f"eps {epsilon:.3f}", "eta": f"ETA {eta_s}",
        }, shutil.get_terminal_size().columns - 1)  # the last column would wrap on some terminals
        sys.stdout.write(f"\r{line}\033[K")  # clear what a longer previous line left
        sys.stdout.flush()
        self._shown = True

    def close(self) -> None:
        """End the line on the terminal (once: a failure's message and the loop may both close it)."""
        if self._shown:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._shown = False

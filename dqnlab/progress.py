"""A live one-line progress display (steps/s, recent return, epsilon, ETA) for terminals; silent
when stdout is not a terminal (sweeps, CI), where progress.csv carries the same numbers.

The line fits the terminal's width (a line that wraps would scroll a new line every refresh):
narrower terminals drop the least useful fields first (epsilon, the training return, steps/s).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import deque

SEPARATOR = " | "
DROP_FIRST = ("eps", "return", "sps", "eval", "eta")
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


class ProgressLine:
    def __init__(self, total_steps: int, *, enabled: bool | None = None, period_s: float = 0.5) -> None:
        self.total = total_steps
        self.enabled = sys.stdout.isatty() if enabled is None else enabled
        self.period_s = period_s
        self.returns: deque[float] = deque(maxlen=20)
        self.eval_return: float | None = None
        self._next = 0.0
        self._marks: deque[tuple[float, int]] = deque(maxlen=20)

    def note_return(self, value: float) -> None:
        self.returns.append(value)

    def note_eval(self, value: float) -> None:
        self.eval_return = value

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
        ret = f"{sum(self.returns) / len(self.returns):8.1f}" if self.returns else "       -"
        ev = f"{self.eval_return:8.1f}" if self.eval_return is not None else "       -"
        eta_s = _duration(eta) if eta == eta else "--:--"
        line = fit({
            "step": f"{step:>10,}/{self.total:,} {100 * step / self.total:5.1f}%",
            "sps": f"{sps:7.0f} steps/s", "return": f"return {ret}", "eval": f"eval {ev}",
            "eps": f"eps {epsilon:.3f}", "eta": f"ETA {eta_s}",
        }, shutil.get_terminal_size().columns - 1)  # the last column would wrap on some terminals
        sys.stdout.write(f"\r{line}\033[K")  # clear what a longer previous line left
        sys.stdout.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stdout.write("\n")
            sys.stdout.flush()

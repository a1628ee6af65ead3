"""A live one-line progress display (steps/s, recent return, epsilon, ETA) for terminals; silent
when stdout is not a terminal (sweeps, CI), where progress.csv carries the same numbers."""

from __future__ import annotations

import sys
import time
from collections import deque


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
        sys.stdout.write(
            f"\r{step:>10,}/{self.total:,} {100 * step / self.total:5.1f}% | {sps:7.0f} steps/s | "
            f"return {ret} | eval {ev} | eps {epsilon:.3f} | ETA {eta_s} "
        )
        sys.stdout.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stdout.write("\n")
            sys.stdout.flush()

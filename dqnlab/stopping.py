"""How the command line answers SIGINT and SIGTERM: the same way, from its first milliseconds.

`StopFlag` is installed by `cli.main` before anything else (a SIGTERM while torch loads is
answered, not fatal with status -15 and no word). The first signal sets a flag: `dqnlab train`
checkpoints at its next step boundary and exits, or, before training started, stops there. A
launcher that waits on worker processes (`dqnlab sweep`) asks for `raising()` just before it first
writes: a signal that came earlier stops it there (`StoppedBeforeWriting`: nothing was written, nothing
to resume), a later one raises `Interrupted`, which the local executor handles like Ctrl-C (each pack
checkpoints and the launch reports what is left). A second signal always raises: give up at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _BySignal(BaseException):
    """An exception a stop signal caused; `signum` says which, its message names it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Interrupted(_BySignal, KeyboardInterrupt):
    """A stop signal, raised where the code waits for it."""


class StoppedBeforeWriting(_BySignal, Exception):
    """A stop signal that came before the command wrote anything: it ends there, nothing to resume."""


def signal_name(signum: int | None) -> str:
    return signal.Signals(signum or signal.SIGINT).name


class StopFlag:
    """SIGINT/SIGTERM set a flag (or raise, see the module docstring); calling it says whether one
    came."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._raise = False
        self._previous: dict[int, object] = {}

    def install(self) -> bool:
        """Catch the stop signals (only the main thread may); False where it cannot."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return True

    def restore(self) -> None:
        """Put back the handlers `install` replaced (a process that goes on, e.g. tests)."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def raising(self) -> None:
        """Called just before the command first writes. A signal that already came raises
        StoppedBeforeWriting; from now on a signal raises Interrupted where the code is."""
        try:
            self._raise = True
            signum = self.signum  # read after the switch: no signal falls between the two
        except Interrupted as e:  # one that came during the switch: still before any write
            raise StoppedBeforeWriting(e.signum) from None
        if signum is not None:
            raise StoppedBeforeWriting(signum)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        again = self.signum is not None
        self.signum = self.signum or signum
        if again or self._raise:
            raise Interrupted(signum)

    def __call__(self) -> bool:
        return self.signum is not None

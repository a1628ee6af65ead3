"""The n-step accumulator: turns a stream of 1-step rewards into n-step transitions.

For each step slot i it emits (i, R, discount, k): R = sum_{j<k} gamma^j r_{i+j}, the bootstrap state
is the one k steps later, and discount = gamma^k if that state is not terminal, else 0. k = n in the
middle of an episode; at an episode end the pending transitions are flushed with k < n:
termination (or a life loss used as a terminal) does not bootstrap (discount 0), while a time-limit
truncation does (discount gamma^k, bootstrapping from the final observation).
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple


class Emitted(NamedTuple):
    slot: int
    ret: float
    discount: float
    steps: int  # k: the bootstrap observation is k slots after `slot`


class NStepAccumulator:
    def __init__(self, n: int, gamma: float) -> None:
        if n < 1:
            raise ValueError("n must be >= 1")
        self.n, self.gamma = n, gamma
        self.pending: deque[tuple[int, float]] = deque()

    def _flush_one(self, discount_if_not_terminal: bool) -> Emitted:
        k = len(self.pending)
        ret = 0.0
        for j, (_, r) in enumerate(self.pending):
            ret += self.gamma**j * r
        slot = self.pending.popleft()[0]
        return Emitted(slot, ret, self.gamma**k if discount_if_not_terminal else 0.0, k)

    def add(self, slot: int, reward: float, terminal: bool, truncated: bool) -> list[Emitted]:
        """Record the step taken from `slot`; return the transitions that became complete.

        `terminal`: no bootstrapping past this step (termination or life loss as terminal).
        `truncated`: the episode was cut here by a time limit; bootstrap from the final observation.
        """
        self.pending.append((slot, float(reward)))
        out: list[Emitted] = []
        if terminal or truncated:
            while self.pending:
                out.append(self._flush_one(discount_if_not_terminal=not terminal))
        elif len(self.pending) == self.n:
            out.append(self._flush_one(discount_if_not_terminal=True))
        return out

    def state_dict(self) -> dict:
        return {"pending": list(self.pending)}

    def load_state_dict(self, state: dict) -> None:
        self.pending = deque((int(s), float(r)) for s, r in state["pending"])

"""Exact env snapshots for checkpoints.

Plain `pickle` is not enough: gymnasium's EzPickle wrappers (AtariPreprocessing, OrderEnforcing,
...) and ale_py's AtariEnv unpickle by re-running their constructors, which loses the episode in
progress. Instead we walk the wrapper chain of a live env and save each layer's attributes, and for
the ALE its full emulator state including the sticky-action RNG; `restore` writes them back into a
freshly made env of the same config.

Exact for classic control and MinAtar, and for Atari without sticky actions (nature2015). ALE's
state does not include the sticky-action memory (the previous action), so under machado2018 the
first emulator frame after a resume may repeat a different action than the uninterrupted run would.
"""

from __future__ import annotations

import pickle
from typing import Any

_SKIP = ("env", "_saved_kwargs", "ale")


def _layers(env: Any) -> list[Any]:
    out = [env]
    while hasattr(out[-1], "env"):
        out.append(out[-1].env)
    return out


def snapshot(env: Any) -> bytes:
    state = []
    for layer in _layers(env):
        attrs = {k: v for k, v in vars(layer).items() if k not in _SKIP}
        ale = getattr(layer, "ale", None)
        if ale is not None and not hasattr(layer, "env"):
            attrs["__ale_state__"] = ale.cloneState(include_rng=True)
        state.append((type(layer).__qualname__, attrs))
    return pickle.dumps(state)


def restore(env: Any, data: bytes) -> None:
    """Write a snapshot back into `env`, a fresh env made from the same config."""
    state = pickle.loads(data)
    layers = _layers(env)
    names = [type(layer).__qualname__ for layer in layers]
    if names != [name for name, _ in state]:
        raise ValueError(f"env snapshot of {[n for n, _ in state]} does not fit env {names}")
    for layer, (_, attrs) in zip(layers, state):
        attrs = dict(attrs)
        ale_state = attrs.pop("__ale_state__", None)
        vars(layer).update(attrs)
        if ale_state is not None:
            layer.ale.restoreState(ale_state)

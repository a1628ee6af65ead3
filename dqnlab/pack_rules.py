"""Which runs may share a pack (`train.train_pack`, `sweep/packing.py`): runs whose configs are
equal but for the seed train the same networks on the same schedule. One definition serves the
trainer, which refuses a pack that breaks it, and the sweep, which groups runs by it.

Torch-free: the sweep launcher imports it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence

from dqnlab.config import Config, to_dict


def seedless(cfg: Config) -> dict[str, object]:
    """`cfg` without its seed, as a flat {dotted.key: value} dict."""
    out: dict[str, object] = {}
    stack = [("", to_dict(dataclasses.replace(cfg, seed=0)))]
    while stack:
        prefix, d = stack.pop()
        for k, v in d.items():
            if isinstance(v, dict):
                stack.append((f"{prefix}{k}.", v))
            else:
                out[prefix + k] = v
    return out


def pack_key(cfg: Config, step: int = 0) -> str:
    """Equal for runs that may share a pack resuming from checkpoint step `step`."""
    return f"{step}:{_seedless_text(dataclasses.replace(cfg, seed=0))}"


@functools.lru_cache(maxsize=1024)
def _seedless_text(cfg: Config) -> str:
    # Cached: a sweep's seeds share one config (a frozen, hashable dataclass) without the seed,
    # so grouping N runs costs N hashes, not N conversions.
    return json.dumps(seedless(cfg), sort_keys=True, default=str)


def trains_alone(cfg: Config) -> str | None:
    """Why a run of this config cannot share a pack with any other (None if it can): in Dopamine's
    iterations (run.iteration_steps) a run ends with an episode, so runs of a pack would end at
    different steps."""
    if cfg.run.iteration_steps is not None:
        return "a run in Dopamine's iterations (run.iteration_steps) ends with its own last episode"
    return None


def pack_mismatch(configs: Sequence[Config]) -> str | None:
    """Why runs with these configs cannot share a pack (None if they can)."""
    if len(configs) > 1 and (why := trains_alone(configs[0])) is not None:
        return f"these runs train alone: {why}"
    first = seedless(configs[0])
    for cfg in configs[1:]:
        other = seedless(cfg)
        if other != first:
            keys = sorted(k for k in first.keys() | other.keys() if first.get(k) != other.get(k))
            return f"runs in a pack must differ only by seed; these also differ in {', '.join(keys)}"
    seeds = [cfg.seed for cfg in configs]
    if len(set(seeds)) != len(seeds):
        return f"runs in a pack must have different seeds, got {seeds}"
    return None

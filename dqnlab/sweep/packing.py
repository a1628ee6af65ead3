"""Packs: the runs of a sweep that one process trains in lockstep (`train.train_pack`).

Only runs that differ by seed alone can share a pack, and a pack resumes from a checkpoint step all
its runs have, so `form_packs` groups the runs still to do by their config without the seed and by
their newest checkpoint step, then cuts each group into balanced packs (10 runs at most 8 a pack:
5 + 5, not 8 + 2). Each run keeps its own directory, status, lock and outcome: packing changes which
process trains a run, never what a run is.

How many runs a pack holds (`--runs-per-process`, the profile's `runs_per_process`): a number, or
`auto`, where `default_pack_size` packs only what was measured to pay (benchmarks/README.md, the
`pack/..._K*` rows of `python -m benchmarks.bench_pack_runs`: whole runs, a pack of K against K
runs one after the other on one core; small networks gain, a 2x512 MLP does not).
`speedup` is the planner's side of the same numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from dqnlab.config import Config
from dqnlab.errors import ConfigError
from dqnlab.pack_rules import pack_key, trains_alone
from dqnlab.sweep.grid import Run

AUTO = "auto"
PackSize = int | Literal["auto"]

#: Pack size of `auto` where packing pays (CPU, small networks). Measured end to end
#: (benchmarks/README.md, 2026-11-29/30, 1 thread, total agent steps/s of a pack of K over K runs
#: one after the other, K = 4 / 8 / 16): CartPole 2x128 dqn 1.98 / 2.72 / 2.69x, rainbow 1.77 /
#: 1.97 / 1.19x (2026-11-30, idle, with im2col and `host_memory`: rainbow 1.68 / 1.98 / 2.11x,
#: MinAtar Breakout dqn 1.70 / 2.02 / 1.93x, dqn 2.35x at K = 8). Past 8 little gains and some lose.
CPU_PACK_SIZE = 8
#: Widest hidden layer packed by `auto`: 2x128 pays, RR's 2x512 does not (rainbow end to end
#: 0.95 / 1.29 / 1.03x at K = 4 / 8 / 16, within the noise of a loaded machine). 256 is between
#: the two, unmeasured.
MAX_PACKED_WIDTH = 256
#: Torsos packed by `auto` (with hidden layers no wider than MAX_PACKED_WIDTH): the MLP and
#: MinAtar's one small conv (measured with `minatar_same`; `minatar` is the same conv without
#: padding). The Nature CNN gains nothing (Pong dqn, see benchmarks/README.md).
PACKED_TORSOS = ("mlp", "minatar", "minatar_same")

#: (K, end-to-end speedup of a pack of K over K separate runs on one thread) for the networks
#: `auto` packs: about the lowest of the cases measured before im2col and `host_memory` (K = 4:
#: 1.51-1.98x; K = 8: 1.64-2.72x), which a whole sweep agrees with: the classic ablation at 2x128,
#: 5 seeds, packs of 5, ran 1.72x faster packed (docs/packing.md). Since then the lowest cases are
#: 1.68x at K = 4 and 1.98x at K = 8 (benchmarks/README.md, 2026-11-30); the table stays where
#: it was until a whole sweep is re-timed. A K between two rows gets the lower row's speedup
#: (nothing extrapolated past K = 8); K = 2 and 3 are unmeasured and get none.
SPEEDUP: tuple[tuple[int, float], ...] = ((1, 1.0), (4, 1.5), (8, 1.6))


def parse_pack_size(value: object, what: str = "--runs-per-process") -> PackSize:
    """`auto` or a positive integer (int or its text); a one-line ConfigError otherwise."""
    if value == AUTO:
        return AUTO
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value)
    else:
        n = 0
    if n < 1:
        raise ConfigError(f"{what} must be a positive integer or auto, got {value!r}")
    return n


def pays(cfg: Config, device: str) -> bool:
    """Whether packing runs of this config was measured to pay on `device`."""
    net = cfg.network
    return (device == "cpu" and net.torso in PACKED_TORSOS
            and max(net.hidden_sizes, default=0) <= MAX_PACKED_WIDTH)


def default_pack_size(cfg: Config, device: str) -> int:
    """The pack size `auto` chooses: CPU_PACK_SIZE where packing pays (small MLPs and MinAtar's
    torso on the CPU), 1 elsewhere (2x512 gains nothing; the Nature CNN and GPUs are unmeasured)."""
    return CPU_PACK_SIZE if pays(cfg, device) else 1


def speedup(cfg: Config, device: str, k: int) -> float:
    """Expected time of K separate runs over that of one pack of K (1.0 where unmeasured)."""
    if k <= 1 or not pays(cfg, device):
        return 1.0
    return max(s for n, s in SPEEDUP if n <= k)


def size_for(requested: PackSize, device: str, *, runs: int = 0,
             slots: int | None = None) -> Callable[[Config], int]:
    """The pack size of each group of runs: `requested`, or with `auto` `default_pack_size` capped
    so that `runs` runs still fill `slots` processes that would otherwise sit idle (the local
    executor's workers: 8 runs on 8 cores train faster alone than as one pack on one core)."""
    if requested != AUTO:
        return lambda cfg: int(requested)
    cap = max(1, runs // slots) if slots else None

    def size(cfg: Config) -> int:
        n = default_pack_size(cfg, device)
        return n if cap is None else min(n, cap)

    return size


def sizes_text(packs: Sequence[Sequence[object]]) -> str:
    """How many packs of each size, largest first: "6 x 8 runs, 2 x 5 runs, 1 x 1 run"."""
    counts = Counter(len(p) for p in packs)
    return ", ".join(f"{n} x {k} run{'s' * (k > 1)}" for k, n in sorted(counts.items(), reverse=True))


def balanced(items: Sequence[str], size: int) -> list[list[str]]:
    """`items` in order, cut into the fewest chunks of at most `size` whose sizes differ by at
    most one (the larger first): 10 by 8 -> 5 + 5; 10 by 4 -> 4 + 3 + 3."""
    if not items:
        return []
    n_chunks = math.ceil(len(items) / max(1, size))
    small, extra = divmod(len(items), n_chunks)
    out, start = [], 0
    for i in range(n_chunks):
        end = start + small + (i < extra)
        out.append(list(items[start:end]))
        start = end
    return out


def form_packs(runs: Sequence[Run], size: int | Callable[[Config], int],
               steps: Mapping[str, int] | None = None) -> list[list[str]]:
    """The runs' directories as packs: runs with the same config but the seed and the same newest
    checkpoint step (`steps`, rel_dir -> step; 0 where absent), cut into balanced packs of at most
    `size` (a number, or a function of the group's config). Groups in the order their first run
    comes, runs in their given order: the same input gives the same packs."""
    steps = steps or {}  # the key of `pack_rules`, the rule train_pack enforces
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(pack_key(run.config, steps.get(run.rel_dir, 0)), []).append(run)
    packs: list[list[str]] = []
    for members in groups.values():
        limit = size(members[0].config) if callable(size) else size
        if trains_alone(members[0].config) is not None:
            limit = 1
        packs += balanced([r.rel_dir for r in members], limit)
    return packs

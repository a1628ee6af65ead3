"""Measured training throughput (agent steps per second), the data behind the planner's estimates.

Each row is one measurement: a short run of `dqn` and of `rainbow` for a (family, network, batch,
update period) on one CPU core with one torch thread, its rate taken as the median `sps` of the
progress.csv rows after the warm-up (so process start-up and the warm-up's cheap steps are out;
evaluation is out too, as `sps` excludes it). A variant with k of the six components is estimated
between the two: seconds per step = dqn + (rainbow - dqn) * k / 6 (per, c51 and noisy dominate;
this is an estimate, not a measurement). A quantile head (qr, iqn) costs far more than a
component of the six (IQN's update is ~12x a DQN update at 2x512: benchmarks/README.md), so a row
may carry the rate of `dqn+<head>` measured in the same way; a run with that head starts from it,
and its other components add as above. A head a row has not measured is extrapolated from the
scalar rate (and the plan says so).

Re-measure (about 5 minutes on one core) and paste the printed rows below:

    python -m dqnlab.sweep.throughput
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dqnlab import heads
from dqnlab.config import Config

# The quantile heads' rates under RR's configs (51 quantiles; IQN N = N' = K = 32), measured by
# `python -m dqnlab.sweep.throughput` with the rows below (the protocol's IQN: one set of fractions
# per batch). IQN with fractions per transition (the paper's draw) is not measured by it: its rate
# is dqn's times the ratio measured on a shared core on 2026-12-06 (dqn 207.1 and 211.4 sps,
# per transition 33.4: 0.160), so re-measure by hand (`measure` with
# implicit_quantile.fractions=per_transition).
CLASSIC_2X512_DQN_SPS, QR_SPS, IQN_SPS = 288.8, 167.9, 86.8
IQN_PER_TRANSITION_SPS = round(CLASSIC_2X512_DQN_SPS * 0.160, 1)

MEASURED = "2026-12-06: `taskset -c 1 python -m dqnlab.sweep.throughput` on the idle 2-core dev machine (AMD EPYC, no GPU), torch 2.13.0 CPU, 1 thread"


@dataclass(frozen=True)
class Throughput:
    family: str
    hidden_sizes: tuple[int, ...]
    batch_size: int
    update_period_steps: int
    device: str
    dqn_sps: float
    rainbow_sps: float
    head_sps: tuple[tuple[tuple, float], ...] = ()
    """(`head_key`, sps of `dqn+<that head>`) where measured."""

    def steps_per_second(self, components: Sequence[str], head: tuple | None = None) -> float:
        """Estimated sps of a run with `components`; `head` (its `head_key`) is started from its
        measured rate when this row has one, else from dqn's (extrapolated: `measures`)."""
        rate = dict(self.head_sps).get(head)
        base, others = (self.dqn_sps, len(components)) if rate is None else (rate, len(components) - 1)
        return 1 / (1 / base + (1 / self.rainbow_sps - 1 / self.dqn_sps) * others / 6)

    def measures(self, head: tuple | None) -> bool:
        """Whether this row measured `head` (always true for the heads of the six)."""
        return head is None or head in dict(self.head_sps)


def head_key(cfg: Config) -> tuple | None:
    """The run's head and the sizes its update's cost grows with (`Head.cost_sizes`); None for a
    head whose cost is in the dqn and rainbow rates (scalar, categorical)."""
    head = heads.of(cfg)
    return None if head.cost_sizes is None else (head.name, *head.cost_sizes(cfg))


# family, hidden sizes, batch, update period, device, dqn sps, rainbow sps, quantile heads' sps
# (see MEASURED; the heads' rates: QR_SPS).
TABLE: tuple[Throughput, ...] = (
    Throughput("classic", (512, 512), 128, 2, "cpu", CLASSIC_2X512_DQN_SPS, 150.8,
               ((("quantile", 51), QR_SPS), (("implicit_quantile", 32, 32, 32, 64, 1), IQN_SPS),
                (("implicit_quantile", 32, 32, 32, 64, 128), IQN_PER_TRANSITION_SPS))),
    Throughput("classic", (128, 128), 128, 2, "cpu", 1115.3, 389.6),
    Throughput("minatar", (), 32, 4, "cpu", 2298.0, 378.0),
    Throughput("atari", (512,), 32, 4, "cpu", 89.9, 41.7),
)

# What `python -m dqnlab.sweep.throughput` measures: (env, overrides, steps, the quantile heads'
# (variant, protocol): RR's configs, the ones experiments/beyond_rainbow.py runs).
MEASUREMENTS: tuple[tuple[str, dict[str, Any], int, tuple[tuple[str, str], ...]], ...] = (
    ("CartPole-v1", {}, 6_000, (("dqn+qr", "revisiting_rainbow_qrdqn"), ("dqn+iqn", "revisiting_rainbow_iqn"))),
    ("CartPole-v1", {"network.hidden_sizes": (128, 128)}, 6_000, ()),
    ("MinAtar/Breakout-v1", {}, 8_000, ()),
    ("ALE/Pong-v5", {"agent.min_replay_steps": 500, "replay.capacity": 10_000}, 3_000, ()),
)


def key_of(cfg: Config, device: str) -> tuple:
    return (cfg.env.family, tuple(cfg.network.hidden_sizes), cfg.agent.batch_size,
            cfg.agent.update_period_steps, "cpu" if device == "cpu" else "gpu")


def lookup(cfg: Config, device: str = "cpu") -> tuple[Throughput | None, bool]:
    """The row measured for this config's family, network, batch and update period; else the
    family's row on the same device (returned with exact=False); else (None, False)."""
    key = key_of(cfg, device)
    for row in TABLE:
        if (row.family, row.hidden_sizes, row.batch_size, row.update_period_steps, row.device) == key:
            return row, True
    for row in TABLE:
        if row.family == key[0] and row.device == key[4]:
            return row, False
    return None, False


def estimate_seconds(cfg: Config, device: str = "cpu") -> tuple[float | None, bool]:
    """Expected training seconds of one run (None if no row fits), and whether the row was exact."""
    row, exact = lookup(cfg, device)
    if row is None:
        return None, False
    head = head_key(cfg)
    return cfg.total_steps / row.steps_per_second(cfg.components, head), exact and row.measures(head)


def measure(env_id: str, variant: str, overrides: dict[str, Any], steps: int, device: str = "cpu",
            protocol: str | None = None) -> float:
    """Median training sps of a short run after its warm-up (evaluation disabled)."""
    import pandas as pd
    import torch

    from dqnlab import rundir
    from dqnlab.presets import resolve_config
    from dqnlab.train import train

    torch.set_num_threads(1)
    cfg = resolve_config(env_id, variant, seed=0, total_steps=steps, protocol=protocol, overrides={
        "eval.period_steps": 10 * steps, "eval.episodes": 1, "run.log_period_steps": 500,
        "run.checkpoint_period_steps": 0, **overrides,
    })
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        rundir.prepare(cfg, run_dir)
        train(run_dir, device=device, progress=False)
        rows = pd.read_csv(run_dir / rundir.PROGRESS)
    learning = rows[rows["step"] > cfg.agent.min_replay_steps + cfg.run.log_period_steps]
    return float(statistics.median(learning["sps"]))


def main() -> None:
    from dqnlab.presets import resolve_config

    device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    for env_id, overrides, steps, head_variants in MEASUREMENTS:
        cfg = resolve_config(env_id, "dqn", overrides=overrides)
        dqn = measure(env_id, "dqn", overrides, steps, device)
        rainbow = measure(env_id, "rainbow", overrides, steps, device)
        # A quantile head trains ~3-10x slower: half the steps measure it as well.
        heads = tuple((head_key(resolve_config(env_id, v, protocol=p, overrides=overrides)),
                       round(measure(env_id, v, overrides, steps // 2, device, p), 1))
                      for v, p in head_variants)
        family, hidden, batch, period, dev = key_of(cfg, device)
        print(f'    Throughput("{family}", {hidden}, {batch}, {period}, "{dev}", {dqn:.1f}, {rainbow:.1f}'
              + (f", {heads}" if heads else "") + "),", flush=True)


if __name__ == "__main__":
    main()

"""Measured training throughput (agent steps per second), the data behind the planner's estimates.

Each row is one measurement: a short run of `dqn` and of `rainbow` for a (family, network, batch,
update period) on one CPU core with one torch thread, its rate taken as the median `sps` of the
progress.csv rows after the warm-up (so process start-up and the warm-up's cheap steps are out;
evaluation is out too, as `sps` excludes it). A variant with k of the six components is estimated
between the two: seconds per step = dqn + (rainbow - dqn) * k / 6 (per, c51 and noisy dominate;
this is an estimate, not a measurement).

Re-measure (about 5 minutes on one core) and paste the printed rows below:

    python -m dqnlab.sweep.throughput
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dqnlab.config import Config

MEASURED = "2026-11-25: `taskset -c 1 python -m dqnlab.sweep.throughput` on the 2-core dev machine (no GPU), torch 2.13.0 CPU, 1 thread"


@dataclass(frozen=True)
class Throughput:
    family: str
    hidden_sizes: tuple[int, ...]
    batch_size: int
    update_period_steps: int
    device: str
    dqn_sps: float
    rainbow_sps: float

    def steps_per_second(self, num_components: int) -> float:
        seconds = 1 / self.dqn_sps + (1 / self.rainbow_sps - 1 / self.dqn_sps) * num_components / 6
        return 1 / seconds


# family, hidden sizes, batch, update period, device, dqn sps, rainbow sps (see MEASURED).
TABLE: tuple[Throughput, ...] = (
    Throughput("classic", (512, 512), 128, 2, "cpu", 518.7, 161.8),
    Throughput("classic", (128, 128), 128, 2, "cpu", 2626.6, 803.8),
    Throughput("minatar", (128,), 32, 4, "cpu", 2858.8, 911.0),
    Throughput("atari", (512,), 32, 4, "cpu", 161.0, 70.3),
)

# What `python -m dqnlab.sweep.throughput` measures: (env, overrides, steps).
MEASUREMENTS: tuple[tuple[str, dict[str, Any], int], ...] = (
    ("CartPole-v1", {}, 6_000),
    ("CartPole-v1", {"network.hidden_sizes": (128, 128)}, 6_000),
    ("MinAtar/Breakout-v1", {}, 8_000),
    ("ALE/Pong-v5", {"agent.min_replay_steps": 500, "replay.capacity": 10_000}, 3_000),
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
    return cfg.total_steps / row.steps_per_second(len(cfg.components)), exact


def measure(env_id: str, variant: str, overrides: dict[str, Any], steps: int, device: str = "cpu") -> float:
    """Median training sps of a short run after its warm-up (evaluation disabled)."""
    import pandas as pd
    import torch

    from dqnlab import rundir
    from dqnlab.presets import resolve_config
    from dqnlab.train import train

    torch.set_num_threads(1)
    cfg = resolve_config(env_id, variant, seed=0, total_steps=steps, overrides={
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
    for env_id, overrides, steps in MEASUREMENTS:
        cfg = resolve_config(env_id, "dqn", overrides=overrides)
        dqn = measure(env_id, "dqn", overrides, steps, device)
        rainbow = measure(env_id, "rainbow", overrides, steps, device)
        family, hidden, batch, period, dev = key_of(cfg, device)
        print(f'    Throughput("{family}", {hidden}, {batch}, {period}, "{dev}", {dqn:.1f}, {rainbow:.1f}),',
              flush=True)


if __name__ == "__main__":
    main()

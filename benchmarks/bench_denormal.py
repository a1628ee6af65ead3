"""`run.flush_denormal`: what flushing subnormal floats buys, and what it changes.

1. Speed. Train CartPole-v0 dqn at RR's 2x512 (protocol revisiting_rainbow_dqn) with flushing off,
   so that Adam's first moment collects subnormals as it does in a real run; then, from that
   state, time the same updates with flushing off and on, interleaved (off, on, on, off), the
   state restored before each block. Ratio = ms/update off / on.
2. Results. The same short run twice from scratch, flushing on and off: the largest difference
   of any weight at the end and of the evaluation returns (bitwise equal or not).
"""

from __future__ import annotations

import copy
import csv
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from dqnlab import rundir
from dqnlab.contract import WALL_CLOCK_COLUMNS
from dqnlab.presets import resolve_config
from dqnlab.schedules import beta_at

ENV, VARIANT, PROTOCOL = "CartPole-v0", "dqn", "revisiting_rainbow_dqn"


def _trainer(run_dir: Path, steps: int, flush: bool, seed: int = 0) -> Any:
    from dqnlab.train import Trainer

    cfg = resolve_config(ENV, VARIANT, seed=seed, total_steps=steps, protocol=PROTOCOL, overrides={
        "run.flush_denormal": flush, "run.checkpoint_period_steps": 0})
    rundir.prepare(cfg, run_dir)
    return Trainer(run_dir, progress=False)


def subnormal_share(trainer: Any) -> float:
    """Fraction of Adam's first-moment entries that are subnormal (read with flushing off)."""
    tiny = torch.finfo(torch.float32).tiny
    sub = total = 0
    (run,) = trainer.runs
    for state in run.agent.optimizer.state.values():
        m = state["exp_avg"]
        sub += int(((m != 0) & (m.abs() < tiny)).sum())
        total += m.numel()
    return sub / max(total, 1)


def _time_updates(trainer: Any, n: int) -> float:
    (run,) = trainer.runs
    cfg, replay = trainer.cfg, run.replay
    t0 = time.perf_counter()
    for _ in range(n):
        batch = replay.sample(cfg.agent.batch_size, beta_at(cfg, trainer.counters.step), run.staging)
        update = run.agent.update(batch)
        replay.update_priorities(batch.indices, update.priorities)
    return (time.perf_counter() - t0) / n * 1e3


def bench_speed(train_steps: int, updates: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = _trainer(Path(tmp) / "run", train_steps, flush=False)
        trainer.run()
        torch.set_flush_denormal(False)
        share = subnormal_share(trainer)
        snapshot = copy.deepcopy(trainer.state_dict())
        ms: dict[bool, list[float]] = {False: [], True: []}
        for flush in (False, True, True, False):
            trainer.load_state_dict(copy.deepcopy(snapshot))
            torch.set_flush_denormal(flush)
            ms[flush].append(_time_updates(trainer, updates))
        torch.set_flush_denormal(False)
    off, on = sum(ms[False]) / 2, sum(ms[True]) / 2
    return [dict(name=f"denormal/{ENV}_{VARIANT}_2x512_update_after_{train_steps // 1000}k", unit="ms/update",
                 dqnlab=on, baseline=off, ratio=off / on, target="report", passed=None,
                 note=f"flush on vs off, {updates} updates x 2 blocks each; {share:.1%} of exp_avg subnormal")]


def _evals(path: Path) -> list[dict[str, str]]:
    """eval.csv without its wall-clock columns: what two runs of one config must share."""
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k not in WALL_CLOCK_COLUMNS} for row in csv.DictReader(f)]


def bench_results(steps: int) -> list[dict[str, Any]]:
    final: dict[bool, tuple[dict[str, torch.Tensor], list[dict[str, str]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for flush in (True, False):
            run_dir = Path(tmp) / f"flush_{flush}"
            trainer = _trainer(run_dir, steps, flush=flush)
            trainer.run()
            weights = {k: v.detach().clone() for k, v in trainer.runs[0].agent.online.state_dict().items()}
            final[flush] = (weights, _evals(run_dir / "eval.csv"))
    torch.set_flush_denormal(False)
    (w_on, eval_on), (w_off, eval_off) = final[True], final[False]
    max_diff = max(float((w_on[k] - w_off[k]).abs().max()) for k in w_on)
    same_eval = eval_on == eval_off
    return [dict(name=f"denormal/{ENV}_{VARIANT}_2x512_{steps // 1000}k_results", unit="max |dw|",
                 dqnlab=max_diff, baseline=None, ratio=None, target="report", passed=None,
                 note=f"final weights, flush on vs off; eval.csv (wall clock aside) {'identical' if same_eval else 'differs'}")]

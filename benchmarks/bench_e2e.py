"""End to end: the classic-control Rainbow ablation (the main job: 2 envs x 8 arms x 3 seeds).

`estimate`: expands the shipped `experiments/classic_ablation.py` (each arm with its own protocol),
measures each (env, arm)'s learning-phase SPS with the real Trainer on a short budget, adds an
upper bound for evaluation (every eval episode at its time limit plus the overestimation tail,
at the measured greedy acting rate), sums over the runs and divides by 2 workers. Grids:
`default` = the definition as shipped (Revisiting Rainbow's 2x512 network, 30k steps, 10 eval
episodes every 2.5k); `2x128` = the same with the hidden layers shrunk to 128 (what the main job
used before it was made faithful), for the cost of the width alone.

`sweep`: times the real `dqnlab sweep experiments/classic_ablation.py` (local executor); it takes
the whole job's time, so it only runs with `--only e2e`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.bench_train import make_config, run_trainer

REPO = Path(__file__).resolve().parent.parent
DEFINITION = REPO / "experiments" / "classic_ablation.py"
WORKERS = 2
GRIDS: dict[str, dict[str, Any]] = {
    "default": {},
    "2x128": {"network.hidden_sizes": (128, 128)},
}


def main_job_runs(overrides: dict[str, Any]) -> list[Any]:
    """Every run (seed 0 only: seeds cost the same) of the shipped main job, as grid.Run records."""
    from dqnlab.sweep import definition, grid

    sweep = definition.resolve(definition.load(DEFINITION), definition.GridOptions(seeds="1", overrides=overrides))
    return grid.expand(sweep)


def eval_step_seconds(cfg: Any) -> float:
    """Seconds per greedy evaluation step (Agent.act in evaluation mode + env.step)."""
    from dqnlab.agent import Agent
    from dqnlab.envs import make_env

    env = make_env(cfg.env, 0)
    obs, _ = env.reset(seed=0)
    agent = Agent(cfg, obs.shape, int(env.action_space.n), torch.device("cpu"))
    rng = np.random.default_rng(0)
    n = 2000
    t = time.perf_counter()
    for _ in range(n):
        a, _ = agent.act(obs[None], 0.001, rng, evaluation=True)
        obs, _, term, trunc, _ = env.step(int(a[0]))
        if term or trunc:
            obs, _ = env.reset()
    return (time.perf_counter() - t) / n


def estimate(grid: str, measure_steps: int) -> dict[str, Any]:
    runs = main_job_runs(GRIDS[grid])
    seeds = len(definition_seeds())
    per_run: dict[str, float] = {}
    eval_s: dict[str, float] = {}
    for run in runs:
        cfg = run.config
        if cfg.env.id not in eval_s:
            eval_s[cfg.env.id] = eval_step_seconds(cfg)
        evals = -(-cfg.total_steps // cfg.eval.period_steps)
        longest = cfg.env.max_episode_steps + cfg.eval.value_tail_steps
        eval_bound = evals * cfg.eval.episodes * longest * eval_s[cfg.env.id]
        short = make_config(cfg.env.id, cfg.variant, measure_steps, GRIDS[grid], protocol=cfg.protocol)
        sps = run_trainer(short, "cpu")["sps"]
        per_run[f"{cfg.env.id}/{cfg.variant}"] = cfg.total_steps / sps + eval_bound
    total = sum(per_run.values()) * seeds
    return {"grid": grid, "runs": len(runs) * seeds, "per_run_s": per_run, "cpu_seconds": total,
            "wall_minutes_estimate": total / WORKERS / 60.0}


def definition_seeds() -> list[int]:
    from dqnlab.sweep import definition

    return definition.load(DEFINITION).seed_list()


def sweep_available() -> bool:
    return importlib.util.find_spec("dqnlab.sweep") is not None


def time_real_sweep(extra: list[str]) -> dict[str, Any]:
    """Run `dqnlab sweep experiments/classic_ablation.py` into a temporary dir; wall time."""
    if not sweep_available():
        return {"skipped": "dqnlab.sweep is not importable yet (the sweep executor has not landed)"}
    repo = REPO
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "dqnlab.cli", "sweep", str(DEFINITION),
               "--sweep-dir", str(Path(tmp) / "sweep"), "--workers", str(WORKERS), *extra]
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
        wall = time.perf_counter() - t
    return {"command": " ".join(cmd), "returncode": proc.returncode, "wall_minutes": wall / 60.0,
            "stderr_tail": proc.stderr[-2000:]}

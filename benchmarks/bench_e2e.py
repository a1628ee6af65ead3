"""End to end: the classic-control Rainbow ablation (2 envs x 8 variants x 3 seeds).

`estimate`: measures each (env, variant)'s learning-phase SPS with the real Trainer on a short
budget, adds an upper bound for evaluation (every eval episode at the 500-step time limit, at the
measured greedy acting rate), sums over the 48 runs and divides by 2 workers. Two grids:
`default` = `experiments/classic_ablation.py` as shipped (MLP 2x128, 30k steps, 5 eval episodes
every 5k); `preset` = the Revisiting Rainbow presets unchanged (MLP 2x512, CartPole-v1 50k /
Acrobot-v1 30k steps, 10 eval episodes every 2.5k), 3 seeds.

`sweep`: times the real `dqnlab sweep experiments/classic_ablation.py` (local executor) when
`dqnlab.sweep` is importable; it takes the full 15-20 minutes, so it only runs with `--only e2e`.
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

ENVS = ("CartPole-v1", "Acrobot-v1")
VARIANTS = ("rainbow", "rainbow-no-double", "rainbow-no-dueling", "rainbow-no-per",
            "rainbow-no-nstep", "rainbow-no-c51", "rainbow-no-noisy", "dqn")
SEEDS = 3
WORKERS = 2
GRIDS: dict[str, dict[str, Any]] = {
    "default": {"overrides": {"network.hidden_sizes": (128, 128)}, "steps": {"CartPole-v1": 30_000, "Acrobot-v1": 30_000},
                "eval_period": 5_000, "eval_episodes": 5},
    "preset": {"overrides": {}, "steps": {"CartPole-v1": 50_000, "Acrobot-v1": 30_000},
               "eval_period": 2_500, "eval_episodes": 10},
}
MAX_EPISODE = 500  # CartPole-v1 and Acrobot-v1 time limits


def eval_step_seconds(env_id: str, overrides: dict[str, Any]) -> float:
    """Seconds per greedy evaluation step (Agent.act in evaluation mode + env.step)."""
    from dqnlab.agent import Agent
    from dqnlab.envs import make_env

    cfg = make_config(env_id, "rainbow", 10_000, overrides)
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
    g = GRIDS[grid]
    per_run: dict[str, float] = {}
    for env_id in ENVS:
        eval_s = eval_step_seconds(env_id, g["overrides"])
        budget = g["steps"][env_id]
        evals = budget // g["eval_period"] + (budget % g["eval_period"] != 0)
        eval_bound = evals * g["eval_episodes"] * MAX_EPISODE * eval_s
        for variant in VARIANTS:
            cfg = make_config(env_id, variant, measure_steps, g["overrides"])
            sps = run_trainer(cfg, "cpu")["sps"]
            per_run[f"{env_id}/{variant}"] = budget / sps + eval_bound
    total = sum(per_run.values()) * SEEDS
    return {"grid": grid, "per_run_s": per_run, "cpu_seconds": total,
            "wall_minutes_estimate": total / WORKERS / 60.0}


def sweep_available() -> bool:
    return importlib.util.find_spec("dqnlab.sweep") is not None


def time_real_sweep(extra: list[str]) -> dict[str, Any]:
    """Run `dqnlab sweep experiments/classic_ablation.py` into a temporary dir; wall time."""
    if not sweep_available():
        return {"skipped": "dqnlab.sweep is not importable yet (the sweep executor has not landed)"}
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "dqnlab.cli", "sweep", str(repo / "experiments/classic_ablation.py"),
               "--sweep-dir", str(Path(tmp) / "sweep"), "--workers", str(WORKERS), *extra]
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
        wall = time.perf_counter() - t
    return {"command": " ".join(cmd), "returncode": proc.returncode, "wall_minutes": wall / 60.0,
            "stderr_tail": proc.stderr[-2000:]}

"""Learning tests (slow; CI runs them): dqn and rainbow solve CartPole-v1 with the shipped preset.

Each arm must reach an evaluation mean return >= 475 within 50k steps in at least 2 of 3 seeds. A run
stops as soon as an evaluation reaches the threshold, so passing arms cost less than the budget.
"""

import multiprocessing as mp

import pytest

from dqnlab import rundir
from dqnlab.presets import resolve_config

THRESHOLD = 475.0


def _solve(args: tuple[str, int, str]) -> float:
    """Train until an evaluation reaches the threshold or the 50k budget ends; best eval return."""
    import torch

    from dqnlab.train import Trainer

    spec, seed, run_dir = args
    torch.set_num_threads(1)
    rundir.prepare(resolve_config("CartPole-v1", spec, seed=seed), run_dir)
    trainer = Trainer(run_dir, progress=False)
    trainer.run(should_stop=lambda: (trainer.line.eval_return or 0.0) >= THRESHOLD)
    import pandas as pd

    return float(pd.read_csv(f"{run_dir}/eval.csv")["return_mean"].max())


@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("spec", ["dqn", "rainbow"])
def test_cartpole_v1_is_solved(tmp_path, spec):
    cfg = resolve_config("CartPole-v1", spec)
    assert cfg.total_steps == 50_000
    jobs = [(spec, seed, str(tmp_path / f"seed_{seed}")) for seed in range(3)]
    with mp.get_context("spawn").Pool(2) as pool:
        best = pool.map(_solve, jobs)
    solved = sum(b >= THRESHOLD for b in best)
    assert solved >= 2, f"{spec}: best eval returns per seed {best}"

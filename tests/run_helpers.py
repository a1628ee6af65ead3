"""Helpers shared by the end-to-end tests (a module, not conftest: tests/analysis has its own)."""

import hashlib
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from dqnlab.recorder import WALL_CLOCK_COLUMNS

ROOT = Path(__file__).resolve().parents[1]

#: A CartPole run of a few hundred steps in about a second: tiny network, frequent logs,
#: evaluations and checkpoints.
TINY = {
    "network.hidden_sizes": (16, 16), "agent.batch_size": 16, "agent.min_replay_steps": 100,
    "eval.period_steps": 150, "eval.episodes": 2, "run.log_period_steps": 50,
    "run.checkpoint_period_steps": 100,
}

TINY_ARGS = [a for k, v in TINY.items()
             for a in ("--set", f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}")]
"""TINY as `--set KEY=VALUE` arguments of `dqnlab train` / `dqnlab sweep`."""

OVERFLOW_ARGS = ["--set", "network.input_low=0,0,0,0", "--set", "network.input_high=1e-30,1e-30,1e-30,1e-30"]
"""A CartPole run whose loss overflows at its first update, every value in range: input bounds
1e-30 wide scale observations to ~1e30 (a learning rate large enough to do it is refused)."""


def prepare_tiny_run(run_dir: Path, variant: str = "dqn", steps: int = 300, seed: int = 0) -> Path:
    """A CartPole run directory holding its config.json (TINY settings), ready to train."""
    from dqnlab import rundir
    from dqnlab.presets import resolve_config

    cfg = resolve_config("CartPole-v1", variant, seed=seed, total_steps=steps, overrides=TINY)
    rundir.prepare(cfg, run_dir)
    return Path(run_dir)


def read_logs(run_dir: Path) -> dict[str, pd.DataFrame]:
    """progress.csv and eval.csv without the wall-clock columns."""
    out = {}
    for name in ("progress.csv", "eval.csv"):
        df = pd.read_csv(Path(run_dir) / name)
        out[name] = df.drop(columns=[c for c in WALL_CLOCK_COLUMNS if c in df.columns])
    return out


def assert_same_logs(a: Path, b: Path) -> None:
    la, lb = read_logs(a), read_logs(b)
    for name in la:
        pd.testing.assert_frame_equal(la[name], lb[name], check_exact=True, obj=name)


def run_cli(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "dqnlab.cli", *args], capture_output=True, text=True,
        timeout=timeout, env=env, **kw,
    )


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.2) -> None:
    """Poll `predicate` until it holds; AssertionError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(poll_s)


@contextmanager
def stop_at_step(step: int) -> Iterator[Callable[[], bool]]:
    """A should_stop for `train` / `run_one` that asks for a stop at the boundary of agent step
    `step` (after that step's evaluation, if one is due). The loop polls should_stop at every step,
    during evaluations and after writing a checkpoint, so it reads the trainer's step rather than
    counting calls. Only for the trainers built inside the block."""
    from dqnlab.train import Trainer

    seen: dict[str, Trainer] = {}
    run = Trainer.run

    def remember(self, should_stop):
        seen["trainer"] = self
        return run(self, should_stop)

    def should_stop() -> bool:
        trainer = seen.get("trainer")
        return trainer is not None and trainer.counters.step == step and not trainer.counters.eval_due

    Trainer.run = remember
    try:
        yield should_stop
    finally:
        Trainer.run = run


def tree_hash(root: Path) -> str:
    """Every path under `root` with its kind, mode and content: any file created, removed or
    changed (a lock file, a status rewrite, a chmod) changes the hash."""
    h = hashlib.sha256()
    for path in sorted(Path(root).rglob("*")):
        info = path.lstat()
        h.update(f"{path.relative_to(root)}|{stat.filemode(info.st_mode)}|".encode())
        if path.is_file():
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()

"""Helpers shared by the end-to-end tests (a module, not conftest: tests/analysis has its own)."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from dqnlab.recorder import WALL_CLOCK_COLUMNS

ROOT = Path(__file__).resolve().parents[1]


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

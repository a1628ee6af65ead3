"""Record the golden logs: progress.csv and eval.csv (wall-clock columns dropped) and a hash of the
final online network, for a few short runs, so a change to the training loop can be checked to
leave a single run bitwise unchanged (tests/test_golden.py).

    python tests/golden/record.py        # rewrites tests/golden/<name>/ and meta.json

Recorded before the training loop learned to train packs of runs (issue 13), from the loop that
trained one run per process. The numbers depend on the CPU's kernels (MKL, oneDNN) and on the
library versions, so meta.json records them and the test runs only where they match.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

SMALL = {
    "network.hidden_sizes": (32, 32), "agent.batch_size": 32, "agent.min_replay_steps": 100,
    "eval.period_steps": 200, "eval.episodes": 2, "run.log_period_steps": 50,
    "run.checkpoint_period_steps": 200,
}

# name -> (env, variant, steps, overrides)
CASES: dict[str, tuple[str, str, int, dict[str, Any]]] = {
    "cartpole_dqn": ("CartPole-v1", "dqn", 600, SMALL),
    "cartpole_rainbow": ("CartPole-v1", "rainbow", 600, SMALL),
    # gradient clipping, Huber, the streams dueling layout, two env copies, epsilon decaying
    "cartpole_dueling_clip_2envs": ("CartPole-v1", "dqn+dueling", 600, {
        **SMALL, "agent.max_grad_norm": 10.0, "agent.loss": "huber", "network.dueling_layout": "streams",
        "env.num_envs": 2, "explore.warmup_epsilon": 1.0, "explore.epsilon_start": 1.0,
        "explore.epsilon_decay_steps": 300,
    }),
    "cartpole_munchausen_per": ("CartPole-v1", "dqn+per+munchausen", 600, SMALL),
    "breakout_rainbow": ("MinAtar/Breakout-v1", "rainbow", 400, {
        **SMALL, "network.hidden_sizes": (), "agent.batch_size": 16,
    }),
}


def versions() -> dict[str, str]:
    import gymnasium
    import numpy
    import torch

    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"torch": torch.__version__, "numpy": numpy.__version__, "gymnasium": gymnasium.__version__,
            "cpu": cpu, "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def online_digest(run_dir: Path) -> str:
    """sha256 of the final checkpoint's online network, tensor by tensor in state-dict order."""
    from dqnlab import checkpoint

    state, _ = checkpoint.load_latest(run_dir / "checkpoint")
    h = hashlib.sha256()
    for key, value in state["agent"]["online"].items():
        h.update(key.encode())
        h.update(value.contiguous().numpy().tobytes())
    return h.hexdigest()


def run_case(name: str, out: Path) -> Path:
    """Train case `name` in `out/name` with the code imported now; returns the run directory."""
    import torch

    from dqnlab import rundir
    from dqnlab.presets import resolve_config
    from dqnlab.train import train

    torch.set_num_threads(1)
    env, variant, steps, overrides = CASES[name]
    cfg = resolve_config(env, variant, seed=7, total_steps=steps, overrides=overrides)
    run_dir = out / name
    rundir.prepare(cfg, run_dir)
    assert train(run_dir, progress=False) == "done"
    return run_dir


def main() -> None:
    import pandas as pd

    from dqnlab.recorder import WALL_CLOCK_COLUMNS

    digests = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            run_dir = run_case(name, Path(tmp))
            dest = HERE / name
            dest.mkdir(exist_ok=True)
            for log in ("progress.csv", "eval.csv"):
                df = pd.read_csv(run_dir / log)
                df.drop(columns=[c for c in WALL_CLOCK_COLUMNS if c in df.columns]).to_csv(dest / log, index=False)
            digests[name] = online_digest(run_dir)
            print(name, digests[name])
    (HERE / "meta.json").write_text(json.dumps({"versions": versions(), "online_sha256": digests}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Write synthetic run directories that follow docs/run_directory.md, with chosen numbers.

Reusable by any test that needs runs on disk without training:

    from synthetic import write_run, write_sweep
    run = write_run(tmp_path, variant="rainbow", env="CartPole-v1", seed=0, returns=[10, 20, 500])
    write_sweep(tmp_path, [run])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dqnlab.contract import variant_components


def components_of(variant: str) -> list[str]:
    """Component list of a variant name (the contract's grammar)."""
    return list(variant_components(variant))


def family_of(env: str) -> str:
    if env.startswith("ALE/"):
        return "atari"
    if env.startswith("MinAtar/"):
        return "minatar"
    return "classic"


def env_settings(protocol: str) -> dict[str, object]:
    """What a protocol writes into config.json's env section (Atari's differ; others set none
    that differ between their protocols)."""
    from dqnlab import protocols

    known = protocols.PROTOCOLS.get(protocol)
    if known is None or "atari" not in known.families:
        return {}
    return {k.removeprefix("env."): v for k, v in known.families["atari"].items() if k.startswith("env.")}


def write_run(
    root: str | Path,
    *,
    variant: str,
    env: str = "CartPole-v1",
    seed: int = 0,
    returns: Sequence[float] = (0.0, 1.0),
    steps: Sequence[int] | None = None,
    q_estimates: Sequence[float] | float = 0.0,
    discounted_returns: Sequence[float] | float = 0.0,
    total_steps: int = 1000,
    state: str = "done",
    protocol: str | None = None,
    preset: str | None = None,
    frame_skip: int | None = None,
    episodes: int = 10,
    truncated_episodes: int = 0,
    error: str | None = None,
    run_dir: str | Path | None = None,
) -> Path:
    """Write config.json, status.json, eval.csv and progress.csv for one run; returns its dir.

    returns[i] is the evaluation `return_mean` at steps[i] (default: evenly spaced, the last one
    at total_steps). The directory defaults to `<root>/<env with / -> ->/<variant>/seed_<n>`.
    """
    family = family_of(env)
    protocol = protocol or ("machado2018" if family == "atari" else "revisiting_rainbow")
    preset = preset or family
    frame_skip = frame_skip or (4 if family == "atari" else 1)
    n = len(returns)
    if steps is None:
        steps = np.linspace(total_steps / n, total_steps, n).round().astype(int)
    steps = np.asarray(steps, dtype=int)
    q = np.broadcast_to(np.asarray(q_estimates, dtype=float), (n,))
    disc = np.broadcast_to(np.asarray(discounted_returns, dtype=float), (n,))
    path = (
        Path(run_dir) if run_dir else Path(root) / env.replace("/", "-") / variant / f"seed_{seed}"
    )
    path.mkdir(parents=True, exist_ok=True)

    config = {
        "variant": variant,
        "components": components_of(variant),
        "preset": preset,
        "seed": seed,
        "total_steps": total_steps,
        "protocol": protocol,
        "env": {"id": env, "family": family, "frame_skip": frame_skip, **env_settings(protocol)},
        "eval": {"episodes": episodes},
        "agent": {"gamma": 0.99},
        "meta": {"dqnlab_version": "test", "created": "2024-01-01T00:00:00"},
    }
    (path / "config.json").write_text(json.dumps(config, indent=2))
    steps_done = int(steps[-1]) if n else 0
    status = {"state": state, "steps_done": steps_done, "total_steps": total_steps,
              "last_checkpoint": None, "error": error, "updated": "2024-01-01T00:00:00"}  # fmt: skip
    (path / "status.json").write_text(json.dumps(status))
    pd.DataFrame({
        "step": steps, "frame": steps * frame_skip, "return_mean": np.asarray(returns, float),
        "return_std": 0.0, "episodes": episodes, "q_estimate_mean": q,
        "discounted_return_mean": disc, "truncated_episodes": truncated_episodes,
        "wall_time_s": 1.0, "eval_seconds": 0.1,
    }).to_csv(path / "eval.csv", index=False)  # fmt: skip
    pd.DataFrame({
        "step": steps, "frame": steps * frame_skip, "episodes": np.arange(n) + 1,
        "episode_return": np.asarray(returns, float), "episode_length": 10.0, "loss": 0.5,
        "q_mean": q, "epsilon": 0.1, "updates": steps // 4, "sps": 100.0, "wall_time_s": 1.0,
    }).to_csv(path / "progress.csv", index=False)  # fmt: skip
    return path


def raw_return(env: str, normalized: Sequence[float] | float) -> np.ndarray:
    """The raw return whose normalized score is `normalized` on `env`."""
    from dqnlab.analysis.normalization import reference_for

    ref = reference_for(env)
    return ref.random + np.asarray(normalized, float) * (ref.reference - ref.random)


def write_final_scores(root: str | Path, variant: str, scores_by_env: dict, **kwargs) -> None:
    """One complete run per seed whose last evaluation has the given normalized score (and whose
    first, halfway through the budget, has score 0)."""
    for env, scores in scores_by_env.items():
        for seed, score in enumerate(scores):
            write_run(root, variant=variant, env=env, seed=seed,
                      returns=raw_return(env, [0.0, score]), **kwargs)  # fmt: skip


def write_sweep(root: str | Path, run_dirs: Sequence[Path], name: str = "synthetic") -> Path:
    """Write `<root>/sweep.json` listing `run_dirs` (which must lie under root); returns root."""
    root = Path(root)
    runs = []
    for run_dir in run_dirs:
        config = json.loads((Path(run_dir) / "config.json").read_text())
        runs.append({
            "run_dir": str(Path(run_dir).relative_to(root)), "variant": config["variant"],
            "env": config["env"]["id"], "seed": config["seed"], "config": config,
        })  # fmt: skip
    (root / "sweep.json").write_text(json.dumps({"name": name, "definition": {}, "runs": runs}))
    return root


def write_ablation_sweep(
    root: str | Path,
    variants: Sequence[str] = ("rainbow", "rainbow-no-double", "rainbow-no-per", "dqn"),
    envs: Sequence[str] = ("CartPole-v1", "Acrobot-v1"),
    seeds: Sequence[int] = (0, 1, 2),
    n_evals: int = 5,
    total_steps: int = 1000,
    noise: float = 0.0,
) -> Path:
    """A small complete sweep with plausible, variant-ordered learning curves (for smoke tests).

    Variant i reaches normalized score 1 - 0.2 i at the end of training, rising linearly. Its
    value estimate exceeds its realized discounted return by 1 + i. noise > 0 adds Gaussian noise
    of that standard deviation (normalized units; seeded) to every score and value, so figures
    drawn from the sweep look like real data with overlapping curves.
    """
    from dqnlab.analysis.normalization import reference_for

    rng = np.random.default_rng(0)
    run_dirs = []
    for i, variant in enumerate(variants):
        for env in envs:
            ref = reference_for(env)
            for seed in seeds:
                target = (1.0 - 0.2 * i) + 0.05 * seed
                fractions = np.linspace(1 / n_evals, 1, n_evals) * target
                fractions = fractions + noise * rng.standard_normal(n_evals)
                returns = ref.random + fractions * (ref.reference - ref.random)
                q = 10 + 2 * i + fractions * 5
                realized = q - (1 + i) + 10 * noise * rng.standard_normal(n_evals)
                run_dirs.append(
                    write_run(
                        root,
                        variant=variant,
                        env=env,
                        seed=seed,
                        returns=returns,
                        q_estimates=q,
                        discounted_returns=realized,
                        total_steps=total_steps,
                    )  # fmt: skip
                )
    return write_sweep(root, run_dirs)

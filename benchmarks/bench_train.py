"""Training throughput: the real `dqnlab.train.Trainer` loop against a bare hand-written loop of the
same network and settings (baselines.bare_train_loop), in the same process, interleaved.

SPS is agent steps per second over the learning phase (after the warm-up): for the Trainer from
progress.csv's `wall_time_s` (which excludes evaluation and checkpoint writes), for the bare loop
from its own clock. Harness overhead = bare_sps / trainer_sps - 1 (extra time per step).
"""

from __future__ import annotations

import cProfile
import csv
import functools
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.baselines import bare_train_loop
from dqnlab import rundir
from dqnlab.presets import resolve_config

# name -> (env, variant, overrides)
CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "cartpole_dqn": ("CartPole-v1", "dqn", {}),
    "cartpole_rainbow": ("CartPole-v1", "rainbow", {}),
    "breakout_dqn": ("MinAtar/Breakout-v1", "dqn", {}),
    "breakout_rainbow": ("MinAtar/Breakout-v1", "rainbow", {}),
}


def make_config(
    env: str, variant: str, steps: int, overrides: dict[str, Any], seed: int = 0, protocol: str | None = None
) -> Any:
    """The protocol's config, with evaluation pushed past the budget (only the final one runs) and
    no periodic checkpoints; progress rows at the warm-up's end so the learning phase can be cut out."""
    base = resolve_config(env, variant, seed=seed, total_steps=steps, protocol=protocol, overrides=overrides)
    return resolve_config(env, variant, seed=seed, total_steps=steps, protocol=protocol, overrides={
        "eval.period_steps": 10 * steps, "eval.episodes": 1, "run.checkpoint_period_steps": 0,
        "run.log_period_steps": base.agent.min_replay_steps, **overrides,
    })


def run_trainer(cfg: Any, device: str, profile_to: Path | None = None) -> dict[str, float]:
    """Run the real Trainer on `cfg`; returns learning-phase SPS, total wall seconds and updates."""
    from dqnlab.train import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        rundir.prepare(cfg, run_dir)
        t0 = time.perf_counter()
        trainer = Trainer(run_dir, device=device, progress=False)
        if profile_to is not None:
            prof = cProfile.Profile()
            prof.runcall(trainer.run)
            prof.dump_stats(profile_to)
        else:
            trainer.run()
        total = time.perf_counter() - t0
        with open(run_dir / rundir.PROGRESS) as f:
            rows = [r for r in csv.DictReader(f)]
    warm = cfg.agent.min_replay_steps
    start = next(r for r in rows if int(r["step"]) >= warm)
    end = rows[-1]
    steps = int(end["step"]) - int(start["step"])
    seconds = float(end["wall_time_s"]) - float(start["wall_time_s"])
    return {"sps": steps / seconds, "total_s": total, "updates": float(end["updates"])}


def bench_overhead(names: list[str], steps: dict[str, int], device: str, repeats: int) -> list[dict[str, Any]]:
    """Trainer vs bare loop, interleaved `repeats` times; the best SPS of each side is kept."""
    dev = torch.device(device)
    rows = []
    for name in names:
        env, variant, overrides = CONFIGS[name]
        cfg = make_config(env, variant, steps[env], overrides)
        best_h, best_b, total_h = 0.0, 0.0, 0.0
        for _ in range(repeats):
            h = run_trainer(cfg, device)
            b = bare_train_loop(cfg, dev, cfg.total_steps)
            best_h, best_b = max(best_h, h["sps"]), max(best_b, b.sps)
            total_h = h["total_s"]
        overhead = best_b / best_h - 1.0
        rows.append(dict(
            name=f"train/{name}_overhead", unit="steps/s", dqnlab=best_h, baseline=best_b,
            ratio=best_h / best_b, target="overhead <= 10%", passed=overhead <= 0.10,
            note=f"{env} {variant}, {cfg.total_steps} steps (warm-up {cfg.agent.min_replay_steps}), "
                 f"batch {cfg.agent.batch_size}, update every {cfg.agent.update_period_steps}, "
                 f"net {cfg.network.torso} {list(cfg.network.hidden_sizes)}, {device}, "
                 f"{torch.get_num_threads()} thread(s); overhead {overhead * 100:+.1f}%; "
                 f"Trainer wall incl. start-up and final eval {total_h:.1f}s",
        ))
    return rows



def bench_clip(steps: int, device: str, repeats: int) -> list[dict[str, Any]]:
    """Gradient-norm clipping (issue 13): the Trainer with dqnlab.grad_clip (three foreach ops)
    against the same Trainer with torch.nn.utils.clip_grad_norm_ (what it called before) and
    without clipping, CartPole-v1 dqn at 2x128 clipped at 10, interleaved; best SPS of each."""
    from dqnlab import agent as agent_module

    cfg = make_config("CartPole-v1", "dqn", steps, {"network.hidden_sizes": (128, 128), "agent.max_grad_norm": 10.0})
    no_clip = make_config("CartPole-v1", "dqn", steps, {"network.hidden_sizes": (128, 128), "agent.max_grad_norm": None})
    ours = agent_module.clip_grad_norm_
    torch_clip = functools.partial(torch.nn.utils.clip_grad_norm_, foreach=True)
    best = {"dqnlab": 0.0, "torch": 0.0, "none": 0.0}
    try:
        for _ in range(repeats):
            for label, fn, c in (("dqnlab", ours, cfg), ("torch", torch_clip, cfg), ("none", ours, no_clip)):
                agent_module.clip_grad_norm_ = fn
                best[label] = max(best[label], run_trainer(c, device)["sps"])
    finally:
        agent_module.clip_grad_norm_ = ours
    note = (f"CartPole-v1 dqn 2x128, {steps} steps, update every {cfg.agent.update_period_steps}, {device}, "
            f"{torch.get_num_threads()} thread(s)")
    return [
        dict(name="train/clip_dqnlab_vs_torch", unit="steps/s", dqnlab=best["dqnlab"], baseline=best["torch"],
             ratio=best["dqnlab"] / best["torch"], target="report", passed=None,
             note=f"{note}; baseline torch.nn.utils.clip_grad_norm_(foreach=True), the same bits"),
        dict(name="train/clip_cost", unit="steps/s", dqnlab=best["dqnlab"], baseline=best["none"],
             ratio=best["dqnlab"] / best["none"], target="report", passed=None,
             note=f"{note}; baseline without clipping (torch's clip: {best['torch'] / best['none']:.3f}x)"),
    ]

# -- where the time goes ----------------------------------------------------------------------

BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (bucket, function keys "file:function" whose cumulative time is attributed to it)
    ("update: forward+loss", ("agent.py:scalar_td_loss", "agent.py:categorical_td_loss")),
    ("update: backward", ("_tensor.py:backward",)),
    ("update: optimizer+clip", ("optimizer.py:wrapper", "clip_grad.py:clip_grad_norm_",
                                "clip_grad.py:_no_grad_wrapper")),
    ("update: noise+to_tensors", ("networks.py:reset_noise", "agent.py:to_tensors")),
    ("replay: sample", ("buffer.py:sample",)),
    ("replay: priorities", ("buffer.py:update_priorities",)),
    ("replay: add", ("buffer.py:add", "buffer.py:start_episode")),
    ("act", ("agent.py:act",)),
    ("env", ("vector.py:step", "vector.py:reset")),  # the run's env copies (envs/vector.py)
    ("evaluate", ("evaluate.py:evaluate",)),
    ("checkpoint+logs", ("run_state.py:save_checkpoint", "run_log.py:write_progress", "loop.py:_status")),
)


def _key(func: tuple[str, int, str]) -> str:
    return f"{Path(func[0]).name}:{func[2]}"


def profile_breakdown(name: str, steps: int, device: str, out: Path) -> dict[str, float]:
    """cProfile one Trainer run; fraction of Trainer.run's time per bucket (top-level calls only:
    each bucket takes the cumulative time of its functions when called from the loop, a run's
    state or the agent: loop.py, run_state.py, agent.py)."""
    env, variant, overrides = CONFIGS[name]
    cfg = make_config(env, variant, steps, overrides)
    run_trainer(cfg, device, profile_to=out)
    stats = pstats.Stats(str(out))
    raw = stats.stats  # type: ignore[attr-defined]
    total = next(v[3] for f, v in raw.items() if _key(f) == "loop.py:run")
    result: dict[str, float] = {}
    for bucket, keys in BUCKETS:
        seconds = 0.0
        for func, (_, _, _, _, callers) in raw.items():
            if _key(func) not in keys:
                continue
            for caller, (_, _, _, ct) in callers.items():
                # count only calls from outside the bucket's own functions (no double counting)
                if _key(caller) not in keys and Path(caller[0]).name in ("loop.py", "run_state.py", "agent.py"):
                    seconds += ct
        result[bucket] = seconds
    result["other (loop, python)"] = max(0.0, total - sum(result.values()))
    result["total"] = total
    return result


# -- updates per second (device benchmark) ----------------------------------------------------

def bench_updates(names: list[str], device: str, quick: bool) -> list[dict[str, Any]]:
    """Agent.update + replay sample + priority update per second (the learner alone)."""
    from dqnlab.agent import Agent
    from dqnlab.replay import ReplayBuffer

    dev = torch.device(device)
    rows = []
    for name in names:
        env, variant, overrides = CONFIGS[name]
        cfg = make_config(env, variant, 10_000, overrides)
        obs_shape, dtype, actions = ((4,), np.float32, 2) if env.startswith("CartPole") else ((4, 10, 10), np.uint8, 3)
        agent = Agent(cfg, obs_shape, actions, dev)
        rb = ReplayBuffer(20_000, obs_shape, dtype, n_step=cfg.replay.n_step, gamma=cfg.agent.gamma,
                          prioritized=cfg.replay.prioritized)
        rng = np.random.default_rng(0)
        rb.start_episode(0, rng.integers(0, 2, obs_shape).astype(dtype))
        for i in range(5_000):
            rb.add(0, int(rng.integers(actions)), 1.0, rng.integers(0, 2, obs_shape).astype(dtype),
                   i % 200 == 199, False)
            if i % 200 == 199:
                rb.start_episode(0, rng.integers(0, 2, obs_shape).astype(dtype))

        # As the Trainer: the staging buffer is asked for once and handed to every gather.
        staging = agent.transfer.host_batch(cfg.agent.batch_size, rb.obs_shape, rb.frames.dtype)

        def one(rb: ReplayBuffer = rb, agent: Agent = agent, batch_size: int = cfg.agent.batch_size,
                staging=staging) -> None:
            batch = rb.sample(batch_size, 0.5, staging)
            upd = agent.update(batch)
            rb.update_priorities(batch.indices, upd.priorities)

        for _ in range(20):
            one()
        n = 100 if quick else 500
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(n):
            one()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        ups = n / (time.perf_counter() - t)
        rows.append(dict(name=f"device/{name}_updates", unit="updates/s", dqnlab=ups, baseline=None,
                         ratio=None, target="report", passed=None,
                         note=f"sample + Agent.update + priority update, batch {cfg.agent.batch_size}, {device}"))
    return rows


def bench_vector(names: list[str], steps: dict[str, int], device: str, num_envs: int = 4) -> list[dict[str, Any]]:
    """`env.num_envs` copies acted for by one batched forward vs one env, learning-phase SPS with
    epsilon decayed after 1k steps (so most actions are greedy: the case batching could help)."""
    rows = []
    for name in names:
        env, variant, overrides = CONFIGS[name]
        sps = {}
        for n in (1, num_envs):
            cfg = make_config(env, variant, steps[env],
                              {**overrides, "env.num_envs": n, "explore.epsilon_decay_steps": 1_000})
            sps[n] = run_trainer(cfg, device)["sps"]
        rows.append(dict(
            name=f"vector/{name}_num_envs{num_envs}", unit="steps/s", dqnlab=sps[num_envs], baseline=sps[1],
            ratio=sps[num_envs] / sps[1], target="report", passed=None,
            note=f"{env} {variant}, {steps[env]} steps, {device}; baseline: num_envs=1",
        ))
    return rows


ATARI_SMALL = {"agent.min_replay_steps": 500, "replay.capacity": 20_000, "explore.epsilon_decay_steps": 500,
               "env.max_episode_frames": 4_000}  # bounds the final evaluation episode


def bench_atari_vector(steps: int, device: str, num_envs: int = 4) -> list[dict[str, Any]]:
    """Pong (machado2018) dqn: num_envs copies of our wrappers, and the same through ale-py's
    threaded AtariVectorEnv, against one env; learning-phase SPS, mostly greedy actions."""
    import importlib.util

    if importlib.util.find_spec("ale_py") is None:
        return []
    sps = {}
    for label, extra in (("one", {}), ("copies", {"env.num_envs": num_envs}),
                         ("ale", {"env.num_envs": num_envs, "env.vector_backend": "ale"})):
        cfg = make_config("ALE/Pong-v5", "dqn", steps, {**ATARI_SMALL, **extra})
        sps[label] = run_trainer(cfg, device)["sps"]
    return [dict(
        name=f"vector/pong_dqn_{label}_num_envs{num_envs}", unit="steps/s", dqnlab=sps[label],
        baseline=sps["one"], ratio=sps[label] / sps["one"], target="report", passed=None,
        note=f"ALE/Pong-v5 machado2018 dqn, {steps} steps (warm-up 500), {device}; "
             f"vector_backend={label}; baseline: num_envs=1",
    ) for label in ("copies", "ale")]


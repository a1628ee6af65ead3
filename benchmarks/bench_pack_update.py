"""One update of K packed runs against one update of a run alone (issue 13): milliseconds of
`PackedLearner.update` on K random batches and of `Agent.update` on one, 1 torch thread, in one
process, for a case of `bench_pack_runs.CASES`. It isolates the update from the env loop, so a
kernel change shows up without the loop's noise; `bench_pack_runs` is the end-to-end measure.

    python -m benchmarks.bench_pack_update minatar_breakout_dqn 8 [--updates 300] [--rounds 3]
                                                                  [--profile] [--default-malloc]

--profile prints torch.profiler's table of the packed update's ops (self CPU time);
--default-malloc leaves glibc's thresholds alone (`host_memory`; a run sets them). The pack and the
run alone are timed in turn, `--rounds` times, best round of each; to compare two versions of the
code, still run each a few times, alternating (the machine's speed drifts between processes).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from benchmarks.bench_pack_runs import CASES
from benchmarks.bench_train import make_config


def _timed(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n * 1e3


def best_of_rounds(fns: dict[str, Callable[[int], object]], n: int, rounds: int) -> dict[str, float]:
    """Milliseconds per call of each fn: warmed up, then timed in turn, round after round; the best
    round of each, so a slow spell of the shared machine costs both sides alike."""
    for fn in fns.values():
        for i in range(20):
            fn(i)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = min(best[name], _timed(fn, n))
    return best


def bench_pack_update(case: str, k: int, updates: int = 300, profile: bool = False,
                      default_malloc: bool = False, rounds: int = 3) -> dict[str, float]:
    from dqnlab.agent import Agent
    from dqnlab.batch import Batch
    from dqnlab.envs.make import make_env
    from dqnlab.host_memory import retain_freed_memory
    from dqnlab.packed import PackedLearner

    torch.set_num_threads(1)
    env_id, variant, protocol, steps, overrides = CASES[case]
    cfgs = [make_config(env_id, variant, steps, overrides, seed=s, protocol=protocol) for s in range(k)]
    torch.set_flush_denormal(cfgs[0].run.flush_denormal)
    if not default_malloc:
        retain_freed_memory()  # as the Trainer does
    env = make_env(cfgs[0].env, seed=0)
    obs, _ = env.reset()
    num_actions = int(env.action_space.n)
    env.close()
    agents = [Agent(c, obs.shape, num_actions, torch.device("cpu")) for c in cfgs]
    b = cfgs[0].agent.batch_size
    rng = np.random.default_rng(0)

    def batch() -> Batch:
        o = rng.integers(0, 2, size=(b, *obs.shape)).astype(obs.dtype)  # binary frames, as MinAtar's
        weights = np.ones(b, np.float32) if cfgs[0].replay.prioritized else None
        return Batch(np.arange(b), o, rng.integers(0, num_actions, b), rng.random(b).astype(np.float32),
                     np.full(b, 0.99, np.float32), o[::-1].copy(), weights)

    batches = [[batch() for _ in range(k)] for _ in range(8)]
    pack = PackedLearner(agents)
    ms = best_of_rounds({"packed": lambda i: pack.update(batches[i % 8]),
                         "alone": lambda i: agents[0].update(batches[i % 8][0])}, updates, rounds)
    packed_ms, alone_ms = ms["packed"], ms["alone"]
    print(f"{case} K={k}: packed update {packed_ms:.2f} ms ({packed_ms / k:.3f} per run), "
          f"alone {alone_ms:.3f} ms: {alone_ms * k / packed_ms:.2f}x", flush=True)
    if profile:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for i in range(100):
                pack.update(batches[i % 8])
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    return {"packed_ms": packed_ms, "alone_ms": alone_ms}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("k", type=int)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--default-malloc", action="store_true")
    args = parser.parse_args()
    bench_pack_update(args.case, args.k, args.updates, args.profile, args.default_malloc, args.rounds)

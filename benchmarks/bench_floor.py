"""A 2x512 update against its floor (issue 24), per arm of the main job.

    python benchmarks/bench_floor.py [--updates 200] [--env Acrobot-v1] [--profile] [--arms dqn+qr,dqn+iqn]

For each arm (rainbow, every rainbow-no-X, dqn: the main job's protocols; or, with --arms, QR-DQN,
IQN and M-IQN under RR's configs for them; batch 128, one torch
thread, subnormals flushed and freed memory kept in the process as a run does: `host_memory`;
without it the update's temporaries fault their pages in again each time, 2026-12-06: rainbow
9.98 against 8.94 ms, IQN 68 against 35), on one machine in one process:

* update: the median time of one real `Agent.update` over `--updates` updates on random batches;
* no memo: the same with every forward building its noisy weights (before `noisy_weights.py`:
  a double arm's online network built them twice per update);
* matmul floor: the matrix products that update runs (read off one update with torch.profiler:
  every mm/addmm/bmm/baddbmm with its shapes), each timed alone on random tensors of those shapes;
* memory floor: the memory-bound parts that cannot be fused away without changing the rounding,
  timed alone: building each noisy layer's weight and bias (mu + sigma * eps_out eps_in^T) once
  per network (online and target), and one fused Adam step over the network's parameters;
* update / floor, the number issue 24's target (1.3x) is about.

With --profile, the top ops of the real update (self CPU time) follow each arm's row: where the
rest goes. Timings are the best of 3 rounds of each part, the parts interleaved, so a slow spell
of a shared machine costs every part alike.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from unittest import mock

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from dqnlab import host_memory
from dqnlab.agent import Agent
from dqnlab.batch import Batch
from dqnlab.networks import QNetwork
from dqnlab.presets import resolve_config

ARMS = ("rainbow", "rainbow-no-double", "rainbow-no-dueling", "rainbow-no-per", "rainbow-no-nstep",
        "rainbow-no-c51", "rainbow-no-noisy", "dqn")
# Arms outside the main job (--arms), each under RR's config for it.
PROTOCOLS = {"dqn": "revisiting_rainbow_dqn", "dqn+qr": "revisiting_rainbow_qrdqn",
             "dqn+iqn": "revisiting_rainbow_iqn", "dqn+iqn+munchausen": "revisiting_rainbow_iqn"}
MATMULS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"}


def _agent(env: str, arm: str) -> tuple[Agent, Callable[[], Batch]]:
    cfg = resolve_config(env, arm, protocol=PROTOCOLS.get(arm))
    obs_dim = {"CartPole-v0": 4, "Acrobot-v1": 6}[env]
    actions = {"CartPole-v0": 2, "Acrobot-v1": 3}[env]
    agent = Agent(cfg, (obs_dim,), actions, torch.device("cpu"))
    rng = np.random.default_rng(0)
    b = cfg.agent.batch_size

    def batch() -> Batch:
        return Batch(np.arange(b), rng.standard_normal((b, obs_dim)).astype(np.float32),
                     rng.integers(0, actions, b), rng.standard_normal(b).astype(np.float32),
                     np.full(b, 0.97, np.float32), rng.standard_normal((b, obs_dim)).astype(np.float32),
                     rng.uniform(0.2, 1.0, b).astype(np.float32) if cfg.replay.prioritized else None)

    return agent, batch


def _best(fn: Callable[[], None], repeats: int) -> float:
    """Median ms of `repeats` calls (after two warm-ups)."""
    fn(), fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _matmul_shapes(agent: Agent, batch: Callable[[], Batch]) -> list[tuple[str, list[list[int]]]]:
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        agent.update(batch())
    return [(e.name, e.input_shapes) for e in prof.events() if e.name in MATMULS]


def _matmul_floor(shapes: list[tuple[str, list[list[int]]]]) -> Callable[[], None]:
    ops = []
    for name, inputs in shapes:
        args = [torch.randn(s) if s else 1.0 for s in inputs]
        fn = getattr(torch, name.split("::")[1])
        ops.append((fn, args[:3] if name in ("aten::addmm", "aten::baddbmm") else args[:2]))

    def run() -> None:
        for fn, args in ops:
            fn(*args)

    return run


def _memory_floor(agent: Agent, builds: int) -> Callable[[], None]:
    layers = agent.online.noisy_layers
    params = [p for p in agent.online.parameters()]
    opt = torch.optim.Adam([torch.nn.Parameter(p.detach().clone()) for p in params], lr=1e-4, fused=True)
    for p in opt.param_groups[0]["params"]:
        p.grad = torch.randn_like(p)
    opt.step()

    def run() -> None:
        with torch.no_grad():
            for layer in layers:
                for _ in range(builds):
                    torch.addcmul(layer.weight_mu, layer.weight_sigma, torch.outer(layer.eps_out, layer.eps_in))
                    torch.addcmul(layer.bias_mu, layer.bias_sigma, layer.eps_out)
        opt.step()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--env", default="Acrobot-v1", choices=("Acrobot-v1", "CartPole-v0"))
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    host_memory.retain_freed_memory()  # as the Trainer does (loop.py)
    print(f"{'arm':20s} {'update':>8s} {'no memo':>8s} {'matmuls':>8s} {'memory':>8s} {'floor':>8s} "
          f"{'update/floor':>13s}  (ms, {args.env}, 1 thread)")
    for arm in args.arms.split(","):
        agent, batch = _agent(args.env, arm)
        for _ in range(20):  # past Adam's first steps and the allocator's warm-up
            agent.update(batch())
        # Each network builds its noisy weights once per update: the online network's build for
        # s serves double's s' too (`noisy_weights.py`; the "no memo" column builds it twice).
        builds = 2 if agent.online.noisy_layers else 0
        matmuls, memory = _matmul_floor(_matmul_shapes(agent, batch)), _memory_floor(agent, builds)
        update = lambda agent=agent, batch=batch: agent.update(batch())  # noqa: E731

        def best_no_memo(update=update) -> float:
            # Patched around the timing, not inside it: the timed calls are the update's alone.
            with mock.patch.object(QNetwork, "noisy_weights_built_once", lambda self: contextlib.nullcontext()):
                return _best(update, args.updates)

        rounds = [(_best(update, args.updates), best_no_memo(), _best(matmuls, args.updates),
                   _best(memory, args.updates)) for _ in range(3)]
        u, n, m, w = (min(r[i] for r in rounds) for i in range(4))
        print(f"{arm:20s} {u:8.2f} {n:8.2f} {m:8.2f} {w:8.2f} {m + w:8.2f} {u / (m + w):13.2f}")
        if args.profile:
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(20):
                    agent.update(batch())
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()

"""Would packing pay? (issue 13, item 4's design question): K DQN updates as one packed update
against K separate updates, on one thread, interleaved.

The packed update stacks the K online and target networks' parameters
(torch.func.stack_module_state) and runs forward, loss and backward once through
torch.func.functional_call under torch.vmap; the sum of the K per-run losses gives each run its
own gradient (the runs share no parameter), and one fused Adam over the stacked tensors is K
independent Adams (Adam is elementwise; the step count is shared because the runs are in
lockstep). The baseline is what a sweep does today per core: K networks, K optimizers, K
updates one after the other. Ratio = updates/s packed / updates/s separate. Only the update is
timed: acting, env steps and replay sampling stay per run in a pack, so the end-to-end gain of
a real pack is smaller for cheap updates (see the e2e estimate in benchmarks/README.md).

    python -m benchmarks.bench_pack [--quick] [--device cuda]   # CartPole 2x128, 2x512, MinAtar; K 1, 4, 8, 16
"""

from __future__ import annotations

import copy
import sys
import time
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

NETS: dict[str, tuple[tuple[int, ...], int, int]] = {
    # name -> (observation shape, actions, batch): the classic and MinAtar DQN settings
    "cartpole_2x128": ((4,), 2, 128),
    "cartpole_2x512": ((4,), 2, 128),
    "minatar_breakout": ((4, 10, 10), 6, 32),
}


def make_net(name: str) -> nn.Module:
    obs, actions, _ = NETS[name]
    if name.startswith("minatar"):  # RR's MinAtar torso: conv 16 3x3 SAME, straight into the head
        return nn.Sequential(nn.Conv2d(obs[0], 16, 3, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(16 * obs[1] * obs[2], actions))
    width = 128 if name.endswith("128") else 512
    return nn.Sequential(nn.Linear(obs[0], width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, actions))


def _batch(name: str, k: int, gen: torch.Generator, device: torch.device) -> tuple[torch.Tensor, ...]:
    obs, actions, b = NETS[name]
    batch = (torch.rand(k, b, *obs, generator=gen), torch.randint(actions, (k, b), generator=gen),
             torch.rand(k, b, generator=gen), torch.rand(k, b, *obs, generator=gen),
             (torch.rand(k, b, generator=gen) < 0.05).float())
    return tuple(t.to(device) for t in batch)


def _td_loss(q: torch.Tensor, q_next: torch.Tensor, a: torch.Tensor, r: torch.Tensor,
             done: torch.Tensor) -> torch.Tensor:
    target = r + 0.99 * (1.0 - done) * q_next.max(-1).values
    return nn.functional.mse_loss(q.gather(-1, a[..., None]).squeeze(-1), target)


class Separate:
    """K networks and K Adams, updated one after the other (a sweep's K runs on one core)."""

    def __init__(self, name: str, k: int, device: torch.device) -> None:
        self.online = [make_net(name).to(device) for _ in range(k)]
        self.target = [copy.deepcopy(n).requires_grad_(False) for n in self.online]
        self.opt = [torch.optim.Adam(n.parameters(), lr=1e-4, eps=3.125e-4, fused=True) for n in self.online]

    def update(self, batches: list[tuple[torch.Tensor, ...]]) -> None:
        for net, tgt, opt, (s, a, r, s2, d) in zip(self.online, self.target, self.opt, batches):
            with torch.no_grad():
                q_next = tgt(s2)
            loss = _td_loss(net(s), q_next, a, r, d)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


class Packed:
    """The same K networks as stacked parameters: one vmapped forward/backward, one fused Adam."""

    def __init__(self, nets: list[nn.Module]) -> None:
        params, buffers = stack_module_state(nets)
        self.params = {n: p.detach().requires_grad_(True) for n, p in params.items()}
        self.target = {n: p.detach().clone() for n, p in params.items()}
        self.buffers = buffers
        self.base = copy.deepcopy(nets[0]).to("meta")
        self.opt = torch.optim.Adam(self.params.values(), lr=1e-4, eps=3.125e-4, fused=True)

        def one(params: dict, target: dict, s: torch.Tensor, a: torch.Tensor, r: torch.Tensor,
                s2: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
            q = functional_call(self.base, (params, self.buffers), (s,))
            q_next = functional_call(self.base, (target, self.buffers), (s2,)).detach()
            return _td_loss(q, q_next, a, r, d)

        self.losses = torch.vmap(one)

    def update(self, batch: tuple[torch.Tensor, ...]) -> None:
        loss = self.losses(self.params, self.target, *batch).sum()  # runs share nothing: own grads
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()


def measure(name: str, k: int, updates: int, rounds: int = 3, device: str = "cpu") -> dict[str, Any]:
    dev = torch.device(device)
    gen = torch.Generator().manual_seed(0)
    separate = Separate(name, k, dev)
    packed = Packed(separate.online)  # the same initial weights
    stacked = _batch(name, k, gen, dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    split = [tuple(t[i] for t in stacked) for i in range(k)]
    for _ in range(5):  # warm-up (allocator, vmap's first trace), then check that the work is equal
        separate.update(split)
        packed.update(stacked)
    after, _ = stack_module_state(separate.online)
    max_diff = max(float((after[n] - packed.params[n]).detach().abs().max()) for n in after)
    best = {"separate": float("inf"), "packed": float("inf")}
    for _ in range(rounds):  # interleaved, best of rounds
        for label, fn in (("separate", lambda: separate.update(split)), ("packed", lambda: packed.update(stacked))):
            sync()
            t0 = time.perf_counter()
            for _ in range(updates):
                fn()
            sync()
            best[label] = min(best[label], (time.perf_counter() - t0) / updates)
    return {"net": name, "k": k, "separate_ms": best["separate"] * 1e3, "packed_ms": best["packed"] * 1e3,
            "ratio": best["separate"] / best["packed"], "max_diff": max_diff}


def bench_pack(ks: tuple[int, ...] = (1, 4, 8, 16), quick: bool = False, device: str = "cpu") -> list[dict[str, Any]]:
    rows = []
    for name in NETS:
        for k in ks:
            m = measure(name, k, updates=max(3, (20 if quick else 60) // k), device=device)
            rows.append(dict(name=f"pack/{name}_update_K{k}", unit="ms per K updates", dqnlab=m["packed_ms"],
                             baseline=m["separate_ms"], ratio=m["ratio"], target="report", passed=None,
                             note=f"vmap over stacked params + one fused Adam vs {k} separate updates, "
                                  f"batch {NETS[name][2]}, {device}, {torch.get_num_threads()} thread(s); weights after "
                                  f"5 updates differ by at most {m['max_diff']:.1e}"))
    return rows


if __name__ == "__main__":
    torch.set_num_threads(1)
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    for row in bench_pack(quick="--quick" in sys.argv, device=device):
        print(f"{row['name']:36s} packed {row['dqnlab']:8.2f} ms  separate {row['baseline']:8.2f} ms  "
              f"ratio {row['ratio']:.2f}x  ({row['note'].rsplit('; ', 1)[1]})", flush=True)

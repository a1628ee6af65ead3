"""Packed runs end to end (issue 13, item 4): total agent steps/s of K runs trained as one pack
against the same K runs trained one after the other, on the same core, with the real Trainer.

Both sides run in fresh child processes with one torch thread (what a sweep worker uses), so
each side's peak RSS is its own. Throughput is over the learning phase (after the warm-up) from
progress.csv's `wall_time_s` (evaluations and checkpoints excluded): separate = K x steps / the
sum of the K runs' learning seconds; packed = K x steps / the pack's learning seconds (every run
in a pack reports the pack's clock). A sweep on C cores runs C such processes side by side, so
the ratio per core is the ratio of the sweep. Memory per run: the pack's peak RSS / K against
one run's peak RSS (each includes the ~0.3 GB of Python and torch once).

    python -m benchmarks.bench_pack_runs [--quick] [--device cuda]
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

# name -> (env, variant, protocol, steps per run, overrides)
CASES: dict[str, tuple[str, str, str | None, int, dict[str, Any]]] = {
    "cartpole_2x128_dqn": ("CartPole-v0", "dqn", "revisiting_rainbow_dqn", 3_000,
                           {"network.hidden_sizes": (128, 128), "agent.min_replay_steps": 500}),
    "cartpole_2x128_rainbow": ("CartPole-v0", "rainbow", None, 2_000,
                               {"network.hidden_sizes": (128, 128), "agent.min_replay_steps": 500}),
    "cartpole_2x512_rainbow": ("CartPole-v0", "rainbow", None, 1_000, {"agent.min_replay_steps": 500}),
    "minatar_breakout_dqn": ("MinAtar/Breakout-v1", "dqn", None, 4_000, {"agent.min_replay_steps": 1_000}),
    "pong_nature_dqn": ("ALE/Pong-v5", "dqn", None, 600,
                        {"agent.min_replay_steps": 200, "replay.capacity": 10_000}),
}


def _child(case: str, k: int, packed: bool, device: str, out: Any) -> None:
    import torch

    torch.set_num_threads(1)
    from benchmarks.bench_train import make_config
    from dqnlab import rundir
    from dqnlab.train import train, train_pack

    env, variant, protocol, steps, overrides = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        dirs = []
        for seed in range(k):
            cfg = make_config(env, variant, steps, overrides, seed=seed, protocol=protocol)
            rundir.prepare(cfg, Path(tmp) / f"seed_{seed}")
            dirs.append(Path(tmp) / f"seed_{seed}")
        if packed:
            assert train_pack(dirs, device=device, progress=False) == ["done"] * k
        else:
            for d in dirs:
                assert train(d, device=device, progress=False) == "done"
        seconds, learned = 0.0, 0
        for d in dirs if not packed else dirs[:1]:  # a pack's runs share one clock
            rows = (d / rundir.PROGRESS).read_text().splitlines()
            header = rows[0].split(",")
            step, wall = header.index("step"), header.index("wall_time_s")
            table = [r.split(",") for r in rows[1:]]
            start = next(r for r in table if int(r[step]) >= cfg.agent.min_replay_steps)
            seconds += float(table[-1][wall]) - float(start[wall])
            learned = int(table[-1][step]) - int(start[step])
    out.put({"sps": k * learned / seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def measure(case: str, k: int, packed: bool, device: str = "cpu") -> dict[str, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(case, k, packed, device, queue))
    proc.start()
    result = queue.get(timeout=3600)
    proc.join()
    return result


def bench_pack_runs(ks: tuple[int, ...] = (1, 4, 8, 16), quick: bool = False, device: str = "cpu",
                    cases: list[str] | None = None) -> list[dict[str, Any]]:
    rows = []
    for case in cases or list(CASES):
        for k in ks:
            if case.startswith("pong") and k > 8 and quick:
                continue
            sep = measure(case, k, packed=False, device=device)
            pack = measure(case, k, packed=True, device=device)
            small = case.startswith(("cartpole_2x128", "minatar"))
            target = ">= 2.5x" if small and k == 8 and device == "cpu" else "report"
            ratio = pack["sps"] / sep["sps"]
            rows.append(dict(
                name=f"pack/{case}_K{k}", unit="total agent steps/s", dqnlab=pack["sps"], baseline=sep["sps"],
                ratio=ratio, target=target, passed=(ratio >= 2.5) if target != "report" else None,
                note=f"{k} runs as one pack vs one after the other, learning phase, {device}, 1 thread; peak RSS "
                     f"per run {pack['rss_mb'] / k:.0f} MB packed vs {sep['rss_mb']:.0f} MB alone"))
            print(f"{rows[-1]['name']:36s} pack {pack['sps']:8.0f}  separate {sep['sps']:8.0f}  "
                  f"ratio {ratio:.2f}x  ({rows[-1]['note'].split('; ')[1]})", flush=True)
    return rows


if __name__ == "__main__":
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    quick = "--quick" in sys.argv
    rows = bench_pack_runs((1, 8) if quick else (1, 4, 8, 16), quick=quick, device=device)
    print(json.dumps([{k: r[k] for k in ("name", "dqnlab", "baseline", "ratio")} for r in rows], indent=1))

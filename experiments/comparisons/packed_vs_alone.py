"""The classic ablation trained twice, every run alone and seeds packed (issue 13's done check).

Runs `dqnlab sweep experiments/classic_ablation.py` with `--runs-per-process 1` (OUT/alone) and
with `--runs-per-process auto` (OUT/packed) on the same machine, one after the other, with the same
seeds and overrides, times each sweep, and runs `dqnlab analyze` on both. A run in a pack is the
same algorithm as the run alone up to float rounding (docs/packing.md), so the two figures should
agree within their bootstrap intervals; this script writes what is needed to check that:

    .venv/bin/python experiments/comparisons/packed_vs_alone.py --seeds 5 --out results/packed_vs_alone

* OUT/comparison.csv: per variant and aggregate metric (IQM, median, mean, optimality gap), the
  value and 95% interval alone and packed, whether the intervals overlap, and a two-sided
  permutation test of the difference of the mean normalized final score (every env and seed);
* OUT/comparison.png/.pdf: the IQM with its interval per variant, alone and packed side by side;
* OUT/times.json: each sweep's wall time, and OUT/summary.md: the tables and the speedup.

The default network is 2x128 (`--set network.hidden_sizes=128,128`): packing pays there, not at
the ablation's own 2x512 (benchmarks/README.md, `pack`). A sweep directory that is already
complete is reused, not retrained, and keeps the wall time recorded when it was trained;
`--summarize` rebuilds the outputs from both directories alone.

Not a sweep definition (experiments/*.py are); it lives in this subfolder for that reason.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

EXPERIMENT = Path(__file__).resolve().parents[1] / "classic_ablation.py"
MODES = {"alone": "1", "packed": "auto"}


def dqnlab_command() -> list[str]:
    """`dqnlab` of the interpreter running this script (its venv's console script)."""
    return [sys.executable, "-c", "import sys; from dqnlab.cli import main; sys.exit(main())"]


def run_sweep(out: Path, mode: str, args: argparse.Namespace) -> float | None:
    """Train OUT/<mode> (or resume it); its wall time in seconds, or None if it was resumed from
    an earlier, partial or complete, launch (then the time of one launch is no sweep's time)."""
    sweep_dir = out / mode
    fresh = not sweep_dir.exists()
    cmd = [*dqnlab_command(), "sweep", str(EXPERIMENT), "--seeds", str(args.seeds), "--sweep-dir", str(sweep_dir),
           "--runs-per-process", MODES[mode]]
    for setting in args.set:
        cmd += ["--set", setting]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    print(f"packed_vs_alone: {mode}: {' '.join(cmd[3:])}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start if fresh else None


def analyze(sweep_dir: Path) -> Path:
    figures = sweep_dir / "figures"
    subprocess.run([*dqnlab_command(), "analyze", str(sweep_dir), "--out", str(figures)], check=True)
    return figures


def permutation_p(x: np.ndarray, y: np.ndarray, resamples: int = 20_000, seed: int = 0) -> float:
    """Two-sided permutation test of mean(x) - mean(y), as sb3_side_by_side.py's (unpaired: a run
    in a pack and the same seed alone drift apart after the first rounding difference; exact when
    there are fewer distinct splits than `resamples`)."""
    from scipy import stats

    return float(stats.permutation_test((x, y), lambda a, b: a.mean() - b.mean(), n_resamples=resamples,
                                        alternative="two-sided", random_state=seed).pvalue)


def compare(out: Path) -> pd.DataFrame:
    """comparison.csv's rows from both sweeps' figures/summary.csv and final_scores.csv."""
    summaries = {m: pd.read_csv(out / m / "figures" / "summary.csv") for m in MODES}
    finals = {m: pd.read_csv(out / m / "figures" / "final_scores.csv") for m in MODES}
    table = summaries["alone"].merge(summaries["packed"], on=["variant", "metric"], suffixes=("_alone", "_packed"))
    table["overlap"] = (table[["ci_low_alone", "ci_low_packed"]].max(axis=1)
                         <= table[["ci_high_alone", "ci_high_packed"]].min(axis=1))
    p = {}
    for variant in table["variant"].unique():
        x, y = (finals[m].loc[finals[m]["variant"] == variant, "normalized"].to_numpy() for m in MODES)
        p[variant] = permutation_p(x, y)
    table["p_mean_final"] = table["variant"].map(p)
    return table


def figure(table: pd.DataFrame, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    iqm = table[table["metric"] == "iqm"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(5.5, 0.45 * len(iqm) + 1.0))
    ys = np.arange(len(iqm))[::-1]
    for offset, mode, color in ((0.15, "alone", "tab:blue"), (-0.15, "packed", "tab:orange")):
        value = iqm[f"value_{mode}"]
        err = [value - iqm[f"ci_low_{mode}"], iqm[f"ci_high_{mode}"] - value]
        ax.errorbar(value, ys + offset, xerr=err, fmt="o", color=color, capsize=3, label=mode)
    ax.set_yticks(ys, iqm["variant"])
    ax.set_xlabel("IQM of normalized final score (95% bootstrap CI)")
    ax.legend(loc="lower left", frameon=False)
    fig.tight_layout()
    paths = [out / "comparison.png", out / "comparison.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150)
    plt.close(fig)
    return paths


def summary_md(table: pd.DataFrame, times: dict[str, float | None], args: argparse.Namespace) -> str:
    lines = [f"# Classic ablation: every run alone vs seeds packed ({args.seeds} seeds, "
             f"{' '.join('--set ' + s for s in args.set) or 'defaults'})", ""]
    alone, packed = times.get("alone"), times.get("packed")
    if alone and packed:
        lines += [f"Wall time: alone {alone / 60:.1f} min, packed {packed / 60:.1f} min: "
                  f"{alone / packed:.2f}x faster packed.", ""]
    else:
        lines += ["Wall time: not measured (a sweep was resumed rather than trained in one launch).", ""]
    iqm = table[table["metric"] == "iqm"]
    lines += [f"IQM intervals overlap for {int(iqm['overlap'].sum())} of {len(iqm)} variants; "
              f"all metrics: {int(table['overlap'].sum())} of {len(table)}.", "",
              "| variant | IQM alone [95% CI] | IQM packed [95% CI] | overlap | permutation p (mean final) |",
              "|---|---|---|---|---|"]
    for _, r in iqm.iterrows():
        lines.append(f"| {r['variant']} | {r['value_alone']:.3f} [{r['ci_low_alone']:.3f}, {r['ci_high_alone']:.3f}] "
                     f"| {r['value_packed']:.3f} [{r['ci_low_packed']:.3f}, {r['ci_high_packed']:.3f}] "
                     f"| {'yes' if r['overlap'] else 'NO'} | {r['p_mean_final']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("results/packed_vs_alone"))
    parser.add_argument("--set", action="append", default=None, metavar="KEY=VALUE",
                        help="override for both sweeps (default: network.hidden_sizes=128,128)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--summarize", action="store_true", help="only rebuild the outputs")
    args = parser.parse_args(argv)
    args.set = args.set if args.set is not None else ["network.hidden_sizes=128,128"]
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 (a pack needs two runs, an interval needs a spread)")
    args.out.mkdir(parents=True, exist_ok=True)
    times_path = args.out / "times.json"
    times = json.loads(times_path.read_text()) if times_path.exists() else {}
    for mode in MODES:
        if not args.summarize:
            seconds = run_sweep(args.out, mode, args)
            if seconds is not None:
                times[mode] = seconds
                times_path.write_text(json.dumps(times, indent=1) + "\n")
        analyze(args.out / mode)
    table = compare(args.out)
    table.to_csv(args.out / "comparison.csv", index=False)
    figure(table, args.out)
    text = summary_md(table, times, args)
    (args.out / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

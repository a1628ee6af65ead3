"""The markdown tables of docs/fidelity.md, from the main job's run directories.

    python -m dqnlab.analysis.fidelity_tables results/classic_ablation [results/overestimation_classic]

Per env and arm: the final evaluation return, the mean evaluation return over training, and
Revisiting Rainbow's own metric (the mean return of the training episodes of a 1000-step
iteration, progress.csv's `episode_return`), each the mean over seeds with a 95% percentile
bootstrap interval over seeds; the leave-one-out ranking on normalized scores; value estimates
against realized values (van Hasselt et al. 2016) at the end of training; each arm's wall time.
Complete runs only. The figures' intervals (rliable's stratified bootstrap) are in
`dqnlab analyze`; these tables are the per-env numbers behind them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .load import load_runs
from .metrics import final_scores
from .normalization import add_normalized
from .overestimation import final_bias_per_run
from .variants import sort_variants

BOOTSTRAP_REPS = 2000


def mean_ci(values: Sequence[float] | pd.Series, rng: np.random.Generator) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap interval of the mean (nan bounds below 2 values)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float(x.mean()) if len(x) else np.nan, np.nan, np.nan
    means = rng.choice(x, size=(BOOTSTRAP_REPS, len(x)), replace=True).mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(x.mean()), float(lo), float(hi)


def fmt(mean: float, lo: float, hi: float, digits: int = 1) -> str:
    if np.isnan(lo):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _grid(frame: pd.DataFrame, column: str, arms: list[str], envs: list[str],
          cell: Callable[[pd.Series], str]) -> list[str]:
    lines = ["| arm | " + " | ".join(envs) + " |", "|---|" + "---|" * len(envs)]
    for arm in arms:
        cells = []
        for env in envs:
            values = frame[(frame["variant"] == arm) & (frame["env"] == env)][column]
            cells.append(cell(values) if len(values) else "--")
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return lines + [""]


def _overestimation(evals: pd.DataFrame, arms: list[str], rng: np.random.Generator) -> list[str]:
    last = final_bias_per_run(evals)
    lines = ["| env | arm | Q estimate | realized value | Q - realized | episodes past the time limit |",
             "|---|---|---|---|---|---|"]
    for env in sorted(last["env"].unique()):
        for arm in arms:
            r = last[(last["env"] == env) & (last["variant"] == arm)]
            if len(r):
                lines.append(f"| {env} | {arm} | {fmt(*mean_ci(r['q_estimate'], rng))} | "
                             f"{fmt(*mean_ci(r['discounted_return'], rng))} | {fmt(*mean_ci(r['bias'], rng))} | "
                             f"{r['truncated_fraction'].mean():.0%} |")
    return lines + [""]


def report(sweep: Path, overestimation: Path | None = None, seed: int = 0) -> str:
    """The tables as one markdown string."""
    rng = np.random.default_rng(seed)
    tables = load_runs(sweep)
    evals = tables.evals[tables.evals["complete"].astype(bool)]
    progress = tables.progress[tables.progress["complete"].astype(bool)]
    envs = sorted(evals["env"].unique())
    arms = sort_variants(list(evals["variant"].unique()))
    keys = ["variant", "env", "seed", "run_dir"]
    final = final_scores(tables.evals)  # the last evaluation of each complete run
    auc = evals.groupby(keys, as_index=False)["return_mean"].mean()
    train = progress.dropna(subset=["episode_return"])
    train_last = train.sort_values("step").groupby("run_dir").tail(1)
    train_auc = train.groupby(keys, as_index=False)["episode_return"].mean()
    runs = final.groupby(["env", "variant"]).size()
    ci = lambda v: fmt(*mean_ci(v, rng))  # noqa: E731
    out = [f"Complete runs per (env, arm): {sorted(set(runs))}. Cells: mean over seeds [95% bootstrap "
           f"interval over seeds, {BOOTSTRAP_REPS} resamples].", ""]
    for title, frame, column in (
        ("Final evaluation return (10 episodes, epsilon 0.001)", final, "score"),
        ("Evaluation return averaged over the evaluations of training", auc, "return_mean"),
        ("RR's metric: mean training-episode return in the last 1000-step iteration", train_last, "episode_return"),
        ("RR's metric averaged over all iterations", train_auc, "episode_return"),
    ):
        out += [f"#### {title}", "", *_grid(frame, column, arms, envs, ci)]

    out += ["#### Leave-one-out: normalized score (mean over envs and seeds), and the drop from rainbow", ""]
    measures = {"final eval": (final, "score"), "eval, mean over training": (auc, "return_mean"),
                "RR's metric, mean over training": (train_auc, "episode_return")}
    per_arm = {name: add_normalized(frame.rename(columns={col: "score"}), column="score")
               .groupby("variant")["normalized"].mean() for name, (frame, col) in measures.items()}
    out += ["| arm | " + " | ".join(per_arm) + " |", "|---|" + "---|" * len(per_arm)]
    out += [f"| {arm} | " + " | ".join(f"{s.get(arm, np.nan):.3f}" for s in per_arm.values()) + " |"
            for arm in arms]
    out.append("")
    for name, scores in per_arm.items():
        removed = [a for a in arms if a.startswith("rainbow-no-") and a in scores]
        drops = {a: scores["rainbow"] - scores[a] for a in removed} if "rainbow" in scores else {}
        ranked = sorted(drops, key=drops.get, reverse=True)
        out.append(f"- {name}, removing hurts most to least: "
                   + ", ".join(f"{a.removeprefix('rainbow-no-')} ({drops[a]:+.3f})" for a in ranked))
    out.append("")

    out += ["#### Value estimates against realized values at the end of training (main job)", "",
            *_overestimation(tables.evals, [a for a in ("rainbow-no-double", "rainbow", "dqn") if a in arms], rng)]
    if overestimation is not None:
        over = load_runs(overestimation)
        oev = over.evals[over.evals["complete"].astype(bool)]
        out += ["#### Value estimates against realized values, `experiments/overestimation.py --subset classic`", "",
                *_overestimation(over.evals, ["dqn", "dqn+double"], rng)]
        bias = oev.assign(bias=oev["q_estimate_mean"] - oev["discounted_return_mean"]).groupby(
            keys, as_index=False)["bias"].mean()
        out += ["Q - realized, averaged over all evaluations of a run:", "",
                *_grid(bias, "bias", ["dqn", "dqn+double"], sorted(bias["env"].unique()), ci)]

    last = progress.sort_values("step").groupby("run_dir").tail(1)
    seconds = last.groupby(["env", "variant"])["wall_time_s"].mean()
    out += ["#### Training-loop wall time per run (progress.csv `wall_time_s`, evaluations excluded; "
            "mean over seeds, s)", "", "| arm | " + " | ".join(envs) + " |", "|---|" + "---|" * len(envs)]
    out += [f"| {arm} | " + " | ".join(f"{seconds.get((e, arm), np.nan):.0f}" for e in envs) + " |" for arm in arms]
    out += ["", f"Sum over {len(last)} runs: {last['wall_time_s'].sum():.0f} s."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("usage: python -m dqnlab.analysis.fidelity_tables SWEEP_DIR [OVERESTIMATION_SWEEP_DIR]",
              file=sys.stderr)
        return 2
    print(report(Path(args[0]), Path(args[1]) if len(args) > 1 else None), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Our runs next to Revisiting Rainbow's published figures, arm by arm (docs/fidelity.md).

    python -m dqnlab.analysis.rr_figure results/rr_icml2021 [--ab NAME=DIR ...]

RR's values are read off its figures (`data/revisiting_rainbow_figures.csv`, with how): each
curve's value at Dopamine iteration 29, RR's metric (the mean return of that iteration's training
episodes), and its band where visible. Ours is the same metric: the last progress.csv row of each
run (a row per Dopamine iteration under `run.iteration_steps`), averaged over seeds with a 95%
percentile-bootstrap interval over seeds (`fidelity_tables.mean_ci`).

* Verdict per arm: `reproduced` when RR's value, within its reading error, lies inside our
  interval; `not reproduced` otherwise (an A/B must explain it).
* An A/B arm (`--ab NAME=DIR`, a sweep of `Sweep.variations`: the same seeds with one hypothesis
  switched) is set beside the base: its mean and interval, whether that holds RR's value, the
  difference from the base with a two-sided permutation test over seeds
  (`scipy.stats.permutation_test`, as packed_vs_alone.py), computed on the seeds both have.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .fidelity_tables import BOOTSTRAP_REPS, fmt, mean_ci
from .load import load_runs
from .variants import sort_variants

FIGURE = "revisitingClassic.png"
"""The leave-one-out figure: its `bottom` row is the ablation, `top` DQN plus one component."""


def reference(figure: str | None = FIGURE, row: str | None = "bottom") -> pd.DataFrame:
    """RR's values read off its figures (the data file's rows for one figure and row; None: all),
    with our variant names, indexed by (env_id, variant)."""
    with resources.files("dqnlab.analysis").joinpath("data/revisiting_rainbow_figures.csv").open() as f:
        table = pd.read_csv(f, comment="#")
    table = table[table["variant"].notna()]
    if figure is not None:
        table = table[table["figure"] == figure]
    if row is not None:
        table = table[table["row"] == row]
    # An arm drawn in several figures (dqn, rainbow): the leave-one-out figure's curve.
    first = (table["figure"] != FIGURE) | (table["row"] != "bottom")
    table = table.assign(_order=first.astype(int)).sort_values("_order", kind="stable")
    return table.drop_duplicates(["env_id", "variant"]).drop(columns="_order").set_index(["env_id", "variant"])


def final_metric(sweep_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """RR's metric at each complete run's last iteration: columns env, variant, seed, value."""
    tables = load_runs(sweep_dirs)
    progress = tables.progress[tables.progress["complete"].astype(bool)]
    last = progress.sort_values("step").groupby(["env", "variant", "seed"], as_index=False).last()
    return last.rename(columns={"episode_return": "value"})[["env", "variant", "seed", "value"]]


@dataclass(frozen=True)
class Cell:
    n: int
    mean: float
    low: float
    high: float

    def text(self) -> str:
        return f"{fmt(self.mean, self.low, self.high)} ({self.n})"


def cell(values: pd.Series, seed: int = 0) -> Cell:
    mean, low, high = mean_ci(values, np.random.default_rng(seed))
    return Cell(len(values), mean, low, high)


def holds(c: Cell, value: float, error: float) -> bool:
    """Whether RR's value, within its reading error, lies in our interval."""
    return bool(c.low - error <= value <= c.high + error)


def permutation_p(a: Sequence[float], b: Sequence[float], seed: int = 0) -> float:
    """Two-sided permutation test of the difference of means (independent samples)."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    result = stats.permutation_test((np.asarray(a), np.asarray(b)), lambda x, y: np.mean(x) - np.mean(y),
                                    n_resamples=BOOTSTRAP_REPS * 10, alternative="two-sided",
                                    random_state=np.random.default_rng(seed))
    return float(result.pvalue)


def figure_table(ours: pd.DataFrame, ref: pd.DataFrame, env: str) -> list[str]:
    """One env's markdown table: RR's value, ours, the verdict."""
    lines = ["| arm | RR (figure, iteration 29) | ours, mean [95% CI] (seeds) | verdict |", "|---|---|---|---|"]
    mine = ours[ours["env"] == env]
    for arm in sort_variants(mine["variant"].unique()):
        c = cell(mine[mine["variant"] == arm]["value"])
        if (env, arm) in ref.index:
            r = ref.loc[(env, arm)]
            band = "" if pd.isna(r["band_low"]) or pd.isna(r["band_high"]) else f" [{r['band_low']:.1f}, {r['band_high']:.1f}]"
            rr = f"{r['value']:.1f}{band} ± {r['uncertainty']:.1f}"
            verdict = "reproduced" if holds(c, r["value"], r["uncertainty"]) else "not reproduced"
        else:
            rr, verdict = "--", "--"
        lines.append(f"| {arm} | {rr} | {c.text()} | {verdict} |")
    return lines + [""]


def ab_table(base: pd.DataFrame, variations: Mapping[str, pd.DataFrame], ref: pd.DataFrame, env: str) -> list[str]:
    """One env's A/B table: each variation's arms beside the base, on the seeds both have."""
    lines = ["| arm | A/B | RR | base | with the switch | holds RR's value | switch - base | permutation p |",
             "|---|---|---|---|---|---|---|---|"]
    for name, var in variations.items():
        var = var[var["env"] == env]
        for arm in sort_variants(var["variant"].unique()):
            v = var[var["variant"] == arm].set_index("seed")["value"]
            b = base[(base["env"] == env) & (base["variant"] == arm)].set_index("seed")["value"]
            seeds = sorted(set(v.index) & set(b.index))
            if not seeds:
                continue
            cv, cb = cell(v.loc[seeds]), cell(b.loc[seeds])
            diff = cell(pd.Series(v.loc[seeds].to_numpy() - b.loc[seeds].to_numpy()))
            if (env, arm) in ref.index:
                r = ref.loc[(env, arm)]
                rr, held = f"{r['value']:.1f}", "yes" if holds(cv, r["value"], r["uncertainty"]) else "no"
            else:
                rr, held = "--", "--"
            p = permutation_p(v.loc[seeds], b.loc[seeds])
            lines.append(f"| {arm} | {name} | {rr} | {cb.text()} | {cv.text()} | {held} | "
                         f"{fmt(diff.mean, diff.low, diff.high)} | {p:.3f} |")
    return lines + [""]


def report(base_dirs: Sequence[str | Path], ab: Mapping[str, str | Path] | None = None,
           figure: str | None = FIGURE, row: str | None = "bottom") -> str:
    ref = reference(figure, row)
    base = final_metric(base_dirs)
    variations = {name: final_metric([d]) for name, d in (ab or {}).items()}
    out = []
    for env in sorted(base["env"].unique()):
        out += [f"#### {env}", "", *figure_table(base, ref, env)]
        if variations:
            out += [f"A/B on {env}, each hypothesis switched alone on the same seeds:", "",
                    *ab_table(base, variations, ref, env)]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dqnlab.analysis.rr_figure", description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", help="sweep or run directories of the base arms")
    parser.add_argument("--ab", action="append", default=[], metavar="NAME=DIR",
                        help="an A/B sweep directory and its name (repeatable)")
    parser.add_argument("--figure", default=FIGURE,
                        help="which figure's values (data/revisiting_rainbow_figures.csv); all: every figure's")
    parser.add_argument("--row", default="bottom", help="the figure's row (all: every row)")
    args = parser.parse_args(argv)
    ab = {}
    for item in args.ab:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"--ab expects NAME=DIR, got {item!r}")
        if name in ab:
            parser.error(f"--ab {name} is given twice ({ab[name]} and {path}): give each A/B its own name")
        ab[name] = path
    figure = None if args.figure == "all" else args.figure
    row = None if args.row == "all" else args.row
    print(report(args.sweeps, ab, figure, row))
    return 0


if __name__ == "__main__":
    sys.exit(main())

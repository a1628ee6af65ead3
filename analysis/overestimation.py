"""Overestimation (van Hasselt et al. 2016): value estimates against the values actually obtained.

eval.csv's `q_estimate_mean` is the greedy policy's mean predicted Q(s, a) on the states it
visited during an evaluation and `discounted_return_mean` the mean discounted return it then
obtained from those states, both in the agent's units (clipped rewards on Atari, the agent's
gamma). Their difference is the bias: > 0 is overestimation. `truncated_episodes` counts the
evaluation episodes that reached a time limit; since eval.value_tail_steps those run on past it, so
their discounted returns are not cut there (docs/run_directory.md); in older runs they are, which
biases them toward 0.
"""

from __future__ import annotations

import pandas as pd

from dqnlab.analysis.curves import within_budget
from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.load import check_comparable
from dqnlab.analysis.variants import COMPONENTS, sort_variants, variant_components, variant_name

QUANTITIES = {"q_estimate_mean": "estimate", "discounted_return_mean": "realized"}
"""eval.csv column -> the `quantity` it is in `overestimation_curves`."""
SPREAD = (0.1, 0.9)
"""The band of the curves: 10th and 90th percentiles over runs (linear interpolation), around
the median, as van Hasselt et al. drew their Fig. 3."""
TABLE_COLUMNS = ["variant", "env", "q_estimate", "discounted_return", "bias", "bias_std",
                 "truncated_fraction", "n_runs"]  # fmt: skip


def double_pairs(variants: list[str] | pd.Series) -> list[tuple[str, str]]:
    """(without double, with double) pairs among `variants` that differ only by `double`:
    dqn / dqn+double, rainbow-no-double / rainbow, ... In display order."""
    present = set(variants)
    pairs = []
    for variant in sort_variants(present):
        try:
            components = variant_components(variant)
        except ValueError:
            continue
        if "double" in components:
            continue
        known = (*COMPONENTS, *(c for c in components if c not in COMPONENTS))
        with_double = variant_name((*components, "double"), known)
        if with_double in present:
            pairs.append((variant, with_double))
    return pairs


def _measured(evals: pd.DataFrame) -> pd.DataFrame:
    return evals.dropna(subset=list(QUANTITIES))


def overestimation_curves(evals: pd.DataFrame, x: str = "frame") -> pd.DataFrame:
    """Per env, variant, quantity (estimate / realized) and evaluation point: the median over runs
    and the SPREAD percentiles. Runs that stopped early count up to their last evaluation.

    Columns: env, variant, quantity, x, value, low, high, n_runs.
    """
    columns = ["env", "variant", "quantity", "x", "value", "low", "high", "n_runs"]
    long = _measured(within_budget(evals)).melt(id_vars=["env", "variant", x, "run_dir"],
                                 value_vars=list(QUANTITIES), var_name="quantity")  # fmt: skip
    if long.empty:
        return pd.DataFrame(columns=columns)
    long["quantity"] = long["quantity"].map(QUANTITIES)
    grouped = long.groupby(["env", "variant", "quantity", x])["value"]
    table = pd.concat(
        {
            "value": grouped.median(),
            "low": grouped.quantile(SPREAD[0]),
            "high": grouped.quantile(SPREAD[1]),
            "n_runs": grouped.size(),
        },
        axis=1,
    ).reset_index()
    return table.rename(columns={x: "x"})[columns]


def final_bias_per_run(evals: pd.DataFrame, final_evals: int = 1) -> pd.DataFrame:
    """Per complete run, the means over its last `final_evals` evaluations of the estimate, the
    realized value, their difference (bias) and the share of truncated evaluation episodes.

    Columns: variant, env, seed, run_dir, q_estimate, discounted_return, bias, truncated_fraction.
    """
    if final_evals < 1:
        raise AnalysisError(f"--final-evals must be >= 1, got {final_evals}")
    check_comparable(evals)
    columns = ["variant", "env", "seed", "run_dir", "q_estimate", "discounted_return", "bias",
               "truncated_fraction"]  # fmt: skip
    done = _measured(evals[evals["complete"].astype(bool)])
    if done.empty:
        return pd.DataFrame(columns=columns)
    last = done.sort_values("step").groupby("run_dir", sort=False).tail(final_evals)
    last = last.assign(
        bias=last["q_estimate_mean"] - last["discounted_return_mean"],
        truncated_fraction=last["truncated_episodes"] / last["episodes"],
    )
    per_run = last.groupby(["variant", "env", "seed", "run_dir"], as_index=False).agg(
        q_estimate=("q_estimate_mean", "mean"),
        discounted_return=("discounted_return_mean", "mean"),
        bias=("bias", "mean"),
        truncated_fraction=("truncated_fraction", "mean"),
    )
    return per_run[columns]


def overestimation_table(evals: pd.DataFrame, final_evals: int = 1) -> pd.DataFrame:
    """Value-estimate bias at the end of training, per variant and env: `final_bias_per_run`
    averaged over runs; bias_std is the std over runs (NaN for one run). In runs without a value
    tail (older runs), a truncated share f biases the realized value toward 0, by up to about that
    share.

    Columns: TABLE_COLUMNS.
    """
    per_run = final_bias_per_run(evals, final_evals)
    if per_run.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table = per_run.groupby(["variant", "env"], as_index=False).agg(
        q_estimate=("q_estimate", "mean"),
        discounted_return=("discounted_return", "mean"),
        bias=("bias", "mean"),
        bias_std=("bias", "std"),
        truncated_fraction=("truncated_fraction", "mean"),
        n_runs=("run_dir", "size"),
    )
    order = {v: i for i, v in enumerate(sort_variants(table["variant"]))}
    table = table.sort_values(
        ["env", "variant"], key=lambda c: c.map(order) if c.name == "variant" else c
    )
    return table[TABLE_COLUMNS].reset_index(drop=True)

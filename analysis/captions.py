"""Captions that say what each figure and table shows, written beside it as plain text and LaTeX.

A caption names the statistic and its interval, the normalization (which reference scores, from
which table), how many runs stand behind each point, and the setup the runs used (hyperparameter
preset, env protocol, budget, evaluation episodes), all read from the runs themselves. When an
interval rests on fewer than `metrics.MIN_RUNS` runs per env, it says so.

`<figure>.caption.txt` holds the plain text; `<figure>.caption.tex` a `\\caption{}` and
`\\label{}` to `\\input` inside a figure environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dqnlab.analysis.latex import latex_escape
from dqnlab.analysis.metrics import METRIC_LABELS, few_runs_phrase
from dqnlab.analysis.normalization import (
    ATARI_VIDEO_PINBALL_NOTE,
    ScoreName,
    reference_for,
    score_name,
)
from dqnlab.analysis.variants import DQN, RAINBOW


@dataclass(frozen=True)
class Caption:
    """One caption: plain text (Unicode) and the LaTeX label it goes under."""

    text: str
    label: str
    runs: Mapping[str, int] = field(default_factory=dict)
    """{variant: runs per env} behind the figure's points (the fewest, where they vary)."""

    def latex(self) -> str:
        return f"\\caption{{{latex_escape(self.text)}}}\n\\label{{{self.label}}}\n"

    def write(self, stem: Path) -> list[Path]:
        """Write `<stem>.caption.txt` and `<stem>.caption.tex`; returns both paths."""
        txt, tex = Path(f"{stem}.caption.txt"), Path(f"{stem}.caption.tex")
        txt.write_text(self.text + "\n")
        tex.write_text(self.latex())
        return [txt, tex]


@dataclass(frozen=True)
class Facts:
    """What every caption of one analysis repeats, read from the runs."""

    envs: tuple[str, ...]
    score: ScoreName
    normalization: str
    setup: str
    evaluation: str
    final: str
    """How a run's final score is taken."""
    bootstrap: str
    gamma: float | None
    units: str
    """The units of value estimates: the rewards the agent learns from."""


def facts(runs: pd.DataFrame, evals: pd.DataFrame, reps: int, final_evals: int) -> Facts:
    """The shared sentences for `runs` (`RunTables.runs`) and their `evals`."""
    envs = tuple(sorted(runs["env"].unique()))
    gammas = runs["gamma"].dropna().unique()
    final = (
        "its last evaluation, at the end of its budget"
        if final_evals == 1
        else f"the mean of its last {final_evals} evaluations"
    )
    return Facts(
        envs=envs,
        score=score_name(str(runs["family"].iloc[0])),
        normalization=_normalization(envs),
        setup=_setup(runs),
        evaluation=_evaluation(runs, evals),
        final=f"A run's final score is {final}.",
        bootstrap=f"rliable, {reps} bootstrap resamples of runs within each env",
        gamma=float(gammas[0]) if len(gammas) == 1 else None,
        units=("the agent's reward units (rewards clipped to [−1, 1])"
               if (runs["family"] == "atari").any() else "the env's reward units"),
    )  # fmt: skip


# ------------------------------------------------------------------------------- shared parts


def number(value: float) -> str:
    """Four significant digits, a true minus sign (`-499.093` -> `−499.1`)."""
    text = f"{value:.4g}"
    return "−" + text[1:] if text.startswith("-") else text


def steps(value: float) -> str:
    """`30000` -> `30k`, `50000000` -> `50M`."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.4g}{unit}"
    return f"{value:g}"


def _normalization(envs: Sequence[str]) -> str:
    refs = [reference_for(env) for env in envs]
    tables = ", ".join(dict.fromkeys(r.table for r in refs))
    if refs[0].family == "atari":
        text = (f"Human-normalized score = (return − random) / (human − random), with the human "
                f"and random scores of {tables} (DQN Zoo's atari_data.py, Mnih et al. 2015).")  # fmt: skip
        if any(r.env_key == "video_pinball" for r in refs):
            text += " " + ATARI_VIDEO_PINBALL_NOTE
        return text
    by_source: dict[str, list[str]] = {}
    for env, ref in zip(envs, refs):
        by_source.setdefault(ref.source, []).append(
            f"{env}: random {number(ref.random)}, reference {number(ref.reference)}"
        )
    anchors = "; ".join(f"{'; '.join(listed)} — {source}" for source, listed in by_source.items())
    text = (f"Normalized score = (return − random) / (reference − random), with the random and "
            f"reference scores of {tables}: {anchors}.")  # fmt: skip
    provisional = [env for env, ref in zip(envs, refs) if ref.provisional]
    if provisional:
        text += (f" The reference scores of {', '.join(provisional)} are provisional "
                 "(from a different setting: see the reference table's header).")  # fmt: skip
    return text


def _setup(runs: pd.DataFrame) -> str:
    groups = []
    for (preset, protocol, switches), rows in runs.groupby(["preset", "protocol", "compat"], sort=True):
        where = f"preset {preset}" + ("" if protocol == "none" else f", protocol {_protocol(protocol)}")
        if switches:  # settings that reproduce a paper's code where it departs from its method
            where += f", with {switches}"
        groups.append((where, sorted(rows["variant"].unique())))
    if len(groups) == 1:
        setup = f"Hyperparameters: {groups[0][0]}"
    else:
        setup = "Hyperparameters: " + "; ".join(f"{', '.join(v)}: {w}" for w, v in groups)
    budgets = runs.groupby("env")[["total_steps", "frame_skip"]].first()
    frames = budgets["frame_skip"] > 1
    unit = "agent steps" if frames.any() else "environment steps"
    if budgets["total_steps"].nunique() == 1:
        setup += f"; budget {steps(budgets['total_steps'].iloc[0])} {unit} per run"
    else:
        listed = ", ".join(f"{env} {steps(n)}" for env, n in budgets["total_steps"].items())
        setup += f"; budgets {listed} {unit}"
    if frames.any():
        setup += f" (frame skip {', '.join(map(str, sorted(budgets['frame_skip'].unique())))})"
    return setup + "."


def _protocol(name: str) -> str:
    """A protocol's name, and what it reproduces when dqnlab knows it (dqnlab.protocols)."""
    from dqnlab import protocols

    known = protocols.PROTOCOLS.get(name)
    return f"{name} ({known.source})" if known is not None else name


def _evaluation(runs: pd.DataFrame, evals: pd.DataFrame) -> str:
    episodes = sorted(int(e) for e in evals["episodes"].dropna().unique())
    if not episodes:
        return ""
    count = f"{episodes[0]}" if len(episodes) == 1 else f"{episodes[0]}–{episodes[-1]}"
    clipped = " unclipped" if (runs["family"] == "atari").any() else ""
    return f"An evaluation's return is the mean undiscounted{clipped} return of {count} episodes."


def runs_sentence(counts: Mapping[str, int]) -> str:
    """How many runs stand behind each point: one number when every arm has the same."""
    values = set(counts.values())
    if len(values) == 1:
        (n,) = values
        every = "for every arm" if len(counts) > 1 else f"for {next(iter(counts))}"
        return f"{n} run{'s' if n != 1 else ''} (seeds) per env {every}."
    listed = ", ".join(f"{name} {n}" for name, n in counts.items())
    return f"Runs (seeds) per env: {listed}."


def caution(counts: Mapping[str, int]) -> str:
    """A warning when some arm has fewer than 3 runs per env, as the figure's note says."""
    few = few_runs_phrase(counts)
    if not few:
        return ""
    return (f"Caution: fewer than 3 runs per env ({few}): those intervals rest on too few runs "
            "to be trusted.")  # fmt: skip


def _caption(name: str, counts: Mapping[str, int], *sentences: str, kind: str = "fig") -> Caption:
    """The sentences, then the runs behind each point, then the caution if any."""
    text = " ".join(s for s in (*sentences, runs_sentence(counts), caution(counts)) if s)
    return Caption(text=text, label=f"{kind}:dqnlab-{name.replace('_', '-')}", runs=dict(counts))


def _envs(envs: Sequence[str]) -> str:
    """The envs by name, or by number when a list would swamp the caption (they are in runs.csv)."""
    return ", ".join(envs) if len(envs) <= 6 else f"{len(envs)} envs, listed in runs.csv"


def _emphasis(variants: Sequence[str]) -> str:
    drawn = [f"{v} ({c})" for v, c in ((RAINBOW, "black"), (DQN, "grey")) if v in variants]
    return f"; {' and '.join(drawn)} drawn thicker" if drawn else ""


# ----------------------------------------------------------------------------------- figures


def aggregate_curve(
    f: Facts, metric: str, x_label: str, counts: Mapping[str, int], leave_one_out: bool,
    with_final: bool,
) -> Caption:  # fmt: skip
    name = METRIC_LABELS[metric]
    title = ("Rainbow leave-one-out ablation (the layout of Hessel et al. 2018, Fig. 3)."
             if leave_one_out else "Aggregate learning curves.")  # fmt: skip
    left = "Left: " if with_final else ""
    curve = (f"{left}{name} of the {f.score.noun} over all runs × envs ({_envs(f.envs)}) against "
             f"{x_label.lower()}, one line per arm{_emphasis(list(counts))}; complete runs only, at "
             "the evaluation points they all share.")  # fmt: skip
    side = (f"Right: the final {name} with its 95% stratified-bootstrap confidence interval "
            f"({f.bootstrap}). {f.final}") if with_final else ""  # fmt: skip
    return _caption("aggregate_curve", counts, title, curve, side, f.normalization, f.evaluation,
                    f.setup)  # fmt: skip


def learning_curves(f: Facts, x_label: str, counts: Mapping[str, int]) -> Caption:
    text = (f"Evaluation return per env against {x_label.lower()} (raw, not normalized). Line: "
            "mean over runs; band: 95% bootstrap confidence interval of that mean "
            f"({f.bootstrap}). Runs that stopped early count up to their last evaluation.")  # fmt: skip
    return _caption("learning_curves", counts, text, f.evaluation, f.setup)


def final_scores(f: Facts, counts: Mapping[str, int]) -> Caption:
    text = (f"Final {f.score.noun} aggregated over runs × envs ({_envs(f.envs)}), as recommended "
            "by Agarwal et al. 2021: interquartile mean (IQM), median, mean and optimality gap "
            "(mean shortfall below 1; lower is better). Tick: point estimate; bar: 95% "
            f"stratified-bootstrap confidence interval ({f.bootstrap}).")  # fmt: skip
    return _caption("final_scores", counts, text, f.final, f.normalization, f.evaluation, f.setup)


def performance_profile(f: Facts, counts: Mapping[str, int]) -> Caption:
    text = (f"Performance profiles (Agarwal et al. 2021): the fraction of runs × envs "
            f"({_envs(f.envs)}) whose final {f.score.noun} exceeds τ, with 95% "
            f"stratified-bootstrap confidence bands ({f.bootstrap}).")  # fmt: skip
    return _caption("performance_profile", counts, text, f.final, f.normalization, f.setup)


def probability_of_improvement(
    f: Facts, counts: Mapping[str, int], panels: Sequence[str]
) -> Caption:
    text = ("Probability of improvement (Agarwal et al. 2021): P(X > Y) is the probability that "
            "a run of X ends with a higher score than a run of Y on a randomly chosen env "
            f"({_envs(f.envs)}), with 95% stratified-bootstrap confidence intervals "
            f"({f.bootstrap}). Tick: point estimate; bar: interval; dotted: 0.5, no difference. "
            "Scores are compared within each env, so normalization does not change it.")  # fmt: skip
    described = {
        "P(rainbow > rainbow-no-X)": "P(rainbow > rainbow-no-X) for each component X: does "
                                     "adding X back to Rainbow help?",
        "P(X > dqn)": "P(X > dqn) for each arm X: does it beat DQN?",
    }  # fmt: skip
    parts = [described[p] for p in panels]
    which = f"Left: {parts[0]} Right: {parts[1]}" if len(parts) == 2 else parts[0]
    return _caption("probability_of_improvement", counts, text, which, f.final, f.setup)


def overestimation(
    f: Facts, pairs: Sequence[tuple[str, str]], counts: Mapping[str, int], truncated: float,
    tail: int = 0,
) -> Caption:
    discount = f"γ = {f.gamma:g}" if f.gamma is not None else "the agent's γ"
    arms = "; ".join(f"{a} vs {b}" for a, b in pairs)
    text = ("Value estimates against the values actually obtained (the layout of van Hasselt et "
            "al. 2016, Fig. 3), per env: the greedy policy's mean predicted Q(s, a) over the "
            "states it visited in an evaluation (solid) and the mean discounted return "
            f"({discount}) it then obtained from those states (dashed); orange without, blue "
            f"with double Q-learning ({arms}). Line: median over runs; band: 10th–90th "
            "percentile over runs. A solid line above its dashed line is overestimation. Values "
            f"are in {f.units}.")  # fmt: skip
    if truncated <= 0:
        cut = ""
    elif tail > 0:  # docs/run_directory.md: the measured states' values go on past the limit
        cut = (f"{truncated:.0%} of the evaluation episodes reached their time limit; the "
               f"policy ran on for {tail} more steps there, so the discounted returns of their "
               "states are not cut at the limit (the learner bootstraps through it).")  # fmt: skip
    else:
        cut = (f"{truncated:.0%} of the evaluation episodes were cut by a time limit; their "
               "discounted returns miss the rewards after the cut.")  # fmt: skip
    return _caption("overestimation", counts, text, cut, f.setup)


def value_bias(f: Facts, counts: Mapping[str, int], pooled: bool = False) -> Caption:
    discount = f"γ = {f.gamma:g}" if f.gamma is not None else "the agent's γ"
    text = ("Value-estimate bias at the end of training, per env and arm: the greedy policy's "
            f"mean predicted Q(s, a) minus the discounted return ({discount}) it obtained from the "
            "same states, one dot per run, black tick at the median over runs; above 0 is "
            f"overestimation (van Hasselt et al. 2016). Values are in {f.units}.")  # fmt: skip
    pooling = "Envs pooled in one panel: one dot per run and env." if pooled else ""
    return _caption("value_bias", counts, text, pooling, f.final.replace("score", "value"),
                    f.setup)  # fmt: skip


# ------------------------------------------------------------------------------------ tables


def summary_table(f: Facts, counts: Mapping[str, int]) -> Caption:
    text = (f"Final {f.score.noun} over runs × envs ({_envs(f.envs)}): point estimate [95% "
            f"stratified-bootstrap confidence interval] ({f.bootstrap}). Runs: runs per env; "
            "Tasks: envs.")  # fmt: skip
    return _caption("summary", counts, text, f.final, f.normalization, f.setup, kind="tab")


def overestimation_table(f: Facts, counts: Mapping[str, int]) -> Caption:
    discount = f"γ = {f.gamma:g}" if f.gamma is not None else "the agent's γ"
    text = ("Value estimates at the end of training (van Hasselt et al. 2016): mean over runs of "
            f"the Q estimate, of the discounted return ({discount}) obtained from the same "
            "states, and of their difference, the bias (± standard deviation over runs), in "
            f"{f.units}. Runs: runs per env.")  # fmt: skip
    return _caption("overestimation", counts, text, f.final.replace("score", "value"), f.setup,
                    kind="tab")  # fmt: skip

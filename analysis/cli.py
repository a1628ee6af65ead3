"""`dqnlab analyze SWEEP_DIR ...`: every figure and table of a sweep, in one directory.

The main CLI owns the parser; this module only contributes `add_arguments` and `run`.
Bad input (missing directory, no runs, runs that must not be mixed, an env without a
normalization reference) is one line on stderr and exit status 2, with nothing written: every
output is computed in memory, written into a temporary directory beside `--out`, and only then
moved into place.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from dqnlab.analysis import figures, metrics, tables
from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.load import RunTables, check_comparable, load_runs
from dqnlab.analysis.normalization import provisional_envs, reference_for
from dqnlab.analysis.variants import removed_component


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `analyze` arguments to `parser` (a subcommand parser of the main CLI)."""
    parser.add_argument("sweep_dirs", nargs="+", type=Path, metavar="SWEEP_DIR",
                        help="sweep directories (with sweep.json) or any folders of run "
                             "directories; all are analyzed together")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output directory (default: <first SWEEP_DIR>/analysis)")  # fmt: skip
    parser.add_argument("--metric", choices=("iqm", "median", "mean"), default="iqm",
                        help="aggregate drawn over training in aggregate_curve (default: iqm)")  # fmt: skip
    parser.add_argument("--final-evals", type=int, default=1, metavar="K",
                        help="a run's final score is the mean of its last K evaluations "
                             "(default: 1, the evaluation at the end of the budget)")  # fmt: skip
    parser.add_argument("--bootstrap-reps", type=int, default=2000, metavar="N",
                        help="stratified-bootstrap replicates per CI (default: 2000)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the bootstrap, for reproducible CIs (default: 0)")  # fmt: skip
    parser.add_argument("--formats", default="pdf,png",
                        help="comma list of figure formats (default: pdf,png)")  # fmt: skip
    parser.add_argument("--x-axis", choices=("frame", "step"), default="frame",
                        help="training axis of curves: frames (= steps x frame skip) or agent "
                             "steps (default: frame)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Analyze `args.sweep_dirs` into `args.out`. Returns 0, or 2 after a one-line error."""
    try:
        formats = _parse_formats(args.formats)
        report = analyze(args)
        out = args.out if args.out is not None else Path(args.sweep_dirs[0]) / "analysis"
        written = _write_atomically(report, Path(out), formats)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {out}:")
    for path in written:
        print(f"  {path.name}")
    if report.problems:
        print(f"problems with {len(report.problems)} run(s):")
        for problem in report.problems:
            print(f"  {problem}")
    for note in report.notes:
        print(f"note: {note}")
    return 0


@dataclass
class Report:
    """Everything `analyze` computed, not yet written."""

    figures: dict[str, Figure] = field(default_factory=dict)
    csv_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    writers: list[Callable[[Path], list[Path]]] = field(default_factory=list)
    problems: list[object] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyze(args: argparse.Namespace) -> Report:
    """Load, check and compute every output in memory. Raises AnalysisError for bad input."""
    if args.final_evals < 1:
        raise AnalysisError(f"--final-evals must be >= 1, got {args.final_evals}")
    if args.bootstrap_reps < 1:
        raise AnalysisError(f"--bootstrap-reps must be >= 1, got {args.bootstrap_reps}")
    loaded: RunTables = load_runs(args.sweep_dirs)
    check_comparable(loaded.runs)
    for env in loaded.runs["env"].unique():
        reference_for(str(env))  # an env without a reference is an error before any work
    if loaded.evals.empty:
        raise AnalysisError("no run has any evaluation row yet (eval.csv empty everywhere)")

    report = Report(problems=list(loaded.problems))
    evals, reps, seed, x = loaded.evals, args.bootstrap_reps, args.seed, args.x_axis
    family = str(loaded.runs["family"].iloc[0])
    score_label = "human-normalized score" if family == "atari" else "normalized score"
    provisional = provisional_envs(loaded.runs["env"].unique())
    if provisional:
        report.notes.append(
            f"reference scores of {', '.join(provisional)} are provisional "
            "(see analysis/data/small_scale_reference.csv)"
        )
    report.csv_tables["runs"] = loaded.runs

    report.figures["learning_curves"] = figures.learning_curves_figure(evals, x=x)

    curves, x_label = metrics.aggregate_curves(evals, args.metric, x, reps, seed)
    if curves.empty:
        report.notes.append(
            "aggregate_curve skipped: no evaluation point shared by all complete runs"
        )
    else:
        report.figures["aggregate_curve"] = figures.aggregate_curve_figure(
            curves, x_label, args.metric, score_label
        )

    final = metrics.final_scores(evals, args.final_evals)
    if final.empty:
        report.notes.append(
            "final scores skipped (summary, final_scores, probability_of_improvement, "
            "performance_profile): no complete run"
        )
    else:
        _final_score_outputs(report, final, reps, seed, score_label)

    bias = metrics.overestimation_table(evals, args.final_evals)
    has_values = evals[["q_estimate_mean", "discounted_return_mean"]].notna().all(axis=1).any()
    if has_values:
        report.figures["overestimation"] = figures.overestimation_figure(evals, x=x)
    else:
        report.notes.append(
            "overestimation figure skipped: no q_estimate_mean / discounted_return_mean"
        )
    if bias.empty:
        report.notes.append("overestimation table skipped: no complete run with value estimates")
    else:
        report.writers.append(lambda out: tables.write_overestimation(bias, out))
    return report


def _final_score_outputs(
    report: Report, final: pd.DataFrame, reps: int, seed: int, score_label: str
) -> None:
    matrices = metrics.score_matrices(final)
    report.notes.extend(matrices.notes)
    report.csv_tables["final_scores"] = final
    if not matrices.scores:
        report.notes.append("final-score aggregates skipped: no variant covers every env")
        return
    summary = metrics.interval_estimates(matrices, reps=reps, seed=seed)
    report.writers.append(lambda out: tables.write_summary(summary, out))
    report.figures["final_scores"] = figures.final_scores_figure(summary, score_label)
    profiles = metrics.performance_profiles(matrices, reps=reps, seed=seed)
    report.figures["performance_profile"] = figures.performance_profile_figure(
        profiles, score_label
    )

    variants = list(matrices.scores)
    if not any(removed_component(v) for v in variants) or "rainbow" not in variants:
        report.notes.append("leave-one-out comparison skipped: needs rainbow and rainbow-no-X runs")
    poi = metrics.probability_of_improvement(matrices, reps=reps, seed=seed)
    if poi.empty:
        report.notes.append(
            "probability_of_improvement skipped: needs rainbow with rainbow-no-X, or dqn with "
            "another variant"
        )
        return
    report.csv_tables["probability_of_improvement"] = poi
    report.figures["probability_of_improvement"] = figures.improvement_figure(poi)


def _parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    supported = Figure().canvas.get_supported_filetypes()
    unknown = [f for f in formats if f not in supported]
    if not formats or unknown:
        raise AnalysisError(
            f"--formats: unsupported {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(sorted(supported))}"
        )
    return formats


def _write_atomically(report: Report, out: Path, formats: list[str]) -> list[Path]:
    """Write everything into a temp dir beside `out`, then move each file into `out`.

    A failure while writing leaves `out` as it was; files of an earlier analysis that this one
    does not produce are left alone.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as error:
        raise AnalysisError(f"cannot write to {out}: {error}") from error
    try:
        staged: list[Path] = []
        for name, fig in report.figures.items():
            staged += figures.save_figure(fig, staging / name, formats)
        for name, table in report.csv_tables.items():
            table.to_csv(staging / f"{name}.csv", index=False)
            staged.append(staging / f"{name}.csv")
        for write in report.writers:
            staged += write(staging)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for path in sorted(staged):
            os.replace(path, out / path.name)
            written.append(out / path.name)
        return written
    except OSError as error:
        raise AnalysisError(f"cannot write to {out}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)

"""`dqnlab analyze SWEEP_DIR ...`: every figure (with its caption) and table of a sweep.

The main CLI owns the parser; this module only contributes `add_arguments` and `run`; the outputs
are computed by `report.build` (which figures are headline and which supplementary is decided
there). Bad input (missing directory, no runs, runs that must not be mixed, an env without a
normalization reference) is one line on stderr and exit status 2, with nothing written: every
output is computed in memory, written into a temporary directory beside `--out`, and only then
moved into place. A run that cannot be read (a corrupt eval.csv, a truncated config.json, a run
listed in sweep.json without its directory) is such bad input too, unless `--allow-partial` asks to
analyze the rest. Everything else worth a word goes to stderr as `warning:` lines (runs not
finished or failed, duplicate runs counted once, fewer than 3 runs per env, `--final-evals` larger
than some runs' evaluations); stdout lists the files written and notes on what was skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from dqnlab.analysis.errors import UNREADABLE, AnalysisError

if TYPE_CHECKING:
    from dqnlab.analysis.load import RunTables
    from dqnlab.analysis.report import Report

# `add_arguments` runs whenever the main CLI builds its parser (any dqnlab command), so this
# module imports the analysis stack (pandas, scipy, seaborn: ~2 s) only when `analyze` runs.
STYLE_NAMES = ("paper", "talk")
"""`--style` choices: the keys of `style.STYLES` (tests/test_cli.py checks they agree)."""


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
    parser.add_argument("--style", choices=STYLE_NAMES, default="paper",
                        help="paper: 3.25/6.75 in wide (one/two columns), 8 pt labels; talk: "
                             "twice the size, slide fonts (default: paper)")  # fmt: skip
    parser.add_argument("--dpi", type=int, default=300,
                        help="resolution of raster formats such as PNG (default: 300)")  # fmt: skip
    parser.add_argument("--x-axis", choices=("frame", "step"), default="frame",
                        help="training axis of curves: frames (= steps x frame skip) or agent "
                             "steps (default: frame)")  # fmt: skip
    parser.add_argument("--allow-partial", action="store_true",
                        help="analyze the readable runs when some cannot be read (each is listed "
                             "on stderr); without it such runs are an error")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Analyze `args.sweep_dirs` into `args.out`. Returns 0, or 2 after a one-line error."""
    try:
        report = analyze(args)
        out = args.out if args.out is not None else Path(args.sweep_dirs[0]) / "analysis"
        written = _write_atomically(report, Path(out), _parse_formats(args.formats), args)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {out}:")
    for path in written:
        print(f"  {path.relative_to(out)}")
    for problem in [*report.problems, *report.warnings]:
        print(f"warning: {problem}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}")
    few = report.few_runs()
    if few:
        print(f"warning: fewer than 3 runs per env ({few}): their confidence intervals are "
              "unreliable (the figures and captions say so)", file=sys.stderr)  # fmt: skip
    return 0


def analyze(args: argparse.Namespace) -> Report:
    """Load the runs and compute every output in memory. Raises AnalysisError for bad input."""
    if args.dpi < 1:
        raise AnalysisError(f"--dpi must be >= 1, got {args.dpi}")
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise AnalysisError(f"--out {args.out} exists and is not a directory")
    _parse_formats(args.formats)  # before any work
    from dqnlab.analysis.load import load_runs
    from dqnlab.analysis.report import Options, build
    from dqnlab.analysis.style import STYLES

    options = Options(metric=args.metric, final_evals=args.final_evals, reps=args.bootstrap_reps,
                      seed=args.seed, x=args.x_axis, style=STYLES[args.style])  # fmt: skip
    loaded = load_runs(args.sweep_dirs)
    _refuse_unreadable(loaded, args.allow_partial)
    report = build(loaded, options)
    report.warnings += _final_evals_warnings(loaded, args.final_evals)
    return report


def _refuse_unreadable(loaded: RunTables, allow_partial: bool) -> None:
    lost = [p for p in loaded.problems if p.kind in UNREADABLE]
    if lost and not allow_partial:
        more = f" and {len(lost) - 1} more" if len(lost) > 1 else ""
        raise AnalysisError(f"{len(lost)} run(s) cannot be read ({lost[0]}{more}): fix or remove "
                            "them, or pass --allow-partial to analyze the rest")


def _final_evals_warnings(loaded: RunTables, final_evals: int) -> list[str]:
    """Say so when --final-evals asks for more evaluations than complete runs have."""
    complete = loaded.runs[loaded.runs["complete"].astype(bool)]
    short = complete[complete["n_evals"] < final_evals]
    if short.empty:
        return []
    fewest = int(short["n_evals"].min())
    return [f"--final-evals {final_evals}: {len(short)} complete run(s) have fewer evaluations "
            f"(fewest: {fewest}); their final score is the mean of all they have"]


def _parse_formats(text: str) -> list[str]:
    from matplotlib.figure import Figure

    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    supported = Figure().canvas.get_supported_filetypes()
    unknown = [f for f in formats if f not in supported]
    if not formats or unknown:
        raise AnalysisError(
            f"--formats: unsupported {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(sorted(supported))}"
        )
    return formats


def _write_atomically(
    report: Report, out: Path, formats: list[str], args: argparse.Namespace
) -> list[Path]:
    """Write everything into a temp dir beside `out`, then move each file into `out` (keeping
    its subfolder, e.g. supplementary/).

    A failure while writing leaves `out` as it was; files of an earlier analysis that this one
    does not produce are left alone.
    """
    from dqnlab.analysis.plotting import save_figure
    from dqnlab.analysis.style import STYLES
    from dqnlab.analysis.tables import write_csv

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as error:
        raise AnalysisError(f"cannot write to {out}: {error}") from error
    try:
        staged: list[Path] = []
        for stem, (fig, caption) in report.figures.items():
            (staging / stem).parent.mkdir(parents=True, exist_ok=True)
            staged += save_figure(fig, staging / stem, formats, STYLES[args.style], args.dpi)
            staged += caption.write(staging / stem)
        for name, table in report.csv_tables.items():
            staged.append(write_csv(table, staging / f"{name}.csv"))
        for write in report.writers:
            staged += write(staging)
        written = []
        for path in sorted(staged):
            target = out / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            written.append(target)
        return written
    except OSError as error:
        raise AnalysisError(f"cannot write to {out}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)

"""dqnlab analysis: run directories -> tidy tables -> metrics with CIs -> paper figures and tables.

Reads only the run-directory contract (docs/run_directory.md; names and columns from
`dqnlab.contract`). Modules, in data-flow order: `files` (finding run dirs, reading their files),
`load` (tables + problems), `normalization` (score tables), `metrics` (final scores, rliable
aggregates), `curves` (scores over training with CIs), `overestimation` (value estimates vs
values obtained), `figures` / `interval_figures` (the figures, drawn with `plotting` and `style`,
seaborn), `captions` (what each figure shows), `tables` (CSV + LaTeX), `report` (every output,
headline or supplementary), `cli` (`dqnlab analyze`).
"""

from dqnlab.analysis.errors import AnalysisError, RunProblem
from dqnlab.analysis.load import RunTables, check_comparable, load_runs
from dqnlab.analysis.normalization import normalize, reference_for
from dqnlab.analysis.style import variant_colors

__all__ = [
    "AnalysisError",
    "RunProblem",
    "RunTables",
    "check_comparable",
    "load_runs",
    "normalize",
    "reference_for",
    "variant_colors",
]

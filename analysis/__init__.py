"""dqnlab analysis: run directories -> tidy tables -> metrics with CIs -> paper figures and tables.

Reads only the run-directory contract (docs/run_directory.md; names and columns from
`dqnlab.contract`). Modules, in data-flow order: `files` (finding run dirs, reading their files),
`load` (tables + problems), `normalization` (score tables), `metrics` (final scores, rliable
aggregates), `curves` (scores over training with CIs), `overestimation` (value estimates vs
values obtained), `figures` / `interval_figures` (the figures, drawn with `plotting` and `style`,
seaborn), `captions` (what each figure shows), `tables` (CSV + LaTeX), `report` (every output,
headline or supplementary), `cli` (`dqnlab analyze`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dqnlab.analysis.errors import AnalysisError, RunProblem
    from dqnlab.analysis.load import RunTables, check_comparable, load_runs
    from dqnlab.analysis.normalization import normalize, reference_for
    from dqnlab.analysis.style import variant_colors

# Imported on first use (PEP 562): `dqnlab train`, `sweep` and `status` build the parser of
# `analyze` (dqnlab.analysis.cli) and must not pay pandas, scipy and seaborn (~2 s) each time.
_EXPORTS = {
    "AnalysisError": "errors", "RunProblem": "errors", "RunTables": "load", "check_comparable": "load",
    "load_runs": "load", "normalize": "normalization", "reference_for": "normalization",
    "variant_colors": "style",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)

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

"""What can be wrong with the input: the one exception the analysis package raises for bad input
(never for its own bugs), and the problems with single runs that loading reports and works around."""

from __future__ import annotations

from dataclasses import dataclass


class AnalysisError(Exception):
    """Input the analysis cannot use: missing directory, no runs, runs that must not be mixed.

    The message is one line meant for a user (the CLI prints it as `error: <message>`).
    """


UNREADABLE = ("missing", "unreadable")
"""Problem kinds that mean a run's results could not be read at all."""


@dataclass(frozen=True)
class RunProblem:
    """Something wrong with one run directory, found while loading.

    kind: `missing` (listed but absent), `unreadable` (a file that does not parse),
    `failed` (status.json says failed), `partial` (not finished, or no final evaluation),
    `no_eval` (no evaluation rows yet), `duplicate` (the same config and seed as another run
    directory, counted once). `missing` and `unreadable` runs are lost data: the CLI refuses to
    analyze without them unless `--allow-partial` (`UNREADABLE`).
    """

    run_dir: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.run_dir}: {self.message}"

"""The `debug` executor: the runs one after the other in this process (tests, pdb)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from dqnlab.sweep.executors.base import Execution, OnThisMachine
from dqnlab.sweep.worker import RunOptions, run_one


class DebugExecutor(OnThisMachine):
    help = "this process, one run after another (tests, pdb)"

    def parallelism(self, n_runs: int) -> tuple[int, str]:
        return 1, "worker(s)"

    def run(self, sweep_dir: Path, rel_dirs: list[str], options: RunOptions,
            out: TextIO) -> Execution:
        outcomes: dict[str, str] = {}
        for rel in rel_dirs:
            print(f"dqnlab: [{len(outcomes) + 1}/{len(rel_dirs)}] {rel}", file=sys.stderr)
            outcomes[rel] = run_one(Path(sweep_dir) / rel, options)
        return Execution(outcomes)

"""The `debug` executor: the packs one after the other in this process (tests, pdb)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from dqnlab.sweep.executors.base import Execution, OnThisMachine
from dqnlab.sweep.worker import RunOptions, run_pack


class DebugExecutor(OnThisMachine):
    help = "this process, one pack of runs after another (tests, pdb)"
    slots_to_fill = None  # one process whatever the packs: nothing to fill

    def parallelism(self, n_packs: int) -> tuple[int, str]:
        return 1, "worker(s)"

    def run(self, sweep_dir: Path, packs: list[list[str]], options: RunOptions,
            out: TextIO) -> Execution:
        outcomes: dict[str, str] = {}
        for i, pack in enumerate(packs):
            print(f"dqnlab: [{i + 1}/{len(packs)}] {', '.join(pack)}", file=sys.stderr)
            trained = run_pack([Path(sweep_dir) / rel for rel in pack], options)  # keyed by str(path)
            outcomes.update({rel: trained[str(Path(sweep_dir) / rel)] for rel in pack})
        return Execution(outcomes)

"""A single run is bitwise what it was before the loop learned to train packs (issue 13): the
logs and final network of a few short runs equal those recorded by `tests/golden/record.py` from
the one-run-per-process loop. CPU kernels round differently across instruction sets and library
versions, so the comparison runs only where they match the recording (meta.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import record  # noqa: E402

META = json.loads((GOLDEN / "meta.json").read_text())


def _same_machine() -> bool:
    return record.versions() == META["versions"]


@pytest.mark.skipif(not _same_machine(), reason=f"golden logs recorded with {META['versions']}")
@pytest.mark.parametrize("name", list(record.CASES))
def test_a_single_run_is_bitwise_the_recorded_one(tmp_path, name):
    threads = torch.get_num_threads()
    try:
        run_dir = record.run_case(name, tmp_path)
    finally:
        torch.set_num_threads(threads)
    for log in ("progress.csv", "eval.csv"):
        got = pd.read_csv(run_dir / log)
        want = pd.read_csv(GOLDEN / name / log)
        pd.testing.assert_frame_equal(got[list(want.columns)], want, check_exact=True, obj=f"{name}/{log}")
    assert record.online_digest(run_dir) == META["online_sha256"][name]

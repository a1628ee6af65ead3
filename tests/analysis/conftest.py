"""Fixtures for the analysis tests; the run-directory writer itself is in synthetic.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# synthetic.py sits beside this file: make `from synthetic import ...` work under any
# pytest import mode.
sys.path.insert(0, str(Path(__file__).parent))

from synthetic import write_ablation_sweep  # noqa: E402


@pytest.fixture
def ablation_sweep(tmp_path: Path) -> Path:
    """A complete 4-variant x 2-env x 3-seed sweep (see synthetic.write_ablation_sweep)."""
    return write_ablation_sweep(tmp_path / "sweep")

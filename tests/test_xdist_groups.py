"""`make test` runs the SLURM tests on one pytest-xdist worker (they share the one dev cluster).
Two workers once started and stopped it under each other in CI: the group was never applied.
This runs a scratch suite with tests/conftest.py under `-n 2 --dist loadgroup` and checks that
every slurm-marked test ran on one worker."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MODULE = '''import os, time, pytest
pytestmark = pytest.mark.slurm
@pytest.mark.parametrize("i", range(3))
def test_x(i):
    time.sleep(0.05)
    with open("workers.txt", "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''


@pytest.mark.timeout(120)
def test_slurm_marked_tests_share_one_xdist_worker(tmp_path):
    pytest.importorskip("xdist")
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slurm: uses the dev cluster\n")
    for name in ("a", "b", "c"):
        (tmp_path / f"test_{name}.py").write_text(MODULE)
        (tmp_path / f"test_plain_{name}.py").write_text("def test_y():\n    pass\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                           "--dist", "loadgroup"], cwd=tmp_path, capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers = (tmp_path / "workers.txt").read_text().split()
    assert len(workers) == 9 and len(set(workers)) == 1, workers

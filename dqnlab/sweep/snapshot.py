"""A copy of the installed dqnlab package for SLURM jobs to run (profile key `snapshot`).

Jobs should run the code as it was when they were submitted, not whatever the live tree holds
when a job starts or is requeued hours later. The snapshot has the layout of an installed wheel,
`<dir>/dqnlab/...` with `analysis`, `experiments` and `slurm` inside `dqnlab/`, whatever the install
it is taken from: an editable install maps those three to the repository's top-level folders, which
a plain copy of the repository would not resolve as `dqnlab.analysis` and so on. The files are found
through the import system, so the snapshot holds exactly the code `import dqnlab` runs here.

A job runs the copy because it starts in `<dir>` (the current directory comes first on a
`python -m` sys.path) and finds `<dir>` first on PYTHONPATH; the job's Python still provides the
dependencies (torch, gymnasium, ...).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

#: The distribution's package tree: `dqnlab` and the subpackages pyproject.toml maps from
#: top-level folders ([tool.setuptools.package-dir]; tests/test_packaging.py keeps them equal).
ROOTS = ("dqnlab", "dqnlab.analysis", "dqnlab.experiments", "dqnlab.slurm")

_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def package_dir(name: str) -> Path:
    """The directory package `name` is imported from (without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {name} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def take(dest: Path) -> Path:
    """Copy the package tree into `dest` (created if needed; must be empty); returns `dest`."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty: a snapshot is never merged into another")
    for name in ROOTS:
        # A wheel install holds the mapped subpackages inside dqnlab/ already: merging is a no-op.
        shutil.copytree(package_dir(name), dest.joinpath(*name.split(".")), ignore=_SKIP,
                        dirs_exist_ok=True)
    return dest

"""The distribution: everything installs under `dqnlab/` (analysis/, experiments/ and slurm/ as
dqnlab.analysis, dqnlab.experiments, dqnlab.slurm), a plain install is enough to import every
part, and the SLURM code snapshot has the installed layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from run_helpers import ROOT

from dqnlab.sweep import snapshot

SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
MAPPED = SETUPTOOLS["package-dir"]
#: Modules that must import from an install alone: one of each part, the SLURM job included.
PROBES = ("dqnlab.cli", "dqnlab.analysis.cli", "dqnlab.analysis.load", "dqnlab.slurm.dev_cluster",
          "dqnlab.experiments.classic_ablation", "dqnlab.sweep.executors.slurm_job")


def source_dir(package: str) -> Path:
    """Where pyproject.toml's package-dir mapping puts `package` in this checkout."""
    for prefix, folder in sorted(MAPPED.items(), key=lambda item: -len(item[0])):
        if package == prefix or package.startswith(prefix + "."):
            return ROOT / folder / Path(*package[len(prefix):].lstrip(".").split("."))
    return ROOT / Path(*package.split("."))


def test_the_package_list_names_every_package_in_the_tree():
    """The list is explicit (mapped folders are not found by `packages.find`): a new subpackage
    missing from it would be left out of the wheel while an editable install still imports it."""
    found = set()
    for root in ("dqnlab", *MAPPED):
        base = source_dir(root)
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([root, *rel.parts]))
    assert sorted(SETUPTOOLS["packages"]) == sorted(found)
    assert snapshot.ROOTS == ("dqnlab", *MAPPED)


def run_python(code: str, *, cwd: Path, path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(path)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def imported_from(probe_root: Path, *, cwd: Path) -> dict[str, str]:
    code = ("import importlib, sys\n"
            f"for name in {PROBES!r}:\n"
            "    print(name, importlib.import_module(name).__file__)\n")
    out = run_python(code, cwd=cwd, path=probe_root)
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (the build leaves nothing in the checkout)."""
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for folder in ("dqnlab", *MAPPED.values()):
        shutil.copytree(ROOT / folder, src / folder, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = src / "wheel"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(src),
         "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (path,) = out.glob("dqnlab-*.whl")
    return path


def test_the_wheel_installs_only_dqnlab(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"dqnlab", wheel.name.split("-py")[0] + ".dist-info"}
    for module in ("dqnlab/analysis/load.py", "dqnlab/analysis/data/atari_human_random.csv",
                   "dqnlab/experiments/classic_ablation.py", "dqnlab/slurm/start_cluster.sh",
                   "dqnlab/slurm/profiles/dev.toml", "dqnlab/sweep/preemption.py"):
        assert module in names, module


def test_an_install_alone_imports_every_part(wheel, tmp_path):
    """Outside the checkout, with the wheel unpacked as pip installs it: every part imports from
    the install (no repository root on the path), and the analysis finds its data files."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    where = imported_from(site, cwd=tmp_path)
    assert all(path.startswith(str(site)) for path in where.values()), where
    out = run_python("from dqnlab.analysis.normalization import reference_for; "
                     "print(reference_for('ALE/Pong-v5').random)", cwd=tmp_path, path=site)
    assert out.returncode == 0 and float(out.stdout) < 0, out.stderr


def test_the_snapshot_has_the_installed_layout_and_jobs_import_it(tmp_path):
    """What a SLURM job with `snapshot = true` sees: it starts in the snapshot, which is also
    first on PYTHONPATH, and imports every module from there, never from the live tree."""
    code = snapshot.take(tmp_path / "code")
    where = imported_from(code, cwd=code)
    assert all(path.startswith(str(code)) for path in where.values()), where
    assert (code / "dqnlab/analysis/data/atari_human_random.csv").is_file()
    with pytest.raises(FileExistsError):  # never merged into an older snapshot
        snapshot.take(code)

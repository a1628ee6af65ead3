"""Hygiene (issue 10, item 10): files honour the umask, the progress line fits the terminal, the
help names files that exist, the Python requirement is the one the code needs."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

import pytest
from run_helpers import ROOT, prepare_tiny_run, run_cli

from dqnlab import rundir
from dqnlab.progress import ProgressLine, fit
from dqnlab.train import train


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_run_files_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        run_dir = prepare_tiny_run(tmp_path / "run", steps=100)
        assert train(run_dir, progress=False) == "done"
    finally:
        os.umask(old)
    files = [run_dir / n for n in ("config.json", "status.json", "progress.csv", "eval.csv", ".lock")]
    files += list((run_dir / "checkpoint").glob("step_*.pt"))
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name


def test_umask_is_read_without_changing_it():
    old = os.umask(0o027)
    try:
        assert rundir.umask() == 0o027 and rundir.umask() == 0o027
    finally:
        os.umask(old)


def _written_lines(capsys) -> list[str]:
    text = capsys.readouterr().out
    return [re.sub(r"\x1b\[K", "", part) for part in text.split("\r") if part]


def test_the_progress_line_fits_an_80_column_terminal(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    line = ProgressLine(50_000_000, enabled=True, period_s=0.0)
    line.note_return(-21.0)
    line.note_eval(-20.5)
    for step in (0, 1_234_567, 49_999_999):
        line.update(step, 0.01)
    shown = _written_lines(capsys)
    assert len(shown) == 3 and all(len(s) <= 79 for s in shown), [len(s) for s in shown]
    assert all("/50,000,000" in s and "ETA" in s and "eval" in s for s in shown)  # what stays
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal shows every field
    line.update(2_000_000, 0.01)
    wide = _written_lines(capsys)[0]
    assert "eps 0.010" in wide and "return" in wide and "steps/s" in wide and len(wide) <= 199


def test_a_packs_line_shows_the_mean_over_its_runs(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    runs = [ProgressLine(1000, enabled=False) for _ in range(3)]
    runs[0].note_return(10.0)
    runs[0].note_return(20.0)  # run 0's recent mean: 15
    runs[1].note_return(45.0)  # run 2 has no episode yet: not counted
    runs[0].note_eval(100.0)
    runs[2].note_eval(50.0)
    runs[2].note_eval(200.0)  # the latest counts; run 1 not evaluated yet
    line = ProgressLine(1000, enabled=True, period_s=0.0, runs=runs)
    line.update(500, 0.1)
    (shown,) = _written_lines(capsys)
    assert "500/1,000  50.0% | 3 runs | " in shown and "return     30.0" in shown and "eval    150.0" in shown, shown
    assert line.recent_return() == 30.0 and line.latest_eval() == 150.0
    monkeypatch.setenv("COLUMNS", "30")  # a narrow terminal: the step count stays, "3 runs" goes
    line.update(600, 0.1)
    (narrow,) = _written_lines(capsys)
    assert "600/1,000" in narrow and "runs" not in narrow, narrow
    line.close()
    line.close()  # a failure's message and the loop may both end the line: one newline
    assert capsys.readouterr().out == "\n"


def test_fit_drops_the_least_useful_fields_first():
    fields = {"step": "1/10  10.0%", "sps": "5 steps/s", "return": "return 1", "eval": "eval 2",
              "eps": "eps 0.1", "eta": "ETA 00:01"}
    assert fit(fields, 1000) == " | ".join(fields.values())
    assert fit(fields, 40) == "1/10  10.0% | eval 2 | ETA 00:01"
    assert fit(fields, 5) == "1/10 "


def test_sweep_help_names_files_that_exist():
    out = run_cli("sweep", "--help", timeout=60)
    assert out.returncode == 0
    named = re.findall(r"(?:experiments|slurm/profiles)/[\w.]+\.(?:py|toml)", out.stdout)
    assert named and all((ROOT / path).is_file() for path in named), named


def test_the_python_requirement_is_what_the_code_needs():
    """tomllib (sweep profiles) is 3.11+: the package says so rather than losing `sweep` on 3.10."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["requires-python"] == ">=3.11"
    assert project["tool"]["ruff"]["target-version"] == "py311"
    assert "Python >= 3.11" in Path(ROOT / "README.md").read_text()

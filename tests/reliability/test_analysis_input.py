"""`dqnlab analyze` never turns bad rows or mixed arms into a figure without a word (issue 23,
items 4 and 7).

Item 7: every evaluation and training row is checked (numbers, finite, within any score's size,
steps strictly increasing) and a bad one is named (file, line, column), as an unreadable run:
exit 2 unless `--allow-partial`. Before, a duplicated out-of-order row and a return of 1e308
passed, inf was a traceback and nan dropped the run with the wrong reason, exit 0. A finished
run's logs are also checked against the marks its status.json recorded.

Item 4: runs that share a variant label but differ in more than the seed (batch 16 and 32, a
learning rate) were pooled into one arm. They are separate arms now, named by their difference
(`dqn [agent.batch_size=16]`), with a `warning:` line.

The runs are real tiny CartPole runs, trained once per module; analyze runs in-process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from run_helpers import TINY, tree_hash

from dqnlab.cli import main
from dqnlab.sweep import Sweep
from dqnlab.sweep.launch import launch

RUN0 = "CartPole-v1/dqn/seed_0"


def sweep(steps: int = 300, **overrides) -> Sweep:
    return Sweep(name="t", envs=("CartPole-v1",), variants=("dqn",), seeds=2, steps=steps,
                 overrides={**TINY, **overrides})


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """Two finished sweeps of two seeds: batch 16 (TINY) and batch 32."""
    root = tmp_path_factory.mktemp("trained")
    quiet = open(os.devnull, "w")
    launch(sweep(), sweep_dir=root / "batch16", executor="debug", out=quiet)
    launch(sweep(**{"agent.batch_size": 32}), sweep_dir=root / "batch32", executor="debug", out=quiet)
    return root


@pytest.fixture
def work(trained, tmp_path, monkeypatch) -> Path:
    shutil.copytree(trained, tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def analyze(capsys, *args: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["analyze", *args])
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def forget_marks(run_dir: Path) -> None:
    """As a run written before status.json kept its logs' marks: only the rows can tell."""
    path = run_dir / "status.json"
    status = json.loads(path.read_text())
    status.pop("logs")
    path.write_text(json.dumps(status))


def edit_rows(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def set_cell(column: str, value: str, row: int = -1):
    def edit(lines: list[str]) -> list[str]:
        header = lines[0].split(",")
        cells = lines[row].split(",")
        cells[header.index(column)] = value
        lines[row] = ",".join(cells)
        return lines
    return edit


# -- item 7: bad rows ------------------------------------------------------------------------


@pytest.mark.parametrize("edit, said", [
    (lambda lines: [*lines, lines[1]], "eval.csv line 4: step 150 does not come after step 300"),
    (set_cell("return_mean", "1e308"), "eval.csv line 3: return_mean is 1e308"),
    (set_cell("return_mean", "inf"), "eval.csv line 3: return_mean is inf"),
    (set_cell("return_mean", "nan"), "eval.csv line 3: return_mean is nan"),
    (set_cell("return_mean", ""), "eval.csv line 3: return_mean is empty"),
    (set_cell("q_estimate_mean", "abc", row=1), "eval.csv line 2: q_estimate_mean is abc"),
    (set_cell("step", "299.5"), "eval.csv line 3: step is 299.5"),
], ids=["duplicated-out-of-order-row", "return-1e308", "return-inf", "return-nan", "return-empty",
        "text", "fractional-step"])
def test_a_bad_evaluation_row_is_named_and_refused(work, capsys, edit, said):
    run_dir = work / "batch16" / RUN0
    forget_marks(run_dir)
    edit_rows(run_dir / "eval.csv", edit)
    before = tree_hash(work)
    code, err = analyze(capsys, str(work / "batch16"))
    assert code == 2 and len(err) == 1, err
    assert said in err[0] and "--allow-partial" in err[0], err[0]
    assert tree_hash(work) == before


def test_allow_partial_analyzes_the_rest_and_names_the_bad_row(work, capsys):
    """Before, a nan return dropped the run as "eval.csv empty or absent", exit 0 without a flag."""
    run_dir = work / "batch16" / RUN0
    forget_marks(run_dir)
    edit_rows(run_dir / "eval.csv", set_cell("return_mean", "nan"))
    code, err = analyze(capsys, str(work / "batch16"), "--allow-partial")
    said = "eval.csv line 3: return_mean is nan"
    assert code == 0 and any(said in line and line.startswith("warning: unreadable") for line in err), err


def test_a_bad_training_row_is_named_and_refused(work, capsys):
    run_dir = work / "batch16" / RUN0
    forget_marks(run_dir)
    edit_rows(run_dir / "progress.csv", set_cell("loss", "-inf", row=3))
    code, err = analyze(capsys, str(work / "batch16"))
    assert code == 2 and "progress.csv line 4: loss is -inf" in err[0], err


def test_a_finished_run_whose_log_changed_since_is_refused(work, capsys):
    """A plausible edit (rows fine) is seen by the marks status.json recorded at the end."""
    run_dir = work / "batch16" / RUN0
    edit_rows(run_dir / "eval.csv", set_cell("return_mean", "123.0"))
    code, err = analyze(capsys, str(work / "batch16"))
    assert code == 2 and "eval.csv was changed" in err[0] and "--allow-partial" in err[0], err


def test_a_finished_run_whose_config_changed_since_is_refused(work, capsys):
    """config.json edited after the run: it would file the run under settings it never used."""
    path = work / "batch16" / RUN0 / "config.json"
    config = json.loads(path.read_text())
    config["agent"]["learning_rate"] = 0.5
    path.write_text(json.dumps(config))
    code, err = analyze(capsys, str(work / "batch16"))
    assert code == 2 and "config.json is not the config the run was trained with" in err[0], err


def test_intact_runs_analyze_without_a_problem(work, capsys):
    code, err = analyze(capsys, str(work / "batch16"))
    assert code == 0 and not [line for line in err if "fewer than 3 runs" not in line], err


# -- item 4: one label, different configs ----------------------------------------------------


def test_runs_that_differ_in_more_than_the_seed_are_separate_arms(work, capsys):
    out = work / "figures"
    code, err = analyze(capsys, str(work / "batch16"), str(work / "batch32"), "--out", str(out))
    assert code == 0, err
    warned = [line for line in err if "differ in agent.batch_size" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: runs labelled dqn"), err
    assert "dqn [agent.batch_size=16]" in warned[0] and "dqn [agent.batch_size=32]" in warned[0]
    runs = pd.read_csv(out / "runs.csv")
    assert runs.groupby("variant").size().to_dict() == {"dqn [agent.batch_size=16]": 2,
                                                        "dqn [agent.batch_size=32]": 2}


def test_harness_settings_do_not_split_an_arm(work, capsys):
    """Logging and checkpoint periods change what is written, not what is learned."""
    quiet = open(os.devnull, "w")
    launch(dataclasses.replace(sweep(**{"run.checkpoint_period_steps": 150}), seeds=(2,)),
           sweep_dir=work / "other_periods", executor="debug", out=quiet)
    code, err = analyze(capsys, str(work / "batch16"), str(work / "other_periods"), "--out", str(work / "f"))
    assert code == 0 and not any("differ in" in line for line in err), err
    assert set(pd.read_csv(work / "f" / "runs.csv")["variant"]) == {"dqn"}

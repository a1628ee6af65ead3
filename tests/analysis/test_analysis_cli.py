import argparse

import pandas as pd
from synthetic import write_run

from dqnlab.analysis.__main__ import main
from dqnlab.analysis.cli import add_arguments, run
from dqnlab.analysis.tables import latex_escape

FIGURES = ["aggregate_curve", "final_scores", "learning_curves", "overestimation",
           "probability_of_improvement", "performance_profile"]  # fmt: skip


def test_cli_writes_every_figure_and_table(ablation_sweep, capsys):
    assert main([str(ablation_sweep), "--bootstrap-reps", "20"]) == 0
    out = ablation_sweep / "analysis"
    for name in FIGURES:
        for suffix in (".pdf", ".png"):
            assert (out / f"{name}{suffix}").stat().st_size > 1000, name + suffix
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["variant", "metric", "value", "ci_low", "ci_high",
                                     "n_runs", "n_tasks"]  # fmt: skip
    assert len(summary) == 4 * 4
    assert r"\begin{tabular}" in (out / "summary.tex").read_text()
    assert len(pd.read_csv(out / "overestimation.csv")) == 4 * 2
    assert r"\toprule" in (out / "overestimation.tex").read_text()
    printed = capsys.readouterr().out
    assert "summary.csv" in printed and "problems" not in printed
    assert not [p for p in ablation_sweep.iterdir() if p.name.startswith(".analysis")]  # no temp


def test_main_cli_glue_parses_the_documented_arguments(tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(tmp_path), "--out", "o", "--metric", "median", "--final-evals",
                              "3", "--bootstrap-reps", "10", "--seed", "7", "--formats", "pdf"])  # fmt: skip
    assert (args.metric, args.final_evals, args.bootstrap_reps, args.seed) == ("median", 3, 10, 7)


def test_mixed_protocols_fail_with_one_line_and_write_nothing(tmp_path, capsys):
    write_run(tmp_path, variant="dqn", env="ALE/Pong-v5", protocol="machado2018", seed=0)
    write_run(tmp_path, variant="dqn", env="ALE/Pong-v5", protocol="nature2015", seed=1)
    assert main([str(tmp_path), "--bootstrap-reps", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: refusing to aggregate runs of different protocols")
    assert err.count("\n") == 1
    assert not (tmp_path / "analysis").exists()


def test_missing_dir_and_unknown_env_fail_cleanly(tmp_path, capsys):
    assert main([str(tmp_path / "absent")]) == 2
    write_run(tmp_path, variant="dqn", env="Pendulum-v1")
    assert main([str(tmp_path)]) == 2
    assert "no normalization reference" in capsys.readouterr().err
    assert not (tmp_path / "analysis").exists()


def test_single_variant_with_a_failed_run_skips_what_does_not_apply(tmp_path, capsys):
    write_run(tmp_path, variant="dqn", seed=0, returns=[10.0, 50.0], q_estimates=5.0,
              discounted_returns=4.0)  # fmt: skip
    write_run(tmp_path, variant="dqn", seed=1, returns=[10.0], steps=[500], state="failed",
              error="diverged")  # fmt: skip
    out = tmp_path / "report"
    args = argparse.Namespace(sweep_dirs=[tmp_path], out=out, metric="iqm", final_evals=1,
                              bootstrap_reps=5, seed=0, formats="png", x_axis="frame")  # fmt: skip
    assert run(args) == 0
    printed = capsys.readouterr().out
    assert "failed:" in printed and "diverged" in printed
    assert "probability_of_improvement skipped" in printed
    assert not (out / "probability_of_improvement.png").exists()
    assert (out / "final_scores.png").exists() and not (out / "final_scores.pdf").exists()


def test_latex_escape():
    assert latex_escape("rainbow_no_per & 50% #1") == r"rainbow\_no\_per \& 50\% \#1"

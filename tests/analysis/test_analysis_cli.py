import argparse
import re

import numpy as np
import pandas as pd
from synthetic import write_run

from dqnlab.analysis.__main__ import main
from dqnlab.analysis.cli import add_arguments, run
from dqnlab.analysis.latex import latex_escape

FAST = ["--bootstrap-reps", "20", "--dpi", "40"]
HEADLINE = ["aggregate_curve", "probability_of_improvement", "overestimation"]
SUPPLEMENTARY = ["final_scores", "learning_curves", "performance_profile", "value_bias"]


def png_width(path):
    return int.from_bytes(path.read_bytes()[16:20], "big")


def test_cli_writes_headline_and_supplementary_figures_with_captions(ablation_sweep, capsys):
    assert main([str(ablation_sweep), *FAST]) == 0
    out = ablation_sweep / "analysis"
    stems = [out / name for name in HEADLINE] + [out / "supplementary" / n for n in SUPPLEMENTARY]
    for stem in stems:
        assert stem.with_suffix(".pdf").read_bytes().startswith(b"%PDF"), stem
        assert png_width(stem.with_suffix(".png")) in (130, 270), stem
        text = stem.with_name(stem.name + ".caption.txt").read_text()
        latex = stem.with_name(stem.name + ".caption.tex").read_text()
        assert "3 runs (seeds) per env" in text and "Caution" not in text, stem
        assert latex.startswith("\\caption{") and "\\label{fig:dqnlab-" in latex, stem
    assert not (out / "learning_curves.png").exists()  # supplementary figures stay apart
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["variant", "metric", "value", "ci_low", "ci_high",
                                     "n_runs", "n_tasks"]  # fmt: skip
    assert len(summary) == 4 * 4 and (summary["n_runs"] == 3).all()
    tex = (out / "summary.tex").read_text()
    assert "\\begin{table}" in tex and "\\caption{Final normalized score" in tex
    assert "Runs & Tasks" in tex and tex.count(r"] & 3 & 2 \\") == 4  # run counts per variant
    assert len(pd.read_csv(out / "overestimation.csv")) == 4 * 2
    assert "\\label{tab:dqnlab-overestimation}" in (out / "overestimation.tex").read_text()
    captured = capsys.readouterr()
    assert "summary.csv" in captured.out and "problems" not in captured.out
    assert "supplementary/value_bias.png" in captured.out
    assert captured.err == ""  # 3 runs per env everywhere: no small-sample warning
    assert not [p for p in ablation_sweep.iterdir() if p.name.startswith(".analysis")]  # no temp


def test_fewer_than_three_runs_are_flagged_in_captions_and_on_stderr(tmp_path, capsys):
    for variant, seeds in (("dqn", 2), ("dqn+double", 3)):
        for seed in range(seeds):
            write_run(tmp_path, variant=variant, seed=seed, returns=[10.0, 20.0 + seed],
                      q_estimates=[5.0, 6.0], discounted_returns=[4.0, 4.5])  # fmt: skip
    assert main([str(tmp_path), *FAST, "--formats", "png"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: fewer than 3 runs per env (dqn 2)")
    assert err.count("\n") == 1
    out = tmp_path / "analysis"
    for stem in ("aggregate_curve", "overestimation", "supplementary/final_scores"):
        text = (out / f"{stem}.caption.txt").read_text()
        assert "Runs (seeds) per env: dqn+double 3, dqn 2." in text, stem
        assert "Caution: fewer than 3 runs per env (dqn 2)" in text, stem


def test_csv_tables_carry_no_float_noise(tmp_path):
    # Per-run truncated shares 0.1 and 0.2 average to 0.15000000000000002 in floating point,
    # and 0.3 - 0.1 is 0.19999999999999998.
    for seed, truncated in enumerate((1, 2)):
        write_run(tmp_path, variant="dqn", seed=seed, returns=[1.0, 2.0], q_estimates=0.3,
                  discounted_returns=0.1, episodes=10, truncated_episodes=truncated)  # fmt: skip
    assert main([str(tmp_path), *FAST, "--formats", "png"]) == 0
    text = (tmp_path / "analysis" / "overestimation.csv").read_text()
    assert not re.search(r"\d\.\d{7,}", text), text
    table = pd.read_csv(tmp_path / "analysis" / "overestimation.csv")
    assert table["truncated_fraction"].tolist() == [0.15] and table["bias"].tolist() == [0.2]
    assert np.isclose(table["q_estimate"].iloc[0], 0.3)


def test_talk_style_draws_twice_the_width(ablation_sweep):
    out = ablation_sweep / "talk"
    assert main([str(ablation_sweep), *FAST, "--formats", "png", "--style", "talk",
                 "--out", str(out)]) == 0  # fmt: skip
    assert png_width(out / "aggregate_curve.png") == 13 * 40


def test_main_cli_glue_parses_the_documented_arguments(tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(tmp_path), "--out", "o", "--metric", "median", "--final-evals",
                              "3", "--bootstrap-reps", "10", "--seed", "7", "--formats", "pdf",
                              "--style", "talk", "--dpi", "150"])  # fmt: skip
    assert (args.metric, args.final_evals, args.bootstrap_reps, args.seed) == ("median", 3, 10, 7)
    assert (args.style, args.dpi) == ("talk", 150)


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
                              bootstrap_reps=5, seed=0, formats="png", x_axis="frame",
                              style="paper", dpi=30, allow_partial=False)  # fmt: skip
    assert run(args) == 0
    printed = capsys.readouterr()
    assert "warning: failed:" in printed.err and "diverged" in printed.err  # problems: stderr
    assert "probability_of_improvement skipped" in printed.out
    assert not (out / "probability_of_improvement.png").exists()
    final = out / "supplementary" / "final_scores"
    assert final.with_suffix(".png").exists() and not final.with_suffix(".pdf").exists()


def test_latex_escape():
    assert latex_escape("rainbow_no_per & 50% #1") == r"rainbow\_no\_per \& 50\% \#1"
    assert latex_escape("τ ± 1 × −2") == r"$\tau$ $\pm$ 1 $\times$ $-$2"


# -- issue 10: unreadable runs, duplicates, --final-evals beyond what exists ---------------------


def _three_runs(root, **kw):
    return [write_run(root, variant="dqn", seed=s, returns=[10.0, 20.0 + s], q_estimates=5.0,
                      discounted_returns=4.0, **kw) for s in range(3)]  # fmt: skip


def test_an_unreadable_run_is_an_error_unless_allow_partial(tmp_path, capsys):
    runs = _three_runs(tmp_path / "sweep")
    with open(runs[1] / "eval.csv", "a") as f:
        f.write("1,2,3,4,5,6,7,8,9,10,11,12,13\n")  # a corrupt row: more fields than columns
    assert main([str(tmp_path / "sweep"), *FAST, "--formats", "png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 run(s) cannot be read" in err[0] and "--allow-partial" in err[0]
    assert "seed_1" in err[0] and not (tmp_path / "sweep" / "analysis").exists()
    assert main([str(tmp_path / "sweep"), *FAST, "--formats", "png", "--allow-partial"]) == 0
    printed = capsys.readouterr()
    assert "warning: unreadable:" in printed.err and "seed_1" in printed.err  # problems: stderr
    assert "unreadable:" not in printed.out and printed.out.startswith("wrote ")


def test_the_same_run_in_two_sweep_directories_counts_once(tmp_path, capsys):
    from dqnlab.analysis.load import load_runs

    first = _three_runs(tmp_path / "a")
    _three_runs(tmp_path / "b")  # the same configs and seeds, stored again
    loaded = load_runs([tmp_path / "a", tmp_path / "b"])
    assert len(loaded.runs) == 3 and loaded.evals["run_dir"].nunique() == 3
    duplicates = [p for p in loaded.problems if p.kind == "duplicate"]
    assert len(duplicates) == 3 and all("counted once" in p.message for p in duplicates)
    assert set(loaded.runs["run_dir"]) == {str(r.resolve()) for r in first}
    assert main([str(tmp_path / "a"), str(tmp_path / "b"), *FAST, "--formats", "png",
                 "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err.count("warning: duplicate:") == 3


def test_final_evals_beyond_the_evaluations_there_are_is_said(tmp_path, capsys):
    _three_runs(tmp_path / "sweep")  # two evaluations each
    assert main([str(tmp_path / "sweep"), *FAST, "--formats", "png", "--final-evals", "5"]) == 0
    err = capsys.readouterr().err
    assert "warning: --final-evals 5: 3 complete run(s) have fewer evaluations (fewest: 2)" in err

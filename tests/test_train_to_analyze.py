"""End to end through the command line, training to figures: `dqnlab train` (four tiny CartPole
runs: 2 variants x 2 seeds) -> `dqnlab analyze` -> figures and tables holding exactly those runs.
Nothing synthetic in between: analysis reads the run directories training wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from run_helpers import TINY_ARGS, run_cli

VARIANTS = ("dqn", "dqn+double")
SEEDS = (0, 1)
STEPS = 300


def test_train_then_analyze(tmp_path):
    for variant in VARIANTS:
        for seed in SEEDS:
            proc = run_cli("train", "--env", "CartPole-v1", "--components", variant, "--seed", str(seed),
                           "--steps", str(STEPS), "--quiet", *TINY_ARGS, cwd=tmp_path, timeout=180)
            assert proc.returncode == 0, proc.stderr
    runs_dir, out = tmp_path / "runs", tmp_path / "figures"
    trained = sorted(p.parent for p in runs_dir.rglob("config.json"))
    assert len(trained) == len(VARIANTS) * len(SEEDS)

    proc = run_cli("analyze", str(runs_dir), "--out", str(out), "--bootstrap-reps", "50",
                   "--formats", "png", cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "problems" not in proc.stdout  # every run complete and readable
    # stdout: "wrote N files to DIR:", one indented line per file, then notes.
    written = [line.strip() for line in proc.stdout.splitlines() if line.startswith("  ")]
    on_disk = [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()]
    assert sorted(on_disk) == sorted(written)
    figures = [out / name for name in written if name.endswith(".png")]
    assert len(figures) >= 4 and all(f.stat().st_size > 1000 for f in figures)

    # The tables hold exactly the trained runs, with their own numbers.
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(zip(runs["variant"], runs["seed"])) == [(v, s) for v in VARIANTS for s in SEEDS]
    assert sorted(Path(d).resolve() for d in runs["run_dir"]) == [d.resolve() for d in trained]
    assert runs["complete"].all() and (runs["total_steps"] == STEPS).all()
    final = pd.read_csv(out / "final_scores.csv")
    for row in final.itertuples():
        last_eval = pd.read_csv(Path(row.run_dir) / "eval.csv").iloc[-1]
        assert last_eval["step"] == STEPS and row.score == last_eval["return_mean"]
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["variant"]) == set(VARIANTS) and (summary["n_runs"] == len(SEEDS)).all()

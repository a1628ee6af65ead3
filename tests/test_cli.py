"""End to end through the CLI: one short run per env family, the run directory, bad input."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from run_helpers import OVERFLOW_ARGS, assert_same_logs, run_cli

from dqnlab.cli import main
from dqnlab.recorder import EVAL_COLUMNS, PROGRESS_COLUMNS


def _check_run_dir(run_dir, steps, frame_skip=1):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["total_steps"] == steps and "meta" in config and config["meta"]["torch"]
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "done" and status["steps_done"] == steps and status["error"] is None
    progress = pd.read_csv(run_dir / "progress.csv")
    evals = pd.read_csv(run_dir / "eval.csv")
    assert tuple(progress.columns) == PROGRESS_COLUMNS and tuple(evals.columns) == EVAL_COLUMNS
    assert progress["step"].iloc[-1] == steps and evals["step"].iloc[-1] == steps
    assert (evals["frame"] == evals["step"] * frame_skip).all()
    assert evals[["q_estimate_mean", "discounted_return_mean", "return_mean"]].notna().all().all()
    assert list((run_dir / "checkpoint").glob("step_*.pt"))
    return config, progress, evals


def test_classic_control_run(tmp_path, tiny):
    run_dir = tmp_path / "run"
    assert main(["train", "--env", "CartPole-v1", "--components", "rainbow", "--steps", "600",
                 "--run-dir", str(run_dir), "--quiet", *tiny]) == 0
    config, progress, evals = _check_run_dir(run_dir, 600)
    assert config["variant"] == "rainbow" and config["components"] == ["double", "dueling", "per", "nstep", "c51", "noisy"]
    assert list(evals["step"]) == [200, 400, 600]
    assert config["protocol"] == "revisiting_rainbow"  # the default for classic control, at the top level
    assert set(progress["epsilon"]) == {0.01}  # RR: identity_epsilon, 0.01 from the first step, noisy too


def test_minatar_run(tmp_path, tiny):
    run_dir = tmp_path / "run"
    assert main(["train", "--env", "MinAtar/Breakout-v1", "--components", "dqn+double+per", "--steps", "400",
                 "--run-dir", str(run_dir), "--quiet", *tiny, "--set", "network.hidden_sizes=32"]) == 0
    config, _, _ = _check_run_dir(run_dir, 400)
    assert config["env"]["family"] == "minatar" and config["network"]["torso"] == "minatar_same"


def test_atari_run_records_protocol(tmp_path, tiny):
    run_dir = tmp_path / "run"
    assert main(["train", "--env", "ALE/Pong-v5", "--components", "dqn+nstep+c51", "--steps", "300",
                 "--protocol", "nature2015", "--run-dir", str(run_dir), "--quiet", *tiny,
                 "--set", "network.hidden_sizes=32", "--set", "replay.capacity=2000",
                 "--set", "eval.episodes=1", "--set", "env.max_episode_frames=400"]) == 0
    config, _, _ = _check_run_dir(run_dir, 300, frame_skip=4)
    env = config["env"]
    assert config["protocol"] == "nature2015" and env["noop_max"] == 30 and env["sticky_action_prob"] == 0.0
    assert env["terminal_on_life_loss"] and env["reward_clip"] and env["frame_stack"] == 4


def test_same_seed_same_logs(tmp_path, tiny):
    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        assert main(["train", "--env", "CartPole-v1", "--components", "dqn+per+noisy", "--steps", "600",
                     "--seed", "7", "--run-dir", str(d), "--quiet", *tiny]) == 0
    assert_same_logs(*dirs)


def test_rerun_of_a_finished_run_is_a_no_op(tmp_path, tiny):
    args = ["train", "--env", "CartPole-v1", "--steps", "300", "--run-dir", str(tmp_path / "r"), "--quiet", *tiny]
    assert main(args) == 0
    before = (tmp_path / "r" / "eval.csv").read_text()
    assert main(args) == 0
    assert (tmp_path / "r" / "eval.csv").read_text() == before


@pytest.mark.parametrize("args, message", [
    (["--components", "dqn+foo"], "unknown component"),
    (["--env", "NoSuchEnv-v0"], "NoSuchEnv"),
    (["--steps", "0"], "budget"),
    (["--steps", "-10"], "budget"),
    (["--components", "c51", "--set", "categorical.v_min=10", "--set", "categorical.v_max=-10"], "v_min < v_max"),
    (["--set", "agent.learnin_rate=1"], "unknown config key"),
    (["--set", "agent.batch_size=big"], "expects int"),
    (["--protocol", "nature2015"], "does not apply to classic"),
    (["--protocol", "dopamine"], "unknown protocol"),
])
def test_bad_input_exits_2_without_run_dir(tmp_path, args, message):
    run_dir = tmp_path / "run"
    base = ["train", "--env", "CartPole-v1", "--run-dir", str(run_dir), "--quiet"]
    argv = base + args
    if "--env" in args:
        argv = ["train", "--run-dir", str(run_dir), "--quiet", *args]
    proc = run_cli(*argv, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not run_dir.exists()


def test_run_dir_with_different_config_is_refused(tmp_path, tiny):
    run_dir = tmp_path / "run"
    assert main(["train", "--env", "CartPole-v1", "--steps", "200", "--run-dir", str(run_dir), "--quiet", *tiny]) == 0
    before = sorted(p.name for p in run_dir.iterdir())
    proc = run_cli("train", "--env", "CartPole-v1", "--steps", "300", "--run-dir", str(run_dir), "--quiet", *tiny)
    assert proc.returncode == 2 and "different config" in proc.stderr and "total_steps" in proc.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_help_lists_every_config_key():
    proc = run_cli("train", "--help", timeout=60)
    assert proc.returncode == 0
    for key in ("replay.priority_exponent", "network.noisy_sigma0", "agent.target_update_period_steps"):
        assert key in proc.stdout


def test_a_diverging_run_is_one_line_exit_1_and_marked_failed(tmp_path):
    run_dir = tmp_path / "run"
    proc = run_cli("train", "--env", "CartPole-v1", "--steps", "600", "--run-dir", str(run_dir),
                   "--quiet", *OVERFLOW_ARGS, "--set", "network.hidden_sizes=16",
                   "--set", "agent.min_replay_steps=100", timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("dqnlab: starting") and len(lines) == 2
    assert lines[1].startswith(f"dqnlab: run {run_dir} failed: Diverged: loss became")
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "failed" and status["error"].startswith("Diverged") and status["steps_done"] > 0


def test_a_failure_before_the_loop_is_marked_failed_under_plain_train(tmp_path, monkeypatch, capsys):
    from dqnlab import train

    def broken(*args, **kwargs):
        raise OSError("no such env")

    monkeypatch.setattr(train.Trainer, "__init__", broken)
    run_dir = tmp_path / "run"
    assert main(["train", "--env", "CartPole-v1", "--steps", "100", "--run-dir", str(run_dir), "--quiet"]) == 1
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "failed" and status["error"] == "OSError: no such env"
    assert capsys.readouterr().err.count("failed: OSError: no such env") == 1


def test_the_parser_loads_no_analysis_stack():
    """Every dqnlab command builds the parser, `analyze` included: pandas, scipy, matplotlib and
    seaborn (~2 s) load only when `analyze` runs."""
    code = ("import sys; from dqnlab.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'seaborn') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_analyze_style_choices_are_the_styles():
    from dqnlab.analysis.cli import STYLE_NAMES
    from dqnlab.analysis.style import STYLES

    assert STYLE_NAMES == tuple(STYLES)


def test_analyze_without_its_stack_says_so_in_one_line(capsys):
    """The analysis stack loads only when analyze runs (the parser no longer imports it): a missing
    package is still one line and exit 2, not a traceback."""
    import argparse

    from dqnlab.cli import _analyze

    def run(args: argparse.Namespace) -> int:
        raise ModuleNotFoundError("No module named 'seaborn'")

    assert _analyze(run, argparse.Namespace()) == 2
    assert capsys.readouterr().err == "dqnlab: error: analysis is unavailable: No module named 'seaborn'\n"

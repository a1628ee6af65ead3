"""Several env copies per run (`env.num_envs`): batched acting, exact replay ratio, exact resume."""

import pandas as pd
import pytest
from run_helpers import assert_same_logs, run_cli

from dqnlab import rundir
from dqnlab.cli import build_parser, main, resolve_from_args
from dqnlab.train import Trainer, env_seed, train


def _args(run_dir, tiny, num_envs, spec="rainbow", steps=1000, period=2):
    return ["train", "--env", "CartPole-v1", "--components", spec, "--steps", str(steps),
            "--seed", "3", "--run-dir", str(run_dir), "--quiet", *tiny,
            "--set", f"env.num_envs={num_envs}", "--set", f"agent.update_period_steps={period}"]


@pytest.mark.parametrize("num_envs,period", [(4, 2), (4, 3), (2, 5)])
def test_updates_and_target_syncs_fall_on_the_same_steps_as_one_env(tmp_path, tiny, num_envs, period):
    """The replay ratio is exact: after every log row the update count equals the single-env
    run's, also when num_envs and the update period do not divide each other."""
    for n in (1, num_envs):
        assert main(_args(tmp_path / f"n{n}", tiny, n, "dqn", 800, period)) == 0
    one, many = (pd.read_csv(tmp_path / f"n{n}" / "progress.csv") for n in (1, num_envs))
    assert list(one.step) == list(many.step)
    assert list(one.updates) == list(many.updates)
    expected = sum(1 for k in range(1, 801) if k >= 100 and k % period == 0)
    assert many.updates.iloc[-1] == expected


def test_env_copies_have_their_own_seeds_streams_and_episodes(tmp_path, tiny):
    run_dir = tmp_path / "run"
    rundir.prepare(resolve_from_args(build_parser().parse_args(_args(run_dir, tiny, 4))), run_dir)
    trainer = Trainer(run_dir, progress=False)
    assert len(trainer.envs) == 4 and trainer.replay.num_streams == 4
    assert env_seed(3, 0) == 3 and len({env_seed(3, i) for i in range(4)}) == 4
    assert len({o.tobytes() for o in trainer.obs}) == 4  # different reset states
    trainer.run()
    c = trainer.counters
    assert c.step == 1000 and len(c.episode_return) == 4
    assert c.episodes > 4  # CartPole episodes under a random-ish policy are short


def test_stop_and_resume_with_several_envs_equals_uninterrupted(tmp_path, tiny):
    assert main(_args(tmp_path / "full", tiny, 4)) == 0
    cut = tmp_path / "cut"
    rundir.prepare(resolve_from_args(build_parser().parse_args(_args(cut, tiny, 4))), cut)
    calls = {"n": 0}

    def stop_once():
        calls["n"] += 1
        return calls["n"] == 83  # iteration 83 = step 332: not on a checkpoint or log boundary

    assert train(cut, should_stop=stop_once, progress=False) == "stopped"
    assert rundir.read_status(cut)["steps_done"] == 332
    assert train(cut, progress=False) == "done"
    assert_same_logs(tmp_path / "full", cut)


def test_budget_not_a_multiple_of_num_envs_is_a_one_line_error(tmp_path, tiny):
    proc = run_cli(*_args(tmp_path / "bad", tiny, 3, steps=1000), timeout=120)
    assert proc.returncode != 0
    assert "multiples of env.num_envs (3)" in proc.stderr and proc.stderr.count("\n") <= 2
    assert not (tmp_path / "bad").exists()

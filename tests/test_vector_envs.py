"""Several env copies per run (`env.num_envs`): batched acting, exact replay ratio, exact resume."""

import importlib.util

import numpy as np
import pandas as pd
import pytest
from run_helpers import assert_same_logs, run_cli, stop_at_step

from dqnlab import rundir
from dqnlab.cli import build_parser, main, resolve_from_args
from dqnlab.presets import resolve_config
from dqnlab.train import Trainer, env_seed, resume_seed, train


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


def test_updates_and_target_syncs_happen_in_the_single_env_order(tmp_path, tiny, monkeypatch):
    """Not only the counts: with num_envs=4 the sequence of (update, target sync) events per agent
    step is the single-env one, also for a soft target with a period shorter than num_envs."""
    from dqnlab.agent import Agent

    events: list[str] = []
    update, sync = Agent.update, Agent.update_target
    monkeypatch.setattr(Agent, "update", lambda self, b: (events.append("u"), update(self, b))[1])
    monkeypatch.setattr(Agent, "update_target", lambda self: (events.append("t"), sync(self))[1])
    runs = {}
    for n in (1, 4):
        events.clear()
        args = _args(tmp_path / f"n{n}", tiny, n, "dqn", 400, 2) + [
            "--set", "agent.target_update_period_steps=3", "--set", "agent.target_update_tau=0.5"]
        assert main(args) == 0
        runs[n] = "".join(events)
    assert runs[1] == runs[4] and runs[1].count("u") == 151 and runs[1].count("t") == 133


def test_env_copies_have_their_own_seeds_streams_and_episodes(tmp_path, tiny):
    run_dir = tmp_path / "run"
    rundir.prepare(resolve_from_args(build_parser().parse_args(_args(run_dir, tiny, 4))), run_dir)
    trainer = Trainer(run_dir, progress=False)
    assert len(trainer.runs[0].envs.envs) == 4 and trainer.runs[0].replay.num_streams == 4
    assert env_seed(3, 0) == 3 and len({env_seed(3, i) for i in range(4)}) == 4
    assert all(0 <= env_seed(s, i) < 2**31 for s in range(20) for i in range(8))  # ALE takes C ints
    assert all(0 <= resume_seed(s, i, k) < 2**31 for s in range(5) for i in range(4) for k in (0, 10**9))
    assert len({o.tobytes() for o in trainer.runs[0].obs}) == 4  # different reset states
    trainer.run()
    c = trainer.counters
    assert c.step == 1000 and len(c.episode_return) == 4
    assert c.episodes > 4  # CartPole episodes under a random-ish policy are short


def test_stop_and_resume_with_several_envs_equals_uninterrupted(tmp_path, tiny):
    assert main(_args(tmp_path / "full", tiny, 4)) == 0
    cut = tmp_path / "cut"
    rundir.prepare(resolve_from_args(build_parser().parse_args(_args(cut, tiny, 4))), cut)
    with stop_at_step(332) as stop_once:  # iteration 83: not on a checkpoint or log boundary
        assert train(cut, should_stop=stop_once, progress=False) == "stopped"
    assert rundir.read_status(cut)["steps_done"] == 332
    assert train(cut, progress=False) == "done"
    assert_same_logs(tmp_path / "full", cut)


def test_budget_not_a_multiple_of_num_envs_is_a_one_line_error(tmp_path, tiny):
    proc = run_cli(*_args(tmp_path / "bad", tiny, 3, steps=1000), timeout=120)
    assert proc.returncode != 0
    assert "multiples of env.num_envs (3)" in proc.stderr and proc.stderr.count("\n") <= 2
    assert not (tmp_path / "bad").exists()


needs_ale = pytest.mark.skipif(importlib.util.find_spec("ale_py") is None, reason="needs ale-py")


@needs_ale
def test_ale_vector_backend_is_our_atari_pipeline_pixel_for_pixel():
    """AtariVectorEnv against copies of make_env's machado2018 pipeline, sticky actions off (they
    draw from different RNGs): same frames, rewards, episode ends and resets, also across a
    truncation by the frame cap."""
    from dqnlab.envs.vector import AleVectorEnvs, EnvCopies

    cfg = resolve_config("ALE/Pong-v5", "dqn", protocol="machado2018", overrides={
        "env.sticky_action_prob": 0.0, "env.max_episode_frames": 400})
    seeds = [11, 12]
    ours, ale = EnvCopies(cfg.env, seeds), AleVectorEnvs(cfg.env, seeds)
    assert ale.num_actions == ours.num_actions == 6
    for a, b in zip(ours.reset(), ale.reset()):
        np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(230):  # the 400-frame cap truncates at agent step 100 and 200
        actions = rng.integers(0, 6, 2).tolist()
        for x, y in zip(ours.step(actions), ale.step(actions)):
            np.testing.assert_array_equal(x.next_obs, y.next_obs)
            assert (x.reward, x.terminated, x.truncated) == (y.reward, y.terminated, y.truncated)
            assert (x.reset_obs is None) == (y.reset_obs is None)
            if x.reset_obs is not None:
                np.testing.assert_array_equal(x.reset_obs, y.reset_obs)
                ends += 1
    assert ends == 4


@needs_ale
def test_ale_vector_backend_trains_and_resumes_with_new_episodes(tmp_path, tiny):
    run_dir = tmp_path / "run"
    args = ["train", "--env", "ALE/Pong-v5", "--components", "dqn", "--steps", "400",
            "--run-dir", str(run_dir), "--quiet", *tiny, "--set", "network.hidden_sizes=32",
            "--set", "replay.capacity=2000", "--set", "eval.episodes=1",
            "--set", "env.max_episode_frames=400", "--set", "env.num_envs=2",
            "--set", "env.vector_backend=ale"]
    rundir.prepare(resolve_from_args(build_parser().parse_args(args)), run_dir)
    with stop_at_step(150) as stop:
        assert train(run_dir, should_stop=stop, progress=False) == "stopped"
    assert rundir.read_status(run_dir)["steps_done"] == 150
    assert train(run_dir, progress=False) == "done"
    progress = pd.read_csv(run_dir / "progress.csv")
    assert progress.step.iloc[-1] == 400 and progress.episodes.iloc[-1] >= 2


@pytest.mark.parametrize("extra,message", [
    (["--env", "CartPole-v1"], "needs an Atari env"),
    (["--env", "ALE/Pong-v5", "--protocol", "nature2015"], "machado2018 protocol only"),
])
def test_ale_vector_backend_refuses_what_it_cannot_reproduce(tmp_path, extra, message):
    proc = run_cli("train", *extra, "--run-dir", str(tmp_path / "r"), "--set", "env.vector_backend=ale",
                   timeout=120)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "r").exists()

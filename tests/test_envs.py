"""dqnlab.envs: family detection, the observation/info contract, seeding, time limits, life loss."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from dqnlab import envs, protocols
from dqnlab.envs import env_family, make_env
from dqnlab.envs import families as fam

# Atari tests need the optional extra dqnlab[atari]; the rest must pass without it.
needs_ale = pytest.mark.skipif(
    importlib.util.find_spec("ale_py") is None, reason="needs ale-py: pip install 'dqnlab[atari]'"
)


@dataclass(frozen=True)
class EnvCfg:
    """Stand-in for dqnlab.config.EnvConfig (same fields, same defaults)."""

    id: str = "CartPole-v1"
    family: str = "classic"
    frame_skip: int = 1
    sticky_action_prob: float = 0.0
    noop_max: int = 0
    terminal_on_life_loss: bool = False
    reward_clip: bool = False
    max_episode_frames: int | None = None
    max_episode_steps: int | None = None
    frame_stack: int = 1
    screen_size: int = 84
    full_action_space: bool = False


def protocol_settings(name: str) -> dict[str, object]:
    """The `EnvConfig` settings of an Atari protocol ("none": no settings)."""
    if name == "none":
        return {}
    return {k.removeprefix("env."): v for k, v in protocols.get(name).families["atari"].items()}


def cfg_for(env_id: str, protocol: str = "none", **overrides: object) -> EnvCfg:
    family = "atari" if env_id.startswith("ALE/") else env_family(env_id)  # no ale-py needed
    settings: dict[str, object] = {"id": env_id, "family": family}
    settings.update(protocol_settings(protocol))
    settings.update(overrides)
    return EnvCfg(**settings)


def rollout(env, seed: int, steps: int, action_seed: int = 0):
    """Drive `env` with a fixed random action sequence; reset (unseeded) when an episode ends."""
    rng = np.random.default_rng(action_seed)
    obs, _ = env.reset(seed=seed)
    out = [(obs.copy(), 0.0, False, False, False)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        out.append((obs.copy(), reward, terminated, truncated, info["life_loss"]))
        if terminated or truncated:
            obs, _ = env.reset()
            out.append((obs.copy(), 0.0, False, False, False))
    return out


def same(a, b) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x[0], y[0]) and x[1:] == y[1:] for x, y in zip(a, b)
    )


# --- family detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env_id,family",
    [
        ("CartPole-v0", "classic"),
        ("CartPole-v1", "classic"),
        ("Acrobot-v1", "classic"),
        ("MountainCar-v0", "classic"),
        ("MinAtar/Breakout-v1", "minatar"),
        ("MinAtar/SpaceInvaders-v1", "minatar"),
        ("MinAtar/Asterix-v0", "minatar"),
        pytest.param("ALE/Pong-v5", "atari", marks=needs_ale),
        pytest.param("ALE/MontezumaRevenge-v5", "atari", marks=needs_ale),
    ],
)
def test_env_family(env_id: str, family: str) -> None:
    assert env_family(env_id) == family


@pytest.mark.parametrize(
    "env_id",
    [
        "CartPole-v2",
        "Pong",
        "ALE/Pong-v4",
        pytest.param("ALE/NotAGame-v5", marks=needs_ale),
        pytest.param("ALE/Combat-v5", marks=needs_ale),
        "MinAtar/Pong-v1",
    ],
)
def test_unknown_ids_raise_one_line(env_id: str) -> None:
    with pytest.raises(ValueError) as err:
        env_family(env_id)
    assert "\n" not in str(err.value) and env_id.split("/")[-1].split("-")[0] in str(err.value)


def test_minatar_ids_match_what_minatar_registers() -> None:
    import gymnasium

    fam.ensure_registered("minatar")
    registered = {k for k in gymnasium.registry if k.startswith("MinAtar/")}
    assert registered == set(envs.MINATAR_IDS)


def test_lunar_lander_follows_box2d() -> None:
    if fam.box2d_available():
        assert env_family("LunarLander-v3") == "classic"
    else:
        with pytest.raises(ValueError, match="box2d"):
            env_family("LunarLander-v3")


@needs_ale
def test_missing_ale_py_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    fam.ale_games.cache_clear()
    monkeypatch.setitem(sys.modules, "ale_py", None)  # makes `import ale_py` fail
    try:
        with pytest.raises(ImportError, match=r"dqnlab\[atari\]"):
            env_family("ALE/Pong-v5")
    finally:
        fam.ale_games.cache_clear()


def test_import_is_cheap() -> None:
    import subprocess

    code = (
        "import sys, dqnlab.envs; "
        "print(sorted(m for m in ('gymnasium', 'ale_py', 'minatar', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- protocols ----------------------------------------------------------------------------------


def test_atari_protocols_set_env_config_fields() -> None:
    fields = {f.name for f in dataclasses.fields(EnvCfg)}
    for name in ("machado2018", "nature2015"):
        settings = protocols.get(name).families["atari"]
        assert {k.removeprefix("env.") for k in settings} <= fields and all(k.startswith("env.") for k in settings)
    m, n = protocol_settings("machado2018"), protocol_settings("nature2015")
    assert (m["sticky_action_prob"], m["noop_max"], m["terminal_on_life_loss"]) == (0.25, 0, False)
    assert (n["sticky_action_prob"], n["noop_max"], n["terminal_on_life_loss"]) == (0.0, 30, True)
    for s in (m, n):
        assert (s["frame_skip"], s["frame_stack"], s["screen_size"]) == (4, 4, 84)
        assert s["max_episode_frames"] == 108_000 and s["reward_clip"] is True


# --- observation contract ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg,shape,dtype",
    [
        (cfg_for("CartPole-v1"), (4,), np.float32),
        (cfg_for("MountainCar-v0"), (2,), np.float32),
        (cfg_for("MinAtar/Breakout-v1"), (4, 10, 10), np.uint8),
        (cfg_for("MinAtar/Seaquest-v1"), (10, 10, 10), np.uint8),
        pytest.param(cfg_for("ALE/Pong-v5", "machado2018"), (4, 84, 84), np.uint8, marks=needs_ale),
    ],
    ids=lambda x: getattr(x, "id", None),
)
def test_observation_shapes_and_dtypes(cfg: EnvCfg, shape: tuple, dtype: type) -> None:
    env = make_env(cfg, seed=0)
    assert env.observation_space.shape == shape and env.observation_space.dtype == dtype
    obs, info = env.reset(seed=0)
    assert obs.shape == shape and obs.dtype == dtype and info["life_loss"] is False
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert obs.shape == shape and obs.dtype == dtype
    assert isinstance(reward, float) and info["life_loss"] is False
    assert type(terminated) is bool and type(truncated) is bool
    if cfg.family == "minatar":
        assert set(np.unique(obs)) <= {0, 1}


@needs_ale
def test_action_sets() -> None:
    assert make_env(cfg_for("ALE/Pong-v5", "machado2018"), 0).action_space.n == 6
    full = cfg_for("ALE/Pong-v5", "machado2018", full_action_space=True)
    assert make_env(full, 0).action_space.n == 18
    assert make_env(cfg_for("MinAtar/Breakout-v1"), 0).action_space.n == 3
    assert make_env(cfg_for("MinAtar/Breakout-v0", full_action_space=True), 0).action_space.n == 6


@needs_ale
def test_atari_stack_is_a_zero_padded_sliding_window() -> None:
    env = make_env(cfg_for("ALE/Breakout-v5", "nature2015", max_episode_frames=2000), seed=1)
    obs, _ = env.reset()
    assert not obs[:-1].any() and obs[-1].any()  # zero padding before the first frame
    rng = np.random.default_rng(0)
    for _ in range(600):
        nxt, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        assert np.array_equal(nxt[:-1], obs[1:])
        obs = nxt
        if terminated or truncated:
            obs, _ = env.reset()
            assert not obs[:-1].any()


def test_non_atari_rejects_atari_settings() -> None:
    with pytest.raises(ValueError, match="frame_skip"):
        make_env(cfg_for("CartPole-v1", frame_skip=4), 0)
    with pytest.raises(ValueError, match="family"):
        make_env(cfg_for("CartPole-v1", family="atari"), 0)


# --- determinism --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg,steps",
    [
        (cfg_for("CartPole-v1"), 300),
        (cfg_for("MinAtar/Breakout-v1", sticky_action_prob=0.1), 500),
        (cfg_for("MinAtar/Asterix-v1", sticky_action_prob=0.1), 300),
        pytest.param(cfg_for("ALE/Breakout-v5", "machado2018"), 300, marks=needs_ale),
        pytest.param(cfg_for("ALE/Breakout-v5", "nature2015"), 300, marks=needs_ale),
    ],
    ids=lambda x: getattr(x, "id", None) and f"{x.id}-{x.sticky_action_prob}-{x.noop_max}",
)
def test_same_seed_same_trajectory(cfg: EnvCfg, steps: int) -> None:
    a = rollout(make_env(cfg, seed=7), 7, steps)
    b = rollout(make_env(cfg, seed=7), 7, steps)
    c = rollout(make_env(cfg, seed=8), 8, steps)
    assert same(a, b)
    assert not same(a, c)  # the seed reaches the env's randomness


@needs_ale
def test_seed_given_to_make_env_seeds_the_first_reset() -> None:
    cfg = cfg_for("ALE/Breakout-v5", "machado2018")
    e1, e2 = make_env(cfg, seed=3), make_env(cfg, seed=3)
    o1, _ = e1.reset()
    o2, _ = e2.reset(seed=3)
    assert np.array_equal(o1, o2)
    assert [e1.action_space.sample() for _ in range(20)] == [
        e2.action_space.sample() for _ in range(20)
    ]


@needs_ale
def test_nature2015_noops_depend_on_seed() -> None:
    frames = set()
    for seed in range(4):
        env = make_env(cfg_for("ALE/Breakout-v5", "nature2015"), seed=seed)
        _, info = env.reset()
        frames.add(info["episode_frame_number"])
        assert 1 <= info["episode_frame_number"] <= 30
    assert len(frames) > 1


# --- time limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg,limit",
    [
        (cfg_for("CartPole-v1", max_episode_steps=5), 5),
        (cfg_for("MinAtar/Freeway-v1", max_episode_steps=20), 20),
        pytest.param(
            cfg_for("ALE/Pong-v5", "machado2018", max_episode_frames=400), 100, marks=needs_ale
        ),
        pytest.param(
            cfg_for("ALE/Pong-v5", "machado2018", max_episode_steps=30), 30, marks=needs_ale
        ),
    ],
    ids=lambda x: getattr(x, "id", None),
)
def test_time_limit_is_a_truncation(cfg: EnvCfg, limit: int) -> None:
    env = make_env(cfg, seed=0)
    env.reset(seed=0)
    for t in range(1, limit + 1):
        _, _, terminated, truncated, _ = env.step(0)
        assert not terminated
        assert truncated == (t == limit)


@needs_ale
def test_nature2015_frame_cap_counts_noop_frames() -> None:
    env = make_env(cfg_for("ALE/Pong-v5", "nature2015", max_episode_frames=400), seed=0)
    _, info = env.reset()
    noops = info["episode_frame_number"]
    steps, truncated = 0, False
    while not truncated:
        _, _, terminated, truncated, info = env.step(0)
        steps += 1
        assert not terminated
    assert info["episode_frame_number"] == 400 and steps == -(-(400 - noops) // 4)


# --- life loss and rewards --------------------------------------------------------------------


def _play_until_life_lost(env, max_steps: int = 3000):
    rng = np.random.default_rng(0)
    _, info = env.reset()
    lives = info["lives"]
    for _ in range(max_steps):
        _, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        if info["lives"] < lives:
            return terminated, truncated, info
        assert not (terminated or truncated)
    raise AssertionError("no life lost within the step bound")


@needs_ale
def test_nature2015_life_loss_is_reported_without_ending_the_episode() -> None:
    env = make_env(cfg_for("ALE/Breakout-v5", "nature2015"), seed=0)
    terminated, truncated, info = _play_until_life_lost(env)
    assert info["life_loss"] is True and info["lives"] > 0
    assert not terminated and not truncated
    _, _, terminated, _, info = env.step(1)  # the game goes on
    assert info["life_loss"] is False and not terminated


@needs_ale
def test_machado2018_reports_no_life_loss() -> None:
    env = make_env(cfg_for("ALE/Breakout-v5", "machado2018"), seed=0)
    terminated, truncated, info = _play_until_life_lost(env)
    assert info["life_loss"] is False and not terminated and not truncated


@needs_ale
def test_rewards_are_raw_not_clipped() -> None:
    # Asterix pays 50 per item; a random agent collects one within a few hundred steps.
    cfg = cfg_for("ALE/Asterix-v5", "machado2018")
    assert cfg.reward_clip  # clipping is the learner's job, the env must not do it
    env = make_env(cfg, seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    rewards = set()
    for _ in range(1000):
        _, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        rewards.add(reward)
        if reward > 1:
            break
        if terminated or truncated:
            env.reset()
    assert max(rewards) >= 50


# --- what the learner takes from a step (shared by training and evaluation) ----------------------


def test_learning_reward_clips_only_where_the_protocol_does() -> None:
    from dqnlab.config import EnvConfig
    from dqnlab.envs.signals import learning_reward

    clip, raw = EnvConfig(reward_clip=True), EnvConfig(reward_clip=False)
    assert [learning_reward(clip, r) for r in (-7.0, -0.5, 0.0, 3)] == [-1.0, -0.5, 0.0, 1.0]
    assert [learning_reward(raw, r) for r in (-7.0, 3)] == [-7.0, 3.0]


def test_a_life_loss_ends_the_bootstrap_only_under_nature2015() -> None:
    from dqnlab.config import EnvConfig
    from dqnlab.envs.signals import ends_bootstrap

    nature = EnvConfig(**protocol_settings("nature2015"))
    machado = EnvConfig(**protocol_settings("machado2018"))
    assert ends_bootstrap(nature, False, True) and not ends_bootstrap(machado, False, True)
    assert ends_bootstrap(machado, True, False) and not ends_bootstrap(nature, False, False)

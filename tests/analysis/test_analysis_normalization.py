import numpy as np
import pytest

from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.normalization import (
    atari_game_key,
    atari_table,
    normalize,
    reference_for,
    small_scale_table,
)


def test_atari_table_has_57_games_with_dqn_zoo_video_pinball():
    table = atari_table()
    assert len(table) == 57
    assert table.loc["video_pinball", "random"] == 16256.9
    assert table.loc["pong", "human"] == 14.6


@pytest.mark.parametrize(
    ("env_id", "key"),
    [
        ("ALE/Pong-v5", "pong"),
        ("ALE/VideoPinball-v5", "video_pinball"),
        ("ALE/MontezumaRevenge-v5", "montezuma_revenge"),
        ("ALE/UpNDown-v5", "up_n_down"),
        ("ALE/KungFuMaster-v5", "kung_fu_master"),
        ("BreakoutNoFrameskip-v4", "breakout"),
    ],
)
def test_gymnasium_ids_map_to_snake_case_games(env_id, key):
    assert atari_game_key(env_id) == key


def test_every_ale_v5_game_of_the_table_maps():
    gym = pytest.importorskip("gymnasium")
    ale_py = pytest.importorskip("ale_py")
    gym.register_envs(ale_py)
    keys = set()
    for env_id in gym.registry:
        if env_id.startswith("ALE/") and env_id.endswith("-v5"):
            try:
                keys.add(atari_game_key(env_id))
            except AnalysisError:
                pass  # a game outside the 57 (Adventure, Tetris, ...)
    assert keys == set(atari_table().index)


def test_human_normalized_score_by_hand():
    # Breakout: random 1.7, human 30.5 -> (16.1 - 1.7) / 28.8 = 0.5
    assert normalize("ALE/Breakout-v5", 16.1) == pytest.approx(0.5)
    assert normalize("ALE/Pong-v5", -20.7) == pytest.approx(0.0)
    assert normalize("ALE/Pong-v5", 14.6) == pytest.approx(1.0)
    np.testing.assert_allclose(normalize("ALE/Pong-v5", np.array([-20.7, 14.6])), [0.0, 1.0])


def test_small_scale_normalization_by_hand():
    cartpole = reference_for("CartPole-v1")
    assert cartpole.reference == 500.0
    assert normalize("CartPole-v1", 500.0) == pytest.approx(1.0)
    assert normalize("CartPole-v1", cartpole.random) == pytest.approx(0.0)
    # MountainCar: random -600 (its 600-step cap), reference -110 (reward_threshold) -> -355 is halfway.
    assert normalize("MountainCar-v0", -355.0) == pytest.approx(0.5)
    assert reference_for("MinAtar/Breakout-v1").family == "minatar"


def test_every_small_scale_row_documents_its_reference():
    table = small_scale_table()
    assert set(table["family"]) == {"classic", "minatar"}
    assert table["reference_source"].str.len().min() > 10
    assert (table["reference"] > table["random"]).all()


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "ALE/NotAGame-v5", "MinAtar/Breakout-v2"])
def test_unknown_env_is_a_clear_error(env_id):
    with pytest.raises(AnalysisError, match="no normalization reference|unknown Atari game"):
        normalize(env_id, 1.0)

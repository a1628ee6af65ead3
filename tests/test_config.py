"""Config overrides are typed; bad input is a ConfigError with a clear message."""

import pytest

from dqnlab.config import Config, apply_settings, from_dict, help_text, parse_set_args, to_dict
from dqnlab.errors import ConfigError
from dqnlab.presets import resolve_config


def test_overrides_are_type_checked():
    cfg = apply_settings(Config(), {
        "agent.learning_rate": "1e-3", "replay.capacity": "1_000", "network.hidden_sizes": "64,64",
        "agent.max_grad_norm": "none", "agent.double": "true", "total_steps": "2e4",
    })
    assert cfg.agent.learning_rate == 1e-3 and cfg.replay.capacity == 1000
    assert cfg.network.hidden_sizes == (64, 64) and cfg.agent.max_grad_norm is None
    assert cfg.agent.double is True and cfg.total_steps == 20000


@pytest.mark.parametrize("pair, message", [
    ("agent.learning_rate=fast", "expects float"),
    ("replay.capacity=1.5", "expects int"),
    ("agent.double=maybe", "expects bool"),
    ("agent.lr=1", "unknown config key"),
    ("novalue", "key=value"),
])
def test_bad_overrides(pair, message):
    with pytest.raises(ConfigError, match=message):
        apply_settings(Config(), parse_set_args([pair]))


@pytest.mark.parametrize("kwargs, message", [
    ({"env_id": "Pong"}, "Pong"),
    ({"components": "dqn+foo"}, "unknown component"),
    ({"total_steps": 0}, r"budget \(--steps\) total_steps must be in"),
    ({"total_steps": -5}, r"budget \(--steps\) total_steps must be in"),
    ({"components": "c51", "overrides": {"categorical.v_min": "5", "categorical.v_max": "5"}}, "v_min < v_max"),
    ({"components": "c51", "overrides": {"agent.loss": "mse"}}, "cross_entropy"),
    ({"preset": "mujoco"}, "unknown preset"),
])
def test_resolve_errors(kwargs, message):
    kwargs = {"env_id": "CartPole-v1", **kwargs}
    env_id = kwargs.pop("env_id")
    with pytest.raises(ConfigError, match=message):
        resolve_config(env_id, **kwargs)


def test_round_trip_and_help():
    cfg = resolve_config("ALE/Pong-v5", "rainbow", protocol="nature2015", seed=3)
    assert from_dict(to_dict(cfg)) == cfg
    assert cfg.env.noop_max == 30 and cfg.env.sticky_action_prob == 0.0 and cfg.env.frame_skip == 4
    assert cfg.total_frames == cfg.total_steps * 4
    text = help_text()
    assert "agent.learning_rate (float)" in text and "Adam learning rate" in text

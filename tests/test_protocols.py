"""Named protocols: every Revisiting Rainbow setting against a table written here from their gin
files (github.com/JohanSamir/revisiting_rainbow @ 7cd2bc6, Configs/), the schedules they imply,
and how a protocol is chosen, refused and recorded."""

import math

import pytest

from dqnlab import protocols
from dqnlab.config import get_path
from dqnlab.errors import ConfigError
from dqnlab.presets import resolve_config
from dqnlab.schedules import beta_at, epsilon_at

# Configs/rainbow_<env>.gin, one column per env (RR's MinAtar games all share one table).
# Keys are config fields; "cap" is Runner.max_steps_per_episode.
RAINBOW_GIN = {
    #                         CartPole-v0  Acrobot-v1  MountainCar-v0  LunarLander-v3  MinAtar/Breakout-v0
    "total_steps":              (30_000,    30_000,     30_000,         120_000,        10_000_000),
    "env.max_episode_steps":    (200,       500,        600,            1_000,          None),
    "agent.learning_rate":      (1e-4,      1e-4,       1e-4,           1e-3,           1e-4),
    "agent.update_period_steps": (2,        2,          2,              4,              4),
    "agent.target_update_period_steps": (100, 100,      100,            300,            1_000),
    "agent.min_replay_steps":   (500,       500,        500,            500,            1_000),
    "agent.batch_size":         (128,       128,        128,            128,            32),
    "replay.capacity":          (50_000,    50_000,     50_000,         50_000,         100_000),
    "categorical.v_max":        (200.0,     200.0,      100.0,          300.0,          100.0),
    "network.hidden_sizes":     ((512, 512), (512, 512), (512, 512),    (512, 512),     ()),
}
ENVS = ("CartPole-v0", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3", "MinAtar/Breakout-v0")
# The same in every rainbow_*.gin (or Dopamine 3.1.10's default where the gin binds nothing).
EVERY_ENV = {
    "agent.gamma": 0.99, "agent.adam_eps": 3.125e-4, "agent.max_grad_norm": None,
    "replay.n_step": 3, "categorical.num_atoms": 51, "replay.prioritized": True, "agent.double": True,
    "network.dueling": True, "network.noisy": True, "network.noisy_sigma0": 0.1,
    "network.init": "glorot_uniform", "network.dueling_layout": "heads", "env.reward_clip": True,
    "replay.priority_exponent": 0.5, "replay.importance_exponent_start": 0.5,
    "replay.importance_exponent_end": 0.5, "agent.loss": "cross_entropy",
    "explore.warmup_epsilon": 0.01, "explore.epsilon_start": 0.01, "explore.epsilon_end": 0.01,
}
# networks_new.py L17-20
BOUNDS = {
    "CartPole-v0": ([-2.4, -5.0, -math.pi / 12, -2 * math.pi], [2.4, 5.0, math.pi / 12, 2 * math.pi]),
    "Acrobot-v1": ([-1.0] * 4 + [-5.0] * 2, [1.0] * 4 + [5.0] * 2),
    "MountainCar-v0": ([-1.2, -0.07], [0.6, 0.07]),
    "LunarLander-v3": ([], []),
    "MinAtar/Breakout-v0": ([], []),
}
# Configs/dqn_<env>.gin where it differs from rainbow_<env>.gin (the components aside).
DQN_GIN = {
    "CartPole-v0": {"agent.learning_rate": 1e-3, "agent.update_period_steps": 4, "agent.loss": "mse"},
    "Acrobot-v1": {"agent.learning_rate": 1e-3, "agent.update_period_steps": 4, "agent.loss": "mse"},
    "MountainCar-v0": {"agent.learning_rate": 1e-2, "agent.update_period_steps": 4, "agent.loss": "mse"},
    "LunarLander-v3": {"agent.learning_rate": 1e-3, "agent.update_period_steps": 4, "agent.loss": "mse"},
    "MinAtar/Breakout-v0": {"agent.learning_rate": 2.5e-4, "agent.loss": "mse"},
    "MinAtar/Asterix-v0": {"agent.learning_rate": 2.5e-4, "agent.loss": "huber"},  # mse_inf = False
}


def _envs():
    from dqnlab.envs import box2d_available

    return [e for e in ENVS if e != "LunarLander-v3" or box2d_available()]


@pytest.mark.parametrize("env", _envs())
def test_rainbow_takes_every_setting_of_rainbow_gin(env):
    cfg = resolve_config(env, "rainbow")
    assert cfg.protocol == "revisiting_rainbow"
    column = ENVS.index(env)
    for key, values in RAINBOW_GIN.items():
        assert get_path(cfg, key) == values[column], key
    assert cfg.categorical.v_min == -cfg.categorical.v_max  # support = linspace(-vmax, vmax, num_atoms)
    for key, value in EVERY_ENV.items():
        assert get_path(cfg, key) == value, key
    low, high = BOUNDS[env]
    assert list(cfg.network.input_low) == pytest.approx(low) and list(cfg.network.input_high) == pytest.approx(high)


@pytest.mark.parametrize("env", [*(e for e in _envs()), "MinAtar/Asterix-v0"])
def test_the_dqn_protocol_is_dqn_gin(env):
    rainbow_gin = resolve_config(env, "dqn")
    dqn_gin = resolve_config(env, "dqn", protocol="revisiting_rainbow_dqn")
    assert dqn_gin.protocol == "revisiting_rainbow_dqn"
    differing = {k for k in _flat(rainbow_gin) if _flat(rainbow_gin)[k] != _flat(dqn_gin)[k]}
    assert differing - {"protocol"} == {k for k, v in DQN_GIN[env].items() if get_path(rainbow_gin, k) != v}
    for key, value in DQN_GIN[env].items():
        assert get_path(dqn_gin, key) == value, key


def _flat(cfg):
    from dqnlab.config import iter_fields

    return {k: get_path(cfg, k) for k, *_ in iter_fields()}


def test_minatar_uses_minatar_defaults_and_rrs_network():
    cfg = resolve_config("MinAtar/Breakout-v0", "dqn")
    assert cfg.env.sticky_action_prob == 0.1 and cfg.network.torso == "minatar_same"
    assert (cfg.explore.warmup_epsilon, cfg.explore.epsilon_start, cfg.explore.epsilon_end,
            cfg.explore.epsilon_decay_steps) == (1.0, 1.0, 0.01, 250_000)


def test_epsilon_schedules_by_hand():
    """identity_epsilon: 0.01 from step 0. linearly_decaying_epsilon(250000, step, 1000, 0.01)
    (Dopamine 3.1.10 jax/agents/dqn/dqn_agent.py L134-145): 1.0 up to the end of the warm-up,
    then linear, 0.505 halfway, 0.01 from step 251000 on."""
    classic = resolve_config("Acrobot-v1", "dqn")
    assert [epsilon_at(classic, s) for s in (0, 499, 500, 30_000)] == [0.01] * 4
    minatar = resolve_config("MinAtar/Breakout-v0", "dqn")
    got = [epsilon_at(minatar, s) for s in (0, 999, 1_000, 126_000, 251_000, 2_000_000)]
    assert got == pytest.approx([1.0, 1.0, 1.0, 0.505, 0.01, 0.01])
    noisy = resolve_config("MinAtar/Breakout-v0", "rainbow")
    assert [epsilon_at(noisy, s) for s in (0, 1_000, 126_000)] == [0.01] * 3


def test_per_beta_is_fixed_at_one_half():
    cfg = resolve_config("Acrobot-v1", "rainbow")
    assert beta_at(cfg, 0) == beta_at(cfg, 15_000) == beta_at(cfg, 30_000) == 0.5
    atari = resolve_config("ALE/Pong-v5", "rainbow")  # Hessel et al.: 0.4 -> 1
    assert beta_at(atari, 0) == pytest.approx(0.4) and beta_at(atari, atari.total_steps) == pytest.approx(1.0)


@pytest.mark.parametrize("env, family", [("CartPole-v1", "classic"), ("MinAtar/Breakout-v1", "minatar"),
                                         ("ALE/Pong-v5", "atari")])
def test_each_family_has_its_default_protocol(env, family):
    assert resolve_config(env, "dqn").protocol == protocols.DEFAULTS[family]


@pytest.mark.parametrize("env, protocol, message", [
    ("CartPole-v0", "nature2015", "does not apply to classic"),
    ("ALE/Pong-v5", "revisiting_rainbow", "does not apply to atari"),
    ("CartPole-v0", "dopamine", "unknown protocol"),
])
def test_a_protocol_that_does_not_apply_is_refused(env, protocol, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(env, "dqn", protocol=protocol)


def test_every_protocol_setting_is_a_config_key_and_components_keep_their_switch():
    from dqnlab import components
    from dqnlab.config import iter_fields

    keys = {k for k, *_ in iter_fields()}
    for p in protocols.PROTOCOLS.values():
        tables = [*p.families.values(), *p.envs.values(), *p.components.values()]
        for table in tables:
            assert set(table) <= keys, p.name
        for name, values in p.components.items():
            assert components.REGISTRY[name].switch not in values, f"{p.name} may not switch {name}"
        # A protocol never switches a component on or off: that is the variant's job.
        for table in (*p.families.values(), *p.envs.values()):
            assert not {c.switch for c in components.COMPONENTS} & set(table), p.name


# -- the ICML figure's code: RR @ 2d49d68 with Dopamine 3.1.8 ------------------------------------

# What differs from the protocols above, read from RR's gin files and code @ 2d49d68 and Dopamine
# 3.1.8 (c79261c); the rest of every table is the same (the gin files differ only in these lines).
ICML_ERA = {
    "network.noise_draw": "fixed",  # networks_new.py L30-31: normal(PRNGKey(0), shape)
    "replay.timeout": "terminal",  # Dopamine 3.1.8 end_episode: is_terminal=True
    "replay.scalar_priority": "loss",  # dqn_agent_new.py L310-313: sqrt(loss + 1e-10)
    "replay.importance_weights": True,  # applied from 2d49d68 on
}
ICML_RAINBOW = {"network.init": "variance_scaling_fan_in"}  # rainbow_<env>.gin L23
ICML_DQN = {"network.init": "glorot_uniform", "agent.loss": "huber"}  # dqn_<env>.gin L31, L28 (mse_inf False)
ITERATION = {"CartPole-v0": 1_000, "Acrobot-v1": 1_000, "MountainCar-v0": 1_000, "LunarLander-v3": 4_000,
             "MinAtar/Breakout-v0": 1_000_000, "MinAtar/Asterix-v0": 1_000_000}


@pytest.mark.parametrize("env", _envs())
def test_the_icml_protocol_is_todays_table_with_the_eras_code(env):
    today = resolve_config(env, "rainbow")
    icml = resolve_config(env, "rainbow", protocol="revisiting_rainbow_icml2021")
    expected = {**ICML_ERA, **ICML_RAINBOW, "run.iteration_steps": ITERATION[env]}
    differing = {k for k, v in _flat(icml).items() if v != _flat(today)[k]} - {"protocol"}
    assert differing == {k for k, v in expected.items() if get_path(today, k) != v}
    for key, value in expected.items():
        assert get_path(icml, key) == value, key


@pytest.mark.parametrize("env", [*(e for e in _envs()), "MinAtar/Asterix-v0"])
def test_the_icml_dqn_protocol_is_dqn_gin_of_the_era(env):
    today = resolve_config(env, "dqn", protocol="revisiting_rainbow_dqn")
    icml = resolve_config(env, "dqn", protocol="revisiting_rainbow_icml2021_dqn")
    expected = {**ICML_ERA, **ICML_DQN, "run.iteration_steps": ITERATION[env]}
    differing = {k for k, v in _flat(icml).items() if v != _flat(today)[k]} - {"protocol"}
    assert differing == {k for k, v in expected.items() if get_path(today, k) != v}
    for key, value in {**DQN_GIN[env], **expected}.items():
        assert get_path(icml, key) == value, key


def test_the_icml_protocols_say_what_is_inferred():
    for name in ("revisiting_rainbow_icml2021", "revisiting_rainbow_icml2021_dqn"):
        p = protocols.get(name)
        assert p.inferred and any("2d49d68" in line for line in p.inferred)
        assert any("rainbow-no-c51" in line for line in p.inferred)


# -- beyond Rainbow: quantile_<env>.gin and implicit_<env>.gin @ 7cd2bc6 ---------------------------


@pytest.mark.parametrize("env", _envs())
def test_qr_dqn_is_quantile_gin(env):
    rainbow_gin = resolve_config(env, "dqn+qr")
    qr = resolve_config(env, "dqn+qr", protocol="revisiting_rainbow_qrdqn")
    differing = {k for k, v in _flat(qr).items() if v != _flat(rainbow_gin)[k]} - {"protocol"}
    assert differing == {"quantile.num_quantiles"}  # 51 (200 by default: Dabney et al.); kappa 1 both
    assert (qr.quantile.num_quantiles, qr.quantile.kappa, qr.replay.n_step) == (51, 1.0, 1)


@pytest.mark.parametrize("env", _envs())
def test_iqn_and_m_iqn_are_implicit_gin(env):
    base = resolve_config(env, "dqn+iqn+munchausen")
    iqn = resolve_config(env, "dqn+iqn+munchausen", protocol="revisiting_rainbow_iqn")
    c, m = iqn.implicit_quantile, iqn.munchausen
    assert (c.num_tau_samples, c.num_tau_prime_samples, c.num_quantile_samples, c.embedding_dim, c.kappa) == (32, 32, 32, 64, 1.0)
    assert (m.tau, m.l0, m.alpha) == (0.03, -1.0, 0.9 if env.startswith("MinAtar") else 1.0)
    # RR's one set of fractions per batch (one key under vmap) against Dabney et al.'s per transition.
    assert (c.fractions, base.implicit_quantile.fractions) == ("per_batch", "per_transition")
    expected = {"implicit_quantile.num_tau_samples", "implicit_quantile.num_tau_prime_samples",
                "implicit_quantile.fractions"}
    if not env.startswith("MinAtar"):
        expected.add("munchausen.alpha")
    if env == "LunarLander-v3":  # implicit_lunarlander.gin: update period 2, target period 100
        expected |= {"agent.update_period_steps", "agent.target_update_period_steps"}
        assert (iqn.agent.update_period_steps, iqn.agent.target_update_period_steps) == (2, 100)
    assert {k for k, v in _flat(iqn).items() if v != _flat(base)[k]} - {"protocol"} == expected

"""The registry and the variant grammar; rainbow-no-X differs from rainbow exactly by X."""

import pytest

from dqnlab import components as C
from dqnlab.config import get_path, iter_fields
from dqnlab.errors import ConfigError
from dqnlab.presets import PRESETS, resolve_config


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("dqn", ()),
        ("rainbow", C.RAINBOW),
        ("rainbow-no-per", ("double", "dueling", "nstep", "c51", "noisy")),
        ("rainbow-no-per-no-c51", ("double", "dueling", "nstep", "noisy")),
        ("dqn+per+double", ("double", "per")),
        ("c51,double", ("double", "c51")),
        ("noisy", ("noisy",)),
        ("Rainbow", C.RAINBOW),
    ],
)
def test_grammar(spec, expected):
    assert C.parse_variant(spec) == expected


@pytest.mark.parametrize("spec", ["dqn+foo", "rainbow-no-bar", "", "double,double", "dqn+per+per"])
def test_grammar_errors(spec):
    with pytest.raises(ConfigError):
        C.parse_variant(spec)


def test_every_subset_has_one_canonical_name_that_round_trips():
    subsets = C.all_subsets()
    assert len(subsets) == 64
    names = [C.variant_name(s) for s in subsets]
    assert len(set(names)) == 64
    for s, name in zip(subsets, names):
        assert C.parse_variant(name) == s
    assert C.variant_name(()) == "dqn"
    assert C.variant_name(C.RAINBOW) == "rainbow"
    assert C.variant_name(["per", "double"]) == "dqn+double+per"


def test_component_settings_never_collide():
    seen = {}
    for comp in C.COMPONENTS:
        for key in comp.settings:
            assert key not in seen, f"{key} set by {seen.get(key)} and {comp.name}"
            seen[key] = comp.name
    valid_keys = {k for k, *_ in iter_fields()}
    assert set(seen) <= valid_keys


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_hold_textbook_dqn_for_every_switch(preset):
    env = {"classic": "CartPole-v1", "minatar": "MinAtar/Breakout-v1", "atari": "ALE/Pong-v5"}[preset]
    dqn = resolve_config(env, "dqn")
    for comp in C.COMPONENTS:
        for key, on_value in comp.settings.items():
            assert get_path(dqn, key) != on_value, f"{preset}: dqn already has {key}={on_value}"
    assert dqn.replay.n_step == 1 and dqn.network.num_atoms == 1 and not dqn.agent.double
    assert not dqn.replay.prioritized and not dqn.network.noisy and not dqn.network.dueling
    assert dqn.explore.epsilon_start == 1.0


def _flat(cfg):
    return {k: get_path(cfg, k) for k, *_ in iter_fields()}


@pytest.mark.parametrize("env", ["CartPole-v1", "MinAtar/Breakout-v1", "ALE/Pong-v5"])
@pytest.mark.parametrize("removed", C.RAINBOW)
def test_rainbow_minus_x_differs_from_rainbow_only_by_x(env, removed):
    rainbow = _flat(resolve_config(env, "rainbow"))
    arm = _flat(resolve_config(env, f"rainbow-no-{removed}"))
    differing = {k for k in rainbow if rainbow[k] != arm[k]}
    assert differing == set(C.REGISTRY[removed].settings) | {"variant", "components"}


def test_declared_couplings():
    noisy = resolve_config("CartPole-v1", "dqn+noisy")
    assert noisy.explore.epsilon_start == noisy.explore.epsilon_end == 0.0
    c51 = resolve_config("CartPole-v1", "dqn+c51")
    assert c51.network.num_atoms == 51 and c51.agent.loss == "cross_entropy"
    nstep = resolve_config("CartPole-v1", "dqn+nstep")
    assert nstep.replay.n_step == 3
    per = resolve_config("CartPole-v1", "dqn+per")
    assert per.replay.prioritized and per.replay.priority_exponent == 0.5


def test_generators():
    assert C.leave_one_out()[0] == "rainbow" and C.leave_one_out()[-1] == "dqn"
    assert len(C.leave_one_out()) == 8 and len(C.add_one()) == 8

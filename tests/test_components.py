"""The registry and the variant grammar; rainbow-no-X differs from rainbow exactly by X."""

import pytest

from dqnlab import components as C
from dqnlab import protocols
from dqnlab.config import get_path, iter_fields
from dqnlab.errors import ConfigError
from dqnlab.presets import resolve_config


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
    """Two components that can run together never set the same key; the heads' components (c51,
    qr, iqn) all set network.head and agent.loss, and no two of them can run together."""
    seen: dict[str, list[str]] = {}
    for comp in C.COMPONENTS:
        for key in comp.settings:
            for other in seen.get(key, []):
                assert other in comp.incompatible or comp.name in C.REGISTRY[other].incompatible, (
                    f"{key} set by {other} and {comp.name}, which can run together")
            seen.setdefault(key, []).append(comp.name)
    valid_keys = {k for k, *_ in iter_fields()}
    assert set(seen) <= valid_keys


# Every (env, protocol) pair of the families a run can resolve to.
CASES = [
    (env, name)
    for env, family in (("CartPole-v0", "classic"), ("CartPole-v1", "classic"), ("Acrobot-v1", "classic"),
                        ("MinAtar/Breakout-v0", "minatar"), ("MinAtar/Asterix-v1", "minatar"),
                        ("ALE/Pong-v5", "atari"))
    for name in protocols.names_for(family)
]


@pytest.mark.parametrize("env, protocol", CASES)
def test_protocols_hold_textbook_dqn_for_every_switch(env, protocol):
    dqn = resolve_config(env, "dqn", protocol=protocol)
    for comp in C.COMPONENTS:
        assert not comp.is_on(dqn), f"{protocol}: dqn already has {comp.name} on"
    assert dqn.replay.n_step == 1 and dqn.network.head == "scalar" and not dqn.agent.double
    assert not dqn.replay.prioritized and not dqn.network.noisy and not dqn.network.dueling
    assert dqn.network.head == "scalar" and dqn.agent.loss in ("huber", "mse")


def _flat(cfg):
    return {k: get_path(cfg, k) for k, *_ in iter_fields()}


@pytest.mark.parametrize("env, protocol", CASES)
@pytest.mark.parametrize("removed", C.RAINBOW)
def test_rainbow_minus_x_differs_from_rainbow_only_by_x(env, protocol, removed):
    rainbow = _flat(resolve_config(env, "rainbow", protocol=protocol))
    arm = _flat(resolve_config(env, f"rainbow-no-{removed}", protocol=protocol))
    differing = {k for k in rainbow if rainbow[k] != arm[k]}
    own = set(C.settings_for([removed], protocols.get(protocol).components))
    assert C.REGISTRY[removed].switch in differing
    assert differing - {"variant", "components"} <= own


def test_declared_couplings():
    noisy = resolve_config("ALE/Pong-v5", "dqn+noisy")  # Hessel et al.: greedy after the warm-up
    assert noisy.explore.epsilon_start == noisy.explore.epsilon_end == 0.0
    assert noisy.explore.warmup_epsilon == 1.0
    c51 = resolve_config("CartPole-v1", "dqn+c51")
    assert c51.categorical.num_atoms == 51 and c51.agent.loss == "cross_entropy"
    nstep = resolve_config("CartPole-v1", "dqn+nstep")
    assert nstep.replay.n_step == 3
    per = resolve_config("CartPole-v1", "dqn+per")
    assert per.replay.prioritized and per.replay.priority_exponent == 0.5


@pytest.mark.parametrize("protocol", ["revisiting_rainbow", "revisiting_rainbow_dqn"])
def test_noisy_takes_the_protocols_exploration(protocol):
    """RR Agents/rainbow_agent_new.py L212: noisy forces identity_epsilon, 0.01 from step 0. On
    MinAtar that differs from the other arms' linear decay; on classic control it does not."""
    minatar = resolve_config("MinAtar/Breakout-v0", "rainbow", protocol=protocol).explore
    no_noisy = resolve_config("MinAtar/Breakout-v0", "rainbow-no-noisy", protocol=protocol).explore
    assert (minatar.warmup_epsilon, minatar.epsilon_start, minatar.epsilon_end) == (0.01, 0.01, 0.01)
    assert (no_noisy.warmup_epsilon, no_noisy.epsilon_start, no_noisy.epsilon_end) == (1.0, 1.0, 0.01)
    assert no_noisy.epsilon_decay_steps == 250_000
    for spec in ("rainbow", "dqn"):
        classic = resolve_config("Acrobot-v1", spec, protocol=protocol).explore
        assert (classic.warmup_epsilon, classic.epsilon_start, classic.epsilon_end) == (0.01, 0.01, 0.01)


def test_generators():
    assert C.leave_one_out()[0] == "rainbow" and C.leave_one_out()[-1] == "dqn"
    assert len(C.leave_one_out()) == 8 and len(C.add_one()) == 8

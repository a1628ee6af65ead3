"""The registry: one module per component, declared as data that the rest of dqnlab reads; the
head-kind registries agree; `rainbow` and the ablation grids are Hessel et al.'s six, whatever else
is registered."""

import dataclasses
import subprocess
import sys

import pytest

from dqnlab import components, heads
from dqnlab.config import Config, get_path, iter_fields
from dqnlab.errors import ConfigError
from dqnlab.presets import resolve_config

SIX = ("double", "dueling", "per", "nstep", "c51", "noisy")


def test_one_module_per_component_in_canonical_order():
    assert components.MODULES == components.COMPONENT_NAMES  # each module is named for its component
    assert components.COMPONENT_NAMES[:6] == SIX == components.RAINBOW


@pytest.mark.parametrize("comp", components.COMPONENTS, ids=lambda c: c.name)
def test_each_component_is_well_formed(comp):
    keys = {k for k, *_ in iter_fields()}
    assert comp.slot in components.SLOTS and comp.paper and comp.couplings
    assert set(comp.settings) <= keys and set(comp.incompatible) <= set(components.COMPONENT_NAMES)
    assert (comp.targets is not None) == (comp.slot == "target")
    # Its switch is off in textbook DQN (the config default and every preset's dqn) and on in dqn+X.
    assert comp.settings[comp.switch] != get_path(Config(), comp.switch)
    assert not comp.is_on(resolve_config("CartPole-v1", "dqn"))
    assert comp.is_on(resolve_config("CartPole-v1", f"dqn+{comp.name}"))


@pytest.mark.parametrize("comp", [c for c in components.COMPONENTS if c.slot == "target"], ids=lambda c: c.name)
def test_target_components_exclude_each_other_and_serve_every_head_they_allow(comp):
    others = [c for c in components.COMPONENTS if c.slot == "target" and c is not comp]
    for other in others:
        assert other.name in comp.incompatible or comp.name in other.incompatible
    cfg = resolve_config("CartPole-v1", f"dqn+{comp.name}")
    served = set(comp.targets(cfg))
    assert served <= set(heads.HEADS) and "scalar" in served
    for head in set(heads.HEADS) - served:  # a head it leaves out is refused with the head's component
        setters = [c.name for c in components.COMPONENTS if c.settings.get("network.head") == head]
        assert setters and all(s in comp.incompatible for s in setters)
    for head in served - {"scalar"}:  # and one it serves runs with it
        (setter,) = [c.name for c in components.COMPONENTS if c.settings.get("network.head") == head]
        assert resolve_config("CartPole-v1", f"dqn+{setter}+{comp.name}").network.head == head


# -- a component's switch is set by its name only (issue 10, item 1) ---------------------------


def _on_values(comp):
    """A config's settings that switch `comp` on, as --set values."""
    return {k: ",".join(map(str, v)) if isinstance(v, tuple) else str(v) for k, v in comp.settings.items()}


@pytest.mark.parametrize("comp", components.COMPONENTS, ids=lambda c: c.name)
def test_a_switch_set_behind_the_variants_name_is_refused_both_ways(comp):
    assert comp.name in components.switch_keys()[comp.switch].split(", ")
    # On behind dqn's back (with whatever else it would need, so only the switch can be refused).
    with pytest.raises(ConfigError, match=rf"{comp.switch}=.* switches {comp.name} on .*--components"):
        resolve_config("CartPole-v1", "dqn", overrides=_on_values(comp))
    # Off behind dqn+X's back: the switch at textbook DQN's value.
    off = {comp.switch: str(get_path(Config(), comp.switch))}
    with pytest.raises(ConfigError, match=rf"switches {comp.name} off .*dqn\+{comp.name}"):
        resolve_config("CartPole-v1", f"dqn+{comp.name}", overrides=off)
    # Setting it to the value the name gives it already changes nothing, and is accepted.
    named = resolve_config("CartPole-v1", f"dqn+{comp.name}")
    same = {comp.switch: _on_values(comp)[comp.switch]}
    assert resolve_config("CartPole-v1", f"dqn+{comp.name}", overrides=same) == named


@pytest.mark.parametrize("comp", components.COMPONENTS, ids=lambda c: c.name)
def test_a_components_other_keys_are_parameters_and_stay_settable(comp):
    """Every key a component sets besides its switch, and every knob of its own section, can be
    --set with the component on; the result still carries the component's name."""
    params = [k for k in comp.settings if k != comp.switch]
    if comp.config is not None:
        params += [f"{comp.name}.{f.name}" for f in dataclasses.fields(comp.config)
                   if f"{comp.name}.{f.name}" != comp.switch]
    base = resolve_config("CartPole-v1", f"dqn+{comp.name}")
    for key in params:
        value = get_path(base, key)
        cfg = resolve_config("CartPole-v1", f"dqn+{comp.name}", overrides={key: value})
        assert cfg == base and cfg.variant == f"dqn+{comp.name}", key
    assert set(params).isdisjoint(components.switch_keys())


@pytest.mark.parametrize("key, value", [
    ("replay.priority_exponent", "0.7"), ("network.noisy_sigma0", "0.1"), ("munchausen.tau", "0.05"),
    ("categorical.num_atoms", "21"), ("replay.n_step", "5"), ("quantile.num_quantiles", "11"),
    ("implicit_quantile.num_tau_samples", "8"),
])
def test_tuning_a_component_keeps_its_name(key, value):
    spec = {"replay": "dqn+per+nstep", "network": "dqn+c51+noisy", "munchausen": "dqn+munchausen",
            "categorical": "dqn+c51", "quantile": "dqn+qr", "implicit_quantile": "dqn+iqn"}
    cfg = resolve_config("CartPole-v1", spec[key.split(".")[0]], overrides={key: value})
    assert str(get_path(cfg, key)) == value and cfg.variant == spec[key.split(".")[0]]


def test_train_help_marks_every_switch():
    from dqnlab.config import help_text

    text = help_text()
    for key, name in components.switch_keys().items():
        assert f"  {key} (" in text and f"(the switch of {name}: use --components)" in text


@pytest.mark.parametrize("head", heads.HEADS.values(), ids=lambda h: h.name)
def test_each_head_is_one_module_and_one_component_switches_it_on(head):
    """A head owns its losses, its section and its validation; exactly one component sets it (the
    scalar head is textbook DQN's, none)."""
    assert heads.MODULES == tuple(heads.HEADS)
    setters = [c for c in components.COMPONENTS if c.settings.get("network.head") == head.name]
    assert len(setters) == (head.name != "scalar")
    for comp in setters:
        assert comp.slot == "head" and comp.settings["agent.loss"] in head.losses
        cfg = resolve_config("CartPole-v1", f"dqn+{comp.name}")
        assert heads.of(cfg) is head
    if head.config is not None:
        assert head.name in {f.name for f in dataclasses.fields(Config)}


def test_two_heads_are_refused_in_one_line():
    for pair in ("c51,qr", "c51,iqn", "qr,iqn"):
        with pytest.raises(ConfigError, match=r"cannot run with \w+: both are heads") as info:
            resolve_config("CartPole-v1", pair)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("key, value, message", [
    ("network.torso", "resnet", "choose from mlp, minatar, minatar_same, nature"),
    ("network.init", "orthogonal", "choose from uniform_fan_in, glorot_uniform"),
    ("network.dueling_layout", "split", "choose from streams, heads"),
    ("network.head", "tabular", "choose from scalar, categorical, quantile, implicit_quantile"),
    ("agent.loss", "l1", "choose from huber, mse"),
    ("env.vector_backend", "gpu", "copies, ale"),
])
def test_validation_names_the_registry_it_reads(key, value, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config("CartPole-v1", "dqn", overrides={key: value})


def test_rainbow_and_the_ablation_grids_are_the_six():
    assert components.parse_variant("rainbow") == SIX
    assert components.leave_one_out() == ["rainbow", *(f"rainbow-no-{n}" for n in SIX), "dqn"]
    assert components.add_one() == ["dqn", *(f"dqn+{n}" for n in SIX), "rainbow"]
    subsets = components.all_subsets()
    assert len(subsets) == 64 and set().union(*subsets) == set(SIX)


def test_the_registry_imports_without_torch():
    code = "import sys, dqnlab.components, dqnlab.presets; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_components_command_lists_every_registered_component():
    from run_helpers import run_cli

    out = run_cli("components")
    assert out.returncode == 0, out.stderr
    for comp in components.COMPONENTS:
        assert f"{comp.name}: {comp.paper}" in out.stdout
        for other, why in comp.incompatible.items():
            assert f"incompatible with {other}: {why}" in out.stdout
    assert "rainbow = double, dueling, per, nstep, c51, noisy" in out.stdout

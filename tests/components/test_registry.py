"""The registry: one module per component, declared as data that the rest of dqnlab reads; the
head-kind registries agree; `rainbow` and the ablation grids are Hessel et al.'s six, whatever else
is registered."""

import subprocess
import sys

import pytest

from dqnlab import agent, architecture, bootstrap, components, losses, networks
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
    for head in set(architecture.HEADS) - served:  # a head it leaves out is refused with the head's component
        setters = [c.name for c in components.COMPONENTS if c.settings.get("network.head") == head]
        assert setters and all(s in comp.incompatible for s in setters)


def test_the_head_kind_registries_agree():
    heads = set(architecture.HEADS)
    assert heads == set(losses.LOSSES) == set(bootstrap.TEXTBOOK) == set(networks.HEAD_OUTPUTS)
    assert heads == set(agent.TD_LOSSES)


@pytest.mark.parametrize("key, value, message", [
    ("network.torso", "resnet", "choose from mlp, minatar, minatar_same, nature"),
    ("network.init", "orthogonal", "choose from uniform_fan_in, glorot_uniform"),
    ("network.dueling_layout", "split", "choose from streams, heads"),
    ("network.head", "quantile", "choose from scalar, categorical"),
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

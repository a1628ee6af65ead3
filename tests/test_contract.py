"""The run-directory contract: torch-free, and one variant grammar for training and analysis."""

import itertools
import subprocess
import sys

import pytest

from dqnlab import contract as c

EXTRA = (*c.RAINBOW, "munchausen")  # a registered component beyond Rainbow's six


def test_contract_and_analysis_import_without_torch():
    code = "import sys, dqnlab.contract, dqnlab.analysis.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("rainbow", c.RAINBOW),
        ("rainbow-no-c51+munchausen", ("double", "dueling", "per", "nstep", "noisy", "munchausen")),
        ("dqn+munchausen+double", ("double", "munchausen")),
        ("munchausen,per", ("per", "munchausen")),
    ],
)
def test_grammar_with_a_component_beyond_rainbow(spec, expected):
    assert c.parse_variant(spec, EXTRA) == expected


def test_rainbow_stays_the_six_when_more_components_are_registered():
    assert c.variant_name(c.RAINBOW, EXTRA) == "rainbow"
    assert c.variant_name((*c.RAINBOW, "munchausen"), EXTRA) == "rainbow+munchausen"
    assert c.leave_one_out() == ["rainbow", *(f"rainbow-no-{n}" for n in c.RAINBOW), "dqn"]


def test_every_subset_round_trips_through_its_name_with_and_without_the_registry():
    subsets = [s for k in range(len(EXTRA) + 1) for s in itertools.combinations(EXTRA, k)]
    names = [c.variant_name(s, EXTRA) for s in subsets]
    assert len(set(names)) == len(subsets) == 128
    for s, name in zip(subsets, names):
        assert c.parse_variant(name, EXTRA) == s
        assert c.variant_components(name) == s  # what analysis reads, without the registry


@pytest.mark.parametrize("bad", ["dqn+foo", "rainbow-no-bar", "", "double,double", "rainbow+c51"])
def test_grammar_errors(bad):
    with pytest.raises(c.GrammarError):
        c.parse_variant(bad, EXTRA)


def test_sort_order_is_rainbow_leave_one_out_add_dqn_then_others():
    names = ["dqn", "dqn+munchausen", "rainbow-no-per", "dqn+double", "rainbow", "??"]
    assert c.sort_variants(names) == ["rainbow", "rainbow-no-per", "dqn+double", "dqn", "dqn+munchausen", "??"]


def test_run_rel_dir():
    assert c.run_rel_dir("MinAtar/Breakout-v1", "rainbow", 3) == "MinAtar-Breakout-v1/rainbow/seed_3"


def test_compat_switches_are_the_configs_defaults_and_named_when_on():
    from dqnlab.config import Config, get_path, to_dict

    default = Config()
    for key, off in c.COMPAT_SWITCHES.items():
        assert get_path(default, key) == off, key
    assert c.compat_switches_on(to_dict(default)) == ""
    assert c.compat_switches_on({}) == ""  # an older config.json lacks the keys: off
    on = to_dict(default)
    on["network"]["noise_draw"], on["replay"]["importance_weights"], on["run"]["iteration_steps"] = "fixed", False, 1000
    assert c.compat_switches_on(on) == (
        "network.noise_draw=fixed, replay.importance_weights=false, run.iteration_steps=1000")

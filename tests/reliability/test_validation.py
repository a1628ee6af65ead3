"""Every bad value is refused before anything is written (issue 23, items 3, 5 and 6), for the whole
class rather than the cases the issue found: every numeric field out of its range (both ends),
every constraint between fields, every key that selects settings given to `--set`. Each case runs
`dqnlab train` in-process in an empty folder and checks exit 2, one line naming the field, no
traceback, and nothing created (the folder's tree hash).

Also: in-range values that failed at run start before (the issue's `env.id` with `--env`, Atari
settings on classic control, normalization bounds that do not fit the observation), and
`dqnlab sweep`'s planning cost, which no longer grows with the number of seeds.
"""

from __future__ import annotations

import dataclasses
import time
import typing

import pytest
from run_helpers import tree_hash

from dqnlab import validation
from dqnlab.cli import main
from dqnlab.config import iter_fields
from dqnlab.validation import CONSTRAINTS, RANGES, SELECTORS

CP = ["train", "--env", "CartPole-v1", "--run-dir", "new_run", "--quiet"]


def _numeric(tp: typing.Any) -> bool:
    args = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis] or [tp]
    return all(a in (int, float) for a in args)


NUMERIC = [key for key, tp, _, _ in iter_fields() if _numeric(tp)]


def _is_int(key: str) -> bool:
    return next(int in (typing.get_args(tp) or (tp,)) for k, tp, _, _ in iter_fields() if k == key)


def out_of_range(key: str) -> list[str]:
    """Values just outside `key`'s range, at each end that has a bound (as --set text)."""
    rng, step = RANGES[key], 1 if _is_int(key) else 1e-3
    values = []
    if rng.low is not None:
        values.append(rng.low if rng.low_open else rng.low - step)
    if rng.high is not None:
        values.append(rng.high + step if step == 1 else rng.high * 1.01 + step)
    if key == "network.hidden_sizes":
        return [f"16,{v}" for v in values]
    return [repr(v) for v in values]


RANGE_CASES = [(key, value) for key in RANGES for value in out_of_range(key)]


def refused(tmp_path, monkeypatch, capsys, argv: list[str]) -> str:
    """Run `argv` in an empty folder: exit 2, one line, no traceback, nothing written; the line."""
    monkeypatch.chdir(tmp_path)
    before = tree_hash(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert tree_hash(tmp_path) == before and not (tmp_path / "new_run").exists()
    return lines[0]


def test_every_numeric_field_has_a_range_and_every_range_a_field():
    """A new numeric knob needs a row in validation.RANGES (its range is what --set accepts)."""
    assert sorted(NUMERIC) == sorted(RANGES), set(NUMERIC) ^ set(RANGES)


def test_every_range_has_a_value_outside_it():
    assert all(out_of_range(k) for k in RANGES if RANGES[k] != validation.FINITE)


@pytest.mark.parametrize("key, value", RANGE_CASES, ids=[f"{k}={v}" for k, v in RANGE_CASES])
def test_a_value_out_of_range_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys, key, value):
    given = ["--seed", value] if key == "seed" else ["--set", f"{key}={value}"]  # seed: not a --set key
    line = refused(tmp_path, monkeypatch, capsys, [*CP, *given])
    assert key in line and "must be in" in line, line


# One violating command line per constraint, in CONSTRAINTS' order.
CONSTRAINT_CASES: list[tuple[str, list[str], str]] = [
    ("atari-setting-on-classic", ["--set", "env.frame_skip=4"], "does not support"),
    ("capacity-below-batch", ["--set", "replay.capacity=10", "--set", "agent.batch_size=32"], "replay.capacity"),
    ("eval-budget-below-episodes", ["--set", "eval.max_steps=3"], "eval.max_steps"),
    ("envs-not-dividing", ["--steps", "100", "--set", "env.num_envs=3"], "multiples of env.num_envs"),
    ("iterations-not-dividing", ["--steps", "1500", "--set", "run.iteration_steps=1000"], "must divide the budget"),
    ("iterations-with-env-copies", ["--steps", "2000", "--set", "run.iteration_steps=1000", "--set", "env.num_envs=2"],
     "needs env.num_envs = 1"),
    ("next-episode-timeouts-on-stacked-frames", ["--env", "ALE/Pong-v5", "--set", "replay.timeout=next_episode"],
     "needs env.frame_stack = 1"),
    ("bounds-of-two-lengths", ["--set", "network.input_low=0", "--set", "network.input_high=1,1"], "same length"),
    ("bounds-not-fitting-the-env", ["--set", "network.input_low=-1,-1", "--set", "network.input_high=1,1"],
     "4 features"),
]


def test_every_constraint_has_a_case():
    assert len(CONSTRAINT_CASES) == len(CONSTRAINTS)


@pytest.mark.parametrize("extra, phrase", [c[1:] for c in CONSTRAINT_CASES], ids=[c[0] for c in CONSTRAINT_CASES])
def test_a_broken_constraint_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys, extra, phrase):
    assert phrase in refused(tmp_path, monkeypatch, capsys, [*CP, *extra])


SELECTOR_VALUES = {"seed": "3", "variant": "rainbow", "components": "double", "preset": "atari",
                   "protocol": "revisiting_rainbow_dqn", "env.id": "Acrobot-v1", "env.family": "minatar"}


@pytest.mark.parametrize("key", list(SELECTORS))
def test_a_key_that_selects_settings_is_no_set_key(tmp_path, monkeypatch, capsys, key):
    """Item 3: `--set protocol=X` recorded X and kept the old settings; `--set components=double`
    answered about agent.double; `--set env.id=Acrobot-v1` failed at run start."""
    line = refused(tmp_path, monkeypatch, capsys, [*CP, "--set", f"{key}={SELECTOR_VALUES[key]}"])
    assert f"{key} is not a --set key" in line and f"use {SELECTORS[key][1]}" in line, line


def test_a_sweep_override_that_selects_settings_is_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "exp.py").write_text(
        "from dqnlab.sweep import Sweep\n"
        "SWEEP = Sweep(name='x', envs=('CartPole-v1',), variants=('dqn',), seeds=1, steps=100)\n")
    line = refused(tmp_path, monkeypatch, capsys, ["sweep", "exp.py", "--sweep-dir", "new_run",
                                                   "--set", "protocol=revisiting_rainbow_dqn"])
    assert "protocol is not a --set key" in line


@pytest.mark.parametrize("argv, phrase", [
    (["--set", "agent.gamma=1.5"], "agent.gamma"),  # a traceback from the value tail's length
    (["--steps", "100000000000000000000000"], "the budget (--steps)"),  # trained
    (["--set", "total_steps=1e23"], "the budget (--steps)"),
    (["--seed", "4294967296"], "the seed"),
], ids=["gamma-1.5", "steps-1e23", "set-total-steps-1e23", "seed-beyond-c-int"])
def test_the_issues_values(tmp_path, monkeypatch, capsys, argv, phrase):
    assert phrase in refused(tmp_path, monkeypatch, capsys, [*CP, *argv])


def test_validation_runs_before_the_values_derived_from_it():
    """The value tail is derived from gamma: gamma is checked first (it raised ValueError)."""
    from dqnlab.errors import ConfigError
    from dqnlab.presets import resolve_config

    with pytest.raises(ConfigError, match="agent.gamma"):
        resolve_config("CartPole-v1", overrides={"agent.gamma": 1.5})


def test_ranges_are_frozen_data():
    assert all(dataclasses.is_dataclass(r) for r in RANGES.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        RANGES["agent.gamma"].low = 0  # type: ignore[misc]


# -- item 6: sweeps whose size cannot be meant, and planning cost --------------------------------


def test_absurd_seed_counts_are_refused_at_once(tmp_path, monkeypatch, capsys):
    """`--seeds 100000000 --dry-run` hung (1000 seeds took 18 s)."""
    (tmp_path / "exp.py").write_text(
        "from dqnlab.sweep import Sweep\n"
        "SWEEP = Sweep(name='x', envs=('CartPole-v1',), variants=('dqn',), seeds=1, steps=100)\n")
    started = time.monotonic()
    line = refused(tmp_path, monkeypatch, capsys, ["sweep", "exp.py", "--seeds", "100000000", "--dry-run"])
    assert "--seeds" in line and time.monotonic() - started < 5, line


def test_planning_resolves_each_config_once_whatever_the_seeds(monkeypatch):
    """Expanding a grid resolves one config per env and variant; its seeds are copies."""
    from dqnlab import presets
    from dqnlab.sweep import Sweep, grid

    calls = []
    resolve = presets.resolve_config
    monkeypatch.setattr(grid, "resolve_config", lambda *a, **k: calls.append(a) or resolve(*a, **k))
    runs = grid.expand(Sweep(name="x", envs=("CartPole-v1", "Acrobot-v1"), variants=("dqn", "rainbow"),
                             seeds=200, steps=100))
    assert len(runs) == 800 and len(calls) == 4
    by_seed = {(r.env, r.variant, r.seed): r.config for r in runs}
    assert by_seed[("Acrobot-v1", "rainbow", 137)] == resolve("Acrobot-v1", "rainbow", seed=137, total_steps=100)


def test_a_large_dry_run_plans_in_seconds(tmp_path, monkeypatch, capsys):
    """A grid of a thousand runs plans in seconds (before: 18 s for 1000 seeds)."""
    from dqnlab.sweep import Sweep
    from dqnlab.sweep.launch import launch

    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    launch(Sweep(name="x", envs=("CartPole-v1", "Acrobot-v1"), variants="leave_one_out", seeds=125, steps=1000),
           sweep_dir=tmp_path / "s", dry_run=True)
    assert time.monotonic() - started < 10
    assert "total: 2000 runs" in capsys.readouterr().out
    assert not (tmp_path / "s").exists()


def test_help_shows_each_range_and_the_keys_that_are_not_set_keys():
    from dqnlab.config import help_text

    text = help_text()
    assert "agent.gamma (float) [0.99], in (0, 1]:" in text
    assert "network.hidden_sizes (tuple) [(512, 512)], each in [1, 65536]:" in text
    assert "total_steps (int) [30000], in [1, 1e11]:" in text
    assert all(f"(not a --set key: use {SELECTORS[key][1]})" in text for key in SELECTORS)

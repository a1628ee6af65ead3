"""Packing a sweep's runs (dqnlab/sweep/packing.py) and what the planner makes of it: exact values
for the pure functions, the CLI's and profiles' inputs, `--dry-run`'s text. Nothing trains here."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dqnlab.cli import main
from dqnlab.errors import ConfigError
from dqnlab.presets import resolve_config
from dqnlab.sweep import Sweep, executors, grid, packing, plan
from dqnlab.sweep.launch import launch

ROOT = Path(__file__).resolve().parents[1]
SMALL_NET = {"network.hidden_sizes": (128, 128)}


def runs_of(seeds: int = 10, variants: tuple[str, ...] = ("dqn", "rainbow"), **kw) -> list[grid.Run]:
    return grid.expand(Sweep(name="t", envs=("CartPole-v1", "Acrobot-v1"), variants=variants,
                             seeds=seeds, steps=300, overrides=kw.pop("overrides", SMALL_NET), **kw))


def seeds(packs: list[list[str]]) -> list[list[int]]:
    return [[int(rel.rsplit("_", 1)[1]) for rel in pack] for pack in packs]


# -- pure functions ------------------------------------------------------------------------------


@pytest.mark.parametrize("n, size, sizes", [
    (10, 8, [5, 5]), (10, 4, [4, 3, 3]), (8, 8, [8]), (9, 8, [5, 4]), (3, 1, [1, 1, 1]),
    (3, 8, [3]), (16, 8, [8, 8]), (17, 8, [6, 6, 5]), (0, 8, []),
])
def test_balanced_chunks_are_fewest_and_differ_by_at_most_one(n, size, sizes):
    items = [str(i) for i in range(n)]
    chunks = packing.balanced(items, size)
    assert [len(c) for c in chunks] == sizes
    assert [x for c in chunks for x in c] == items  # order kept


def test_form_packs_groups_by_config_without_seed_in_grid_order():
    runs = runs_of(seeds=10)
    packs = packing.form_packs(runs, 8)
    assert [p[0].split("/seed_")[0] for p in packs] == [
        "CartPole-v1/dqn", "CartPole-v1/dqn", "CartPole-v1/rainbow", "CartPole-v1/rainbow",
        "Acrobot-v1/dqn", "Acrobot-v1/dqn", "Acrobot-v1/rainbow", "Acrobot-v1/rainbow"]
    assert seeds(packs) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]] * 4
    assert all(len({rel.split("/seed_")[0] for rel in p}) == 1 for p in packs)
    assert packing.form_packs(list(reversed(runs)), 8) != packs  # the given order decides...
    assert packing.form_packs(runs, 8) == packs  # ...and the same input gives the same packs


def test_form_packs_are_what_train_pack_accepts():
    from dqnlab.train import pack_mismatch

    runs = runs_of(seeds=3, variants=("dqn", "dqn+double", "rainbow"))
    by_rel = {r.rel_dir: r for r in runs}
    packs = packing.form_packs(runs, 8)
    assert len(packs) == 6
    assert all(pack_mismatch([by_rel[rel].config for rel in p]) is None for p in packs)
    # Two runs of different packs could not share one.
    assert pack_mismatch([by_rel[packs[0][0]].config, by_rel[packs[1][0]].config]) is not None


def test_form_packs_splits_runs_at_different_checkpoint_steps():
    runs = runs_of(seeds=6, variants=("dqn",))[:6]  # CartPole-v1/dqn, seeds 0-5
    steps = {runs[2].rel_dir: 1000, runs[4].rel_dir: 1000, runs[5].rel_dir: 2000, runs[0].rel_dir: 0}
    assert seeds(packing.form_packs(runs, 8, steps)) == [[0, 1, 3], [2, 4], [5]]
    assert seeds(packing.form_packs(runs, 2, steps)) == [[0, 1], [3], [2, 4], [5]]


def test_form_packs_size_per_group():
    runs = runs_of(seeds=4, overrides={})  # 2x512 on CartPole, Acrobot
    acrobot_small = [r for r in runs if r.env == "Acrobot-v1"]
    packs = packing.form_packs(runs, lambda cfg: 4 if cfg.env.id == "CartPole-v1" else 1)
    assert [len(p) for p in packs] == [4, 4] + [1] * len(acrobot_small)
    assert packing.form_packs(runs, 1) == [[r.rel_dir] for r in runs]  # today's behaviour


def cfg(env: str = "CartPole-v1", **overrides):
    return resolve_config(env, "dqn", overrides=overrides)


def test_default_pack_size_packs_only_what_was_measured_to_pay():
    assert packing.default_pack_size(cfg(**SMALL_NET), "cpu") == packing.CPU_PACK_SIZE == 8
    assert packing.default_pack_size(cfg(**{"network.hidden_sizes": (256,)}), "cpu") == 8
    assert packing.default_pack_size(cfg(**{"network.hidden_sizes": (64, 257)}), "cpu") == 1
    assert packing.default_pack_size(cfg(), "cpu") == 1  # RR's 2x512: 0.96-1.03x
    assert packing.default_pack_size(cfg("MinAtar/Breakout-v1"), "cpu") == 8
    assert packing.default_pack_size(cfg("MinAtar/Breakout-v1", **{"network.torso": "minatar_same"}), "cpu") == 8
    assert packing.default_pack_size(cfg("ALE/Pong-v5"), "cpu") == 1  # the Nature CNN: unmeasured
    assert packing.default_pack_size(cfg(**SMALL_NET), "cuda") == 1  # unmeasured
    assert packing.default_pack_size(cfg("MinAtar/Breakout-v1"), "cuda") == 1


def test_speedup_is_the_measured_table_and_one_elsewhere():
    small = cfg(**SMALL_NET)
    assert [packing.speedup(small, "cpu", k) for k in (1, 2, 3, 4, 7, 8, 16)] == [1.0, 1.0, 1.0, 1.5, 1.5, 1.6, 1.6]
    assert packing.speedup(cfg(), "cpu", 8) == 1.0  # 2x512: forced packs gain nothing
    assert packing.speedup(small, "cuda", 8) == 1.0


def test_size_for_auto_keeps_the_local_workers_busy():
    small = cfg(**SMALL_NET)
    assert packing.size_for("auto", "cpu", runs=6, slots=2)(small) == 3
    assert packing.size_for("auto", "cpu", runs=8, slots=8)(small) == 1  # 8 cores: each run alone
    assert packing.size_for("auto", "cpu", runs=100, slots=2)(small) == 8
    assert packing.size_for("auto", "cpu", runs=100, slots=None)(small) == 8
    assert packing.size_for("auto", "cpu", runs=100, slots=2)(cfg()) == 1
    assert packing.size_for(4, "cpu", runs=6, slots=2)(cfg()) == 4  # asked for: as asked


@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("3", 3), (" 12 ", 12), (5, 5)])
def test_parse_pack_size(value, expected):
    assert packing.parse_pack_size(value) == expected


@pytest.mark.parametrize("value", ["0", "-1", "x", "2.5", 0, 2.5, True, "", None])
def test_parse_pack_size_refuses(value):
    with pytest.raises(ConfigError, match="--runs-per-process must be a positive integer or auto"):
        packing.parse_pack_size(value)


def test_plan_costs_a_pack_by_the_measured_speedup():
    runs = runs_of(seeds=8, variants=("dqn",))
    cartpole = [r for r in runs if r.env == "CartPole-v1"]
    alone = plan.plan(cartpole)
    packed = plan.plan(cartpole, packs=[cartpole])
    assert packed.device_hours == pytest.approx(alone.device_hours / 1.6)
    assert packed.longest_hours == pytest.approx(packed.device_hours)
    assert packed.wall_hours(8) == pytest.approx(packed.device_hours)  # one process: no faster
    assert alone.wall_hours(8) == pytest.approx(alone.device_hours / 8)
    fours = plan.plan(cartpole, packs=[cartpole[:4], cartpole[4:]])
    assert fours.device_hours == pytest.approx(alone.device_hours / 1.5)


# -- launch, CLI, profiles -----------------------------------------------------------------------


def dry_run(*args: str, capsys) -> str:
    assert main(["sweep", str(ROOT / "experiments/classic_ablation.py"), "--dry-run", *args]) == 0
    return capsys.readouterr().out


def test_dry_run_shows_the_packs_and_their_cost(capsys):
    out = dry_run("--set", "network.hidden_sizes=128,128", "--seeds", "10", "--variants", "dqn,rainbow",
                  "--executor", "debug", capsys=capsys)
    assert "packs: 8 processes for 40 runs (8 x 5 runs; --runs-per-process auto)" in out
    assert "CartPole-v0/dqn" in out and "seeds 0-4 | 5-9" in out
    assert "with the measured speedup of packing" in out and "up to 5 runs'" in out
    alone = dry_run("--set", "network.hidden_sizes=128,128", "--seeds", "10", "--variants", "dqn,rainbow",
                    "--executor", "debug", "--runs-per-process", "1", capsys=capsys)
    assert "packs: none, every run trains in its own process (--runs-per-process 1)" in alone

    def hours(text: str) -> float:
        line = next(x for x in text.splitlines() if "expected CPU-hours" in x)
        value, unit = line.split(":")[1].split()[:2]  # "N min" or "N h"
        return float(value) / (60 if unit == "min" else 1)

    assert hours(out) == pytest.approx(hours(alone) / 1.5, rel=0.05)  # K = 5: the K = 4 row's 1.5x


def test_dry_run_of_the_shipped_2x512_ablation_packs_nothing(capsys):
    out = dry_run(capsys=capsys)
    assert "packs: none, every run trains in its own process (--runs-per-process auto packs only " \
           "where measured to pay" in out
    forced = dry_run("--runs-per-process", "3", capsys=capsys)
    assert "packs: 16 processes for 48 runs (16 x 3 runs; --runs-per-process 3)" in forced


def test_the_local_executor_packs_less_to_fill_its_workers(capsys):
    args = ("--set", "network.hidden_sizes=128,128", "--seeds", "3", "--variants", "dqn,rainbow")
    two = dry_run(*args, "--workers", "2", capsys=capsys)  # 12 runs, 2 workers: packs of <= 6
    assert "packs: 4 processes for 12 runs (4 x 3 runs" in two
    twelve = dry_run(*args, "--workers", "12", capsys=capsys)
    assert "packs: none" in twelve


def test_a_profile_sets_runs_per_process_and_the_command_line_wins(tmp_path, capsys):
    pytest.importorskip("submitit")
    profile = tmp_path / "p.toml"
    profile.write_text((ROOT / "slurm/profiles/dev.toml").read_text() + "runs_per_process = 2\n")
    slurm = executors.create("slurm", executors.ExecutorSettings(profile=profile))
    assert slurm.runs_per_process == 2 and slurm.slots_to_fill is None
    args = ("--executor", "slurm", "--profile", str(profile))
    assert "32 processes for 48 runs (16 x 2 runs, 16 x 1 run; --runs-per-process 2)" in dry_run(*args, capsys=capsys)
    assert "packs: none" in dry_run(*args, "--runs-per-process", "1", capsys=capsys)
    assert "(16 x 3 runs; --runs-per-process 3)" in dry_run(*args, "--runs-per-process", "3", capsys=capsys)
    default = executors.create("slurm", executors.ExecutorSettings(profile=ROOT / "slurm/profiles/dev.toml"))
    assert default.runs_per_process == "auto"


def test_every_executor_says_how_it_packs():
    pytest.importorskip("submitit")
    settings = {"slurm": executors.ExecutorSettings(profile=ROOT / "slurm/profiles/dev.toml"),
                "local": executors.ExecutorSettings(workers=3)}
    made = {name: executors.create(name, settings.get(name)) for name in executors.EXECUTORS}
    assert {name: ex.runs_per_process for name, ex in made.items()} == dict.fromkeys(made, "auto")
    assert {name: ex.slots_to_fill for name, ex in made.items()} == {"local": 3, "slurm": None, "debug": None}


@pytest.mark.parametrize("value", ["0", "many", "-2"])
def test_bad_runs_per_process_is_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch, value):
    monkeypatch.chdir(ROOT)
    code = main(["sweep", "experiments/classic_ablation.py", "--runs-per-process", value,
                 "--sweep-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err == f"dqnlab: error: --runs-per-process must be a positive integer or auto, got {value!r}"
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("value", ["0", '"eight"', "2.5", "true"])
def test_bad_profile_runs_per_process_is_one_line(tmp_path, value):
    profile = tmp_path / "p.toml"
    profile.write_text(f'partition = "debug"\ntime = 10\nruns_per_process = {value}\n')
    with pytest.raises(ConfigError, match="bad value for runs_per_process"):
        executors.create("slurm", executors.ExecutorSettings(profile=profile))


def test_launch_refuses_a_bad_pack_size_before_writing(tmp_path):
    sweep = Sweep(name="t", envs=("CartPole-v1",), variants=("dqn",), seeds=2, steps=300)
    with pytest.raises(ConfigError):
        launch(sweep, sweep_dir=tmp_path / "s", executor="debug", runs_per_process=0, out=io.StringIO())
    assert not (tmp_path / "s").exists()


def test_slurm_jobs_take_whole_packs_up_to_runs_per_job():
    from dqnlab.sweep.executors.slurm import jobs_of
    from dqnlab.sweep.profile import Profile

    packs = [["a", "b", "c"], ["d", "e", "f"], ["g"], ["h"], ["i", "j"]]
    assert jobs_of(packs, Profile("p", 10, runs_per_job=1)) == [[p] for p in packs]  # a pack per job
    assert jobs_of(packs, Profile("p", 10, runs_per_job=4)) == [
        [["a", "b", "c"]], [["d", "e", "f"], ["g"]], [["h"], ["i", "j"]]]
    assert jobs_of([["a"], ["b"], ["c"]], Profile("p", 10, runs_per_job=2)) == [[["a"], ["b"]], [["c"]]]

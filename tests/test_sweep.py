"""Sweeps without training: definitions, grid expansion, manifest, planner, profiles, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dqnlab.cli import main
from dqnlab.errors import ConfigError
from dqnlab.sweep import GridOptions, Sweep, definition, executors, grid, plan, throughput
from dqnlab.sweep.profile import load_profile, parse_mem_gb, parse_minutes

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p for p in (ROOT / "experiments").glob("*.py") if p.stem != "__init__")
PROFILES = sorted((ROOT / "slurm" / "profiles").glob("*.toml"))


def small(**kw) -> Sweep:
    fields = dict(name="t", envs=("CartPole-v1",), variants=("dqn", "rainbow"), seeds=2, steps=300)
    return Sweep(**{**fields, **kw})


# -- definitions -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiments_load_and_expand(path):
    sweep = definition.load(path)
    assert sweep.name == path.stem
    runs = grid.expand(definition.resolve(sweep, GridOptions(envs=sweep.envs[0], seeds="1")))
    assert len(runs) == len(sweep.variant_list())


def test_shipped_experiment_sizes():
    classic = definition.load(ROOT / "experiments/classic_ablation.py")
    assert classic.envs == ("CartPole-v0", "Acrobot-v1") and len(classic.seed_list()) >= 3
    assert classic.variant_list()[0] == "rainbow" and classic.variant_list()[-1] == "dqn"
    assert len(classic.variant_list()) == 8
    # The paper's network at the paper's budget, no shrinking; the dqn arm under RR's DQN config.
    runs = grid.expand(definition.resolve(classic, GridOptions(seeds="1")))
    assert {r.config.network.hidden_sizes for r in runs} == {(512, 512)}
    assert {r.config.total_steps for r in runs} == {30_000}
    assert {r.variant: r.config.protocol for r in runs}["dqn"] == "revisiting_rainbow_dqn"
    assert {r.config.protocol for r in runs if r.variant != "dqn"} == {"revisiting_rainbow"}
    full = definition.resolve(classic, GridOptions(full=True))
    one_seed = definition.resolve(full, GridOptions(seeds="1"))
    budgets = {r.env: r.config.total_steps for r in grid.expand(one_seed)}
    assert budgets == {"CartPole-v0": 30_000, "Acrobot-v1": 30_000, "LunarLander-v3": 120_000,
                       "MountainCar-v0": 30_000}  # RR's budgets
    atari = definition.load(ROOT / "experiments/atari_ablation.py")
    assert len(atari.envs) == len(set(atari.envs)) == 57
    assert len(definition.resolve(atari, GridOptions(subset="atari5")).envs) == 5
    runs = grid.expand(definition.resolve(atari, GridOptions(subset="pong", seeds="1", variants="dqn")))
    assert runs[0].config.protocol == "nature2015" and runs[0].config.total_frames == 200_000_000
    over = definition.load(ROOT / "experiments/overestimation.py")
    assert over.variant_list() == ["dqn", "dqn+double"]
    # A protocol applies to the families it names: a classic subset of an Atari study takes the
    # classic default.
    classic_over = definition.resolve(over, GridOptions(subset="classic", seeds="1"))
    classic_runs = grid.expand(classic_over)
    assert {r.config.protocol for r in classic_runs} == {"revisiting_rainbow_dqn"}  # the arms' own
    assert {r.config.total_steps for r in classic_runs} == {30_000}  # the family's budget, not Atari's


def test_generators_and_dedup():
    assert definition.expand_variants("leave_one_out")[:2] == ["rainbow", "rainbow-no-double"]
    assert len(definition.expand_variants("all_subsets")) == 64
    # Two spellings of one variant collapse to its canonical name.
    assert definition.expand_variants(["dqn+double+per", "per,double", "dqn"]) == ["dqn+double+per", "dqn"]
    runs = grid.expand(small(variants=("rainbow", "double,dueling,per,nstep,c51,noisy"), seeds=(0, 0, 1)))
    assert [r.rel_dir for r in runs] == ["CartPole-v1/rainbow/seed_0", "CartPole-v1/rainbow/seed_1"]


def test_shrink_overrides():
    sweep = small(variants="leave_one_out", seeds=(3, 5, 7))
    r = definition.resolve(sweep, GridOptions(seeds="2", envs="Acrobot-v1", variants="dqn,rainbow",
                                              steps=100, overrides={"agent.batch_size": "8"}))
    assert r.seed_list() == [3, 5] and r.envs == ("Acrobot-v1",) and r.variant_list() == ["dqn", "rainbow"]
    runs = grid.expand(r)
    assert {x.config.total_steps for x in runs} == {100} and {x.config.agent.batch_size for x in runs} == {8}
    assert definition.resolve(sweep, GridOptions(seeds="0,9")).seed_list() == [0, 9]
    assert runs[0].rel_dir == "Acrobot-v1/dqn/seed_3"


def test_a_variation_is_its_own_sweep_with_its_overrides_merged():
    """An A/B arm: other variants and one switched setting over the definition's overrides."""
    import dataclasses

    base = dataclasses.replace(small(), overrides={"agent.batch_size": 8}, variations={
        "loss": {"variants": ("dqn",), "overrides": {"agent.loss": "huber"}},
        "bad": {"name": "other"},
    })
    r = definition.resolve(base, GridOptions(variation="loss"))
    assert r.name == f"{base.name}-loss" and r.variant_list() == ["dqn"]
    assert r.overrides == {"agent.batch_size": 8, "agent.loss": "huber"}
    assert {x.config.agent.loss for x in grid.expand(r)} == {"huber"}
    with pytest.raises(ConfigError, match="no variation 'nope'"):
        definition.resolve(base, GridOptions(variation="nope"))
    with pytest.raises(ConfigError, match="variation bad cannot set name"):
        definition.resolve(base, GridOptions(variation="bad"))


@pytest.mark.parametrize("kwargs, message", [
    ({"envs": "NoSuchEnv-v0"}, "NoSuchEnv"),
    ({"variants": "rainbow-no-magic"}, "unknown component 'magic'"),
    ({"seeds": "two"}, "--seeds expects"),
    ({"subset": "atari5"}, "no subset 'atari5'"),
    ({"overrides": {"agent.nope": 1}}, "unknown config key"),
])
def test_bad_input_is_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message) as info:
        grid.expand(definition.resolve(small(), GridOptions(**kwargs)))
    assert "\n" not in str(info.value)


def test_load_errors(tmp_path):
    with pytest.raises(ConfigError, match="no experiment file"):
        definition.load(tmp_path / "missing.py")
    bad = tmp_path / "bad.py"
    bad.write_text("SWEEP = {'name': 'x'}\n")
    with pytest.raises(ConfigError, match="must define SWEEP"):
        definition.load(bad)
    bad.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(ConfigError, match="failed to load: RuntimeError: boom"):
        definition.load(bad)


# -- manifest ----------------------------------------------------------------------------------


def test_manifest_written_and_compared(tmp_path):
    sweep = small()
    runs = grid.expand(sweep)
    grid.prepare(sweep, runs, tmp_path / "s")
    data = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert data["name"] == "t" and [r["run_dir"] for r in data["runs"]] == [r.rel_dir for r in runs]
    assert data["runs"][0]["config"]["variant"] == "dqn"
    assert all((tmp_path / "s" / r.rel_dir / "config.json").is_file() for r in runs)
    grid.prepare(sweep, runs, tmp_path / "s")  # same definition: fine
    other = small(steps=400)
    with pytest.raises(ConfigError, match="holds a different sweep .*steps.*--force"):
        grid.prepare(other, grid.expand(other), tmp_path / "s")
    grid.prepare(other, grid.expand(other), tmp_path / "s", force=True)
    stored = json.loads((tmp_path / "s" / runs[0].rel_dir / "config.json").read_text())
    assert stored["total_steps"] == 400
    fewer = small(steps=400, seeds=1)
    grid.prepare(fewer, grid.expand(fewer), tmp_path / "s", force=True)  # exactly this grid
    assert not (tmp_path / "s" / "CartPole-v1/dqn/seed_1").exists()  # dropped from the grid
    assert (tmp_path / "s" / "CartPole-v1/dqn/seed_0/config.json").exists()


def _mark_done(sweep_dir: Path, rel: str) -> None:
    from dqnlab import rundir

    rundir.write_status(sweep_dir / rel, "done", steps_done=300, total_steps=300)


def test_a_grid_that_grows_or_a_part_of_it_needs_no_force(tmp_path):
    sweep_dir = tmp_path / "s"
    grid.prepare(small(), grid.expand(small()), sweep_dir)
    _mark_done(sweep_dir, "CartPole-v1/dqn/seed_0")
    more = small(seeds=3, variants=("dqn", "rainbow", "dqn+per"))  # seeds and a variant added
    plan_ = grid.prepare(more, grid.expand(more), sweep_dir)
    assert plan_ is not None and not plan_.replaces and len(plan_.kept) == 4 and len(plan_.added) == 5
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    assert manifest["definition"]["seeds"] == [0, 1, 2] and len(manifest["runs"]) == 9
    # A part of it (the first seed) trains alone; the manifest and the other runs stay.
    part = small(seeds=1)
    plan_ = grid.prepare(part, grid.expand(part), sweep_dir)
    assert not plan_.replaces and plan_.deleted == () and len(plan_.dropped) == 7
    assert json.loads((sweep_dir / "sweep.json").read_text()) == manifest
    assert rundir_state(sweep_dir, "CartPole-v1/dqn/seed_0") == "done"


def rundir_state(sweep_dir: Path, rel: str) -> str:
    from dqnlab import rundir

    return rundir.read_status(sweep_dir / rel)["state"]


def test_replacing_runs_needs_force_and_finished_ones_delete_finished(tmp_path, capsys):
    sweep_dir = tmp_path / "s"
    grid.prepare(small(), grid.expand(small()), sweep_dir)
    _mark_done(sweep_dir, "CartPole-v1/dqn/seed_0")
    other = small(steps=400, seeds=1, variants=("dqn",))  # changes one run, drops three
    with pytest.raises(ConfigError, match=r"would delete 4 run\(s\), 1 of them finished .*--force"):
        grid.prepare(other, grid.expand(other), sweep_dir)
    with pytest.raises(ConfigError, match=r"--force would delete 1 finished run\(s\) .*seed_0.*--delete-finished"):
        grid.prepare(other, grid.expand(other), sweep_dir, force=True)
    assert rundir_state(sweep_dir, "CartPole-v1/dqn/seed_0") == "done"  # refused: nothing deleted
    # --dry-run lists every deletion, with --force or without.
    experiment = tmp_path / "other.py"
    experiment.write_text("from dqnlab.sweep import Sweep\nSWEEP = Sweep(name='t', envs=('CartPole-v1',), "
                          "variants=('dqn', 'rainbow'), seeds=2, steps=300)\n")
    assert main(["sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--dry-run", "--steps", "400",
                 "--seeds", "1", "--variants", "dqn"]) == 0
    out = capsys.readouterr().out
    assert "deletes 4 run(s), 1 of them finished" in out
    for rel in ("CartPole-v1/dqn/seed_0 (done, config changed", "CartPole-v1/dqn/seed_1 (pending, not in",
                "CartPole-v1/rainbow/seed_0", "CartPole-v1/rainbow/seed_1"):
        assert f"  delete: {rel}" in out
    grid.prepare(other, grid.expand(other), sweep_dir, force=True, delete_finished=True)
    assert "deleting CartPole-v1/dqn/seed_0 (done)" in capsys.readouterr().out
    assert sorted(p.name for p in (sweep_dir / "CartPole-v1").iterdir()) == ["dqn"]
    assert [p.name for p in (sweep_dir / "CartPole-v1/dqn").iterdir()] == ["seed_0"]
    assert rundir_state(sweep_dir, "CartPole-v1/dqn/seed_0") == "pending"  # starts over


def test_a_run_in_use_is_never_deleted(tmp_path):
    import subprocess
    import sys

    sweep_dir = tmp_path / "s"
    grid.prepare(small(), grid.expand(small()), sweep_dir)
    code = ("import time; from dqnlab import runlock\n"
            f"with runlock.hold({str(sweep_dir / 'CartPole-v1/rainbow/seed_1')!r}):\n"
            " print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        assert holder.stdout.readline().strip() == "held"
        fewer = small(variants=("dqn",))
        with pytest.raises(ConfigError, match=f"cannot delete CartPole-v1/rainbow/seed_1: it is in use by pid {holder.pid}"):
            grid.prepare(fewer, grid.expand(fewer), sweep_dir, force=True)
        assert (sweep_dir / "CartPole-v1/rainbow/seed_0").is_dir()  # checked before deleting any
    finally:
        holder.kill()
        holder.wait()


def test_refuses_a_non_sweep_directory(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds no sweep.json"):
        grid.prepare(small(), grid.expand(small()), tmp_path / "s")


# -- planner -----------------------------------------------------------------------------------


def test_replay_bytes_follow_the_storage_layout():
    pong = GridOptions(subset="pong", seeds="1", variants="dqn,rainbow")
    atari = grid.expand(definition.resolve(definition.load(ROOT / "experiments/atari_ablation.py"), pong))
    dqn, rainbow = (plan.replay_bytes(r.config) for r in atari)
    frames = 1_000_000 * 84 * 84  # one 84x84 uint8 frame per slot, not 4 stacked ones
    assert frames < dqn < frames * 1.01
    assert rainbow - dqn == 16 * 2**20  # PER's sum tree: 2 * 2^20 float64 nodes
    cartpole = grid.expand(small(variants="dqn", seeds=1))[0].config
    assert 50_000 * 16 < plan.replay_bytes(cartpole) < 50_000 * 40  # 4 float32 + per-slot bytes


def test_plan_counts_and_hours():
    runs = grid.expand(small(steps=10_000))
    p = plan.plan(runs)
    assert p.runs == 4 and p.steps == 40_000 and p.device_hours is not None and not p.extrapolated
    # rainbow is slower than dqn per step, by the measured ratio of the row
    rainbow_s, _ = plan.throughput.estimate_seconds(runs[-1].config)
    dqn_s, _ = plan.throughput.estimate_seconds(runs[0].config)
    row, exact = plan.throughput.lookup(runs[0].config)
    assert exact and rainbow_s > dqn_s
    assert rainbow_s / dqn_s == pytest.approx(row.dqn_sps / row.rainbow_sps)
    # A run resuming from a checkpoint costs what it has left.
    half = plan.plan(runs[:1], steps_done={runs[0].rel_dir: 5_000})
    assert half.device_hours == pytest.approx(plan.plan(runs[:1]).device_hours / 2)


def test_a_quantile_head_is_planned_from_its_own_measured_rate():
    """dqn+iqn under RR's config (the classic 2x512 row) costs what the row measured for that IQN,
    its other components add to it; the same head at other sizes, or a row without the head, is
    extrapolated from the scalar rate and says so (not exact)."""
    from dqnlab.presets import resolve_config

    row = throughput.TABLE[0]
    rates = dict(row.head_sps)
    cfg = lambda spec, protocol=None: resolve_config("CartPole-v0", spec, protocol=protocol)  # noqa: E731
    iqn, m_iqn = cfg("dqn+iqn", "revisiting_rainbow_iqn"), cfg("dqn+iqn+munchausen", "revisiting_rainbow_iqn")
    assert throughput.lookup(iqn) == (row, True)
    assert throughput.head_key(iqn) == ("implicit_quantile", 32, 32, 32, 64, 1) and throughput.head_key(cfg("rainbow")) is None
    seconds, exact = throughput.estimate_seconds(iqn)
    assert exact and seconds == pytest.approx(iqn.total_steps / rates[("implicit_quantile", 32, 32, 32, 64, 1)])
    # The paper's fractions per transition: the embedding runs on batch x n rows, its own rate.
    paper = resolve_config("CartPole-v0", "dqn+iqn", protocol="revisiting_rainbow_iqn",
                           overrides={"implicit_quantile.fractions": "per_transition"})
    assert throughput.estimate_seconds(paper) == (
        pytest.approx(paper.total_steps / rates[("implicit_quantile", 32, 32, 32, 64, 128)]), True)
    step = 1 / row.rainbow_sps - 1 / row.dqn_sps  # six components' cost over dqn's
    assert throughput.estimate_seconds(m_iqn)[0] == pytest.approx(seconds + m_iqn.total_steps * step / 6)
    qr = cfg("dqn+qr", "revisiting_rainbow_qrdqn")
    assert throughput.estimate_seconds(qr) == (pytest.approx(qr.total_steps / rates[("quantile", 51)]), True)
    # Dabney's 200 quantiles (the default protocol) were not measured: extrapolated, and said so.
    qr200 = cfg("dqn+qr", "revisiting_rainbow")
    assert throughput.head_key(qr200) == ("quantile", 200) and throughput.estimate_seconds(qr200)[1] is False
    assert row.steps_per_second(("qr",), ("quantile", 200)) == pytest.approx(row.steps_per_second(("double",)))
    assert row.steps_per_second(()) == row.dqn_sps


def test_dry_run_prints_plan_and_creates_nothing(tmp_path, capsys):
    sweep_dir = tmp_path / "s"
    code = main(["sweep", str(ROOT / "experiments/classic_ablation.py"), "--dry-run",
                 "--sweep-dir", str(sweep_dir)])
    out = capsys.readouterr().out
    assert code == 0 and not sweep_dir.exists()
    assert "48 runs" in out and "1,440,000 agent steps" in out and "CPU-hours" in out
    assert "replay memory per run" in out and "wall time with" in out


# -- profiles and CLI errors ------------------------------------------------------------------


def test_time_and_memory_formats():
    assert [parse_minutes(v) for v in (90, "90", "1:30:00", "0-01:30:00", "2-0", "10:30")] == [90, 90, 90, 90, 2880, 11]
    assert parse_mem_gb("16G") == 16 and parse_mem_gb("512M") == 0.5 and parse_mem_gb(4) == 4


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_shipped_profiles_load(path):
    profile = load_profile(path)
    params = profile.executor_parameters()
    assert params["slurm_partition"] and params["timeout_min"] >= 1


@pytest.mark.parametrize("text, message", [
    ('partition = "debug"\ntime = 10\npartitoin = "x"\n', "unknown key(s) partitoin"),
    ('partition = "debug"\n', "missing required key(s) time"),
    ('partition = "debug"\ntime = "soon"\n', "bad value for time"),
    ('partition = "debug"\ntime = 10\nruns_per_job = 0\n', "runs_per_job must be >= 1"),
    ("partition = \n", "not valid TOML"),
])
def test_bad_profile_exit_2_nothing_created(tmp_path, capsys, text, message):
    profile = tmp_path / "p.toml"
    profile.write_text(text)
    sweep_dir = tmp_path / "s"
    code = main(["sweep", str(ROOT / "experiments/classic_ablation.py"), "--executor", "slurm",
                 "--profile", str(profile), "--sweep-dir", str(sweep_dir)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not sweep_dir.exists() and not (tmp_path / "s" / "slurm").exists()


@pytest.mark.parametrize("args, message", [
    (["experiments/no_such.py"], "no experiment file"),
    (["experiments/classic_ablation.py", "--envs", "CartPole-v9"], "CartPole-v9"),
    (["experiments/classic_ablation.py", "--variants", "rainbow-no-foo"], "unknown component 'foo'"),
    (["experiments/classic_ablation.py", "--set", "agent.lr=1"], "unknown config key 'agent.lr'"),
    (["experiments/classic_ablation.py", "--executor", "slurm"], "needs --profile"),
    (["experiments/classic_ablation.py", "--profile", "x.toml"], "--executor slurm only"),
    (["experiments/classic_ablation.py", "--subset", "atari5"], "no subset"),
    (["experiments/classic_ablation.py", "--workers", "0"], "--workers must be >= 1"),
])
def test_bad_cli_input_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(ROOT)
    code = main(["sweep", *args, "--sweep-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1 and err.startswith("dqnlab: error:")
    assert not (tmp_path / "s").exists()


# -- executors ---------------------------------------------------------------------------------


def test_every_registered_executor_follows_the_protocol():
    settings = {"slurm": executors.ExecutorSettings(profile=ROOT / "slurm/profiles/dev.toml")}
    for name in executors.EXECUTORS:
        if name == "slurm":
            pytest.importorskip("submitit")
        ex = executors.create(name, settings.get(name))
        if name != "slurm":  # slurm's check asks for a cluster: tests/test_bad_input.py
            ex.check("cpu")
        assert ex.help and ex.device == "cpu" and ex.busy(Path("nowhere"), ["a/b/seed_0"]) == set()
        assert ex.parallelism(3)[0] >= 1
    with pytest.raises(ConfigError, match="unknown executor 'nope'; choose from local, slurm, debug"):
        executors.create("nope")


def test_dry_run_wall_time_follows_the_executor(capsys):
    pytest.importorskip("submitit")
    experiment = str(ROOT / "experiments/classic_ablation.py")
    assert main(["sweep", experiment, "--dry-run", "--executor", "debug"]) == 0
    assert "expected wall time with 1 worker(s)" in capsys.readouterr().out
    assert main(["sweep", experiment, "--dry-run", "--workers", "3"]) == 0
    assert "expected wall time with 3 worker(s)" in capsys.readouterr().out
    assert main(["sweep", experiment, "--dry-run", "--executor", "slurm",
                 "--profile", str(ROOT / "slurm/profiles/dev.toml")]) == 0
    assert "expected wall time with 4 job(s) in parallel" in capsys.readouterr().out  # dev.toml


def test_slurm_without_submitit_is_one_line(tmp_path, capsys, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "submitit" else find_spec(name, *a))
    code = main(["sweep", str(ROOT / "experiments/classic_ablation.py"), "--executor", "slurm",
                 "--profile", str(ROOT / "slurm/profiles/dev.toml"), "--sweep-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "needs submitit: pip install 'dqnlab[slurm]'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "s").exists()
    # Planning a cluster sweep needs no submitit.
    assert main(["sweep", str(ROOT / "experiments/classic_ablation.py"), "--executor", "slurm",
                 "--profile", str(ROOT / "slurm/profiles/dev.toml"), "--dry-run"]) == 0


def test_status_of_a_non_sweep_dir(tmp_path, capsys):
    assert main(["status", str(tmp_path)]) == 2
    assert "not a sweep directory" in capsys.readouterr().err


def test_an_arm_protocol_applies_where_it_can_and_the_sweeps_elsewhere():
    sweep = Sweep(name="mixed", envs=("Acrobot-v1", "ALE/Pong-v5"), variants=("dqn", "rainbow"),
                  seeds=1, protocol="nature2015", arm_protocols={"dqn": "revisiting_rainbow_dqn"})
    got = {(r.env, r.variant): r.config.protocol for r in grid.expand(sweep)}
    assert got == {
        ("Acrobot-v1", "dqn"): "revisiting_rainbow_dqn",  # the arm's own
        ("Acrobot-v1", "rainbow"): "revisiting_rainbow",  # nature2015 is Atari only: the default
        ("ALE/Pong-v5", "dqn"): "nature2015",  # the arm's protocol is not Atari: the sweep's
        ("ALE/Pong-v5", "rainbow"): "nature2015",
    }
    assert sweep.to_dict()["arm_protocols"] == {"dqn": "revisiting_rainbow_dqn"}
    with pytest.raises(ConfigError, match="unknown protocol"):
        grid.expand(Sweep(name="bad", envs=("Acrobot-v1",), variants=("dqn",), seeds=1,
                          arm_protocols={"dqn": "tuned"}))


def test_dry_run_into_a_sweep_directory_says_what_a_relaunch_trains(tmp_path, capsys):
    """Runs done or failed are skipped as a launch skips them; runs at different checkpoint steps
    go in different packs; the time left counts the steps done; nothing is written, torch is not
    imported (checkpoint steps come from the files' names)."""
    import subprocess
    import sys

    from dqnlab import rundir

    sweep = small(variants=("dqn",), seeds=4)
    sweep_dir = tmp_path / "s"
    grid.prepare(sweep, grid.expand(sweep), sweep_dir)
    _mark_done(sweep_dir, "CartPole-v1/dqn/seed_0")
    rundir.mark_failed(sweep_dir / "CartPole-v1/dqn/seed_1", "RuntimeError: boom")
    (sweep_dir / "CartPole-v1/dqn/seed_2/checkpoint").mkdir()
    (sweep_dir / "CartPole-v1/dqn/seed_2/checkpoint/step_000000000150.pt").write_bytes(b"")
    experiment = tmp_path / "t.py"
    experiment.write_text("from dqnlab.sweep import Sweep\nSWEEP = Sweep(name='t', envs=('CartPole-v1',), "
                          "variants=('dqn',), seeds=4, steps=300)\n")
    def files() -> dict:
        return {p.relative_to(sweep_dir): p.read_bytes() for p in sweep_dir.rglob("*") if p.is_file()}

    before = files()
    args = ["sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--dry-run", "--runs-per-process", "4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ("a launch trains 2 of the 4 runs (1 resuming from a checkpoint); skips 1 done, "
            "1 failed (--retry-failed reruns them)") in out
    assert "packs: none, every run trains in its own process" in out  # seed_2 at 150, seed_3 at 0
    assert main([*args, "--retry-failed"]) == 0
    out = capsys.readouterr().out
    assert "a launch trains 3 of the 4 runs (1 resuming from a checkpoint); skips 1 done" in out
    assert "packs: 2 processes for 3 runs (1 x 2 runs, 1 x 1 run;" in out  # seeds 1 and 3 at step 0
    assert files() == before
    code = ("import sys, io, contextlib; from dqnlab.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()): assert main({args!r}) == 0\n"
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr


def test_a_grid_of_only_new_runs_is_refused_with_how_to_add_them(tmp_path):
    """`--envs B` on a directory of env A adds B's runs and leaves out A's: that replaces the sweep
    (deleting A's runs) and is refused; the line says how to add runs instead."""
    sweep_dir = tmp_path / "s"
    grid.prepare(small(), grid.expand(small()), sweep_dir)
    _mark_done(sweep_dir, "CartPole-v1/dqn/seed_0")
    other = small(envs=("Acrobot-v1",))
    with pytest.raises(ConfigError) as err:
        grid.prepare(other, grid.expand(other), sweep_dir)
    line = str(err.value)
    assert "holds runs this grid leaves out (4, 1 finished: CartPole-v1/dqn/seed_0" in line
    assert "while it adds 4 (Acrobot-v1/" in line and "give a grid that holds the directory's runs too" in line
    both = small(envs=("CartPole-v1", "Acrobot-v1"))  # what the line asks for: accepted, adds 4
    plan_ = grid.prepare(both, grid.expand(both), sweep_dir)
    assert not plan_.replaces and len(plan_.kept) == 4 and len(plan_.added) == 4


def test_dry_run_says_when_a_relaunch_would_be_refused(tmp_path, capsys):
    """A changed config replaces runs: the dry run says the launch refuses, and why, with the
    options given, as the launch would (`changes.check`), instead of planning runs it won't train."""
    sweep = small(variants=("dqn",), seeds=2)
    sweep_dir = tmp_path / "s"
    grid.prepare(sweep, grid.expand(sweep), sweep_dir)
    _mark_done(sweep_dir, "CartPole-v1/dqn/seed_0")
    experiment = tmp_path / "t.py"
    experiment.write_text("from dqnlab.sweep import Sweep\nSWEEP = Sweep(name='t', envs=('CartPole-v1',), "
                          "variants=('dqn',), seeds=2, steps=300)\n")
    args = ["sweep", str(experiment), "--sweep-dir", str(sweep_dir), "--dry-run", "--steps", "400"]
    for extra, why in (([], f"{sweep_dir} holds a different sweep (differs in steps)"),
                       (["--force"], "--force would delete 1 finished run(s)")):
        assert main([*args, *extra]) == 0
        out = capsys.readouterr().out
        assert f"a launch with these options refuses: {why}" in out and "a launch trains" not in out, out
    assert main([*args, "--force", "--delete-finished"]) == 0
    assert "a launch trains 2 of the 2 runs (0 resuming from a checkpoint)" in capsys.readouterr().out

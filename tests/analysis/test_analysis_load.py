import json

import pytest
from synthetic import write_run, write_sweep

from dqnlab.analysis.errors import AnalysisError
from dqnlab.analysis.load import EVAL_TABLE_COLUMNS, check_comparable, load_runs


def test_sweep_loads_into_tidy_tables(ablation_sweep):
    tables = load_runs(ablation_sweep)
    assert tables.problems == []
    assert len(tables.runs) == 4 * 2 * 3
    assert list(tables.evals.columns) == list(EVAL_TABLE_COLUMNS)
    assert len(tables.evals) == 4 * 2 * 3 * 5
    assert tables.runs["complete"].all()
    assert (tables.evals["frame"] == tables.evals["step"] * 1).all()
    rainbow = tables.runs[tables.runs["variant"] == "rainbow"].iloc[0]
    assert rainbow["components"] == "double,dueling,per,nstep,c51,noisy"
    assert not tables.progress.empty


def test_plain_run_dirs_are_found_recursively_and_checkpoint_copies_ignored(tmp_path):
    run = write_run(tmp_path / "a" / "b", variant="dqn", env="ALE/Pong-v5", returns=[1.0, 2.0])
    (run / "checkpoint").mkdir()
    (run / "checkpoint" / "config.json").write_text((run / "config.json").read_text())
    tables = load_runs(tmp_path)
    assert len(tables.runs) == 1
    assert (tables.evals["frame"] == tables.evals["step"] * 4).all()  # Atari frame skip 4


def test_failed_partial_and_unreadable_runs_are_reported_not_raised(tmp_path):
    good = write_run(tmp_path, variant="dqn", seed=0, returns=[1.0, 2.0])
    failed = write_run(tmp_path, variant="dqn", seed=1, returns=[1.0], steps=[500],
                       state="failed", error="CUDA out of memory\nat step 501")  # fmt: skip
    running = write_run(tmp_path, variant="dqn", seed=2, returns=[1.0], steps=[500],
                        state="running")  # fmt: skip
    broken = write_run(tmp_path, variant="dqn", seed=3, returns=[1.0, 2.0])
    torn = write_run(tmp_path, variant="dqn", seed=4, returns=[1.0, 2.0])
    write_sweep(tmp_path, [good, failed, running, broken, torn])
    (broken / "config.json").write_text("{not json")
    with open(torn / "eval.csv", "a") as f:
        f.write("1500,1500,3.")  # a writer caught mid-line
    manifest = json.loads((tmp_path / "sweep.json").read_text())
    manifest["runs"].append({"run_dir": "CartPole-v1/dqn/seed_9", "variant": "dqn",
                             "env": "CartPole-v1", "seed": 9, "config": {}})  # fmt: skip
    (tmp_path / "sweep.json").write_text(json.dumps(manifest))

    tables = load_runs(tmp_path)
    kinds = {p.run_dir.split("/")[-1]: p.kind for p in tables.problems}
    assert kinds == {"seed_1": "failed", "seed_2": "partial", "seed_3": "unreadable",
                     "seed_9": "missing"}  # fmt: skip
    assert any("CUDA out of memory at step 501" in str(p) for p in tables.problems)
    complete = tables.runs.set_index("seed")["complete"].to_dict()
    assert complete == {0: True, 1: False, 2: False, 4: True}
    assert tables.evals[tables.evals["seed"] == 4]["step"].max() == 1000  # torn row dropped


def test_mixed_protocols_are_refused(tmp_path):
    write_run(tmp_path, variant="dqn", env="ALE/Pong-v5", protocol="machado2018", seed=0)
    write_run(tmp_path, variant="dqn", env="ALE/Pong-v5", protocol="nature2015", seed=1)
    tables = load_runs(tmp_path)
    with pytest.raises(AnalysisError, match="different protocols: machado2018 .*nature2015"):
        check_comparable(tables.evals)


def test_an_arm_may_run_its_own_protocol_but_not_two(tmp_path):
    write_run(tmp_path, variant="rainbow", env="Acrobot-v1", seed=0)
    write_run(tmp_path, variant="dqn", env="Acrobot-v1", protocol="revisiting_rainbow_dqn", seed=0)
    check_comparable(load_runs(tmp_path).evals)  # same env and eval settings: one quantity
    write_run(tmp_path, variant="dqn", env="Acrobot-v1", protocol="revisiting_rainbow", seed=1)
    with pytest.raises(AnalysisError, match="different protocols"):
        check_comparable(load_runs(tmp_path).evals)


def test_protocols_whose_scores_differ_are_refused_even_across_arms(tmp_path):
    write_run(tmp_path, variant="rainbow", env="ALE/Pong-v5", protocol="machado2018")
    write_run(tmp_path, variant="dqn", env="ALE/Pong-v5", protocol="nature2015")
    with pytest.raises(AnalysisError, match="different protocols: machado2018 .*nature2015"):
        check_comparable(load_runs(tmp_path).evals)


def test_runs_written_before_the_protocol_moved_are_read(tmp_path):
    run = write_run(tmp_path, variant="dqn", env="ALE/Pong-v5", protocol="nature2015")
    config = json.loads((run / "config.json").read_text())
    config["env"]["protocol"] = config.pop("protocol")  # the old layout
    (run / "config.json").write_text(json.dumps(config))
    assert load_runs(tmp_path).runs["protocol"].tolist() == ["nature2015"]


def test_mixed_presets_and_budgets_are_refused(tmp_path):
    write_run(tmp_path / "a", variant="dqn", preset="classic")
    write_run(tmp_path / "b", variant="dqn", preset="tuned")
    with pytest.raises(AnalysisError, match="different presets"):
        check_comparable(load_runs(tmp_path).runs)
    write_run(tmp_path / "c", variant="dqn", total_steps=1000)
    write_run(tmp_path / "d", variant="rainbow", total_steps=2000)
    with pytest.raises(AnalysisError, match="different budgets"):
        check_comparable(load_runs([tmp_path / "c", tmp_path / "d"]).runs)


def test_missing_or_empty_directory_is_an_error(tmp_path):
    with pytest.raises(AnalysisError, match="not a directory"):
        load_runs(tmp_path / "nope")
    with pytest.raises(AnalysisError, match="no runs found"):
        load_runs(tmp_path)

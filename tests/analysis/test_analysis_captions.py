"""Captions say what a figure shows, read from the runs: normalization table, setup, run counts."""

import pandas as pd
from synthetic import write_run

from dqnlab.analysis import captions
from dqnlab.analysis.load import load_runs


def facts_of(tmp_path, reps=2000, final_evals=1):
    loaded = load_runs(tmp_path)
    return captions.facts(loaded.runs, loaded.evals, reps, final_evals)


def test_classic_control_caption_facts_name_the_table_and_its_numbers(tmp_path):
    for env in ("CartPole-v1", "Acrobot-v1"):
        write_run(tmp_path, variant="dqn", env=env, total_steps=30_000, episodes=5)
    f = facts_of(tmp_path, reps=500, final_evals=3)
    assert f.envs == ("Acrobot-v1", "CartPole-v1")
    assert "analysis/data/small_scale_reference.csv" in f.normalization
    assert "Acrobot-v1: random −499.1, reference −100" in f.normalization
    assert "CartPole-v1: random 22.2, reference 500" in f.normalization
    assert "provisional" not in f.normalization
    assert f.setup == ("Hyperparameters: preset classic, protocol revisiting_rainbow (Obando-Ceron & "
                       "Castro 2021, their Configs/rainbow_*.gin); budget 30k environment steps per run.")
    assert f.evaluation == "An evaluation's return is the mean undiscounted return of 5 episodes."
    assert f.final == "A run's final score is the mean of its last 3 evaluations."
    assert f.bootstrap == "rliable, 500 bootstrap resamples of runs within each env"
    assert f.gamma == 0.99 and f.units == "the env's reward units"


def test_a_dqn_arm_under_its_own_protocol_is_aggregated_and_named(tmp_path):
    """The main job's layout: rainbow-no-X under rainbow_*.gin, dqn under dqn_*.gin."""
    from dqnlab.analysis.load import check_comparable

    write_run(tmp_path, variant="rainbow", env="CartPole-v0", total_steps=30_000)
    write_run(tmp_path, variant="dqn", env="CartPole-v0", total_steps=30_000, protocol="revisiting_rainbow_dqn")
    loaded = load_runs(tmp_path)
    check_comparable(loaded.runs)
    f = facts_of(tmp_path)
    assert f.setup == ("Hyperparameters: rainbow: preset classic, protocol revisiting_rainbow "
                       "(Obando-Ceron & Castro 2021, their Configs/rainbow_*.gin); dqn: preset classic, "
                       "protocol revisiting_rainbow_dqn (Obando-Ceron & Castro 2021, their tuned DQN "
                       "baseline, Configs/dqn_*.gin); budget 30k environment steps per run.")


def test_compatibility_switches_that_are_on_are_named(tmp_path):
    """Runs of the ICML figure's protocol: the switches that reproduce RR's code are named."""
    import json

    run = write_run(tmp_path, variant="rainbow", env="CartPole-v0", total_steps=30_000,
                    protocol="revisiting_rainbow_icml2021")
    config = json.loads((run / "config.json").read_text())
    config |= {"network": {"noise_draw": "fixed"}, "replay": {"timeout": "terminal"}, "run": {"iteration_steps": 1000}}
    (run / "config.json").write_text(json.dumps(config))
    f = facts_of(tmp_path)
    assert f.setup.startswith("Hyperparameters: preset classic, protocol revisiting_rainbow_icml2021 (")
    assert "with network.noise_draw=fixed, replay.timeout=terminal, run.iteration_steps=1000; budget" in f.setup


def test_atari_caption_facts_say_protocol_frames_and_clipping(tmp_path):
    write_run(tmp_path, variant="dqn", env="ALE/Pong-v5", total_steps=50_000_000)
    f = facts_of(tmp_path)
    assert f.normalization.startswith("Human-normalized score")
    assert "analysis/data/atari_human_random.csv" in f.normalization
    assert f.setup == ("Hyperparameters: preset atari, protocol machado2018 (Machado et al. 2018, as in "
                       "Dopamine); budget 50M agent steps per run (frame skip 4).")  # fmt: skip
    assert "unclipped" in f.evaluation and "clipped to [−1, 1]" in f.units


def test_minatar_references_are_called_provisional(tmp_path):
    write_run(tmp_path, variant="dqn", env="MinAtar/Breakout-v1")
    assert "The reference scores of MinAtar/Breakout-v1 are provisional" in (
        facts_of(tmp_path).normalization
    )


def test_setup_names_each_arms_preset_when_they_differ():
    runs = pd.DataFrame({
        "variant": ["rainbow", "rainbow-no-per", "dqn"], "env": "CartPole-v1",
        "family": "classic", "preset": ["classic", "classic", "classic_dqn"], "protocol": "none",
        "total_steps": 30_000, "frame_skip": 1, "gamma": 0.99, "compat": "",
    })  # fmt: skip
    evals = pd.DataFrame({"episodes": [10.0]})
    setup = captions.facts(runs, evals, 100, 1).setup
    assert setup.startswith("Hyperparameters: rainbow, rainbow-no-per: preset classic; "
                            "dqn: preset classic_dqn;")  # fmt: skip


def test_runs_sentence_and_caution():
    assert captions.runs_sentence({"rainbow": 3, "dqn": 3}) == (
        "3 runs (seeds) per env for every arm."
    )
    assert captions.runs_sentence({"dqn": 1}) == "1 run (seeds) per env for dqn."
    assert (
        captions.runs_sentence({"rainbow": 3, "dqn": 2})
        == "Runs (seeds) per env: rainbow 3, dqn 2."
    )
    assert captions.caution({"dqn": 3}) == ""
    assert captions.caution({"rainbow": 3, "dqn": 2}).startswith(
        "Caution: fewer than 3 runs per env (dqn 2): "
    )


def test_figure_caption_ends_with_counts_and_caution_and_writes_text_and_latex(tmp_path):
    write_run(tmp_path, variant="dqn", returns=[1.0, 2.0])
    f = facts_of(tmp_path)
    caption = captions.aggregate_curve(f, "iqm", "Environment steps", {"rainbow": 3, "dqn": 2},
                                       leave_one_out=False, with_final=True)  # fmt: skip
    assert caption.text.startswith("Aggregate learning curves. Left: IQM of the normalized score "
                                   "over all runs × envs (CartPole-v1)")  # fmt: skip
    assert "rainbow (black) and dqn (grey) drawn thicker" in caption.text
    assert "95% stratified-bootstrap confidence interval" in caption.text
    assert caption.text.endswith("Runs (seeds) per env: rainbow 3, dqn 2. Caution: fewer than 3 "
                                 "runs per env (dqn 2): those intervals rest on too few runs "
                                 "to be trusted.")  # fmt: skip
    assert caption.runs == {"rainbow": 3, "dqn": 2}
    txt, tex = caption.write(tmp_path / "aggregate_curve")
    assert txt.name == "aggregate_curve.caption.txt" and txt.read_text() == caption.text + "\n"
    latex = tex.read_text()
    assert latex.startswith(r"\caption{Aggregate learning curves.")
    assert r"runs $\times$ envs" in latex and r"95\%" in latex and "×" not in latex
    assert latex.endswith("}\n\\label{fig:dqnlab-aggregate-curve}\n")


def test_every_figure_caption_names_its_statistic(tmp_path):
    write_run(tmp_path, variant="dqn", returns=[1.0, 2.0])
    f = facts_of(tmp_path)
    counts = {"dqn": 3}
    expected = [
        (captions.learning_curves(f, "Frames", counts), "band: 95% bootstrap confidence interval"),
        (captions.final_scores(f, counts), "bar: 95% stratified-bootstrap confidence interval"),
        (captions.performance_profile(f, counts), "95% stratified-bootstrap confidence bands"),
        (captions.probability_of_improvement(f, counts, ["P(X > dqn)"]), "P(X > dqn) for each"),
        (captions.overestimation(f, [("dqn", "dqn+double")], counts, 0.25),
         "Line: median over runs; band: 10th–90th percentile over runs"),
        (captions.value_bias(f, counts), "black tick at the median over runs"),
    ]  # fmt: skip
    for caption, statistic in expected:
        assert statistic in caption.text, caption.label
        assert caption.text.endswith("3 runs (seeds) per env for dqn."), caption.label
    overestimation = expected[4][0]
    assert "25% of the evaluation episodes were cut by a time limit" in overestimation.text  # no tail
    with_tail = captions.overestimation(f, [("dqn", "dqn+double")], counts, 0.25, 688)
    assert "reached their time limit; the policy ran on for 688 more steps" in with_tail.text


def test_number_and_steps_formatting():
    assert captions.number(-499.093) == "−499.1"
    assert captions.number(22.197) == "22.2"
    assert captions.steps(30_000) == "30k" and captions.steps(50_000_000) == "50M"
    assert captions.steps(2_500) == "2.5k" and captions.steps(500) == "500"

"""Our runs next to RR's figure: the reference values, the verdict, and A/B arms on the same seeds."""

import pytest
from synthetic import write_run

from dqnlab.analysis import rr_figure


def _runs(root, variant, finals, env="CartPole-v0"):
    for seed, value in enumerate(finals):
        write_run(root, variant=variant, env=env, seed=seed, returns=(0.0, value), total_steps=30_000,
                  protocol="revisiting_rainbow_icml2021")


def test_the_reference_is_the_leave_one_out_figure_at_iteration_29():
    ref = rr_figure.reference()
    assert ref.loc[("CartPole-v0", "dqn"), "value"] == 122.69  # read off the figure
    assert set(ref.index.get_level_values("variant")) == {
        "rainbow", "dqn", *(f"rainbow-no-{x}" for x in ("double", "dueling", "per", "nstep", "c51", "noisy"))}
    beyond = rr_figure.reference(None, None)
    assert beyond.loc[("Acrobot-v1", "dqn+iqn"), "figure"] == "IQN.png"
    assert beyond.loc[("Acrobot-v1", "dqn"), "figure"] == rr_figure.FIGURE  # the ablation's dqn curve first


def test_the_verdict_and_an_ab_arm(tmp_path):
    _runs(tmp_path / "base", "rainbow", [197.0, 198.0, 199.0, 196.0])
    _runs(tmp_path / "base", "dqn", [190.0, 195.0, 200.0, 198.0])
    _runs(tmp_path / "huber", "dqn", [120.0, 125.0, 123.0, 121.0])
    text = rr_figure.report([tmp_path / "base"], {"loss_huber": tmp_path / "huber"})
    figure_part = text.split("A/B on")[0]
    lines = {line.split("|")[1].strip(): line for line in figure_part.splitlines() if line.startswith("| ")}
    assert "197.5" in lines["rainbow"] and lines["rainbow"].rstrip().endswith("| reproduced |")
    assert lines["dqn"].rstrip().endswith("| not reproduced |")
    ab = [line for line in text.splitlines() if "loss_huber" in line]
    assert len(ab) == 1 and "| yes |" in ab[0]  # 122.7 lies in the switched arm's interval
    mean_diff = -(190 + 195 + 200 + 198 - 120 - 125 - 123 - 121) / 4
    assert f"{mean_diff:.1f} [" in ab[0]
    p = float(ab[0].rstrip(" |").split("|")[-1])
    assert 0 < p <= 0.05  # four seeds each, every one apart


def test_an_ab_name_given_twice_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        rr_figure.main([str(tmp_path), "--ab", f"x={tmp_path / 'a'}", "--ab", f"x={tmp_path / 'b'}"])
    assert exit_info.value.code == 2
    assert "--ab x is given twice" in capsys.readouterr().err

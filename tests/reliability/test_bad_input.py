"""Every bad input is answered: exit status 2, one line on stderr, no traceback, and nothing created
or changed on disk (a tree hash of the working directory, taken before and after).

The cases run in-process through `dqnlab.cli.main` (a subprocess per case would cost a torch
import each) in one shared workspace: a finished tiny sweep, a finished run, an experiment file and
the traps (a file where a directory is expected, a corrupt eval.csv, ...). The count of cases is
the "bad inputs tried" figure of the README's reliability section.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from run_helpers import TINY, TINY_ARGS, tree_hash

from dqnlab.cli import main

TINY_SWEEP = (
    "from dqnlab.sweep import Sweep\n"
    f"SWEEP = Sweep(name='tiny', envs=('CartPole-v1',), variants=('dqn',), seeds=1, steps=200,\n"
    f"              overrides={TINY!r})\n"
)

CP = ["train", "--env", "CartPole-v1", "--run-dir", "new_run", "--quiet"]
SWEEP = ["sweep", "exp.py", "--sweep-dir", "new_sweep"]
DONE = "done_sweep"
DONE_RUN = f"{DONE}/CartPole-v1/dqn/seed_0"
SLURM = ["--executor", "slurm", "--profile", "slurm.toml"]

# (case id, argv, a phrase the one line must contain, extra environment)
CASES: list[tuple[str, list[str], str, dict[str, str]]] = [
    # -- train: config ----------------------------------------------------------------------
    ("unknown-component", [*CP, "--components", "dqn+foo"], "unknown component", {}),
    ("unknown-env", ["train", "--env", "NoSuchEnv-v0", "--run-dir", "new_run"], "NoSuchEnv", {}),
    ("zero-budget", [*CP, "--steps", "0"], "budget", {}),
    ("negative-budget", [*CP, "--steps", "-10"], "budget", {}),
    ("negative-seed", [*CP, "--seed", "-1"], "seed", {}),
    ("vmin-above-vmax", [*CP, "--components", "c51", "--set", "categorical.v_min=10",
                         "--set", "categorical.v_max=-10"], "v_min < v_max", {}),
    ("unknown-key", [*CP, "--set", "agent.learnin_rate=1"], "unknown config key", {}),
    ("set-without-equals", [*CP, "--set", "agent.learning_rate"], "key=value", {}),
    ("wrong-type", [*CP, "--set", "agent.batch_size=big"], "expects int", {}),
    ("bad-tuple", [*CP, "--set", "network.hidden_sizes=a,b"], "network.hidden_sizes", {}),
    ("infinite-lr", [*CP, "--set", "agent.learning_rate=inf"], "finite", {}),
    ("nan-gamma", [*CP, "--set", "agent.gamma=nan"], "finite", {}),
    ("protocol-on-classic", [*CP, "--protocol", "nature2015"], "does not apply to classic", {}),
    ("unknown-preset", [*CP, "--preset", "nosuch"], "unknown preset", {}),
    ("atari-preset-on-cartpole", [*CP, "--preset", "atari"], "is for atari envs", {}),
    ("nature-torso-on-cartpole", [*CP, "--set", "network.torso=nature"], "needs image observations", {}),
    ("minatar-torso-on-cartpole", [*CP, "--set", "network.torso=minatar"], "needs image observations", {}),
    ("nature-torso-on-minatar", ["train", "--env", "MinAtar/Breakout-v1", "--run-dir", "new_run",
                                 "--set", "network.torso=nature"], "at least 36x36", {}),
    ("zero-envs", [*CP, "--set", "env.num_envs=0"], "env.num_envs must be in", {}),
    ("envs-not-dividing", [*CP, "--steps", "100", "--set", "env.num_envs=3"], "multiples", {}),
    ("zero-eval-episodes", [*CP, "--set", "eval.episodes=0"], "eval.episodes", {}),
    ("eval-budget-below-episodes", [*CP, "--set", "eval.max_steps=3"], "eval.max_steps", {}),
    ("incompatible-components", [*CP, "--components", "dqn+c51+munchausen"], "cannot run with", {}),
    ("two-heads", [*CP, "--components", "dqn+c51+qr"], "both are heads", {}),
    ("quantile-head-huber", [*CP, "--components", "dqn+qr", "--set", "agent.loss=huber"], "does not fit a quantile head", {}),
    ("bad-leave-one-out", [*CP, "--components", "rainbow-no-foo"], "foo", {}),
    ("duplicate-component", [*CP, "--components", "double,double"], "double", {}),
    ("unknown-atari-protocol", ["train", "--env", "ALE/Pong-v5", "--run-dir", "new_run",
                                "--protocol", "nosuch"], "unknown protocol", {}),
    # -- train: ranges, constraints and keys that select settings (issue 23, items 3, 5, 6, 10;
    # tests/reliability/test_validation.py tries every field and constraint) ------------------
    ("gamma-above-one", [*CP, "--set", "agent.gamma=1.5"], "agent.gamma must be in (0, 1]", {}),
    ("budget-1e23", [*CP, "--steps", "100000000000000000000000"], "the budget (--steps)", {}),
    ("set-budget-1e23", [*CP, "--set", "total_steps=1e23"], "the budget (--steps)", {}),
    ("replay-of-1e12", [*CP, "--set", "replay.capacity=1e12"], "replay.capacity must be in", {}),
    ("learning-rate-1e30", [*CP, "--set", "agent.learning_rate=1e30"], "agent.learning_rate must be in", {}),
    ("zero-hidden-layer", [*CP, "--set", "network.hidden_sizes=64,0"], "network.hidden_sizes", {}),
    ("beta-above-one", [*CP, "--set", "replay.importance_exponent_end=2"], "importance_exponent_end", {}),
    ("atari-setting-on-classic", [*CP, "--set", "env.frame_stack=4"], "does not support", {}),
    ("bounds-not-fitting-the-env", [*CP, "--set", "network.input_low=-1,-1", "--set",
                                    "network.input_high=1,1"], "4 features", {}),
    ("set-env-id", [*CP, "--set", "env.id=Acrobot-v1"], "use --env", {}),
    ("set-protocol", [*CP, "--set", "protocol=revisiting_rainbow_dqn"], "use --protocol", {}),
    ("set-preset", [*CP, "--set", "preset=atari"], "use --preset", {}),
    ("set-components", [*CP, "--set", "components=double"], "use --components", {}),
    ("set-seed", [*CP, "--set", "seed=3"], "use --seed", {}),
    ("doubled-plus", [*CP, "--components", "dqn++double"], "empty component name in 'dqn++double'", {}),
    ("removed-twice", [*CP, "--components", "rainbow-no-double-no-double"], "'double' is removed twice", {}),
    ("added-to-rainbow", [*CP, "--components", "rainbow+double"], "part of 'rainbow' already", {}),
    # -- train: a component switched behind the variant's name (item 1) ----------------------
    ("set-double-on-dqn", [*CP, "--set", "agent.double=true"], "--components", {}),
    ("set-dueling-on-dqn", [*CP, "--set", "network.dueling=true"], "--components", {}),
    ("set-per-on-dqn", [*CP, "--set", "replay.prioritized=true"], "--components", {}),
    ("set-nstep-on-dqn", [*CP, "--set", "replay.n_step=3"], "--components", {}),
    ("set-c51-on-dqn", [*CP, "--set", "network.head=categorical", "--set", "agent.loss=cross_entropy"],
     "--components", {}),
    ("set-noisy-on-dqn", [*CP, "--set", "network.noisy=true"], "--components", {}),
    ("set-munchausen-on-dqn", [*CP, "--set", "munchausen.enabled=true"], "--components", {}),
    ("unset-double-in-rainbow", [*CP, "--components", "rainbow", "--set", "agent.double=false"],
     "switches double off", {}),
    # -- train: the process and the run directory -------------------------------------------
    ("unknown-device", [*CP, "--device", "quantum9"], "unknown --device", {}),
    ("absent-cuda-device", [*CP, "--device", "cuda:99"], "CUDA", {}),
    ("negative-threads", [*CP, "--threads", "-3"], "--threads", {}),
    ("zero-threads", [*CP, "--threads", "0"], "--threads", {}),
    ("run-dir-is-a-file", [*CP[:-3], "--run-dir", "afile"], "not a directory", {}),
    ("run-dir-under-a-file", [*CP[:-3], "--run-dir", "afile/run"], "not a directory", {}),
    ("run-dir-holds-other-config", [*CP[:-3], "--run-dir", DONE_RUN, "--steps", "300", *TINY_ARGS],
     "different config", {}),
    ("run-dir-holds-other-files", [*CP[:-3], "--run-dir", "junk"], "holds no config.json", {}),
    ("run-dir-truncated-config", [*CP[:-3], "--run-dir", "truncated_run"], "unreadable", {}),
    ("steps-not-a-number", [*CP, "--steps", "abc"], "invalid int value", {}),
    ("missing-env", ["train", "--run-dir", "new_run"], "--env", {}),
    ("unknown-option", [*CP, "--stepz", "10"], "unrecognized arguments", {}),
    ("unknown-command", ["trian"], "invalid choice", {}),
    # -- sweep -------------------------------------------------------------------------------
    ("no-experiment-file", ["sweep", "nosuch.py"], "no experiment file", {}),
    ("experiment-syntax-error", ["sweep", "broken.py"], "failed to load", {}),
    ("experiment-without-sweep", ["sweep", "nosweep.py"], "SWEEP", {}),
    ("misspelled-generator", ["sweep", "badgen.py", "--dry-run"], "leave_one_out", {}),
    ("sweep-dir-is-a-file", ["sweep", "exp.py", "--sweep-dir", "afile"], "not a directory", {}),
    ("sweep-dir-is-a-file-dry-run", ["sweep", "exp.py", "--sweep-dir", "afile", "--dry-run"],
     "not a directory", {}),
    ("sweep-dir-holds-other-files", ["sweep", "exp.py", "--sweep-dir", "junk"], "holds no sweep.json", {}),
    ("sweep-dir-corrupt-manifest", ["sweep", "exp.py", "--sweep-dir", "corrupt_manifest"],
     "not valid JSON", {}),
    ("bad-seeds", [*SWEEP, "--seeds", "abc"], "--seeds", {}),
    ("zero-seeds", [*SWEEP, "--seeds", "0"], "--seeds", {}),
    ("negative-seed-list", [*SWEEP, "--seeds", "0,-1"], "seeds must be in", {}),
    ("seed-listed-twice", [*SWEEP, "--seeds", "0,0"], "seed 0 is listed twice", {}),
    ("absurd-seed-count", [*SWEEP, "--seeds", "100000000", "--dry-run"], "more than the 1,000", {}),
    ("absurd-grid", [*SWEEP, "--envs", "CartPole-v1,Acrobot-v1", "--variants", "all_subsets", "--seeds",
                     "1000", "--dry-run"], "more than the 100,000", {}),
    ("sweep-budget-1e23", [*SWEEP, "--steps", "100000000000000000000000"], "the budget (--steps)", {}),
    ("sweep-set-seed", [*SWEEP, "--set", "seed=3"], "use --seed", {}),
    ("sweep-set-protocol", [*SWEEP, "--set", "protocol=revisiting_rainbow_dqn"], "use --protocol", {}),
    ("sweep-run-with-edited-config", ["sweep", "exp.py", "--sweep-dir", "edited_sweep"],
     "put it back, or delete that run directory", {}),
    ("sweep-unknown-env", [*SWEEP, "--envs", "NoSuchEnv-v0"], "NoSuchEnv", {}),
    ("sweep-unknown-variant", [*SWEEP, "--variants", "dqn+foo"], "generator", {}),
    ("sweep-zero-steps", [*SWEEP, "--steps", "0"], "budget", {}),
    ("sweep-switch-behind-variants", [*SWEEP, "--set", "agent.double=true"], "--components", {}),
    ("sweep-unknown-subset", [*SWEEP, "--subset", "nosuch"], "no subset", {}),
    ("unknown-executor", [*SWEEP, "--executor", "nope"], "invalid choice", {}),
    ("zero-workers", [*SWEEP, "--workers", "0"], "--workers", {}),
    ("sweep-unknown-device", [*SWEEP, "--device", "quantum9"], "unknown --device", {}),
    ("sweep-absent-cuda-device", [*SWEEP, "--device", "cuda:99"], "CUDA", {}),
    ("profile-without-slurm", [*SWEEP, "--profile", "slurm.toml"], "--executor slurm only", {}),
    ("slurm-without-profile", [*SWEEP, "--executor", "slurm"], "--profile", {}),
    ("slurm-missing-profile", [*SWEEP, "--executor", "slurm", "--profile", "nosuch.toml"],
     "no profile file", {}),
    ("slurm-profile-unknown-key", [*SWEEP, "--executor", "slurm", "--profile", "bad.toml"],
     "unknown key", {}),
    ("slurm-no-commands", [*SWEEP, *SLURM], "not found on PATH", {"PATH": "/nonexistent"}),
    ("slurm-no-cluster", [*SWEEP, *SLURM], "no SLURM cluster answers", {"PATH": "{fake_slurm}"}),
    ("relaunch-changed-grid", ["sweep", "exp.py", "--sweep-dir", DONE, "--steps", "300"],
     "holds a different sweep", {}),
    ("force-without-delete-finished", ["sweep", "exp.py", "--sweep-dir", DONE, "--steps", "300",
                                       "--force"], "--delete-finished", {}),
    # -- status ------------------------------------------------------------------------------
    ("status-not-a-sweep", ["status", "junk"], "not a sweep directory", {}),
    ("status-missing-dir", ["status", "nosuch"], "not a sweep directory", {}),
    ("status-of-a-file", ["status", "afile"], "not a sweep directory", {}),
    ("status-corrupt-manifest", ["status", "corrupt_manifest"], "not valid JSON", {}),
    # -- analyze -----------------------------------------------------------------------------
    ("analyze-missing-dir", ["analyze", "nosuch"], "not a directory", {}),
    ("analyze-no-runs", ["analyze", "junk"], "no runs found", {}),
    ("analyze-corrupt-eval", ["analyze", "corrupt_eval"], "--allow-partial", {}),
    ("analyze-truncated-config", ["analyze", "truncated_config"], "--allow-partial", {}),
    ("analyze-only-unreadable", ["analyze", "truncated_run"], "no readable runs", {}),
    ("analyze-repeated-row", ["analyze", "repeated_row"], "does not come after step", {}),
    ("analyze-infinite-return", ["analyze", "infinite_return"], "return_mean is inf", {}),
    ("analyze-log-changed-since", ["analyze", "changed_since"], "eval.csv was changed", {}),
    ("analyze-zero-final-evals", ["analyze", DONE, "--final-evals", "0"], "--final-evals", {}),
    ("analyze-unknown-format", ["analyze", DONE, "--formats", "xyz"], "--formats", {}),
    ("analyze-zero-dpi", ["analyze", DONE, "--dpi", "0"], "--dpi", {}),
    ("analyze-zero-reps", ["analyze", DONE, "--bootstrap-reps", "0"], "--bootstrap-reps", {}),
    ("analyze-unknown-metric", ["analyze", DONE, "--metric", "nope"], "invalid choice", {}),
    ("analyze-out-is-a-file", ["analyze", DONE, "--out", "afile"], "not a directory", {}),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    from dqnlab.sweep import definition
    from dqnlab.sweep.launch import launch

    ws = tmp_path_factory.mktemp("workspace")
    (ws / "afile").write_text("a file where a directory is expected\n")
    (ws / "exp.py").write_text(TINY_SWEEP)
    (ws / "broken.py").write_text("SWEEP = Sweep(\n")
    (ws / "nosweep.py").write_text("NAME = 'no sweep here'\n")
    (ws / "badgen.py").write_text(TINY_SWEEP.replace("variants=('dqn',)", "variants='leave_one_ot'"))
    (ws / "junk").mkdir()
    (ws / "junk" / "notes.txt").write_text("not a run\n")
    (ws / "corrupt_manifest").mkdir()
    (ws / "corrupt_manifest" / "sweep.json").write_text('{"runs": [')
    (ws / "slurm.toml").write_text('partition = "cpu"\ntime = "1:00:00"\n')
    (ws / "bad.toml").write_text('partition = "cpu"\ntime = "1:00:00"\npartitoin = "x"\n')
    launch(definition.load(ws / "exp.py"), sweep_dir=ws / DONE, executor="debug", out=open(os.devnull, "w"))
    shutil.copytree(ws / DONE, ws / "edited_sweep")  # a run whose config.json was edited since
    edited = ws / "edited_sweep" / "CartPole-v1/dqn/seed_0/config.json"
    edited.write_text(edited.read_text().replace('"batch_size": 16', '"batch_size": 32'))
    # Folders to analyze: a readable run beside one that cannot be read.
    for folder in ("corrupt_eval", "truncated_config"):
        shutil.copytree(ws / DONE_RUN, ws / folder / "good")
        shutil.copytree(ws / DONE_RUN, ws / folder / "bad")
    with open(ws / "corrupt_eval" / "bad" / "eval.csv", "a") as f:
        f.write("1,2,3,4,5,6,7,8,9,10,11,12,13\n")  # a row with too many fields
    # Bad rows (issue 23, item 7), in runs whose status.json predates marks (only the rows can
    # tell), and a finished run's eval.csv changed since its status.json recorded it.
    for folder, edit in (("repeated_row", lambda rows: [*rows, rows[1]]),
                         ("infinite_return", lambda rows: [*rows[:-1], rows[-1].replace(rows[-1].split(",")[2], "inf", 1)]),
                         ("changed_since", lambda rows: [*rows[:-1], rows[-1].replace(",", ",1", 1)])):
        shutil.copytree(ws / DONE_RUN, ws / folder / "run")
        evals, status = ws / folder / "run" / "eval.csv", ws / folder / "run" / "status.json"
        evals.write_text("\n".join(edit(evals.read_text().splitlines())) + "\n")
        if folder != "changed_since":
            status.write_text(json.dumps({k: v for k, v in json.loads(status.read_text()).items() if k != "logs"}))
    for config in (ws / "truncated_config" / "bad" / "config.json", ws / "truncated_run" / "config.json"):
        config.parent.mkdir(exist_ok=True)
        config.write_text((ws / DONE_RUN / "config.json").read_text()[:100])
    return ws


@pytest.fixture(scope="module")
def fake_slurm(tmp_path_factory) -> Path:
    """SLURM's commands, with a controller that does not answer."""
    bin_dir = tmp_path_factory.mktemp("fake_slurm_bin")
    for name in ("sbatch", "srun", "squeue", "sinfo"):
        script = bin_dir / name
        script.write_text("#!/bin/sh\necho 'sinfo: error: Unable to contact slurm controller' >&2\nexit 1\n")
        script.chmod(0o755)
    return bin_dir


def test_the_table_is_large_and_its_ids_unique():
    assert len(CASES) >= 50 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("argv, phrase, env", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(workspace, fake_slurm, monkeypatch, capsys,
                                                         argv, phrase, env):
    monkeypatch.chdir(workspace)
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(fake_slurm=fake_slurm))
    before = tree_hash(workspace)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's usage errors
        code = e.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert phrase in lines[0], lines[0]
    assert tree_hash(workspace) == before, "the bad input changed the working directory"

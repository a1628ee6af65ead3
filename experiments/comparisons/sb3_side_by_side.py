"""Side by side: dqnlab's DQN against Stable-Baselines3's DQN on CartPole-v1 (issue 9).

Both sides train N seeds under one set of DQN settings, matched key by key (`SETTINGS` below is
the mapping, the table docs/fidelity.md shows), and are evaluated the same way: every 2.5k agent
steps, 10 episodes on independent eval envs, at epsilon 0 and at epsilon 0.001. dqnlab runs
through its public API (`presets.resolve_config`, `rundir.prepare`, `train.train`), once per
evaluation epsilon (`eval.epsilon`; evaluating never perturbs training, so the two runs of a seed
train identically, which the script checks); SB3 trains once per seed and is evaluated at both
epsilons by `evaluate_sb3`, with model.predict(deterministic=True) plus our own epsilon draws.

Stable-Baselines3 is not a dependency of dqnlab; install it into the venv first, without its
dependencies so the CPU torch stays pinned:

    .venv/bin/pip install --no-deps stable-baselines3==2.9.2
    .venv/bin/python experiments/comparisons/sb3_side_by_side.py --seeds 10 --out results/sb3_side_by_side

Writes OUT/evaluations.csv (side, seed, step, eps, return_mean: every evaluation) and
OUT/summary.md (per side and eval epsilon: steps until the evaluation mean first reaches 475,
censored at the budget; the final evaluation; the mean over all evaluations, i.e. the area under
the curve divided by the budget; means over seeds with 95% bootstrap intervals; a permutation test
and a Mann-Whitney test of each difference). Finished runs are kept: rerunning the command resumes.
`--summarize` rebuilds the summary from OUT/evaluations.csv alone.

Not a sweep definition (experiments/*.py are); it lives in this subfolder for that reason.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ENV_ID = "CartPole-v1"
SOLVED = 475.0
EVAL_EPSILONS = (0.0, 0.001)
SB3_HINT = ("stable-baselines3 is missing: .venv/bin/pip install --no-deps stable-baselines3==2.9.2 "
            "(it is not a dependency of dqnlab)")

# The exploration schedule. SB3 decays epsilon linearly from the first step over a fraction of
# total_timesteps (`LinearSchedule` of progress_remaining), and acts uniformly at random while
# num_timesteps < learning_starts; dqnlab uses explore.warmup_epsilon before
# agent.min_replay_steps and decays from explore.epsilon_start over explore.epsilon_decay_steps
# counted after it. Starting ours where SB3's line is at the end of the warm-up makes the two equal
# at every step past it.
EPS_START, EPS_END, EPS_FRACTION = 1.0, 0.04, 0.16
LEARNING_STARTS = 1000
TRAIN_FREQ = 2
# SB3 trains after a rollout when num_timesteps > learning_starts, so its first update is at step
# 1004; dqnlab updates at steps s >= min_replay_steps with s % update_period_steps == 0. One more
# step of warm-up puts both on the same update steps (1004, 1008, ...).
MIN_REPLAY = LEARNING_STARTS + 1


def exploration(total_steps: int) -> dict[str, Any]:
    """dqnlab's explore.* keys that reproduce SB3's schedule for this budget."""
    decay_end = EPS_FRACTION * total_steps
    start = EPS_START + (EPS_END - EPS_START) * MIN_REPLAY / decay_end
    return {"explore.warmup_epsilon": 1.0, "explore.epsilon_start": start,
            "explore.epsilon_end": EPS_END, "explore.epsilon_decay_steps": round(decay_end - MIN_REPLAY)}


@dataclass(frozen=True)
class Setting:
    name: str
    sb3: dict[str, Any]
    """DQN(...) keyword arguments (policy_kwargs entries under the key "policy_kwargs")."""
    dqnlab: dict[str, Any]
    """dqnlab config overrides (dotted keys)."""
    note: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("network", {"policy_kwargs": {"net_arch": [256, 256]}},
            {"network.hidden_sizes": (256, 256), "network.torso": "mlp"},
            "MLP 4-256-256-2, ReLU (SB3 MlpPolicy: FlattenExtractor + create_mlp)"),
    Setting("initialization", {}, {"network.init": "uniform_fan_in"},
            "both torch's nn.Linear default, U(+-1/sqrt(fan_in)) for weights and biases; SB3's "
            "DQNPolicy applies no orthogonal init (only ActorCriticPolicy does); the draws differ"),
    Setting("input normalization", {}, {"network.input_low": (), "network.input_high": ()},
            "none on either side (our CartPole protocols normalize; turned off)"),
    Setting("learning rate", {"learning_rate": 2.3e-3}, {"agent.learning_rate": 2.3e-3}),
    Setting("Adam eps", {"policy_kwargs": {"optimizer_kwargs": {"eps": 1e-8}}}, {"agent.adam_eps": 1e-8},
            "torch's default, which SB3's DQN keeps; betas 0.9/0.999 on both"),
    Setting("batch size", {"batch_size": 64}, {"agent.batch_size": 64}),
    Setting("replay capacity", {"buffer_size": 50_000}, {"replay.capacity": 50_000},
            "the whole budget: nothing is evicted; uniform sampling with replacement on both"),
    Setting("gamma", {"gamma": 0.99}, {"agent.gamma": 0.99}),
    Setting("warm-up", {"learning_starts": LEARNING_STARTS}, {"agent.min_replay_steps": MIN_REPLAY},
            "first update at step 1004 on both (SB3 trains when num_timesteps > learning_starts)"),
    Setting("update period", {"train_freq": (TRAIN_FREQ, "step"), "gradient_steps": 1},
            {"agent.update_period_steps": TRAIN_FREQ}, "one gradient step every 4 env steps"),
    Setting("target network", {"target_update_interval": 250, "tau": 1.0},
            {"agent.target_update_period_steps": 250, "agent.target_update_tau": 1.0},
            "hard copy every 500 env steps on both (SB3 counts env steps, warm-up included, as we do)"),
    Setting("exploration", {"exploration_initial_eps": EPS_START, "exploration_final_eps": EPS_END,
                            "exploration_fraction": EPS_FRACTION}, {},  # dqnlab's: exploration()
            "uniform random for the first 1000 steps, then SB3's line 1 -> 0.05 reaching 0.05 at "
            "20% of the budget (10k of 50k steps); ours starts at its value at step 1001"),
    Setting("loss", {}, {"agent.loss": "huber"}, "SB3: F.smooth_l1_loss (Huber, delta 1), batch mean"),
    Setting("gradient clipping", {"max_grad_norm": 10.0}, {"agent.max_grad_norm": 10.0},
            "global norm 10 (SB3's default)"),
    Setting("time limits", {}, {"env.max_episode_steps": 500},
            "CartPole-v1's 500-step cap, a truncation: both bootstrap through it (SB3's replay "
            "buffer handle_timeout_termination=True, its default)"),
    Setting("rewards", {}, {"env.reward_clip": False}, "raw on both (CartPole's are 1)"),
    Setting("components", {}, {"replay.n_step": 1},
            "textbook DQN: no double, dueling, PER, n-step, C51, noisy (variant dqn)"),
)


def sb3_kwargs() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in SETTINGS:
        for key, value in s.sb3.items():
            out[key] = {**out.get(key, {}), **value} if isinstance(value, dict) else value
    return out


def dqnlab_config(seed: int, total_steps: int, eval_eps: float, eval_period: int, episodes: int):
    from dqnlab.presets import resolve_config

    overrides: dict[str, Any] = {k: v for s in SETTINGS for k, v in s.dqnlab.items()}
    overrides |= exploration(total_steps)
    overrides |= {"eval.epsilon": eval_eps, "eval.period_steps": eval_period, "eval.episodes": episodes,
                  "eval.value_tail_steps": 0,  # the overestimation measure's tail: not needed here
                  "run.checkpoint_period_steps": 0}
    # Every hyperparameter is overridden; the protocol only names where the rest came from.
    return resolve_config(ENV_ID, "dqn", seed=seed, total_steps=total_steps,
                          protocol="revisiting_rainbow_dqn", overrides=overrides)


def run_dqnlab(out: Path, seed: int, args: argparse.Namespace) -> pd.DataFrame:
    from dqnlab import rundir
    from dqnlab.train import train

    frames = []
    for eps in args.dqnlab_eps:
        run_dir = out / "dqnlab" / f"eps{eps:g}" / f"seed{seed}"
        cfg = dqnlab_config(seed, args.steps, eps, args.eval_period, args.episodes)
        rundir.prepare(cfg, run_dir)
        train(run_dir, progress=False)
        ev = pd.read_csv(run_dir / "eval.csv")
        frames.append(pd.DataFrame({"side": "dqnlab", "seed": seed, "step": ev["step"], "eps": eps,
                                    "return_mean": ev["return_mean"]}))
    losses = [pd.read_csv(out / "dqnlab" / f"eps{e:g}" / f"seed{seed}" / "progress.csv")["loss"]
              for e in EVAL_EPSILONS if (out / "dqnlab" / f"eps{e:g}" / f"seed{seed}" / "progress.csv").exists()]
    if len(losses) == 2 and not losses[0].equals(losses[1]):  # evaluation must not touch training
        print(f"warning: dqnlab seed {seed} trained differently under the two eval epsilons", file=sys.stderr)
    return pd.concat(frames)


def evaluate_sb3(model, seed: int, index: int, eps: float, episodes: int) -> float:
    """Mean return of `episodes` episodes on fresh envs, greedy (model.predict, deterministic)
    except with probability eps. Seeds and epsilon draws follow dqnlab's evaluation: seeds from
    default_rng([seed, 4, index]), then per step one uniform per live env and one random action
    each, from the same generator."""
    import gymnasium as gym

    rng = np.random.default_rng([seed, 4, index])
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=episodes)]
    envs = [gym.make(ENV_ID) for _ in seeds]
    obs = [env.reset(seed=s)[0] for env, s in zip(envs, seeds)]
    returns, live = np.zeros(episodes), list(range(episodes))
    while live:
        explore = rng.random(len(live)) < eps
        random_actions = rng.integers(0, envs[0].action_space.n, size=len(live))
        greedy, _ = model.predict(np.stack([obs[i] for i in live]), deterministic=True)
        actions = np.where(explore, random_actions, greedy)
        still = []
        for j, i in enumerate(live):
            obs[i], r, term, trunc, _ = envs[i].step(int(actions[j]))
            returns[i] += r
            if not (term or trunc):
                still.append(i)
        live = still
    return float(returns.mean())


def run_sb3(out: Path, seed: int, args: argparse.Namespace) -> pd.DataFrame:
    path = out / "sb3" / f"seed{seed}.csv"
    if path.exists():
        return pd.read_csv(path)
    try:
        from stable_baselines3 import DQN
        from stable_baselines3.common.callbacks import BaseCallback
    except ImportError:
        sys.exit(SB3_HINT)
    import gymnasium as gym

    rows: list[dict[str, Any]] = []

    def evaluate(model) -> None:
        step = model.num_timesteps
        for eps in EVAL_EPSILONS:
            rows.append({"side": "sb3", "seed": seed, "step": step, "eps": eps,
                         "return_mean": evaluate_sb3(model, seed, len(rows) // 2, eps, args.episodes)})

    class Evaluations(BaseCallback):
        # At the start of a rollout the updates of the previous one are done: the network
        # evaluated at step s has had every update up to s, as dqnlab's has.
        def _on_rollout_start(self) -> None:
            step = self.model.num_timesteps
            if step and step % args.eval_period == 0 and (not rows or rows[-1]["step"] != step):
                evaluate(self.model)

        def _on_step(self) -> bool:
            return True

    model = DQN("MlpPolicy", gym.make(ENV_ID), seed=seed, device="cpu", verbose=0, **sb3_kwargs())
    model.learn(total_timesteps=args.steps, callback=Evaluations())
    if not rows or rows[-1]["step"] != model.num_timesteps:
        evaluate(model)  # the end of the budget, after its last updates
    frame = pd.DataFrame(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path.with_suffix(".tmp"), index=False)
    path.with_suffix(".tmp").rename(path)
    return frame


def per_run_metrics(evals: pd.DataFrame, budget: int) -> pd.DataFrame:
    """One row per (side, eps, seed): steps to SOLVED (censored at the budget), whether it got
    there, the final evaluation, and the mean over all evaluations."""
    def one(g: pd.DataFrame) -> pd.Series:
        g = g.sort_values("step")
        hit = g[g["return_mean"] >= SOLVED]["step"]
        return pd.Series({"steps_to_475": float(hit.iloc[0]) if len(hit) else float(budget),
                          "reached": bool(len(hit)), "final": g["return_mean"].iloc[-1],
                          "mean_over_evals": g["return_mean"].mean()})
    return evals.groupby(["side", "eps", "seed"]).apply(one, include_groups=False).reset_index()


METRICS = {"steps_to_475": "steps until the evaluation mean first reaches 475 (censored at the budget)",
           "final": "final evaluation (at the budget)",
           "mean_over_evals": "mean over all evaluations (area under the curve / budget)"}


def summary(evals: pd.DataFrame, budget: int, seed: int = 0) -> str:
    from scipy import stats

    from dqnlab.analysis.fidelity_tables import fmt, mean_ci

    runs = per_run_metrics(evals, budget)
    rng = np.random.default_rng(seed)
    lines = [f"# dqnlab vs Stable-Baselines3 DQN on {ENV_ID}", "",
             f"Seeds per side: {runs.groupby(['side', 'eps'])['seed'].nunique().to_dict()}; budget "
             f"{budget} steps. Cells: mean over seeds [95% percentile bootstrap over seeds, 2000 resamples].", "",
             "| side | eval eps | runs reaching 475 | " + " | ".join(METRICS) + " |",
             "|---|---|---|" + "---|" * len(METRICS)]
    for (side, eps), g in runs.groupby(["side", "eps"]):
        cells = [fmt(*mean_ci(g[m], rng), digits=0 if m == "steps_to_475" else 1) for m in METRICS]
        lines.append(f"| {side} | {eps:g} | {int(g['reached'].sum())}/{len(g)} | " + " | ".join(cells) + " |")
    lines += ["", "Differences dqnlab - sb3, per eval epsilon: two-sided permutation test of the "
              "difference of means (20,000 resamples) and Mann-Whitney U (censored runs tie at the budget).", "",
              "| eval eps | metric | dqnlab - sb3 | permutation p | Mann-Whitney p |", "|---|---|---|---|---|"]
    for eps, g in runs.groupby("eps"):
        for m in METRICS:
            x, y = (g[g["side"] == s][m].to_numpy(float) for s in ("dqnlab", "sb3"))
            if len(x) < 2 or len(y) < 2:
                continue
            perm = stats.permutation_test((x, y), lambda a, b: a.mean() - b.mean(), n_resamples=20_000,
                                          random_state=rng, alternative="two-sided")
            mw = stats.mannwhitneyu(x, y, alternative="two-sided")
            lines.append(f"| {eps:g} | {m} | {x.mean() - y.mean():.1f} | {perm.pvalue:.3f} | {mw.pvalue:.3f} |")
    lines += ["", "Eval epsilon 0.001 against 0 on the same networks (seeds evaluated at both; "
              "dqnlab's two runs of a seed train identically):", "",
              "| side | seeds | largest abs difference of one evaluation | " + " | ".join(
                  f"mean difference, {m}" for m in METRICS) + " |", "|---|---|---|" + "---|" * len(METRICS)]
    for side, g in evals.groupby("side"):
        wide = g.pivot_table(index=["seed", "step"], columns="eps", values="return_mean").dropna()
        if set(EVAL_EPSILONS) - set(wide.columns) or wide.empty:
            continue
        r = runs[runs["side"] == side].pivot_table(index="seed", columns="eps", values=list(METRICS)).dropna()
        diffs = [f"{(r[m][EVAL_EPSILONS[1]] - r[m][EVAL_EPSILONS[0]]).mean():.1f}" for m in METRICS]
        biggest = (wide[EVAL_EPSILONS[1]] - wide[EVAL_EPSILONS[0]]).abs().max()
        lines.append(f"| {side} | {len(r)} | {biggest:.1f} | " + " | ".join(diffs) + " |")
    lines += ["", "Per-run values: " + "; ".join(f"{m}: {d}" for m, d in METRICS.items()), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 per side")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=50_000, help="budget in env steps")
    p.add_argument("--eval-period", type=int, default=2_500)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--sides", default="dqnlab,sb3", help="comma list: dqnlab, sb3")
    p.add_argument("--dqnlab-eps", default="0,0.001",
                   help="comma list of dqnlab's eval epsilons, one training run each (0 and/or 0.001)")
    p.add_argument("--out", type=Path, default=Path("results/sb3_side_by_side"))
    p.add_argument("--summarize", action="store_true", help="only rebuild summary.md from evaluations.csv")
    args = p.parse_args(argv)
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    try:
        args.dqnlab_eps = [float(e) for e in args.dqnlab_eps.split(",") if e.strip()]
    except ValueError:
        args.dqnlab_eps = []
    if (not set(sides) <= {"dqnlab", "sb3"} or args.seeds < 1 or args.steps % args.eval_period
            or not args.dqnlab_eps or not set(args.dqnlab_eps) <= set(EVAL_EPSILONS)):
        print("sb3_side_by_side: --sides takes dqnlab,sb3; --dqnlab-eps 0 and/or 0.001; --seeds >= 1; "
              "--steps a multiple of --eval-period", file=sys.stderr)
        return 2
    if "sb3" in sides and not args.summarize:
        try:
            import stable_baselines3  # noqa: F401
        except ImportError:
            print(SB3_HINT, file=sys.stderr)
            return 2
    csv = args.out / "evaluations.csv"
    if not args.summarize:
        import torch

        torch.set_num_threads(1)
        # dqnlab's runs set this process-wide (run.flush_denormal); SB3's runs get the same.
        torch.set_flush_denormal(True)
        frames = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for side in sides:
                start = time.perf_counter()
                frames.append((run_dqnlab if side == "dqnlab" else run_sb3)(args.out, seed, args))
                print(f"{side} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
        new = pd.concat(frames)
        if csv.exists():  # keep what other invocations (other seeds or sides) wrote
            old = pd.read_csv(csv)
            keys = ["side", "seed", "eps"]
            old = old[~old.set_index(keys).index.isin(new.set_index(keys).index)]
            new = pd.concat([old, new])
        new.sort_values(["side", "eps", "seed", "step"]).to_csv(csv, index=False)
    evals = pd.read_csv(csv)
    text = summary(evals, int(evals["step"].max()))
    (args.out / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Evaluation: the greedy policy (eval epsilon, mean weights for noisy nets) over several episodes,
run side by side with one batched forward pass per step.

It also measures overestimation (van Hasselt et al. 2016): for every visited state s_t it records the
predicted Q(s_t, a_t) and the discounted return actually obtained from s_t, sum_k gamma^k r_{t+k}, in
the units the agent learns (clipped rewards where the protocol clips). Where the learner treats a
life loss as terminal, the realized return stops there too, as the agent's own Q does. An episode
that reaches its time limit (counted in `truncated_episodes`) has its score there, but goes on for
`eval.value_tail_steps` more steps with the same policy, so the realized values of its states do
not stop at the limit the learner bootstraps through (`realized_values.py` has the why and the
bound on what is left).

An evaluation is bounded by a step budget, `eval.max_steps` agent steps over all its episodes
(tails included). Dopamine's evaluation phase has such a budget (125k steps on Atari) as a minimum
that its last episode, run to its end, may exceed; here the episodes run side by side, so the budget
is a cap: when it is spent the episodes still running are cut there, like a time limit (their return
so far is their score; they count as truncated). It polls `should_stop` at every step and gives up
(returns None) when asked to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dqnlab.agent import Agent
from dqnlab.config import Config
from dqnlab.envs.signals import ends_bootstrap, learning_reward
from dqnlab.realized_values import realized_values


def evaluate(
    cfg: Config,
    agent: Agent,
    make_env: Callable[[int], Any],
    rng: np.random.Generator,
    *,
    seeds: list[int],
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, float] | None:
    """Run len(seeds) episodes, env i seeded with seeds[i]; return the eval.csv columns, or None
    if should_stop() became true first."""
    start = time.perf_counter()
    envs = [make_env(s) for s in seeds]
    obs = [env.reset(seed=s)[0] for env, s in zip(envs, seeds)]
    live = list(range(len(envs)))
    returns = np.zeros(len(envs))
    q_pred: list[list[float]] = [[] for _ in envs]
    learn_rewards: list[list[float]] = [[] for _ in envs]
    cuts: list[list[bool]] = [[] for _ in envs]
    tail_left = [-1] * len(envs)  # -1: still scoring; then the steps its tail may still take
    truncated = 0
    tail = cfg.eval.value_tail_steps or 0
    budget = cfg.eval.max_steps
    while live:
        if should_stop():
            for env in (envs[i] for i in live):
                env.close()
            return None
        if budget is not None and budget < len(live):  # the budget is spent: cut them here
            # Episodes in their value tail were counted as truncated at their time limit already.
            truncated += sum(tail_left[i] < 0 for i in live)
            for env in (envs[i] for i in live):
                env.close()
            break
        if budget is not None:
            budget -= len(live)
        actions, q = agent.act(np.stack([obs[i] for i in live]), cfg.eval.epsilon, rng, evaluation=True)
        if q is None:  # every action random: Q is still needed for the overestimation measure
            q_all = agent.q_values(np.stack([obs[i] for i in live]), evaluation=True, rng=rng).cpu().numpy()
            q = q_all[np.arange(len(live)), actions]
        still = []
        for j, i in enumerate(live):
            o, r, term, trunc, info = envs[i].step(int(actions[j]))
            learn_rewards[i].append(learning_reward(cfg.env, r))
            cut = ends_bootstrap(cfg.env, term, bool(info.get("life_loss", False)))
            if tail_left[i] < 0:  # scoring: the state is measured, the reward counts in the score
                returns[i] += r
                q_pred[i].append(float(q[j]))
                ended = term or (trunc and tail == 0)
                if trunc and not term:
                    truncated += 1
                    tail_left[i] = tail  # the time limit: the score ends, the values go on
            else:  # the tail (the time limit goes on reporting truncation; ignored)
                tail_left[i] -= 1
                ended = term or tail_left[i] == 0
            cuts[i].append(cut or ended)
            if ended:
                envs[i].close()
            else:
                obs[i] = o
                still.append(i)
        live = still
    realized = np.concatenate([
        realized_values(np.array(r), np.array(c), cfg.agent.gamma, len(q))
        for r, c, q in zip(learn_rewards, cuts, q_pred)
    ])
    predicted = np.concatenate([np.array(q) for q in q_pred])
    return {
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "episodes": len(envs),
        "q_estimate_mean": float(predicted.mean()),
        "discounted_return_mean": float(realized.mean()),
        "truncated_episodes": truncated,
        "eval_seconds": time.perf_counter() - start,
    }

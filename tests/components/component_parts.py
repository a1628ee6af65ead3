"""Small fixed parts for the component tests: networks with hand-written outputs, batches, and a
real agent or trainer for a variant on CartPole-v1."""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from dqnlab import components, heads, rundir
from dqnlab.agent import Agent
from dqnlab.batch import TensorBatch
from dqnlab.networks import QOutput
from dqnlab.presets import resolve_config
from dqnlab.train import Trainer

SMALL = {"network.hidden_sizes": "16", "agent.batch_size": "8", "agent.min_replay_steps": "50", "eval.episodes": "1"}


class TableQ:
    """A Q-network given as a table: state k (an observation [k]) has the row k of `q` (and of
    `logits`, for a categorical head). Lets a test write Q(s_tm1), Q(s_t) by hand."""

    def __init__(self, q: list[list[float]], logits: list | None = None, support: list[float] | None = None):
        self.q = torch.tensor(q)
        self.logits = None if logits is None else torch.tensor(logits)
        self.support = None if support is None else torch.tensor(support)

    def __call__(self, obs: torch.Tensor) -> QOutput:
        rows = obs[:, 0].long()
        if self.logits is None:
            return QOutput(self.q[rows], None)
        logits = self.logits[rows]
        return QOutput((torch.softmax(logits, -1) * self.support).sum(-1), logits)


def bootstraps(spec: str) -> dict:
    """Each head's bootstrap for a variant on CartPole-v1: its target component's (double,
    munchausen), or every head's textbook one; called as (online, target, batch, taus)."""
    cfg = resolve_config("CartPole-v1", spec)
    hook = components.target_hook(cfg)
    if hook is None:
        return {name: functools.partial(h.bootstrap, select="target") for name, h in heads.HEADS.items()}
    return dict(hook(cfg))


def table_batch(states_tm1, actions, rewards, discounts, states_t) -> TensorBatch:
    """A batch over TableQ states: obs [k] for each state index k."""
    col = lambda xs: torch.tensor(xs, dtype=torch.float32)[:, None]  # noqa: E731
    return TensorBatch(col(states_tm1), torch.tensor(actions), torch.tensor(rewards),
                       torch.tensor(discounts), col(states_t), None)


def agent(spec: str, **overrides: str) -> Agent:
    cfg = resolve_config("CartPole-v1", spec, overrides={**SMALL, **overrides})
    return Agent(cfg, (4,), 2, torch.device("cpu"))


def trainer(tmp_path: Path, spec: str, **overrides: str) -> Trainer:
    cfg = resolve_config("CartPole-v1", spec, total_steps=200, overrides={**SMALL, **overrides})
    rundir.prepare(cfg, tmp_path / "run")
    return Trainer(tmp_path / "run", progress=False)

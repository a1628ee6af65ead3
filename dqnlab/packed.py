"""Packed runs: K runs that differ only by seed, trained in lockstep as one (issue 13).

Each run keeps its own `Agent` (networks, Adam, noise generator): its evaluations and checkpoints
go through it exactly as for a run trained alone. While the pack trains, `PackedLearner` holds the
K runs' networks as one packed QNetwork (`QNetwork(pack=K)`: every parameter stacked along a
leading axis) and acts and learns for all of them at once, with the same loss function as a
single agent (`agent.make_loss_fn`: the math takes a leading pack axis):

* one forward pass for the K runs' observations [K, E, ...], one update for K batches [K, B, ...];
* the sum of the K per-run losses gives each run its own gradient (the runs share no parameter);
* one fused Adam over the stacked tensors is K independent Adams (Adam is elementwise and the runs
  step together); gradient-norm clipping is per run (`grad_clip.clip_grad_norm_per_run_`);
* every run's noise comes from its own generator, drawn in the order the run would draw it alone,
  and every run's exploration from its own RNG.

So a run in a pack is the same algorithm as the run alone; what may differ is rounding (a batched
matrix product may sum in another order than K separate ones), measured in tests/test_packed.py.
`sync` copies the pack's state back into the K agents (before an evaluation or a
checkpoint); a new PackedLearner stacks the agents' state (after a restore).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from dqnlab import losses
from dqnlab.agent import Agent, UpdateInfo, epsilon_draws, make_loss_fn, update_target
from dqnlab.batch import Batch, TensorBatch
from dqnlab.grad_clip import clip_grad_norm_per_run_
from dqnlab.heads import TauSampler
from dqnlab.networks import QNetwork, noise_sizes, signed_sqrt


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


@torch.no_grad()
def stack_networks(nets: Sequence[QNetwork]) -> QNetwork:
    """One packed QNetwork holding `nets`' parameters and buffers, stacked along a leading axis
    (a tensor the pack shares, such as the C51 support, is taken from the first)."""
    first = nets[0]
    device = next(first.parameters()).device
    packed = QNetwork(first.cfg, first.obs_shape, first.num_actions, pack=len(nets)).to(device)
    parts = [_tensors(n) for n in nets]
    for name, t in _tensors(packed).items():
        mine = [p[name] for p in parts]
        t.copy_(torch.stack(mine) if t.dim() == mine[0].dim() + 1 else mine[0])
    return packed


@torch.no_grad()
def unstack_into(packed: QNetwork, net: QNetwork, k: int) -> None:
    """Copy run k's slice of `packed` into `net`."""
    source = _tensors(packed)
    for name, t in _tensors(net).items():
        src = source[name]
        t.copy_(src[k] if src.dim() == t.dim() + 1 else src)


class PackedLearner:
    """Acts and learns for K runs at once (module docstring); a `learner.Learner`."""

    stages_batches = False
    """A pack stacks its runs' batches itself (`_stack_batches`): no run stages its own."""

    def __init__(self, agents: Sequence[Agent]) -> None:
        self.agents = list(agents)
        self.cfg, self.device = agents[0].cfg, agents[0].device
        self.num_actions = agents[0].num_actions
        self.online = stack_networks([a.online for a in agents])
        self.target = stack_networks([a.target for a in agents])
        for p in self.target.parameters():
            p.requires_grad_(False)
        self.noise_sizes = noise_sizes(self.online.noisy_layers)
        a = self.cfg.agent
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=a.learning_rate, eps=a.adam_eps, fused=True)
        self._load_adam_state()
        self.head = agents[0].head
        self.loss_fn = make_loss_fn(self.cfg)
        # Whether the agents hold the pack's state: an evaluation and a checkpoint at the same
        # step need one copy, not two.
        self.synced = True

    # -- noise ----------------------------------------------------------------------------------

    @torch.no_grad()
    def _reset_noise(self, net: QNetwork, runs: list[int]) -> None:
        """New noise in `net`'s noisy layers for `runs`, each from its run's generator: the values
        that run's network would draw alone (`networks.reset_noise`), in the same order."""
        if not (net.noisy_layers and net.noise_each_step) or not runs:
            return
        total = sum(self.noise_sizes)
        x = signed_sqrt(torch.stack([
            torch.randn(total, generator=self.agents[k].noise_generator, device=self.device) for k in runs
        ]))
        parts = iter(x.split(self.noise_sizes, dim=1))
        every = len(runs) == len(self.agents)
        index = None if every else torch.tensor(runs, device=self.device)
        for layer in net.noisy_layers:
            for eps in (layer.eps_in, layer.eps_out):
                part = next(parts)
                eps.copy_(part) if every else eps.index_copy_(0, index, part)

    # -- acting ---------------------------------------------------------------------------------

    def act(self, obs: Sequence[np.ndarray], epsilon: float, rngs: Sequence[np.random.Generator]) -> list[np.ndarray]:
        """Epsilon-greedy actions of every run for its observations obs[k] [E, ...], with the draws
        `Agent.act` makes from rngs[k]; one forward pass when any run acts greedily."""
        num = obs[0].shape[0]
        draws = [epsilon_draws(rng, num, epsilon, self.num_actions) for rng in rngs]
        greedy = [k for k, (explore, _) in enumerate(draws) if not explore.all()]
        if not greedy:
            return [random_actions for _, random_actions in draws]
        self._reset_noise(self.online, greedy)  # a run whose every action is random draws none
        self.synced = self.synced and not (self.online.noisy_layers and self.online.noise_each_step)
        # A run whose every action is random draws nothing more, as alone (its Q-values go unused).
        tau_rngs = [rng if k in greedy else None for k, rng in enumerate(rngs)]
        with torch.no_grad():
            q = self.head.policy_q(self.online, torch.as_tensor(np.stack(obs), device=self.device), tau_rngs)
        best = q.argmax(-1).cpu().numpy()
        return [np.where(explore, random_actions, b) for (explore, random_actions), b in zip(draws, best)]

    # -- learning -------------------------------------------------------------------------------

    def _stack_batches(self, batches: Sequence[Batch]) -> TensorBatch:
        def stacked(field: str) -> torch.Tensor:
            return torch.as_tensor(np.stack([getattr(b, field) for b in batches]), device=self.device)

        weights = None if batches[0].weights is None else stacked("weights")
        return TensorBatch(stacked("obs"), stacked("action"), stacked("ret"), stacked("discount"),
                           stacked("next_obs"), weights)

    def _taus(self, rows: int) -> TauSampler:
        """An update's quantile fractions: each run's from its own generator, in the order that
        run draws them alone (`Agent.taus`), stacked [K, rows, n]."""
        return lambda n: torch.stack([
            self.head.fractions(a.cfg, rows, n, a.tau_generator, self.device) for a in self.agents
        ])

    def update(self, batches: Sequence[Batch]) -> list[UpdateInfo]:
        """One update of every run, run k from batches[k]; what `Agent.update` returns, per run."""
        runs = list(range(len(self.agents)))
        self.synced = False
        self._reset_noise(self.online, runs)  # fresh noise for both networks, as Agent.update
        self._reset_noise(self.target, runs)
        tb = self._stack_batches(batches)
        with self.online.noisy_weights_built_once():
            out = self.loss_fn(self.online, self.target, tb, self._taus(tb.action.shape[-1]))
        loss = losses.weighted_mean(out.per_sample, tb.weights if self.agents[0].weighted else None)  # [K]
        self.optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()  # the runs share no parameter: each gets its own loss's gradient
        if self.cfg.agent.max_grad_norm is not None:
            clip_grad_norm_per_run_([p.grad for p in self.online.parameters()], self.cfg.agent.max_grad_norm)
        self.optimizer.step()
        for agent in self.agents:
            agent.updates += 1
        stats = torch.cat([loss.detach()[:, None], out.q_taken.mean(dim=-1)[:, None], out.priority], dim=1)
        return [UpdateInfo(float(row[0]), float(row[1]), row[2:]) for row in stats.cpu().numpy()]

    def update_target(self) -> None:
        self.synced = False
        update_target(self.online, self.target, self.cfg.agent.target_update_tau)

    # -- the agents' copies ---------------------------------------------------------------------

    @torch.no_grad()
    def sync(self) -> None:
        """Copy every run's slice of the pack (networks, noise, Adam) into its agent, so the agent
        evaluates and checkpoints as that run alone would. A no-op if nothing changed since."""
        if self.synced:
            return
        self.synced = True
        params = list(self.online.parameters())
        for k, agent in enumerate(self.agents):
            unstack_into(self.online, agent.online, k)
            unstack_into(self.target, agent.target, k)
            state = {}
            for i, p in enumerate(params):
                s = self.optimizer.state.get(p)
                if s:
                    state[i] = {key: (v if key == "step" else v[k]).clone() for key, v in s.items()}
            groups = agent.optimizer.state_dict()["param_groups"]
            agent.optimizer.load_state_dict({"state": state, "param_groups": groups})

    def _load_adam_state(self) -> None:
        """Stack the agents' Adam states (after a restore), if they have stepped. Parameters are
        in the same order in a network and its pack."""
        states = [a.optimizer.state_dict()["state"] for a in self.agents]
        for i, p in enumerate(self.online.parameters()):
            if i not in states[0]:
                continue
            self.optimizer.state[p] = {
                key: (copy.deepcopy(states[0][i][key]) if key == "step"
                      else torch.stack([s[i][key] for s in states]).to(self.device))
                for key in states[0][i]
            }

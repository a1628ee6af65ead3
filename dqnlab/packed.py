"""Packed runs: K runs that differ only by seed, trained in lockstep as one (issue 13).

Each run keeps its own `Agent` (networks, Adam, noise generator): its evaluations and checkpoints
go through it exactly as for a run trained alone. While the pack trains, `PackedLearner` holds the
K runs' parameters stacked along a leading axis, and acts and learns for all of them at once:

* one forward pass for K runs' observations (`torch.vmap` over `torch.func.functional_call` of one
  parameter-free copy of the network), one forward and backward pass for K batches;
* the sum of the K losses gives each run its own gradient (the runs share no parameter);
* one fused Adam over the stacked tensors is K independent Adams (Adam is elementwise and the runs
  step together), gradient-norm clipping is per run (`grad_clip.clip_grad_norm_per_run_`);
* every run's noise comes from its own generator, drawn in the order the run would draw it alone.

So a run in a pack is the same algorithm as the run alone; what may differ is rounding (a batched
matrix product sums in another order than K separate ones), measured in tests/test_packed.py.
`sync_agents` copies the stacked state back into the K agents (before an evaluation or a
checkpoint); a new PackedLearner stacks the agents' state (after a restore).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch.func import functional_call, stack_module_state

from dqnlab import losses
from dqnlab.agent import Agent, UpdateInfo, make_loss_fn
from dqnlab.batch import Batch, TensorBatch
from dqnlab.grad_clip import clip_grad_norm_per_run_
from dqnlab.networks import QNetwork, QOutput, noise_sizes, signed_sqrt

Tensors = dict[str, torch.Tensor]


class FunctionalNet:
    """A QNetwork evaluated with given parameters and buffers: what the loss functions and the
    bootstraps call as `online` and `target` inside torch.vmap."""

    def __init__(self, base: QNetwork, params: Tensors, buffers: Tensors) -> None:
        self.base, self.params, self.buffers = base, params, buffers

    def __call__(self, obs: torch.Tensor) -> QOutput:
        return functional_call(self.base, (self.params, self.buffers), (obs,))

    @property
    def support(self) -> torch.Tensor | None:
        return self.buffers.get("support")


class PackedLearner:
    """Acts and learns for K runs at once from their stacked state (module docstring)."""

    def __init__(self, agents: Sequence[Agent]) -> None:
        self.agents = list(agents)
        self.cfg, self.device = agents[0].cfg, agents[0].device
        self.num_actions = agents[0].num_actions
        first = agents[0].online
        # No parameters of its own: functional_call supplies every tensor.
        self.base = copy.deepcopy(first).to("meta")
        params, self.buffers = _stack([a.online for a in agents])
        self.params = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
        target_params, self.target_buffers = _stack([a.target for a in agents])
        self.target_params = {n: p.detach().clone() for n, p in target_params.items()}
        names = {m: n for n, m in first.named_modules()}
        self.noise_names = [f"{names[layer]}.{eps}" for layer in first.noisy_layers for eps in ("eps_in", "eps_out")]
        self.noise_sizes = noise_sizes(first.noisy_layers)
        a = self.cfg.agent
        self.optimizer = torch.optim.Adam(self.params.values(), lr=a.learning_rate, eps=a.adam_eps, fused=True)
        self._load_adam_state()
        self.loss_fn = make_loss_fn(self.cfg)
        # Without PER the batch has no weights: that field is not mapped.
        weights = 0 if self.cfg.replay.prioritized else None
        self._losses = torch.vmap(self._loss, in_dims=(0, 0, 0, 0, TensorBatch(0, 0, 0, 0, 0, weights)))
        self._q_values = torch.vmap(lambda p, b, obs: FunctionalNet(self.base, p, b)(obs).q_values)

    # -- noise ----------------------------------------------------------------------------------

    @torch.no_grad()
    def _reset_noise(self, buffers: Tensors, runs: list[int]) -> None:
        """New noise in the stacked noise buffers of `runs`, each from its run's generator: the
        values that run's network would draw alone (`networks.reset_noise`)."""
        if not self.noise_names or not runs:
            return
        total = sum(self.noise_sizes)
        x = signed_sqrt(torch.stack([
            torch.randn(total, generator=self.agents[k].noise_generator, device=self.device) for k in runs
        ]))
        index = torch.tensor(runs, device=self.device)
        for name, part in zip(self.noise_names, x.split(self.noise_sizes, dim=1)):
            buffers[name].index_copy_(0, index, part)

    # -- acting ---------------------------------------------------------------------------------

    def act(self, obs: Sequence[np.ndarray], epsilon: float, rngs: Sequence[np.random.Generator]) -> list[np.ndarray]:
        """Epsilon-greedy actions of every run for its observations obs[k] [E, ...], with the draws
        `Agent.act` makes from rngs[k]; one forward pass for the runs that act greedily anywhere."""
        num = obs[0].shape[0]
        explore = []
        random_actions = []
        for rng in rngs:  # per run: the same draws, in the same order, as Agent.act
            explore.append(rng.random(num) < epsilon)
            random_actions.append(rng.integers(0, self.num_actions, size=num))
        greedy = [k for k, e in enumerate(explore) if not e.all()]
        if not greedy:
            return random_actions
        self._reset_noise(self.buffers, greedy)
        with torch.no_grad():
            stacked = torch.as_tensor(np.stack(obs), device=self.device)
            best = self._q_values(self.params, self.buffers, stacked).argmax(-1).cpu().numpy()
        return [np.where(e, r, b) for e, r, b in zip(explore, random_actions, best)]

    # -- learning -------------------------------------------------------------------------------

    def _loss(self, params: Tensors, buffers: Tensors, target_params: Tensors, target_buffers: Tensors,
              batch: TensorBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One run's update loss (as `Agent.update`), its mean Q(s, a) and its new priorities."""
        online = FunctionalNet(self.base, params, buffers)
        target = FunctionalNet(self.base, target_params, target_buffers)
        out = self.loss_fn(online, target, batch)
        return losses.weighted_mean(out.per_sample, batch.weights), out.q_taken.mean(), out.priority

    def _stack_batches(self, batches: Sequence[Batch]) -> TensorBatch:
        def stacked(field: str) -> torch.Tensor:
            return torch.as_tensor(np.stack([getattr(b, field) for b in batches]), device=self.device)

        weights = None if batches[0].weights is None else stacked("weights")
        return TensorBatch(stacked("obs"), stacked("action"), stacked("ret"), stacked("discount"),
                           stacked("next_obs"), weights)

    def update(self, batches: Sequence[Batch]) -> list[UpdateInfo]:
        """One update of every run, run k from batches[k]; what `Agent.update` returns, per run."""
        runs = list(range(len(self.agents)))
        self._reset_noise(self.buffers, runs)  # fresh noise for both networks, as Agent.update
        self._reset_noise(self.target_buffers, runs)
        tb = self._stack_batches(batches)
        loss, q_mean, priority = self._losses(self.params, self.buffers, self.target_params, self.target_buffers, tb)
        self.optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()  # the runs share no parameter: each gets its own loss's gradient
        if self.cfg.agent.max_grad_norm is not None:
            clip_grad_norm_per_run_([p.grad for p in self.params.values()], self.cfg.agent.max_grad_norm)
        self.optimizer.step()
        for agent in self.agents:
            agent.updates += 1
        stats = torch.cat([loss.detach()[:, None], q_mean.detach()[:, None], priority.detach()], dim=1).cpu().numpy()
        return [UpdateInfo(float(row[0]), float(row[1]), row[2:]) for row in stats]

    @torch.no_grad()
    def update_target(self) -> None:
        tau = self.cfg.agent.target_update_tau
        for name, t in self.target_params.items():
            if tau >= 1.0:
                t.copy_(self.params[name])
            else:
                t.lerp_(self.params[name], tau)

    # -- the agents' copies ---------------------------------------------------------------------

    @torch.no_grad()
    def sync_agents(self) -> None:
        """Copy every run's slice of the stacked state (networks, noise, Adam) into its agent, so
        the agent evaluates and checkpoints as that run alone would."""
        for k, agent in enumerate(self.agents):
            _unstack_into(agent.online, self.params, self.buffers, k)
            _unstack_into(agent.target, self.target_params, self.target_buffers, k)
            state = {}
            for i, p in enumerate(self.params.values()):
                s = self.optimizer.state.get(p)
                if s:
                    state[i] = {key: (v if key == "step" else v[k]).clone() for key, v in s.items()}
            agent.optimizer.load_state_dict({"state": state, "param_groups": agent.optimizer.state_dict()["param_groups"]})

    def _load_adam_state(self) -> None:
        """Stack the agents' Adam states (after a restore), if they have stepped."""
        states = [a.optimizer.state_dict()["state"] for a in self.agents]
        for i, p in enumerate(self.params.values()):
            if i not in states[0]:
                continue
            self.optimizer.state[p] = {
                key: (states[0][i][key].to(self.device).clone() if key == "step"
                      else torch.stack([s[i][key] for s in states]).to(self.device))
                for key in states[0][i]
            }


def _stack(nets: list[QNetwork]) -> tuple[Tensors, Tensors]:
    params, buffers = stack_module_state(nets)
    return params, {n: b.clone() for n, b in buffers.items()}


def _unstack_into(net: QNetwork, params: Tensors, buffers: Tensors, k: int) -> None:
    for name, t in net.named_parameters():
        t.copy_(params[name][k])
    for name, t in net.named_buffers():
        t.copy_(buffers[name][k])

"""The agent: a thin stateful shell around networks, an optimizer and a loss function that is
chosen once, at construction, from the config: the head builds it around its bootstrap or a target
component's (no component `if` in the hot loop). What depends on noisy layers the network handles
itself: resampling their noise (a no-op without them, or when it is drawn once) and mean weights
in evaluation mode. What depends on the head (how Q-values are read, quantile fractions) the
head's functions do."""

from __future__ import annotations

import copy
import functools
from typing import NamedTuple

import numpy as np
import torch

from dqnlab import components, heads, losses
from dqnlab.batch import Batch, TensorBatch
from dqnlab.config import Config
from dqnlab.grad_clip import clip_grad_norm_
from dqnlab.heads import LossOutput, TDLoss
from dqnlab.networks import QNetwork
from dqnlab.transfer import BatchTransfer

__all__ = ["Agent", "LossOutput", "TensorBatch", "UpdateInfo", "epsilon_draws", "make_loss_fn", "update_target"]


def make_loss_fn(cfg: Config) -> TDLoss:
    """Build the update's loss once from the config: the head (`dqnlab/heads/`) builds its TD loss
    around a bootstrap, its own textbook one or that of the `target` component switched on (double,
    munchausen). The only place the components decide the update."""
    head = heads.of(cfg)
    hook = components.target_hook(cfg)
    boot = hook(cfg)[head.name] if hook is not None else functools.partial(head.bootstrap, select="target")
    return head.td_loss(cfg, boot)


def agent_seed(cfg: Config) -> int:
    """The seed of a run's initial weights, exploration draws and quantile fractions:
    agent.shared_seed if set (the same in every run, as Dopamine 3.1.8's PRNGKey(0)), else the
    run's seed."""
    return cfg.seed if cfg.agent.shared_seed is None else cfg.agent.shared_seed


def epsilon_draws(rng: np.random.Generator, rows: int, epsilon: float, num_actions: int) -> tuple[np.ndarray, np.ndarray]:
    """A run's epsilon-greedy draws for `rows` observations, in this order: which rows explore,
    then a random action for every row. [rows] bool, [rows] int. The one definition of a run's
    exploration draws, alone (`Agent.act`) or in a pack (`PackedLearner.act`)."""
    return rng.random(rows) < epsilon, rng.integers(0, num_actions, size=rows)


@torch.no_grad()
def update_target(online: torch.nn.Module, target: torch.nn.Module, tau: float) -> None:
    """The target network's update: a copy (tau >= 1, DQN's periodic sync) or a Polyak step
    target <- target + tau (online - target)."""
    if tau >= 1.0:
        target.load_state_dict(online.state_dict())
        return
    for t, o in zip(target.parameters(), online.parameters()):
        t.lerp_(o, tau)


class UpdateInfo(NamedTuple):
    loss: float
    q_mean: float
    priorities: np.ndarray


class Agent:
    """One run's networks, optimizer and random streams, and the update its head and components
    chose at construction (`make_loss_fn`)."""

    def __init__(
        self, cfg: Config, obs_shape: tuple[int, ...], num_actions: int, device: torch.device
    ) -> None:
        self.cfg, self.device, self.num_actions = cfg, device, num_actions
        self.head = heads.of(cfg)
        torch.manual_seed(agent_seed(cfg))  # the initial weights
        self.online = QNetwork(cfg, obs_shape, num_actions).to(device)
        # Noise drawn once (network.noise_draw per_run / fixed) is shared by the target network.
        self.online.fix_noise(0 if cfg.network.noise_draw == "fixed" else cfg.seed + 1)
        self.target = copy.deepcopy(self.online)
        for p in self.target.parameters():
            p.requires_grad_(False)
        self.optimizer = torch.optim.Adam(
            self.online.parameters(), lr=cfg.agent.learning_rate, eps=cfg.agent.adam_eps,
            # One fused kernel instead of a Python loop over parameters: same math, less overhead.
            fused=True,
        )
        self.noise_generator = torch.Generator(device=device)
        self.noise_generator.manual_seed(cfg.seed + 1)
        # The quantile fractions of an update (implicit quantile head; never drawn otherwise). RR's
        # IQN split them off the agent's one key, so a shared seed shares them too.
        self.tau_generator = torch.Generator(device=device)
        self.tau_generator.manual_seed(agent_seed(cfg) + 3)
        self.loss_fn = make_loss_fn(cfg)
        # PER's importance weights multiply the loss unless replay.importance_weights is off.
        self.weighted = cfg.replay.importance_weights
        self.transfer = BatchTransfer(device)
        self.updates = 0

    # -- acting ---------------------------------------------------------------------------------

    def _obs_tensor(self, obs: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(obs, device=self.device)

    @torch.no_grad()
    def q_values(self, obs: np.ndarray, *, evaluation: bool, rng: np.random.Generator | None = None) -> torch.Tensor:
        """[E, A] Q-values; in evaluation mode noisy layers use their mean weights (no noise),
        unless their noise is drawn once for the run (network.noise_draw), which they keep. A head
        that samples quantile fractions for its Q-values draws them from `rng`."""
        if not evaluation:
            return self.head.policy_q(self.online, self._obs_tensor(obs), [rng])
        self.online.eval()
        try:
            return self.head.policy_q(self.online, self._obs_tensor(obs), [rng])
        finally:
            self.online.train()

    def act(
        self, obs: np.ndarray, epsilon: float, rng: np.random.Generator, *, evaluation: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Epsilon-greedy actions for a batch of observations [E, ...] -> (actions [E], Q(s, a) [E]).

        Q is None when every action was random (the forward pass is skipped then)."""
        num = obs.shape[0]
        explore, random_actions = epsilon_draws(rng, num, epsilon, self.num_actions)
        if explore.all():
            return random_actions, None
        if not evaluation:
            self.online.reset_noise(self.noise_generator)
        q = self.q_values(obs, evaluation=evaluation, rng=rng).cpu().numpy()
        actions = np.where(explore, random_actions, q.argmax(axis=1))
        return actions, q[np.arange(num), actions]

    # -- learning -------------------------------------------------------------------------------

    def to_tensors(self, batch: Batch) -> TensorBatch:
        return self.transfer.to_device(batch)

    def taus(self, rows: int) -> heads.TauSampler:
        """The quantile fractions of an update of `rows` transitions, from this run's generator."""
        return lambda n: self.head.fractions(self.cfg, rows, n, self.tau_generator, self.device)

    def update(self, batch: Batch) -> UpdateInfo:
        # Fresh noise for both networks each update (a no-op without noisy layers).
        self.online.reset_noise(self.noise_generator)
        self.target.reset_noise(self.noise_generator)
        tb = self.to_tensors(batch)
        with self.online.noisy_weights_built_once():
            out = self.loss_fn(self.online, self.target, tb, self.taus(tb.action.shape[0]))
        loss = losses.weighted_mean(out.per_sample, tb.weights if self.weighted else None)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.agent.max_grad_norm is not None:
            clip_grad_norm_(self.online.parameters(), self.cfg.agent.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        # One device->host copy for everything the loop needs.
        stats = torch.cat([loss.detach()[None], out.q_taken.mean()[None], out.priority]).cpu().numpy()
        return UpdateInfo(float(stats[0]), float(stats[1]), stats[2:])

    def update_target(self) -> None:
        update_target(self.online, self.target, self.cfg.agent.target_update_tau)

    # -- checkpointing --------------------------------------------------------------------------

    def state_dict(self) -> dict:
        return {
            "online": self.online.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "noise_generator": self.noise_generator.get_state(),
            "tau_generator": self.tau_generator.get_state(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.noise_generator.set_state(state["noise_generator"])
        if "tau_generator" in state:  # absent from checkpoints older than the quantile heads
            self.tau_generator.set_state(state["tau_generator"])
        self.updates = int(state["updates"])

"""The agent: a thin stateful shell around networks, an optimizer and a loss function that is
chosen once, at construction, from the config and the component registry's hooks (no component
`if` in the hot loop). What depends on noisy layers the network handles itself: resampling their
noise (a no-op without them) and mean weights in evaluation mode."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from dqnlab import bootstrap, components, losses
from dqnlab.batch import Batch, TensorBatch
from dqnlab.components import Bootstrap
from dqnlab.config import Config
from dqnlab.grad_clip import clip_grad_norm_
from dqnlab.networks import QNetwork
from dqnlab.transfer import BatchTransfer

__all__ = ["Agent", "LossOutput", "TensorBatch", "UpdateInfo", "make_loss_fn", "update_target"]


class LossOutput(NamedTuple):
    per_sample: torch.Tensor  # [B] loss per transition (before importance weighting)
    priority: torch.Tensor  # [B] new raw priority: |TD error| or the distributional loss
    q_taken: torch.Tensor  # [B] online Q(s, a) of the replayed actions (for logging)


def taken(q: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """q[..., a] of each row's action: [..., B, A], [..., B] -> [..., B]."""
    return q.gather(-1, action[..., None]).squeeze(-1)


def scalar_td_loss(
    online: QNetwork,
    target: QNetwork,
    b: TensorBatch,
    *,
    bootstrap: Bootstrap,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    priority_is_loss: bool = False,
) -> LossOutput:
    """Regression of the online Q(s, a) on the (n-step) bootstrap target y [B]. The new priority
    is |TD error|, or the per-sample loss with `priority_is_loss` (replay.scalar_priority)."""
    q_tm1 = online(b.obs).q_values
    q_taken = taken(q_tm1, b.action)
    with torch.no_grad():
        y = bootstrap(online, target, b)
    td = y - q_taken
    per_sample = loss_fn(td)
    priority = per_sample.detach() if priority_is_loss else td.detach().abs()
    return LossOutput(per_sample, priority, q_taken.detach())


def categorical_td_loss(
    online: QNetwork,
    target: QNetwork,
    b: TensorBatch,
    *,
    bootstrap: Bootstrap,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> LossOutput:
    """C51: cross-entropy between the bootstrap target distribution [B, N] and the online logits."""
    out = online(b.obs)
    num_atoms = out.logits.shape[-1]
    logits_tm1 = out.logits.gather(-2, b.action[..., None, None].expand(*b.action.shape, 1, num_atoms)).squeeze(-2)
    with torch.no_grad():
        target_probs = bootstrap(online, target, b)
    ce = loss_fn(target_probs, logits_tm1)
    q_taken = taken(out.q_values, b.action)
    return LossOutput(ce, ce.detach(), q_taken.detach())


# The TD loss of each head kind (`architecture.HEADS`).
TD_LOSSES = {"scalar": scalar_td_loss, "categorical": categorical_td_loss}


def make_loss_fn(cfg: Config) -> Callable[[QNetwork, QNetwork, TensorBatch], LossOutput]:
    """Build the update's loss once from the config: the head kind picks the TD loss and its loss
    function; the `target` component switched on (double, munchausen), if any, the bootstrap.
    The only place the components decide the update."""
    head = cfg.network.head
    hook = components.target_hook(cfg)
    bootstraps = hook(cfg) if hook is not None else bootstrap.TEXTBOOK
    options = {"priority_is_loss": cfg.replay.scalar_priority == "loss"} if head == "scalar" else {}
    return functools.partial(
        TD_LOSSES[head], bootstrap=bootstraps[head], loss_fn=losses.LOSSES[head][cfg.agent.loss], **options
    )


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
    def __init__(
        self, cfg: Config, obs_shape: tuple[int, ...], num_actions: int, device: torch.device
    ) -> None:
        self.cfg, self.device, self.num_actions = cfg, device, num_actions
        torch.manual_seed(cfg.seed)
        self.online = QNetwork(cfg.network, obs_shape, num_actions).to(device)
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
        self.loss_fn = make_loss_fn(cfg)
        self.transfer = BatchTransfer(device)
        self.updates = 0

    # -- acting ---------------------------------------------------------------------------------

    def _obs_tensor(self, obs: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(obs, device=self.device)

    @torch.no_grad()
    def q_values(self, obs: np.ndarray, *, evaluation: bool) -> torch.Tensor:
        """[E, A] Q-values; in evaluation mode noisy layers use their mean weights (no noise),
        unless their noise is drawn once for the run (network.noise_draw), which they keep."""
        if not evaluation:
            return self.online(self._obs_tensor(obs)).q_values
        self.online.eval()
        try:
            return self.online(self._obs_tensor(obs)).q_values
        finally:
            self.online.train()

    def act(
        self, obs: np.ndarray, epsilon: float, rng: np.random.Generator, *, evaluation: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Epsilon-greedy actions for a batch of observations [E, ...] -> (actions [E], Q(s, a) [E]).

        Q is None when every action was random (the forward pass is skipped then)."""
        num = obs.shape[0]
        explore = rng.random(num) < epsilon
        random_actions = rng.integers(0, self.num_actions, size=num)
        if explore.all():
            return random_actions, None
        if not evaluation:
            self.online.reset_noise(self.noise_generator)
        q = self.q_values(obs, evaluation=evaluation).cpu().numpy()
        actions = np.where(explore, random_actions, q.argmax(axis=1))
        return actions, q[np.arange(num), actions]

    def act_one(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
        """`act(obs[None], ...)` for the training loop's single env, in scalar code: the same two
        draws from `rng` (numpy's scalar and size-1 draws give the same values), the same action."""
        explore = rng.random() < epsilon
        random_action = int(rng.integers(0, self.num_actions))
        if explore:
            return random_action
        self.online.reset_noise(self.noise_generator)
        with torch.no_grad():
            return int(self.online(self._obs_tensor(obs[None])).q_values.argmax(1)[0])

    # -- learning -------------------------------------------------------------------------------

    def to_tensors(self, batch: Batch) -> TensorBatch:
        return self.transfer.to_device(batch)

    def update(self, batch: Batch) -> UpdateInfo:
        # Fresh noise for both networks each update (a no-op without noisy layers).
        self.online.reset_noise(self.noise_generator)
        self.target.reset_noise(self.noise_generator)
        tb = self.to_tensors(batch)
        out = self.loss_fn(self.online, self.target, tb)
        loss = losses.weighted_mean(out.per_sample, tb.weights if self.cfg.replay.importance_weights else None)
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
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.noise_generator.set_state(state["noise_generator"])
        self.updates = int(state["updates"])

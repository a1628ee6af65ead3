"""What a head is: a frozen record that its module declares and the registry collects.

A head is what the network outputs per action and everything that follows from it: how many
values its last layer has per action (`width`), how those become Q-values and the distribution
(`output`), the TD loss and the per-sample losses it takes (`agent.loss`), its textbook bootstrap
(selecting the next action by the target or, for double, the online network), how the greedy
policy's Q-values are read (`policy_q`: an implicit quantile head samples quantile fractions), and
the validation of its own config section. `network.head` names one.

Importing a head never imports torch (config validation and sweep planning read the registry):
the functions a head holds use tensor methods, and import torch inside their bodies where they
build modules or draw numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import torch

    from dqnlab.batch import TensorBatch
    from dqnlab.config import Config


class QOutput(NamedTuple):
    q_values: torch.Tensor
    """[.., B, A] expected returns (the distribution's mean for distributional heads)."""
    dist: torch.Tensor | None = None
    """[.., B, A, N]: atom logits (categorical), quantile values (quantile, implicit quantile);
    None for a scalar head."""
    taus: torch.Tensor | None = None
    """[.., B, N] the quantile fractions of `dist` (quantile heads), None otherwise."""


class LossOutput(NamedTuple):
    per_sample: torch.Tensor
    """[.., B] the loss of each transition, before importance weighting."""
    priority: torch.Tensor
    """[.., B] its new raw priority (|TD error|, or the loss)."""
    q_taken: torch.Tensor
    """[.., B] the online Q(s, a) of the replayed actions (for logging)."""


TauSampler = Callable[[int], "torch.Tensor"]
"""n -> n quantile fractions U(0, 1) per transition of the batch being learned from, [.., B, n], or
one set the batch shares, [.., 1, n] (`Head.fractions`), drawn from the run's own generator (a
pack's: each run's, stacked). Heads without sampled fractions never call it."""

Bootstrap = Callable[[Any, Any, "TensorBatch", TauSampler], "torch.Tensor"]
"""(online, target, batch, taus) -> what the loss regresses on, without gradients: y [B] (scalar),
the projected distribution [B, N] (categorical), target quantile values [B, N'] (quantile)."""

TDLoss = Callable[[Any, Any, "TensorBatch", TauSampler], LossOutput]
"""(online, target, batch, taus) -> LossOutput: one update's loss, built once by `Head.td_loss`."""


@dataclass(frozen=True)
class Head:
    name: str
    paper: str
    describe: str
    """What it outputs per action, in words."""
    losses: Mapping[str, str]
    """The `agent.loss` values it takes -> what each is."""
    width: Callable[[Config], int]
    """Values per action in the network's last layer (an implicit quantile head: 1 per fraction)."""
    output: Callable[[torch.Tensor, torch.Tensor | None, Any], QOutput]
    """(the streams' [.., A, width] (implicit: [.., B, n, A, 1]), the fractions, the network) ->
    QOutput; what it reads of the network are the buffers `buffers` gave it."""
    td_loss: Callable[[Config, Bootstrap], TDLoss]
    """The update's loss for this config, its bootstrap given (textbook, or a target component's)."""
    bootstrap: Callable[..., Any]
    """(online, target, batch, taus, *, select) -> the textbook target; select "target" (DQN) or
    "online" (double): which network's Q-values pick the next action."""
    policy_q: Callable[[Any, torch.Tensor, Sequence[np.random.Generator]], torch.Tensor]
    """(network, observations [.., E, ...], rngs) -> the Q-values [.., E, A] acting and evaluation
    read. Draws from the runs' own rngs (after the epsilon draws) when the head samples fractions,
    never otherwise."""
    buffers: Callable[[Config], dict[str, torch.Tensor]] = lambda cfg: {}
    """Constant tensors the network holds for the head (registered under these names: the
    categorical support is the network's `support`, as in checkpoints before heads were modules)."""
    embedding: Callable[[Config, int, int | None], Any] | None = None
    """(cfg, feature size, pack) -> the module that turns torso features [.., B, F] and fractions
    [.., B, n] into [.., B, n, F] (IQN's cosine embedding); None: the network takes no fractions."""
    fractions: Callable[[Config, int, int, torch.Generator, Any], torch.Tensor] | None = None
    """(cfg, rows, n, generator, device) -> an update's n quantile fractions for each of its rows,
    [rows, n] or [1, n] (one set they share), the `TauSampler`'s draws; None: a head that samples none."""
    config: type | None = None
    """Its own config section, a frozen dataclass of knobs at `cfg.<name>`."""
    check: Callable[[Config], str | None] | None = None
    """Why `cfg`'s values for the head cannot run, in one line (None: they can)."""
    cost_sizes: Callable[[Config], tuple[int, ...]] | None = None
    """The sizes an update's cost grows with, for the sweep planner's throughput table
    (`sweep/throughput.py`: rates are measured per head and these sizes); None: a head whose cost
    the table's dqn and rainbow rates already hold (scalar, categorical)."""

    def lines(self) -> list[str]:
        """What `dqnlab components` prints for it."""
        from dataclasses import asdict

        out = [f"{self.name}: {self.describe} ({self.paper})",
               "    losses: " + "; ".join(f"{k}: {v}" for k, v in self.losses.items())]
        if self.config is not None:
            out.append("    owns (defaults): " + ", ".join(f"{self.name}.{k}={v}" for k, v in asdict(self.config()).items()))
        return out


def taken(q: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """q[..., a] of each row's action: [.., B, A], [.., B] -> [.., B]."""
    return q.gather(-1, action[..., None]).squeeze(-1)


def taken_dist(dist: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """dist[..., a, :] of each row's action: [.., B, A, N], [.., B] -> [.., B, N]."""
    return dist.gather(-2, action[..., None, None].expand(*action.shape, 1, dist.shape[-1])).squeeze(-2)


def quantile_loss(out: QOutput, action: torch.Tensor, y: torch.Tensor, kappa: float, *,
                  divide_by_kappa: bool) -> LossOutput:
    """The quantile heads' LossOutput: the quantile Huber loss of the taken action's quantiles at
    their fractions against the target quantiles y [B, N'] (`losses.quantile_huber`), which is also
    the new PER priority."""
    from dqnlab import losses

    loss = losses.quantile_huber(taken_dist(out.dist, action), out.taus, y, kappa, divide_by_kappa=divide_by_kappa)
    return LossOutput(loss, loss.detach(), taken(out.q_values, action).detach())


def by_policy(net: Any, obs: torch.Tensor, rngs: Sequence[np.random.Generator]) -> torch.Tensor:
    """`Head.policy_q` of a head that draws nothing: the network's Q-values."""
    return net(obs).q_values

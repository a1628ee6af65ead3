"""IQN (Dabney et al. 2018b), a component beyond Rainbow's six: the implicit quantile head
(`dqnlab/heads/implicit_quantile.py`), which takes sampled quantile fractions as an input through a
cosine embedding. With munchausen it is M-IQN. Off: a scalar head with the preset's loss. It is a
head, so it cannot run with another head's component (c51, qr).
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="iqn",
    paper="Dabney et al. 2018b, https://arxiv.org/abs/1806.06923",
    slot="head",
    settings={"network.head": "implicit_quantile", "agent.loss": "quantile_huber"},
    couplings=(
        "implicit quantile head: a cosine embedding of fractions tau ~ U(0, 1) multiplies the features",
        "target = the target network's quantiles at N' fractions, at a* chosen by the mean over K",
        "quantile Huber loss (implicit_quantile.kappa) over N x N' pairs; Q for acting = mean over K",
        "with munchausen: M-IQN",
    ),
    incompatible={"c51": "both are heads: a network has one", "qr": "both are heads: a network has one"},
)

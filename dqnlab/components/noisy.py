"""Noisy networks (Fortunato et al. 2018): every fully connected layer (hidden and output; conv
layers stay plain) becomes a factorized Gaussian NoisyLinear layer, whose noise, resampled every
step, explores. The network knows it has noisy layers: it resamples their noise when the agent asks
(a no-op without them) and uses the mean weights in evaluation. Off: plain linear layers and the
protocol's epsilon-greedy schedule.

What noisy does to epsilon is protocol data (`Protocol.components["noisy"]`): the values below
are Hessel et al. 2018's (act greedily once the warm-up's uniform random actions end); under
Revisiting Rainbow noisy arms keep epsilon 0.01 from the first step (their `identity_epsilon`).
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="noisy",
    paper="Fortunato et al. 2018, https://arxiv.org/abs/1706.10295",
    slot="exploration",
    settings={"network.noisy": True, "explore.epsilon_start": 0.0, "explore.epsilon_end": 0.0},
    couplings=(
        "every fully connected layer is a factorized Gaussian NoisyLinear layer, "
        "sigma = network.noisy_sigma0 / sqrt(fan_in)",
        "epsilon: 0 after the warm-up (Hessel et al.), or the protocol's value "
        "(revisiting_rainbow: 0.01 from the first step); evaluation keeps eval.epsilon",
        "noise resampled every step; mean weights (no noise) in evaluation",
    ),
)

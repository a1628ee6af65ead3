"""Noisy networks (Fortunato et al. 2018): the head's linear layers become factorized Gaussian
NoisyLinear layers, whose noise, resampled every step, explores instead of epsilon-greedy. The
network knows it has noisy layers: it resamples their noise when the agent asks (a no-op without
them) and uses the mean weights in evaluation. Off: plain linear layers and the preset's epsilon.
"""

from __future__ import annotations

from dqnlab.components.base import Component

COMPONENT = Component(
    name="noisy",
    paper="Fortunato et al. 2018, https://arxiv.org/abs/1706.10295",
    slot="exploration",
    settings={"network.noisy": True, "explore.epsilon_start": 0.0, "explore.epsilon_end": 0.0},
    couplings=(
        "factorized Gaussian NoisyLinear layers in the head, sigma0 = network.noisy_sigma0",
        "no epsilon-greedy exploration in training (epsilon 0); evaluation keeps eval.epsilon",
        "noise resampled every step; mean weights (no noise) in evaluation",
    ),
)

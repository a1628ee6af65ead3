"""The parts a Q-network is built from, as data: torsos, initializations, dueling layouts, noise
draws, and the input normalization's affine map (the head kinds are modules: `dqnlab/heads/`).

Torch-free on purpose, so config validation and sweep planning read them without importing torch;
`networks.py` builds the modules from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Conv:
    out_channels: int
    kernel: int
    stride: int
    padding: str = "valid"
    """valid (no padding) | same (the output keeps the input's height and width at stride 1)."""


@dataclass(frozen=True)
class Torso:
    convs: tuple[Conv, ...]
    """Conv layers, each followed by a ReLU; then the features are flattened. No convs: the
    observation itself, flattened."""
    obs_scale: float
    """Observations are multiplied by this first (1/255 for Atari's uint8 frames)."""
    source: str


TORSOS: dict[str, Torso] = {
    "mlp": Torso((), 1.0, "the observation vector (classic control)"),
    "minatar": Torso(
        (Conv(16, 3, 1),), 1.0,
        "Young & Tian 2019 (MinAtar's examples/dqn.py): one 3x3 conv, 16 channels, stride 1, no padding",
    ),
    "minatar_same": Torso(
        (Conv(16, 3, 1, "same"),), 1.0,
        "Obando-Ceron & Castro 2021 (RR networks_new.py L93-95): one 3x3 conv, 16 channels, stride 1, "
        "SAME padding (flax's default), so 10x10x16 features",
    ),
    "nature": Torso(
        (Conv(32, 8, 4), Conv(64, 4, 2), Conv(64, 3, 1)), 1.0 / 255.0,
        "Mnih et al. 2015: 32 8x8/4, 64 4x4/2, 64 3x3/1",
    ),
}

INITS: dict[str, str] = {
    "uniform_fan_in": "weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default, "
    "DQN Zoo's _dqn_default_initializer",
    "glorot_uniform": "weights U(-sqrt(6/(fan_in+fan_out)), +...), biases 0: flax variance_scaling("
    "1, fan_avg, uniform) as Revisiting Rainbow's configs bind it",
    "variance_scaling_fan_in": "weights U(+-3^(1/4)/sqrt(fan_in)), biases 0: flax variance_scaling("
    "1/sqrt(3), fan_in, uniform), Revisiting Rainbow's rainbow_*.gin from 2021-02-03 to 2021-05-25 "
    "(RR networks_new.py L23-24 @ 2d49d68)",
}
"""Initializations of plain (not noisy) layers, `network.init`. Noisy layers always start from
Fortunato et al.'s mu ~ U(+-1/sqrt(fan_in)), sigma = sigma0 / sqrt(fan_in)."""

DUELING_LAYOUTS: dict[str, str] = {
    "streams": "the last hidden layer is duplicated into a value and an advantage stream "
    "(Wang et al. 2016; for the Nature CNN, two 512-unit streams after the convolutions)",
    "heads": "every hidden layer is shared; value and advantage are linear heads on it "
    "(Revisiting Rainbow, networks_new.py L202-211), so dueling adds one linear layer",
}
"""Where a dueling network splits, `network.dueling_layout`. Without dueling both build the same
network."""

NOISE_DRAWS: dict[str, str] = {
    "per_step": "fresh noise for every acting step and for both networks of every update; mean "
    "weights in evaluation (Fortunato et al. 2018)",
    "per_run": "one draw from the run's seed, kept for the whole run by acting, evaluation and both "
    "networks (Revisiting Rainbow's code: RR networks_new.py L22, L48-57 @ 7cd2bc6)",
    "fixed": "one draw from seed 0, the same in every run (RR networks_new.py L31 @ 2d49d68: "
    "jax.random.normal(PRNGKey(0), shape))",
}
"""When noisy layers draw their noise, `network.noise_draw`."""

def input_affine(low: Sequence[float], high: Sequence[float]) -> tuple[list[float], list[float]]:
    """(scale, shift) with x * scale + shift = 2 (x - low) / (high - low) - 1 per feature: the
    bounds map to -1 and +1 (Revisiting Rainbow's networks_new.py L117-120)."""
    if len(low) != len(high):
        raise ValueError(f"{len(low)} lower bounds for {len(high)} upper bounds")
    scale = [2.0 / (h - lo) for lo, h in zip(low, high)]
    shift = [-2.0 * lo / (h - lo) - 1.0 for lo, h in zip(low, high)]
    return scale, shift

"""The parts a Q-network is built from, as data: the torsos and the head kinds.

Torch-free on purpose, so config validation and sweep planning read them without importing torch;
`networks.py` builds the modules from them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Torso:
    convs: tuple[tuple[int, int, int], ...]
    """(out channels, kernel size, stride) of each conv layer, each followed by a ReLU; then the
    features are flattened. No convs: the observation itself, flattened."""
    obs_scale: float
    """Observations are multiplied by this first (1/255 for Atari's uint8 frames)."""
    source: str


TORSOS: dict[str, Torso] = {
    "mlp": Torso((), 1.0, "the observation vector (classic control)"),
    "minatar": Torso(((16, 3, 1),), 1.0, "Young & Tian 2019 (MinAtar): one 3x3 conv, 16 channels, stride 1"),
    "nature": Torso(((32, 8, 4), (64, 4, 2), (64, 3, 1)), 1.0 / 255.0, "Mnih et al. 2015: 32 8x8/4, 64 4x4/2, 64 3x3/1"),
}

HEADS: dict[str, str] = {
    "scalar": "one expected return Q(s, a) per action",
    "categorical": "per action, logits over network.num_atoms atoms on [v_min, v_max]; Q is the mean (C51)",
}
"""Head kinds (network.head): what the network outputs per action. Each has its losses in
`losses.LOSSES` and its textbook bootstrap in `bootstrap.TEXTBOOK`."""

"""MinAtar Rainbow ablation: rainbow, the six rainbow-no-X and dqn on the five MinAtar games, with
the Revisiting Rainbow preset (Obando-Ceron & Castro 2021): conv 16 3x3 + fc 128, 10M agent steps.
A cluster sweep (see `--dry-run`); `--steps` and `--seeds` shrink it for a look on a laptop.
"""

from dqnlab.sweep import Sweep

SWEEP = Sweep(
    name="minatar_ablation",
    envs=(
        "MinAtar/Asterix-v1",
        "MinAtar/Breakout-v1",
        "MinAtar/Freeway-v1",
        "MinAtar/Seaquest-v1",
        "MinAtar/SpaceInvaders-v1",
    ),
    variants="leave_one_out",
    seeds=5,
    preset="minatar",
)

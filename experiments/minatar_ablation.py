"""MinAtar Rainbow ablation: rainbow, the six rainbow-no-X and dqn on the five MinAtar games under
Revisiting Rainbow's protocol (Obando-Ceron & Castro 2021): all 6 actions (the -v0 ids), sticky
actions 0.1 and difficulty ramping (MinAtar's defaults), conv 16 3x3 SAME then the heads, 10M
agent steps. The dqn arm runs their tuned DQN config (dqn_<game>.gin: lr 2.5e-4, MSE, Huber on
Asterix). A cluster sweep (see `--dry-run`); `--steps` and `--seeds` shrink it for a look on a
laptop.
"""

from dqnlab.sweep import Sweep

SWEEP = Sweep(
    name="minatar_ablation",
    envs=(
        "MinAtar/Asterix-v0",
        "MinAtar/Breakout-v0",
        "MinAtar/Freeway-v0",
        "MinAtar/Seaquest-v0",
        "MinAtar/SpaceInvaders-v0",
    ),
    variants="leave_one_out",
    seeds=5,
    preset="minatar",
    arm_protocols={"dqn": "revisiting_rainbow_dqn"},
)

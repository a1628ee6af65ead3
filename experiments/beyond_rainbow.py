"""Revisiting Rainbow's "beyond the Rainbow" comparison (Obando-Ceron & Castro 2021): DQN, Rainbow,
QR-DQN, IQN and M-IQN on classic control, each under RR's own config for that agent:
dqn_<env>.gin (revisiting_rainbow_dqn), rainbow_<env>.gin (revisiting_rainbow),
quantile_<env>.gin (revisiting_rainbow_qrdqn), implicit_<env>.gin (revisiting_rainbow_iqn; M-IQN
is its target_opt = 1: iqn + munchausen with tau 0.03, alpha 1, l0 -1). 30k agent steps, MLP
2x512, 3 seeds; progress.csv's `episode_return` is RR's metric (one row per 1000 steps).

    dqnlab sweep experiments/beyond_rainbow.py --dry-run
    dqnlab sweep experiments/beyond_rainbow.py --sweep-dir results/beyond_rainbow
    dqnlab analyze results/beyond_rainbow --out results/beyond_rainbow/figures

`--full` adds LunarLander-v3 and MountainCar-v0 with 10 seeds. docs/fidelity.md ("Beyond Rainbow")
has RR's published values for these agents, what was measured of them and this sweep's cost.
"""

from dqnlab.sweep import Sweep

SWEEP = Sweep(
    name="beyond_rainbow",
    envs=("CartPole-v0", "Acrobot-v1"),
    variants=("dqn", "rainbow", "dqn+qr", "dqn+iqn", "dqn+iqn+munchausen"),
    seeds=3,
    arm_protocols={
        "dqn": "revisiting_rainbow_dqn",
        "dqn+qr": "revisiting_rainbow_qrdqn",
        "dqn+iqn": "revisiting_rainbow_iqn",
        "dqn+iqn+munchausen": "revisiting_rainbow_iqn",
    },
    full={"seeds": 10, "envs": ("CartPole-v0", "Acrobot-v1", "LunarLander-v3", "MountainCar-v0")},
)

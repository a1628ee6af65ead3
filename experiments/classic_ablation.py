"""Classic-control Rainbow ablation: rainbow, the six rainbow-no-X and dqn on CartPole-v0 and
Acrobot-v1 (Hessel et al. 2018, Fig. 3) under Revisiting Rainbow's protocol (Obando-Ceron &
Castro 2021): their network (MLP 2x512, shared by every arm), their settings per env, 30k agent
steps. Every rainbow-no-X runs rainbow_<env>.gin's settings less X; the dqn arm runs their tuned
DQN baseline, dqn_<env>.gin (protocol revisiting_rainbow_dqn: lr 1e-3, update period 4), as they
and Hessel et al. compared against it. Each run's config.json records its protocol; the figure
captions name both.

Default (the README's main job): 3 seeds, evaluations of 10 episodes every 2.5k steps, and one
progress.csv row per 1000 steps (RR's iteration: its reported metric, the mean return of the
training episodes). `--full` adds LunarLander-v3 (120k steps) and MountainCar-v0 (600-step cap)
with 10 seeds: see `--full --dry-run`. docs/fidelity.md has the settings, their sources and the
measured cost.
"""

from dqnlab.sweep import Sweep

SWEEP = Sweep(
    name="classic_ablation",
    envs=("CartPole-v0", "Acrobot-v1"),
    variants="leave_one_out",
    seeds=3,
    arm_protocols={"dqn": "revisiting_rainbow_dqn"},
    full={"seeds": 10, "envs": ("CartPole-v0", "Acrobot-v1", "LunarLander-v3", "MountainCar-v0")},
)

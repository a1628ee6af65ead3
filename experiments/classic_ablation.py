"""Classic-control Rainbow ablation: rainbow, the six rainbow-no-X and dqn on CartPole-v1 and
Acrobot-v1 (Hessel et al. 2018, Fig. 3, at the small scale of Obando-Ceron & Castro 2021).

Default (the README's main job, about 20 minutes on a 2-core laptop): 3 seeds, 30k agent steps per
run (Revisiting Rainbow's classic-control budget), an MLP of 2x128 instead of 2x512 (the update
cost is what a laptop cannot afford; the ablation's ordering does not hinge on width), and an
evaluation of 5 episodes every 5k steps. `--full` restores the presets exactly (2x512, CartPole-v1
50k / Acrobot-v1 30k steps, 10 episodes every 2.5k steps) with 10 seeds: see `--full --dry-run`.
"""

from dqnlab.sweep import Sweep

SWEEP = Sweep(
    name="classic_ablation",
    envs=("CartPole-v1", "Acrobot-v1"),
    variants="leave_one_out",
    seeds=3,
    steps=30_000,
    overrides={
        "network.hidden_sizes": (128, 128),
        "eval.period_steps": 5_000,
        "eval.episodes": 5,
    },
    full={"seeds": 10, "steps": None, "overrides": {}},
)

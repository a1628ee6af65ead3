"""Classic-control Rainbow ablation: rainbow, the six rainbow-no-X and dqn on CartPole-v1 and
Acrobot-v1 (Hessel et al. 2018, Fig. 3, at the small scale of Obando-Ceron & Castro 2021).

Default (the README's main job; measured 13 minutes with 2 workers on the 2-core dev machine):
3 seeds, 30k agent steps per
run (Revisiting Rainbow's classic-control budget), an MLP of 2x128 instead of 2x512 (the update
cost is what a laptop cannot afford; the ablation's ordering does not hinge on width), and an
evaluation of 5 episodes every 5k steps. `--full` restores the presets exactly (2x512, CartPole-v1
50k / Acrobot-v1 30k steps, 10 episodes every 2.5k steps) with 10 seeds: see `--full --dry-run`.

Known: at 2x128, the variants with noisy nets and c51 together (rainbow, rainbow-no-double,
-no-nstep, -no-per) never left -500 on Acrobot-v1 within 30k steps (3 of 3 seeds); rainbow-no-noisy
and rainbow-no-c51 learn. A 2x512 rainbow starts learning there around 12k steps.
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

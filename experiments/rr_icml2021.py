"""Revisiting Rainbow's published leave-one-out figure, arm by arm (issue 21): rainbow, the six
rainbow-no-X and dqn on CartPole-v0 and Acrobot-v1 under the settings of the code that drew RR's
ICML figure (protocol revisiting_rainbow_icml2021: RR @ 2d49d68 with Dopamine 3.1.8, constant
noise, time-outs stored as terminal, Huber for scalar heads, Dopamine's iterations for RR's metric),
10 seeds. The arms without c51 (dqn, rainbow-no-c51) run RR's DQN agent's config
(revisiting_rainbow_icml2021_dqn), as RR's only scalar-head agent is its DQN agent (inferred:
dqnlab/protocols/revisiting_rainbow_icml2021.py).

RR's metric is progress.csv's `episode_return`: one row per Dopamine iteration (whole training
episodes until at least 1000 steps), so the last row is RR's iteration 29.

`--variation NAME` runs an A/B arm: the same seeds with one hypothesis switched, in its own sweep
directory (`results/rr_icml2021-NAME`); `docs/fidelity.md` ("The figure's protocol, arm by arm")
says which arm each one explains and what it measured. Plan first:

    dqnlab sweep experiments/rr_icml2021.py --dry-run
    dqnlab sweep experiments/rr_icml2021.py --variation noise_per_step --dry-run
"""

from dqnlab.sweep import Sweep

ICML, ICML_DQN = "revisiting_rainbow_icml2021", "revisiting_rainbow_icml2021_dqn"
SCALAR_ARMS = ("dqn", "rainbow-no-c51")  # RR's DQN agent: no scalar-head Rainbow config exists
NOISY_ARMS = ("rainbow", "rainbow-no-double", "rainbow-no-dueling", "rainbow-no-per",
              "rainbow-no-nstep", "rainbow-no-c51")

SWEEP = Sweep(
    name="rr_icml2021",
    envs=("CartPole-v0", "Acrobot-v1"),
    variants="leave_one_out",
    seeds=10,
    protocol=ICML,
    arm_protocols={arm: ICML_DQN for arm in SCALAR_ARMS},
    variations={
        # rainbow-no-c51 under the rainbow table (lr 1e-4, update period 2, its init) instead of
        # the DQN agent's config: which of RR's two configs the figure's "No Distributional" ran.
        "no_c51_rainbow_table": {"variants": ("rainbow-no-c51",), "arm_protocols": {"dqn": ICML_DQN}},
        # The method as published: fresh noise every step (ours) against RR's constant draw.
        "noise_per_step": {"variants": NOISY_ARMS, "overrides": {"network.noise_draw": "per_step"}},
        # Each run draws its own constant noise (RR's code today) instead of seed 0's.
        "noise_per_run": {"variants": NOISY_ARMS, "overrides": {"network.noise_draw": "per_run"}},
        # Time-outs: bootstrap from the last observation (ours), or run into the next episode
        # (Dopamine >= 3.1.9 under RR's agents), against Dopamine 3.1.8's terminal.
        "timeout_bootstrap": {"overrides": {"replay.timeout": "bootstrap"}},
        "timeout_next_episode": {"overrides": {"replay.timeout": "next_episode"}},
        # RR's DQN loss after 2021-05-25 (MSE) against the era's Huber.
        "loss_mse": {"variants": SCALAR_ARMS, "overrides": {"agent.loss": "mse"}},
        # The January code: importance weights not applied, Glorot init of plain layers.
        "importance_weights_off": {"variants": ("rainbow", "rainbow-no-c51"),
                                   "overrides": {"replay.importance_weights": False}},
        "init_glorot": {"variants": ("rainbow-no-noisy",), "overrides": {"network.init": "glorot_uniform"}},
        # Priorities |TD| (ours, Schaul et al.) against RR's DQN agent's sqrt(loss).
        "priority_abs_td": {"variants": ("rainbow-no-c51",), "overrides": {"replay.scalar_priority": "abs_td"}},
    },
)

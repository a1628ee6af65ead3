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
NOISY_ARMS = ("rainbow", "rainbow-no-per")  # the noisy arms RR's figure does not match (Acrobot)

SWEEP = Sweep(
    name="rr_icml2021",
    envs=("CartPole-v0", "Acrobot-v1"),
    variants="leave_one_out",
    seeds=10,
    protocol=ICML,
    arm_protocols={arm: ICML_DQN for arm in SCALAR_ARMS},
    # A/B arms, each one hypothesis switched on the arms it could explain (docs/fidelity.md, "Arm
    # by arm": which arm each explains and what it measured).
    variations={
        # RR's runs shared one initialization and exploration stream (PRNGKey(0) in every run):
        # two such shared draws, so that the spread between them is measured too.
        "shared_seed_0": {"envs": ("CartPole-v0",), "variants": ("dqn",), "overrides": {"agent.shared_seed": 0}},
        "shared_seed_1": {"envs": ("CartPole-v0",), "variants": ("dqn",), "overrides": {"agent.shared_seed": 1}},
        # rainbow-no-noisy's plain layers were initialized from that shared key; its noisy arms'
        # mu came from numpy's unseeded global RNG (networks_new.py L37-40 @ 2d49d68), not shared.
        **{f"shared_seed_{k}_no_noisy": {"envs": ("Acrobot-v1",), "variants": ("rainbow-no-noisy",),
                                         "overrides": {"agent.shared_seed": k}} for k in range(3)},
        # RR's DQN loss after 2021-05-25 (MSE) against the era's Huber.
        "loss_mse": {"envs": ("CartPole-v0",), "variants": ("dqn",), "overrides": {"agent.loss": "mse"}},
        # The figure's learning rate is not recorded: RR's blog says results held "across the
        # various learning rates we considered"; dqn_<env>.gin's is 1e-3, the rainbow gins' 1e-4.
        "lr_1e-4": {"envs": ("CartPole-v0",), "variants": ("dqn",), "overrides": {"agent.learning_rate": 1e-4}},
        "lr_3e-4": {"envs": ("CartPole-v0",), "variants": ("dqn",), "overrides": {"agent.learning_rate": 3e-4}},
        # rainbow-no-c51 under the rainbow table (lr 1e-4, update period 2, its init) instead of
        # the DQN agent's config: which of RR's two configs the figure's "No Distributional" ran.
        "no_c51_rainbow_table": {"envs": ("CartPole-v0",), "variants": ("rainbow-no-c51",),
                                 "arm_protocols": {"dqn": ICML_DQN}},
        # Priorities |TD| (ours, Schaul et al.) against RR's DQN agent's sqrt(loss).
        "priority_abs_td": {"envs": ("CartPole-v0",), "variants": ("rainbow-no-c51",),
                            "overrides": {"replay.scalar_priority": "abs_td"}},
        # The January code: importance weights not applied; Glorot init of plain layers.
        "importance_weights_off": {"envs": ("Acrobot-v1",), "variants": ("rainbow", "rainbow-no-noisy"),
                                   "overrides": {"replay.importance_weights": False}},
        "init_glorot": {"envs": ("Acrobot-v1",), "variants": ("rainbow-no-noisy",),
                        "overrides": {"network.init": "glorot_uniform"}},
        # The method as published: fresh noise every step (ours) against RR's constant draw; and
        # a draw of each run's own (RR's code today).
        "noise_per_step": {"envs": ("Acrobot-v1",), "variants": NOISY_ARMS, "overrides": {"network.noise_draw": "per_step"}},
        "noise_per_run": {"envs": ("Acrobot-v1",), "variants": NOISY_ARMS, "overrides": {"network.noise_draw": "per_run"}},
        # Time-outs: bootstrap from the last observation (ours), or run into the next episode
        # (Dopamine >= 3.1.9 under RR's agents), against Dopamine 3.1.8's terminal.
        "timeout_bootstrap": {"envs": ("Acrobot-v1",), "variants": ("rainbow", "rainbow-no-noisy"),
                              "overrides": {"replay.timeout": "bootstrap"}},
        "timeout_next_episode": {"envs": ("Acrobot-v1",), "variants": ("rainbow", "rainbow-no-noisy"),
                                 "overrides": {"replay.timeout": "next_episode"}},
    },
)

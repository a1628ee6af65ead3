"""Revisiting Rainbow's "beyond the Rainbow" comparison (Obando-Ceron & Castro 2021): DQN, Rainbow,
QR-DQN, IQN and M-IQN on classic control, each under RR's own config for that agent:
dqn_<env>.gin (revisiting_rainbow_dqn), rainbow_<env>.gin (revisiting_rainbow),
quantile_<env>.gin (revisiting_rainbow_qrdqn), implicit_<env>.gin (revisiting_rainbow_iqn; M-IQN
is its target_opt = 1: iqn + munchausen with tau 0.03, alpha 1, l0 -1). 30k agent steps, MLP
2x512, 3 seeds; progress.csv's `episode_return` is RR's metric (one row per 1000 steps).

    dqnlab sweep experiments/beyond_rainbow.py --dry-run
    dqnlab sweep experiments/beyond_rainbow.py --sweep-dir results/beyond_rainbow
    dqnlab analyze results/beyond_rainbow --out results/beyond_rainbow/figures

`--variation NAME` runs an A/B of IQN on Acrobot-v1 (same seeds, its own sweep directory): the
settings of RR's code at the figure's date that differ from today's (`iqn_figure_era`), those with
one key shared by every seed as the era's PRNGKey(0) was (`iqn_figure_era_shared_seed_K`, K = 0, 1,
2), or the paper's fractions, drawn per transition, instead of RR's one set per batch
(`iqn_fractions_per_transition`); docs/fidelity.md ("Beyond Rainbow") has what they measured.

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
    # RR's IQN figure (blog b8074b4, 2021-05-24) was drawn by code between 2021-01-27 and cd98f34
    # (2021-03-09), with Dopamine 3.1.8 pinned (requirements.txt L1): plain layers
    # variance_scaling(1/sqrt(3), fan_in, uniform) from 65acd7a (networks_new.py L23-24), time-outs
    # stored as terminal (3.1.8's end_episode). One set of fractions per batch (the protocol's, as
    # RR's code in both eras) against Dabney et al.'s per transition.
    variations={
        "iqn_figure_era": {"envs": ("Acrobot-v1",), "variants": ("dqn+iqn",), "overrides": {
            "network.init": "variance_scaling_fan_in", "replay.timeout": "terminal"}},
        "iqn_fractions_per_transition": {"envs": ("Acrobot-v1",), "variants": ("dqn+iqn",),
                                         "overrides": {"implicit_quantile.fractions": "per_transition"}},
        # The era's runs also shared one key (PRNGKey(0)): one initialization, exploration stream
        # and fraction stream for every seed. Three such shared draws, so that the spread between
        # them is measured too, as for rr_icml2021's rainbow-no-noisy.
        **{f"iqn_figure_era_shared_seed_{k}": {"envs": ("Acrobot-v1",), "variants": ("dqn+iqn",), "overrides": {
            "network.init": "variance_scaling_fan_in", "replay.timeout": "terminal", "agent.shared_seed": k}}
           for k in range(3)},
    },
    full={"seeds": 10, "envs": ("CartPole-v0", "Acrobot-v1", "LunarLander-v3", "MountainCar-v0")},
)

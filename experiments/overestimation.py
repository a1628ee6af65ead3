"""Overestimation study (van Hasselt et al. 2016, Fig. 3): dqn vs double on the six Atari games
of their figure, nature2015 protocol, 200M frames. eval.csv records the greedy policy's mean
Q(s, a) estimate and the discounted return actually obtained from the same states
(`q_estimate_mean`, `discounted_return_mean`): the analysis plots one against the other.

`--subset classic` (CartPole-v1, Acrobot-v1, each env's preset) and `--subset minatar` run the same
comparison at a scale a laptop affords.
"""

from dqnlab.sweep import Sweep

SWEEP = Sweep(
    name="overestimation",
    envs=("ALE/Alien-v5", "ALE/SpaceInvaders-v5", "ALE/TimePilot-v5", "ALE/Zaxxon-v5",
          "ALE/WizardOfWor-v5", "ALE/Asterix-v5"),
    variants=("dqn", "dqn+double"),
    seeds=5,
    protocol="nature2015",
    steps=50_000_000,
    subsets={
        "classic": ("CartPole-v1", "Acrobot-v1"),
        "minatar": ("MinAtar/Asterix-v1", "MinAtar/Breakout-v1", "MinAtar/Freeway-v1",
                    "MinAtar/Seaquest-v1", "MinAtar/SpaceInvaders-v1"),
    },
)

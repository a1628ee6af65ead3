"""Overestimation study (van Hasselt et al. 2016, Fig. 3): dqn vs double on the six Atari games
of their figure, nature2015 protocol, 200M frames (the atari preset's budget; the subsets below
keep their own family's). eval.csv records the greedy policy's mean Q(s, a) estimate and the
discounted return actually obtained from the same states (`q_estimate_mean`,
`discounted_return_mean`; an episode that reaches its time limit goes on for
eval.value_tail_steps, so that value is not cut there): the analysis plots one against the other.

`--subset classic` (CartPole-v0, Acrobot-v1) and `--subset minatar` run the same comparison at a
scale a laptop affords, both arms under Revisiting Rainbow's DQN config (revisiting_rainbow_dqn:
their dqn_<env>.gin, whose target_opt = 1 is the double arm).
"""

from dqnlab.sweep import Sweep

SWEEP = Sweep(
    name="overestimation",
    envs=("ALE/Alien-v5", "ALE/SpaceInvaders-v5", "ALE/TimePilot-v5", "ALE/Zaxxon-v5",
          "ALE/WizardOfWor-v5", "ALE/Asterix-v5"),
    variants=("dqn", "dqn+double"),
    seeds=5,
    protocol="nature2015",
    arm_protocols={"dqn": "revisiting_rainbow_dqn", "dqn+double": "revisiting_rainbow_dqn"},
    subsets={
        "classic": ("CartPole-v0", "Acrobot-v1"),
        "minatar": ("MinAtar/Asterix-v0", "MinAtar/Breakout-v0", "MinAtar/Freeway-v0",
                    "MinAtar/Seaquest-v0", "MinAtar/SpaceInvaders-v0"),
    },
)

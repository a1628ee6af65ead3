"""Atari Rainbow ablation in the setup of Hessel et al. 2018: the 57 games, rainbow, the six
rainbow-no-X and dqn, the nature2015 protocol (up to 30 no-op starts, life loss terminal for
bootstrapping, no sticky actions), 200M frames (50M agent steps) per run, the `atari` preset
(their Table 1). A GPU-cluster sweep: `--dry-run` prints its cost.

`--subset atari5` runs the five games of Aitchison et al. 2023 ("Atari-5"), whose scores predict
the 57-game median; `--subset pong` is a single game to try the pipeline end to end.
"""

from dqnlab.sweep import Sweep

ATARI_57 = (
    "ALE/Alien-v5", "ALE/Amidar-v5", "ALE/Assault-v5", "ALE/Asterix-v5", "ALE/Asteroids-v5",
    "ALE/Atlantis-v5", "ALE/BankHeist-v5", "ALE/BattleZone-v5", "ALE/BeamRider-v5",
    "ALE/Berzerk-v5", "ALE/Bowling-v5", "ALE/Boxing-v5", "ALE/Breakout-v5", "ALE/Centipede-v5",
    "ALE/ChopperCommand-v5", "ALE/CrazyClimber-v5", "ALE/Defender-v5", "ALE/DemonAttack-v5",
    "ALE/DoubleDunk-v5", "ALE/Enduro-v5", "ALE/FishingDerby-v5", "ALE/Freeway-v5",
    "ALE/Frostbite-v5", "ALE/Gopher-v5", "ALE/Gravitar-v5", "ALE/Hero-v5", "ALE/IceHockey-v5",
    "ALE/Jamesbond-v5", "ALE/Kangaroo-v5", "ALE/Krull-v5", "ALE/KungFuMaster-v5",
    "ALE/MontezumaRevenge-v5", "ALE/MsPacman-v5", "ALE/NameThisGame-v5", "ALE/Phoenix-v5",
    "ALE/Pitfall-v5", "ALE/Pong-v5", "ALE/PrivateEye-v5", "ALE/Qbert-v5", "ALE/Riverraid-v5",
    "ALE/RoadRunner-v5", "ALE/Robotank-v5", "ALE/Seaquest-v5", "ALE/Skiing-v5", "ALE/Solaris-v5",
    "ALE/SpaceInvaders-v5", "ALE/StarGunner-v5", "ALE/Surround-v5", "ALE/Tennis-v5",
    "ALE/TimePilot-v5", "ALE/Tutankham-v5", "ALE/UpNDown-v5", "ALE/Venture-v5",
    "ALE/VideoPinball-v5", "ALE/WizardOfWor-v5", "ALE/YarsRevenge-v5", "ALE/Zaxxon-v5",
)

SWEEP = Sweep(
    name="atari_ablation",
    envs=ATARI_57,
    variants="leave_one_out",
    seeds=3,
    preset="atari",
    protocol="nature2015",
    steps=50_000_000,
    subsets={
        "atari5": ("ALE/BattleZone-v5", "ALE/DoubleDunk-v5", "ALE/NameThisGame-v5",
                   "ALE/Phoenix-v5", "ALE/Qbert-v5"),
        "pong": ("ALE/Pong-v5",),
    },
)

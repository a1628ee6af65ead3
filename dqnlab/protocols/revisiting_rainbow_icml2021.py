"""Revisiting Rainbow as its ICML 2021 figure was drawn (Obando-Ceron & Castro 2021): the settings
of the code that produced the published leave-one-out figure, for classic control and MinAtar.

`revisiting_rainbow` (revisiting_rainbow.py) is RR's code as it stands today (7cd2bc6, Dopamine
3.1.10), with its two bugs left out; this module is RR's code at the time of the figure, bugs in.
The figure went on Castro's blog on 2021-05-24 (psc-g/psc-g.github.io b8074b4,
`revisitingClassic.png`); the next day RR commit 64ec8c8 moved DQN from Huber to MSE, the networks
to flax.linen and the Dopamine pin from 3.1.8 to 3.1.10. So the figure's code is RR at or before
cd98f34 (2021-03-09), with Dopamine 3.1.8.

Sources, cited as `RR <path> L<line> @ <commit>` (github.com/JohanSamir/revisiting_rainbow, paths
under revisiting_rainbow/) and `Dop318 <path> L<line>` (Dopamine 3.1.8: google/dopamine c79261c,
the commit whose setup.py says 3.1.8; RR requirements.txt L1 @ 2d49d68 pins dopamine-rl==3.1.8).

Which commit, and what is INFERRED (not read):
* The figure's commit is not recorded anywhere. We take 2d49d68 (2021-02-26), the newest commit
  before the figure whose noisy Rainbow runs as committed: at 65acd7a .. e6a6bc5 (2021-02-03 ..
  2021-02-10) rainbow_agent_new.py does not parse (a comma missing after `dueling=self._dueling`,
  fixed in 2d49d68), and at cd98f34 networks_new.py L32 calls `random.randint(0, 50)` with `random`
  bound to `jax.random` (L10), which needs minval and maxval and raises. INFERRED: the runs behind
  the figure used this code; the January code (6eac259 .. f35010b) differs in two settings, both
  switchable: Glorot init of plain layers (`network.init=glorot_uniform`) and importance weights
  computed but not applied (`replay.importance_weights=false`).
* RR has no config for a rainbow-no-c51 arm: its only scalar-head agent is the DQN agent
  (Agents/dqn_agent_new.py), configured by dqn_<env>.gin. INFERRED: the figure's "No
  Distributional" arm (and its DQN arm) ran the DQN agent's config with the other five
  components switched on, i.e. `revisiting_rainbow_icml2021_dqn` below; the rainbow table's values
  for scalar heads (Huber, priorities from the loss) are those of the DQN agent too, so
  rainbow-no-c51 under this table differs from it only by the DQN config's learning rate, update
  period and init (docs/fidelity.md measures both).
* Dopamine 3.1.8 is what requirements.txt pins; INFERRED that the authors' Dopamine behaved as it
  does. requirements.txt cannot be the whole story: from 2021-01-20 (98a2cfa, 6226dfc) RR's
  rainbow_mountaincar.gin and rainbow_lunarlander.gin use gin constants that first appear in
  Dopamine c69f256 (2021-01-15; first released in 3.1.9), so the authors ran a newer Dopamine
  than the pin, most likely a master snapshot. One from 2021-01-15 .. 2021-01-25 behaves as 3.1.8
  on these envs (time-outs terminal, PRNGKey(0)); one from 2021-01-28 on, or 3.1.9, stores
  time-outs as `next_episode` (`replay.timeout`) and, from 2021-02-03 (Dopamine 238cd33), seeds
  every run from the clock (ours: every run its own seed).

What this protocol does not reproduce (docs/fidelity.md, "The figure's protocol") (the noise is
reproduced: `fixed` draws JAX's own `normal(PRNGKey(0), n)` values, `dqnlab.jax_random`):
Dopamine 3.1.8's agent RNG, `PRNGKey(0)` in every run (Dop318 jax/agents/dqn/dqn_agent.py L285),
so that RR's runs shared their initial weights and exploration draws (ours are seeded per run);
Dopamine's step counter, which also advances once per episode start (Dop318 dqn_agent.py L364-377);
uniform replay drawn stratified from a sum tree of equal priorities (Dop318
replay_memory/prioritized_replay_buffer.py L143-156; ours draws i.i.d.); and on MinAtar the 3x3x3
conv kernel's init fan (RR networks_new.py L70-74 @ 2d49d68: a (3, 3, 3) kernel over one frame
acts as a 3x3 conv, but its init counts 27 C inputs where ours counts 9 C).
"""

from __future__ import annotations

from typing import Any

from dqnlab.protocols import Protocol
from dqnlab.protocols.revisiting_rainbow import (
    _CHOICES,
    _CLASSIC,
    _CLASSIC_ENVS,
    _DQN_ENVS,
    _MINATAR,
    _NOISY,
)

# What RR's code and Dopamine 3.1.8 did at the figure's time, the same for both agents and families.
_ERA: dict[str, Any] = {
    # RR networks_new.py L30-31 @ 2d49d68: sample_noise draws jax.random.normal(PRNGKey(0), shape)
    # for eps_in and eps_out at every call, so the noise is one constant draw, the same in every
    # layer of equal size, in both networks, in acting and learning, and in every run.
    "network.noise_draw": "fixed",
    # Dop318 run_experiment.py L321-330 (an episode cut at max_steps_per_episode leaves the loop)
    # and L290-296 -> jax/agents/dqn/dqn_agent.py L427-437: end_episode stores the last transition
    # with is_terminal=True, for a time-out too (the Runner passes no terminal flag before 3.1.9).
    "replay.timeout": "terminal",
    # RR Agents/dqn_agent_new.py L310-313 @ 2d49d68: set_priority(indices, sqrt(loss + 1e-10)), the
    # per-sample Huber (or MSE) loss; only the arms without c51 read it (c51's loss is its own).
    "replay.scalar_priority": "loss",
    # RR Agents/{rainbow,dqn}_agent_new.py L232-233 / L283-284 and L39 / L51 @ 2d49d68 (2d49d68
    # "compute gradients using loss weighted by inverse prior"): weights applied to the loss.
    "replay.importance_weights": True,
    # RR Configs/dqn_<env>.gin L28 @ 2d49d68: mse_inf = False, i.e. Dopamine's huber_loss (Dop318
    # jax/agents/dqn/dqn_agent.py L75-80) for every scalar head; MSE came with 64ec8c8.
    "agent.loss": "huber",
}

_CLASSIC_ERA: dict[str, Any] = {
    **_ERA,
    # RR Configs/<agent>_<env>.gin L42-44 / L46-48: Runner.num_iterations = 30, training_steps =
    # 1000; Dop318 run_experiment.py L336-360: a training phase runs whole episodes until at
    # least training_steps steps; TrainRunner (L520-544) reports their mean return.
    "run.iteration_steps": 1_000,
}

# RR Configs/rainbow_<env>.gin L23 @ 2d49d68: initzer = 'variance_scaling', i.e.
# variance_scaling(1/sqrt(3), fan_in, uniform) (networks_new.py L23-24) for the plain layers
# (every Dense layer of rainbow-no-noisy; MinAtar's conv); noisy layers keep their own init.
_RAINBOW_INIT = {"network.init": "variance_scaling_fan_in"}
# RR Configs/dqn_<env>.gin L31 @ 2d49d68: initzer = 'xavier_uniform' (Glorot, zero biases).
_DQN_INIT = {"network.init": "glorot_uniform"}

_MINATAR_ERA: dict[str, Any] = {
    **_ERA,
    # RR Configs/<agent>_<game>.gin @ 2d49d68: Runner.num_iterations = 10, training_steps = 1e6.
    "run.iteration_steps": 1_000_000,
}

# RR Configs/<agent>_lunarlander.gin @ 2d49d68: Runner.training_steps = 4000 (30 iterations of 4000).
_ICML_ENVS = {"LunarLander-v3": {"run.iteration_steps": 4_000}}

_CHOICES_ICML = (
    _CHOICES[0],  # evaluation: ours, beside RR's training-episode metric
    _CHOICES[1],  # CartPole-v1: not run by RR
    "noise: one constant draw per vector length, JAX's normal(PRNGKey(0)) values recomputed in numpy "
    "(dqnlab.jax_random: the bits of JAX's PRNG, erfinv in float64 rounded to float32)",
    "every run seeds its own initial weights and exploration (Dopamine 3.1.8 used PRNGKey(0) for "
    "both in every run)",
)

_INFERRED = (
    "the figure's code is RR 2d49d68 (2021-02-26) with Dopamine 3.1.8: the newest commit before the "
    "figure whose noisy Rainbow runs as committed (65acd7a..e6a6bc5 do not parse; cd98f34 raises in "
    "its noise seeding)",
    "the arms without c51 (dqn, rainbow-no-c51) ran RR's DQN agent with dqn_<env>.gin: RR has no "
    "scalar-head Rainbow config (revisiting_rainbow_icml2021_dqn; a sweep gives them that "
    "protocol with Sweep.arm_protocols)",
    "Dopamine behaved as 3.1.8, as requirements.txt pins; RR's gins from 2021-01-20 need Dopamine "
    ">= c69f256 (2021-01-15), so it was a master snapshot: 2021-01-15..01-25 behaves as 3.1.8; from "
    "2021-01-28 (and 3.1.9) time-outs are replay.timeout=next_episode and, from 2021-02-03, each run "
    "seeds itself from the clock",
)

REVISITING_RAINBOW_ICML2021 = Protocol(
    name="revisiting_rainbow_icml2021",
    source="Obando-Ceron & Castro 2021, the code behind their ICML figure: RR rainbow_*.gin @ 2d49d68, "
    "Dopamine 3.1.8",
    families={
        "classic": {**_CLASSIC, **_CLASSIC_ERA, **_RAINBOW_INIT},
        "minatar": {**_MINATAR, **_MINATAR_ERA, **_RAINBOW_INIT},
    },
    envs={env: {**settings, **_ICML_ENVS.get(env, {})} for env, settings in _CLASSIC_ENVS.items()},
    # RR Agents/rainbow_agent_new.py L179 @ 2d49d68: noisy -> identity_epsilon (0.01 throughout).
    components={"noisy": _NOISY},
    choices=_CHOICES_ICML,
    inferred=_INFERRED,
)

# RR Configs/dqn_<env>.gin @ 2d49d68 where they differ from rainbow_<env>.gin: lr 1e-3 (L39),
# update_period 4 (L17) on classic control; lr 2.5e-4 on MinAtar (Huber for every game, Asterix
# included: mse_inf = False in every dqn_*.gin before 64ec8c8). _DQN_ENVS carries the per-env
# values (MountainCar's lr 1e-2) and, for Asterix, the loss, which the era's Huber overrides.
_DQN_CLASSIC_ICML = {"agent.learning_rate": 1e-3, "agent.update_period_steps": 4}
_DQN_MINATAR_ICML = {"agent.learning_rate": 2.5e-4}

REVISITING_RAINBOW_ICML2021_DQN = Protocol(
    name="revisiting_rainbow_icml2021_dqn",
    source="Obando-Ceron & Castro 2021, the code behind their ICML figure: RR dqn_*.gin @ 2d49d68, "
    "Dopamine 3.1.8",
    families={
        "classic": {**_CLASSIC, **_DQN_CLASSIC_ICML, **_CLASSIC_ERA, **_DQN_INIT},
        "minatar": {**_MINATAR, **_DQN_MINATAR_ICML, **_MINATAR_ERA, **_DQN_INIT},
    },
    envs={env: {**{k: v for k, v in settings.items() if k != "agent.loss"}, **_ICML_ENVS.get(env, {})}
          for env, settings in _DQN_ENVS.items()},
    # RR Agents/dqn_agent_new.py L240 @ 2d49d68: noisy -> identity_epsilon, as the rainbow agent.
    components={"noisy": _NOISY},
    choices=_CHOICES_ICML,
    inferred=_INFERRED,
)

PROTOCOLS: tuple[Protocol, ...] = (REVISITING_RAINBOW_ICML2021, REVISITING_RAINBOW_ICML2021_DQN)

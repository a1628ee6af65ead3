"""Revisiting Rainbow (Obando-Ceron & Castro 2021, https://arxiv.org/abs/2011.14826): the
settings of its classic-control and MinAtar experiments, read from its code.

Sources, cited as `RR <path>` (github.com/JohanSamir/revisiting_rainbow @ 7cd2bc6, paths under
revisiting_rainbow/) and `Dop <path>` (Dopamine 3.1.10, google/dopamine @ b312d26, the version RR
pins in requirements.txt; it supplies every default RR's gin files leave unbound):

* `revisiting_rainbow`: Configs/rainbow_<env>.gin. One table for every component subset, so
  rainbow-no-X differs from rainbow only by X: values that only a component reads (v_max for c51,
  the PER exponents, sigma0) are here and matter only when that component is on.
* `revisiting_rainbow_dqn`: Configs/dqn_<env>.gin, RR's tuned DQN baseline: the same table with
  the values where their DQN config differs (learning rate, update period, loss).

RR behaviours we do not reproduce (docs/fidelity.md has the details and source lines):
* noisy-net noise that is never resampled (RR networks_new.py L22, L48-57 keep the first call's
  keys for the whole run): our noise is resampled every step, as Fortunato et al. describe;
* time-outs stored as non-terminal with no episode end (RR Agents/rainbow_agent_new.py L346
  overrides `_store_transition` without `episode_end`; with Dopamine >= 3.1.9, which this code pins
  at 3.1.10, the Runner then stores the time-out as non-terminal), so n-step returns run into the
  next episode: ours stop at the time limit and bootstrap from the last observation. (With
  Dopamine 3.1.8, which RR pinned until 2021-05-25, a time-out was stored as terminal:
  `revisiting_rainbow_icml2021`.)
Both are switches, off here: `network.noise_draw=per_run` and `replay.timeout=next_episode`
reproduce RR's code as it stands.

RR has no evaluation phase (its TrainRunner reports the returns of training episodes, which
progress.csv's `episode_return` gives per `run.log_period_steps` = one RR iteration): the
evaluations in eval.csv are our addition, at the classic/minatar preset's period, episodes and
epsilon (0.001, Dopamine's epsilon_eval: Dop jax/agents/dqn/dqn_agent.py L220).
"""

from __future__ import annotations

import math
from typing import Any

from dqnlab.protocols import Protocol

# -- classic control: Configs/rainbow_{cartpole,acrobot,lunarlander,mountaincar}.gin -----------

_CLASSIC: dict[str, Any] = {
    "total_steps": 30_000,  # Runner.num_iterations = 30 x Runner.training_steps = 1000
    "run.log_period_steps": 1_000,  # one progress row per RR iteration (Runner.training_steps)
    # Dop run_experiment.py L169: Runner.clip_rewards defaults to True and no RR gin unbinds it.
    "env.reward_clip": True,
    "network.torso": "mlp",  # net_conf = 'classic': the observation, flattened (networks_new.py L112-115)
    "network.hidden_sizes": (512, 512),  # hidden_layer = 2, neurons = 512
    # initzer = variance_scaling(scale=1, mode='fan_avg', distribution='uniform'): Glorot-uniform
    # kernels; flax Dense biases start at zero.
    "network.init": "glorot_uniform",
    # networks_new.py L202-211: value and advantage are single layers on the shared hidden layers.
    "network.dueling_layout": "heads",
    "network.noisy_sigma0": 0.1,  # networks_new.py L46: sigma_init = 0.1 / sqrt(fan_in)
    "categorical.v_min": -200.0,  # vmax = 200.; support = linspace(-vmax, vmax, num_atoms)
    "categorical.v_max": 200.0,  #   (Agents/rainbow_agent_new.py L186)
    "replay.capacity": 50_000,  # OutOfGraphPrioritizedReplayBuffer.replay_capacity
    # Agents/rainbow_agent_new.py L325-334: priority = sqrt(loss + 1e-10), i.e. alpha 0.5 on the
    # (cross-entropy) loss; for a scalar head we apply the same alpha to |TD error| (our choice:
    # RR has no scalar-head config with PER).
    "replay.priority_exponent": 0.5,
    "replay.priority_eps": 1e-10,
    # L298-308: weights 1 / sqrt(P(i) + 1e-10), normalized by the batch max: beta fixed at 0.5.
    "replay.importance_exponent_start": 0.5,
    "replay.importance_exponent_end": 0.5,
    "agent.gamma": 0.99,  # JaxDQNAgent.gamma
    # Scalar heads (every arm without c51) regress with RR's DQN loss, mean((y - q)^2)
    # (Agents/dqn_agent_new.py L36-37, mse_inf = True: true of RR's code from 64ec8c8, 2021-05-25;
    # before, every dqn_*.gin had mse_inf = False, Huber: revisiting_rainbow_icml2021); c51 sets
    # cross-entropy.
    "agent.loss": "mse",
    "agent.learning_rate": 1e-4,  # create_optimizer.learning_rate = 0.0001
    "agent.adam_eps": 3.125e-4,  # create_optimizer.eps = 0.0003125 (betas: Dop defaults 0.9, 0.999)
    "agent.batch_size": 128,  # OutOfGraphPrioritizedReplayBuffer.batch_size
    "agent.min_replay_steps": 500,  # JaxDQNAgent.min_replay_history
    "agent.update_period_steps": 2,  # JaxDQNAgent.update_period
    "agent.target_update_period_steps": 100,  # JaxDQNAgent.target_update_period (hard copy)
    "agent.max_grad_norm": None,  # no clipping in RR's agents nor in Dop's create_optimizer
    # epsilon_fn = identity_epsilon: epsilon_train, Dop's default 0.01, from the very first step,
    # warm-up included (Dop jax/agents/dqn/dqn_agent.py L134-157, L219).
    "explore.warmup_epsilon": 0.01,
    "explore.epsilon_start": 0.01,
    "explore.epsilon_end": 0.01,
    "explore.epsilon_decay_steps": 0,
}

# networks_new.py L17-20 (the same numbers as Dop discrete_domains/gym_lib.py L41-46): inputs
# become 2 (x - MIN) / (MAX - MIN) - 1. LunarLander is not in RR's table: no normalization.
CARTPOLE_BOUNDS = ((-2.4, -5.0, -math.pi / 12.0, -math.pi * 2.0), (2.4, 5.0, math.pi / 12.0, math.pi * 2.0))
ACROBOT_BOUNDS = ((-1.0, -1.0, -1.0, -1.0, -5.0, -5.0), (1.0, 1.0, 1.0, 1.0, 5.0, 5.0))
MOUNTAINCAR_BOUNDS = ((-1.2, -0.07), (0.6, 0.07))


def _bounds(bounds: tuple[tuple[float, ...], tuple[float, ...]]) -> dict[str, Any]:
    return {"network.input_low": bounds[0], "network.input_high": bounds[1]}


_CLASSIC_ENVS: dict[str, dict[str, Any]] = {
    # rainbow_cartpole.gin: CartPole v0, Runner.max_steps_per_episode = 200.
    "CartPole-v0": {"env.max_episode_steps": 200, **_bounds(CARTPOLE_BOUNDS)},
    # Not run by RR (our choice, docs/fidelity.md): CartPole-v1's 500-step cap needs a longer
    # budget; every other setting is rainbow_cartpole.gin's.
    "CartPole-v1": {"env.max_episode_steps": 500, "total_steps": 50_000, **_bounds(CARTPOLE_BOUNDS)},
    # rainbow_acrobot.gin: Runner.max_steps_per_episode = 500.
    "Acrobot-v1": {"env.max_episode_steps": 500, **_bounds(ACROBOT_BOUNDS)},
    # rainbow_mountaincar.gin: a 600-step cap (gym's is 200), vmax = 100.
    "MountainCar-v0": {
        "env.max_episode_steps": 600, "categorical.v_min": -100.0, "categorical.v_max": 100.0,
        **_bounds(MOUNTAINCAR_BOUNDS),
    },
    # rainbow_lunarlander.gin (LunarLander v2; gymnasium 1.x has v3): 1000-step cap, 30 x 4000
    # steps, lr 1e-3, update period 4, target period 300, vmax = 300, normalize_obs = False.
    "LunarLander-v3": {
        "env.max_episode_steps": 1_000, "total_steps": 120_000, "run.log_period_steps": 4_000,
        "agent.learning_rate": 1e-3, "agent.update_period_steps": 4,
        "agent.target_update_period_steps": 300, "categorical.v_min": -300.0, "categorical.v_max": 300.0,
    },
}

# -- MinAtar: Configs/rainbow_{asterix,breakout,freeway,seaquest,invaders}.gin ------------------

_MINATAR: dict[str, Any] = {
    "total_steps": 10_000_000,  # Runner.num_iterations = 10 x training_steps = 1,000,000
    # Dop Runner.clip_rewards default. MinAtar's rewards are 0 or 1 except Seaquest's surfacing bonus,
    # oxygen * 10 // max_oxygen (up to 10; minatar/environments/seaquest.py), which this cuts to 1.
    "env.reward_clip": True,
    # MinAtar's Environment defaults (minatar_env.py L21 passes none): sticky actions 0.1,
    # difficulty ramping on. The cap is 1e8 steps, i.e. none (Freeway ends itself).
    "env.sticky_action_prob": 0.1,
    "env.max_episode_steps": None,
    # net_conf = 'minatar', hidden_layer = 0: conv 16 3x3 stride 1, SAME padding (flax's
    # default), then the heads (networks_new.py L90-95).
    "network.torso": "minatar_same",
    "network.hidden_sizes": (),
    "network.init": "glorot_uniform",
    "network.dueling_layout": "heads",
    "network.noisy_sigma0": 0.1,
    "categorical.v_min": -100.0,  # vmax = 100.
    "categorical.v_max": 100.0,
    "replay.capacity": 100_000,
    "replay.priority_exponent": 0.5,
    "replay.priority_eps": 1e-10,
    "replay.importance_exponent_start": 0.5,
    "replay.importance_exponent_end": 0.5,
    "agent.gamma": 0.99,
    "agent.loss": "mse",
    "agent.learning_rate": 1e-4,
    "agent.adam_eps": 3.125e-4,
    "agent.batch_size": 32,
    "agent.min_replay_steps": 1_000,
    "agent.update_period_steps": 4,
    "agent.target_update_period_steps": 1_000,
    "agent.max_grad_norm": None,
    # epsilon_fn = linearly_decaying_epsilon (Dop jax/agents/dqn/dqn_agent.py L134-145): 1.0
    # through the warm-up, then linear to epsilon_train 0.01 over epsilon_decay_period 250000.
    "explore.warmup_epsilon": 1.0,
    "explore.epsilon_start": 1.0,
    "explore.epsilon_end": 0.01,
    "explore.epsilon_decay_steps": 250_000,
}

# Agents/rainbow_agent_new.py L212 (and dqn_agent_new.py L258): noisy=True replaces epsilon_fn
# by identity_epsilon, a constant 0.01 from the first step, warm-up included.
_NOISY = {"explore.warmup_epsilon": 0.01, "explore.epsilon_start": 0.01, "explore.epsilon_end": 0.01}

_CHOICES = (
    "evaluation: RR reports training-episode returns only (progress.csv episode_return, one row "
    "per RR iteration); eval.csv adds greedy evaluations at eval.epsilon 0.001",
    "CartPole-v1 (not run by RR): rainbow_cartpole.gin's settings with v1's 500-step cap and a "
    "50k budget",
    "a scalar head (any arm without c51) with per: priorities |TD error|^0.5, the alpha RR "
    "applies to its cross-entropy",
    "noise resampled every step, and n-step returns cut at time limits (RR's code does neither)",
)

REVISITING_RAINBOW = Protocol(
    name="revisiting_rainbow",
    source="Obando-Ceron & Castro 2021, their Configs/rainbow_*.gin",
    families={"classic": _CLASSIC, "minatar": _MINATAR},
    envs=_CLASSIC_ENVS,
    components={"noisy": _NOISY},
    choices=_CHOICES,
)

# -- the tuned DQN baseline: Configs/dqn_<env>.gin, where it differs from rainbow_<env>.gin -----

_DQN_CLASSIC = {
    "agent.learning_rate": 1e-3,  # dqn_{cartpole,acrobot,lunarlander}.gin create_optimizer.learning_rate
    "agent.update_period_steps": 4,  # JaxDQNAgent.update_period = 4 in every dqn_*.gin
    "agent.loss": "mse",  # JaxDQNAgentNew.mse_inf = True (from 64ec8c8; Huber before)
}
_DQN_MINATAR = {
    "agent.learning_rate": 2.5e-4,  # dqn_<game>.gin: 0.00025
    "agent.loss": "mse",  # mse_inf = True, except Asterix (below)
}
_DQN_ENVS = {
    env: {**settings, **_DQN_CLASSIC} for env, settings in _CLASSIC_ENVS.items()
} | {
    "MountainCar-v0": {**_CLASSIC_ENVS["MountainCar-v0"], **_DQN_CLASSIC, "agent.learning_rate": 1e-2},  # dqn_mountaincar.gin
} | {
    f"MinAtar/Asterix-{v}": {"agent.loss": "huber"} for v in ("v0", "v1")  # dqn_asterix.gin: mse_inf = False
}

REVISITING_RAINBOW_DQN = Protocol(
    name="revisiting_rainbow_dqn",
    source="Obando-Ceron & Castro 2021, their tuned DQN baseline, Configs/dqn_*.gin",
    families={"classic": {**_CLASSIC, **_DQN_CLASSIC}, "minatar": {**_MINATAR, **_DQN_MINATAR}},
    envs=_DQN_ENVS,
    components={"noisy": _NOISY},
    choices=_CHOICES,
)

PROTOCOLS: tuple[Protocol, ...] = (REVISITING_RAINBOW, REVISITING_RAINBOW_DQN)

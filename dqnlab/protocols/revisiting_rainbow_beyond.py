"""Revisiting Rainbow's agents beyond Rainbow (Obando-Ceron & Castro 2021, "Beyond the Rainbow"):
QR-DQN (`Configs/quantile_<env>.gin`) and IQN / M-IQN (`Configs/implicit_<env>.gin`), read from
RR's code at 7cd2bc6 with Dopamine 3.1.10 (the sources of `revisiting_rainbow.py`).

Both gins are rainbow_<env>.gin's table with the agent's own lines (a diff of the files, line by
line): the same optimizer, batch, replay, periods, exploration, network and input bounds, with
update_horizon 1 (the nstep component off), no c51 vmax, and:

* quantile_<env>.gin L8-9: JaxQuantileAgentNew.kappa = 1.0, num_atoms = 51 (quantiles, at the
  midpoints (i + 0.5) / 51: Agents/quantile_agent_new.py L107-108); double, noisy, dueling off
  and replay_scheme uniform (the components that variant `dqn+qr` leaves off).
* implicit_<env>.gin: kappa = 1.0, num_tau_samples = 32, num_tau_prime_samples = 32,
  num_quantile_samples = 32, quantile_embedding_dim = 64; target_opt 1 is Munchausen (M-IQN) with
  tau = 0.03, alpha = 1, clip_value_min = -1 on classic control (alpha 0.9 on MinAtar); LunarLander
  keeps update_period 2 and target_update_period 100 (rainbow_lunarlander.gin has 4 and 300).
  implicit_cartpole.gin sets target_opt = 1 and the other classic gins 0: the file decides whether
  it is IQN or M-IQN; here the variant does (dqn+iqn, dqn+iqn+munchausen).

The fractions follow RR: one set of N, one of N' and one of K per update, shared by the whole batch
(`implicit_quantile.fractions = per_batch`): RR's loss and target functions vmap the network over
the batch with the rng unmapped (Agents/implicit_quantile_agent_new.py L28-31, L91-94, L150-154 @
7cd2bc6; the same at the figure's date, cd98f34 L27-30, L102-105, L160-164). Dabney et al. draw
them per transition, dqnlab's default outside this protocol. RR's QR-DQN computes its selection and
values with the same network call; ours too.
"""

from __future__ import annotations

from typing import Any

from dqnlab.protocols import Protocol
from dqnlab.protocols.revisiting_rainbow import _CHOICES, _CLASSIC, _CLASSIC_ENVS, _MINATAR, _NOISY

# quantile_<env>.gin L8-9 (JaxQuantileAgentNew.kappa, num_atoms), every env.
_QR = {"quantile.num_quantiles": 51, "quantile.kappa": 1.0}

# implicit_<env>.gin (JaxImplicitQuantileAgentNew.*), every env.
_IQN = {
    "implicit_quantile.num_tau_samples": 32,
    "implicit_quantile.num_tau_prime_samples": 32,
    "implicit_quantile.num_quantile_samples": 32,
    "implicit_quantile.embedding_dim": 64,
    "implicit_quantile.kappa": 1.0,
    "implicit_quantile.fractions": "per_batch",  # one key under vmap (module docstring)
}
# implicit_<env>.gin tau / alpha / clip_value_min: the Munchausen terms of target_opt = 1.
_M_IQN_CLASSIC = {"munchausen.tau": 0.03, "munchausen.alpha": 1.0, "munchausen.l0": -1.0}
_M_IQN_MINATAR = {"munchausen.tau": 0.03, "munchausen.alpha": 0.9, "munchausen.l0": -1.0}


REVISITING_RAINBOW_QRDQN = Protocol(
    name="revisiting_rainbow_qrdqn",
    source="Obando-Ceron & Castro 2021, their QR-DQN, Configs/quantile_*.gin",
    # Values only the quantile head reads sit in the table, as c51's vmax in rainbow's.
    families={"classic": {**_CLASSIC, **_QR}, "minatar": {**_MINATAR, **_QR}},
    envs=_CLASSIC_ENVS,
    components={"noisy": _NOISY},
    choices=_CHOICES,
)

# implicit_lunarlander.gin: update_period 2, target_update_period 100 (rainbow's: 4, 300).
_IQN_ENVS: dict[str, dict[str, Any]] = {
    **_CLASSIC_ENVS,
    "LunarLander-v3": {**_CLASSIC_ENVS["LunarLander-v3"], "agent.update_period_steps": 2,
                       "agent.target_update_period_steps": 100},
}

REVISITING_RAINBOW_IQN = Protocol(
    name="revisiting_rainbow_iqn",
    source="Obando-Ceron & Castro 2021, their IQN and M-IQN, Configs/implicit_*.gin",
    families={"classic": {**_CLASSIC, **_IQN, **_M_IQN_CLASSIC}, "minatar": {**_MINATAR, **_IQN, **_M_IQN_MINATAR}},
    envs=_IQN_ENVS,
    components={"noisy": _NOISY},
    choices=_CHOICES,
)

PROTOCOLS: tuple[Protocol, ...] = (REVISITING_RAINBOW_QRDQN, REVISITING_RAINBOW_IQN)

"""nstep: n = 3 step returns bootstrapped with gamma^3; off, one-step returns with gamma."""

import numpy as np
import pytest
from component_parts import trainer

from dqnlab import components
from dqnlab.errors import ConfigError


def test_declared_as_the_returns():
    comp = components.REGISTRY["nstep"]
    assert comp.slot == "returns" and dict(comp.settings) == {"replay.n_step": 3}


@pytest.mark.parametrize("spec, n", [("dqn+nstep", 3), ("dqn", 1)])
def test_the_replay_accumulates_n_rewards_and_discounts_by_gamma_n(tmp_path, spec, n):
    t = trainer(tmp_path, spec, **{"agent.min_replay_steps": "500"})  # no updates: only collect
    t.run()
    gamma = t.cfg.agent.gamma
    batch = t.runs[0].replay.sample(64, beta=1.0)
    running = batch.discount > 0  # not cut by a termination within the n steps
    # CartPole pays 1 per step: an uncut n-step return is sum_k gamma^k over n steps.
    np.testing.assert_allclose(batch.discount[running], np.float32(gamma**n))
    np.testing.assert_allclose(batch.ret[running], sum(gamma**k for k in range(n)), rtol=1e-6)


def test_a_component_switched_by_a_value_other_than_its_own_is_still_on():
    from dqnlab.config import apply_settings
    from dqnlab.presets import resolve_config

    comp = components.REGISTRY["nstep"]
    dqn = resolve_config("CartPole-v1", "dqn")
    assert comp.is_on(apply_settings(dqn, {"replay.n_step": 5})) and not comp.is_on(dqn)
    # So `--set replay.n_step=5` is another n for nstep, and nstep behind dqn's back on dqn.
    assert resolve_config("CartPole-v1", "dqn+nstep", overrides={"replay.n_step": "5"}).replay.n_step == 5
    with pytest.raises(ConfigError, match="replay.n_step=5 switches nstep on"):
        resolve_config("CartPole-v1", "dqn", overrides={"replay.n_step": "5"})

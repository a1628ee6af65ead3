"""per: the prioritized sampler, importance-weighted losses and priority updates; off, the uniform
sampler, no weights and a plain mean."""

import numpy as np
import pytest
import torch
from component_parts import agent, trainer

from dqnlab import components
from dqnlab.batch import Batch


def test_declared_as_the_sampler():
    comp = components.REGISTRY["per"]
    assert comp.slot == "sampler" and dict(comp.settings) == {"replay.prioritized": True}


@pytest.mark.parametrize("spec, prioritized", [("dqn+per", True), ("dqn", False)])
def test_the_trainer_plugs_in_the_sampler_and_updates_priorities(tmp_path, spec, prioritized):
    t = trainer(tmp_path, spec)
    assert t.runs[0].replay.sampler.prioritized is prioritized
    t.run()
    batch = t.runs[0].replay.sample(8, beta=0.4)
    assert (batch.weights is not None) is prioritized
    if prioritized:  # every update wrote priorities: the tree holds more than the initial ones
        leaves = t.runs[0].replay.sampler.tree.get(np.flatnonzero(t.runs[0].replay.sampler.slots.valid))
        assert len(np.unique(leaves)) > 1


@pytest.mark.parametrize("spec, weights", [("dqn+per", [1.0, 0.5, 0.25, 1.0]), ("dqn", None)])
def test_the_update_loss_is_importance_weighted_and_off_a_plain_mean(spec, weights):
    a = agent(spec, **{"agent.max_grad_norm": "none"})
    rng = np.random.default_rng(0)
    obs = lambda: rng.standard_normal((4, 4)).astype(np.float32)  # noqa: E731
    w = None if weights is None else np.array(weights, np.float32)
    batch = Batch(np.arange(4), obs(), np.array([0, 1, 1, 0]), np.ones(4, np.float32),
                  np.full(4, 0.99, np.float32), obs(), w)
    with torch.no_grad():
        per_sample = a.loss_fn(a.online, a.target, a.to_tensors(batch), a.taus(len(batch.action))).per_sample
    expected = per_sample.mean() if w is None else (torch.from_numpy(w) * per_sample).mean()
    assert a.update(batch).loss == pytest.approx(expected.item(), rel=1e-6)

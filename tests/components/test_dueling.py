"""dueling: value and advantage streams, Q = V + A - mean_a A; off, one stream whose outputs are Q."""

import torch
from component_parts import agent

from dqnlab import components


def test_declared_as_a_head_switch():
    comp = components.REGISTRY["dueling"]
    assert comp.slot == "head" and dict(comp.settings) == {"network.dueling": True}
    assert comp.targets is None and not comp.incompatible


def test_q_is_value_plus_centred_advantage():
    net = agent("dqn+dueling").online
    x = torch.randn(6, 4)
    h = net.features(x)
    value, adv = net.value(h), net.advantage(h)
    assert torch.allclose(net(x).q_values, value + adv - adv.mean(1, keepdim=True), atol=1e-6)


def test_off_is_one_stream():
    net = agent("dqn").online
    assert not hasattr(net, "value")
    x = torch.randn(6, 4)
    assert torch.equal(net(x).q_values, net.advantage(net.features(x)))

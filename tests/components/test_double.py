"""double: the online network selects the bootstrap action, the target network evaluates it; off,
the target network does both (textbook DQN and C51)."""

import math

import torch
from component_parts import TableQ, bootstraps, table_batch

from dqnlab import components, heads
from dqnlab.presets import resolve_config

# Next states 2 and 3: the online and target networks prefer different actions in state 2.
ONLINE = TableQ([[0, 0], [0, 0], [1.0, 3.0], [4.0, 2.0]])
TARGET = TableQ([[0, 0], [0, 0], [5.0, 2.0], [1.0, 6.0]])
BATCH = table_batch([0, 1], [0, 1], [1.0, -1.0], [0.5, 0.0], [2, 3])


def test_declared_as_a_target_for_every_head():
    comp = components.REGISTRY["double"]
    assert comp.slot == "target" and dict(comp.settings) == {"agent.double": True}
    assert set(bootstraps("dqn+double")) == set(heads.HEADS)


def test_scalar_target_by_hand():
    # State 2: the online net picks action 1, which the target net values 2.0: y = 1 + 0.5 * 2.
    # State 3: discount 0, y = r.
    assert bootstraps("dqn+double")["scalar"](ONLINE, TARGET, BATCH, None).tolist() == [2.0, -1.0]


def test_off_is_the_textbook_max_of_the_target_network():
    assert components.target_hook(resolve_config("CartPole-v1", "dqn")) is None
    assert bootstraps("dqn")["scalar"](ONLINE, TARGET, BATCH, None).tolist() == [1.0 + 0.5 * 5.0, -1.0]


def test_double_c51_projects_the_distribution_of_the_online_networks_choice():
    support = [-1.0, 0.0, 1.0]
    p_a0, p_a1 = [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]  # target means 0.7 and -0.5: max picks action 0
    log = lambda p: [math.log(x) for x in p]  # noqa: E731
    flat = [log([1 / 3] * 3)] * 2
    target = TableQ([[0, 0]] * 2, logits=[flat, [log(p_a0), log(p_a1)]], support=support)
    online = TableQ([[0, 0]] * 2, logits=[flat, [log(p_a1), log(p_a0)]], support=support)  # picks action 1
    b = table_batch([0], [0], [0.0], [1.0], [1])  # r + 1 * z = z: the projection is the identity
    on = bootstraps("dqn+c51+double")["categorical"](online, target, b, None)
    off = bootstraps("dqn+c51")["categorical"](online, target, b, None)
    assert torch.allclose(on, torch.tensor([p_a1]), atol=1e-6)
    assert torch.allclose(off, torch.tensor([p_a0]), atol=1e-6)

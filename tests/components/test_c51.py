"""c51: a categorical head, the projected target and the cross-entropy loss (whose values are also
the PER priorities); off, a scalar head regressed on y with the preset's loss, priorities |TD|."""

import pytest
import torch
from component_parts import TableQ, agent, bootstraps, table_batch

from dqnlab import components
from dqnlab.errors import ConfigError
from dqnlab.presets import resolve_config


def test_declared_as_the_head_kind():
    comp = components.REGISTRY["c51"]
    assert comp.slot == "head" and comp.switch == "network.head"
    cfg = resolve_config("CartPole-v1", "dqn+c51")
    assert (cfg.network.head, cfg.categorical.num_atoms, cfg.agent.loss) == ("categorical", 51, "cross_entropy")


def test_categorical_network_outputs_a_distribution_on_the_support():
    net = agent("dqn+c51").online
    out = net(torch.randn(3, 4))
    assert out.dist.shape == (3, 2, 51)
    assert torch.equal(net.support, torch.linspace(-200.0, 200.0, 51))  # the classic preset's vmax


def test_projected_target_by_hand():
    # r + gamma z = 0.5 + 0.5 * [-1, 0, 1] = [0, 0.5, 1]: atom 0 keeps 0.2, 0.5 splits 0.5 evenly
    # between the atoms 0 and 1, atom 1 keeps 0.3 -> [0, 0.45, 0.55].
    support = [-1.0, 0.0, 1.0]
    logits = torch.tensor([0.2, 0.5, 0.3]).log().tolist()
    net = TableQ([[0.0]] * 2, logits=[[logits], [logits]], support=support)
    got = bootstraps("dqn+c51")["categorical"](net, net, table_batch([0], [0], [0.5], [0.5], [1]), None)
    assert torch.allclose(got, torch.tensor([[0.0, 0.45, 0.55]]), atol=1e-6)


def test_priorities_are_the_cross_entropy():
    a = agent("dqn+c51")
    b = table_batch([0, 1], [0, 1], [1.0, 0.0], [0.99, 0.0], [2, 3])
    b = b._replace(obs=torch.randn(2, 4), next_obs=torch.randn(2, 4))
    out = a.loss_fn(a.online, a.target, b, a.taus(2))
    assert torch.equal(out.priority, out.per_sample.detach())


def test_off_is_a_scalar_head_regressed_on_y():
    a = agent("dqn")
    assert not hasattr(a.online, "support") and a.online(torch.randn(3, 4)).dist is None
    b = table_batch([0, 1], [0, 1], [1.0, 0.0], [0.99, 0.0], [2, 3])
    b = b._replace(obs=torch.randn(2, 4), next_obs=torch.randn(2, 4))
    out = a.loss_fn(a.online, a.target, b, a.taus(2))
    with torch.no_grad():
        y = b.ret + b.discount * a.target(b.next_obs).q_values.max(1).values
    td = y - a.online(b.obs).q_values.gather(1, b.action[:, None]).squeeze(1)
    assert torch.allclose(out.per_sample, td**2) and torch.allclose(out.priority, td.abs())


@pytest.mark.parametrize("overrides, message", [
    ({"categorical.num_atoms": "1"}, "categorical.num_atoms must be >= 2"),
    ({"categorical.v_min": "5", "categorical.v_max": "5"}, "needs finite v_min < v_max"),
    ({"agent.loss": "huber"}, "does not fit a categorical head"),
])
def test_refused_when_its_settings_do_not_fit_together(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config("CartPole-v1", "dqn+c51", overrides=overrides)


def test_its_section_is_the_heads_and_a_scalar_head_ignores_it():
    """categorical.* belongs to the head: a scalar head neither reads nor validates it."""
    cfg = resolve_config("CartPole-v1", "dqn", overrides={"categorical.num_atoms": "1"})
    assert cfg.categorical.num_atoms == 1 and agent("dqn").online.width == 1

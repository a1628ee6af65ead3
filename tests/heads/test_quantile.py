"""The quantile head (QR-DQN): hand-computed quantile Huber loss and quantile target, the fixed
fractions, one quantile with kappa 0 against the scalar head's TD error, and the head as data."""

import pytest
import torch

from dqnlab import heads, losses, targets
from dqnlab.agent import Agent
from dqnlab.batch import TensorBatch
from dqnlab.errors import ConfigError
from dqnlab.heads.quantile import fractions
from dqnlab.presets import resolve_config

# theta = [0, 1] at tau = [0.25, 0.75]; target values T = [0.5, 2, -1]; u_ij = T_j - theta_i:
#   i = 0: u = [0.5, 2, -1],  weights |tau - 1{u<0}| = [.25, .25, .75]
#   i = 1: u = [-0.5, 1, -2], weights                 = [.25, .75, .25]
DIST, TAU, TARGET = torch.tensor([[0.0, 1.0]]), torch.tensor([0.25, 0.75]), torch.tensor([[0.5, 2.0, -1.0]])


@pytest.mark.parametrize("kappa, expected", [
    # kappa 1: Huber [0.125, 1.5, 0.5] and [0.125, 0.5, 1.5]: rho means 0.78125/3 twice.
    (1.0, 2 * 0.78125 / 3),
    # kappa 2: Huber/2 [0.0625, 1.0, 0.25] and [0.0625, 0.25, 1.0]: rho sums 0.453125 twice.
    (2.0, 2 * 0.453125 / 3),
    # kappa 0, the L1 quantile loss: rho [0.125, 0.5, 0.75] and [0.125, 0.75, 0.5].
    (0.0, 2 * 1.375 / 3),
])
def test_quantile_huber_by_hand(kappa, expected):
    assert losses.quantile_huber(DIST, TAU, TARGET, kappa).item() == pytest.approx(expected, rel=1e-6)


def test_qr_dqns_form_does_not_divide_by_kappa():
    """kappa 2, not divided: Huber [0.125, 2, 0.5] and [0.125, 0.5, 2] weighted: rho sums 0.90625
    twice; at kappa 1 and 0 both forms agree."""
    got = losses.quantile_huber(DIST, TAU, TARGET, 2.0, divide_by_kappa=False).item()
    assert got == pytest.approx(2 * 0.90625 / 3, rel=1e-6)
    for kappa in (1.0, 0.0):
        assert losses.quantile_huber(DIST, TAU, TARGET, kappa, divide_by_kappa=False).item() == pytest.approx(
            losses.quantile_huber(DIST, TAU, TARGET, kappa).item())


def test_quantile_huber_takes_a_fraction_per_transition_and_sums_over_online_quantiles():
    per_row = losses.quantile_huber(DIST.repeat(2, 1), TAU.expand(2, 2), TARGET.repeat(2, 1), 1.0)
    assert per_row.shape == (2,) and torch.allclose(per_row, losses.quantile_huber(DIST, TAU, TARGET, 1.0))
    # Only the online quantiles get a gradient; the loss is their sum, so each pulls its own way.
    theta = DIST.clone().requires_grad_()
    losses.quantile_huber(theta, TAU, TARGET, 0.0).backward()
    # i = 0: d/dtheta of mean_j w |T_j - theta| = -(.25 + .25 - .75) / 3; i = 1: -(-.25 + .75 - .25) / 3
    assert torch.allclose(theta.grad, torch.tensor([[0.25 / 3, -0.25 / 3]]))


def test_quantile_target_by_hand():
    r, d = torch.tensor([1.0, 1.0]), torch.tensor([0.5, 0.0])
    dist_t = torch.tensor([[[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]] * 2)
    # Row 0: a* = 1 (q 20 > 2): 1 + 0.5 [10, 20, 30]; row 1: discount 0, r only.
    got = targets.quantile_q_learning_target(r, d, dist_t, torch.tensor([[2.0, 20.0], [5.0, 1.0]]))
    assert got.tolist() == [[6.0, 11.0, 16.0], [1.0, 1.0, 1.0]]


def test_the_fractions_are_the_midpoints():
    assert fractions(4).tolist() == [0.125, 0.375, 0.625, 0.875]
    assert fractions(1).tolist() == [0.5]


def _batch(rows: int = 8, seed: int = 0) -> TensorBatch:
    g = torch.Generator().manual_seed(seed)
    return TensorBatch(torch.randn(rows, 4, generator=g), torch.randint(0, 2, (rows,), generator=g),
                       torch.randn(rows, generator=g), torch.full((rows,), 0.99), torch.randn(rows, 4, generator=g), None)


def test_one_quantile_with_kappa_zero_is_half_the_absolute_td_error():
    """N = 1 sits at tau = 1/2, so rho = |1/2 - 1{u<0}| |u| = |u| / 2: QR-DQN's loss is half the
    scalar head's |TD error| (its priority), on the same weights and batch, gradients included."""
    overrides = {"network.hidden_sizes": "16", "quantile.num_quantiles": "1", "quantile.kappa": "0"}
    qr = Agent(resolve_config("CartPole-v1", "dqn+qr", overrides=overrides), (4,), 2, torch.device("cpu"))
    scalar = Agent(resolve_config("CartPole-v1", "dqn", overrides={"network.hidden_sizes": "16"}), (4,), 2,
                   torch.device("cpu"))
    scalar.online.load_state_dict(qr.online.state_dict(), strict=False)
    scalar.target.load_state_dict(qr.target.state_dict(), strict=False)
    b = _batch()
    q_out, s_out = qr.loss_fn(qr.online, qr.target, b, qr.taus(8)), scalar.loss_fn(scalar.online, scalar.target, b, scalar.taus(8))
    torch.testing.assert_close(q_out.per_sample, 0.5 * s_out.priority)
    q_out.per_sample.sum().backward()
    td = (b.ret + b.discount * scalar.target(b.next_obs).q_values.max(1).values
          - scalar.online(b.obs).q_values.gather(1, b.action[:, None]).squeeze(1))
    (0.5 * td.abs()).sum().backward()
    for p_q, p_s in zip(qr.online.parameters(), scalar.online.parameters()):
        torch.testing.assert_close(p_q.grad, p_s.grad)


def test_the_network_outputs_quantiles_at_the_fractions_and_q_is_their_mean():
    a = Agent(resolve_config("CartPole-v1", "dqn+qr+dueling", overrides={"network.hidden_sizes": "16",
              "quantile.num_quantiles": "5"}), (4,), 3, torch.device("cpu"))
    out = a.online(torch.randn(7, 4))
    assert out.dist.shape == (7, 3, 5) and out.taus.tolist() == fractions(5).tolist()
    assert torch.allclose(out.q_values, out.dist.mean(-1))
    assert a.online.width == 5 and a.cfg.agent.loss == "quantile_huber"


def test_priorities_are_the_loss():
    a = Agent(resolve_config("CartPole-v1", "dqn+qr+per", overrides={"network.hidden_sizes": "16"}), (4,), 2,
              torch.device("cpu"))
    out = a.loss_fn(a.online, a.target, _batch(), a.taus(8))
    assert torch.equal(out.priority, out.per_sample.detach())


def test_the_head_validates_its_own_section():
    for key, value, message in [("quantile.num_quantiles", "0", "quantile.num_quantiles must be"),
                                ("quantile.kappa", "-1", "quantile.kappa must be")]:
        with pytest.raises(ConfigError, match=message):
            resolve_config("CartPole-v1", "dqn+qr", overrides={key: value})
    assert heads.HEADS["quantile"].losses.keys() == {"quantile_huber"}
    # Its ranges are the validation table's, whatever the head (dqnlab/validation.py).
    with pytest.raises(ConfigError, match="quantile.num_quantiles must be in"):
        resolve_config("CartPole-v1", "dqn", overrides={"quantile.num_quantiles": "0"})

"""The implicit quantile head (IQN): the cosine embedding by hand, shapes and fractions through the
network, fractions drawn per transition from the run's generator (and resumed), the target and the
loss at their sample sizes, and acting from K fractions drawn after the epsilon draws."""

import math

import numpy as np
import pytest
import torch

from dqnlab import heads
from dqnlab.agent import Agent
from dqnlab.batch import Batch, TensorBatch
from dqnlab.errors import ConfigError
from dqnlab.presets import resolve_config

SMALL = {"network.hidden_sizes": "8", "implicit_quantile.embedding_dim": "3",
         "implicit_quantile.num_tau_samples": "5", "implicit_quantile.num_tau_prime_samples": "6",
         "implicit_quantile.num_quantile_samples": "4"}


def _agent(spec: str = "dqn+iqn", **extra: str) -> Agent:
    return Agent(resolve_config("CartPole-v1", spec, overrides={**SMALL, **extra}), (4,), 2, torch.device("cpu"))


def test_the_cosine_embedding_by_hand():
    """phi(tau) = ReLU(W [cos(pi i tau)]_{i=1..d} + b), multiplied into the features."""
    emb = _agent().online.embedding
    with torch.no_grad():
        emb.linear.weight.copy_(torch.tensor([[1.0, 0.0, 0.0]] * 4 + [[0.0, 1.0, -1.0]] * 4))
        emb.linear.bias.zero_()
    h = torch.arange(1.0, 9.0)[None]  # one state's 8 features
    taus = torch.tensor([[0.0, 1.0 / 3.0]])
    got = emb(h, taus)
    # tau 0: cos(0) = 1 everywhere: [1]*4 and (1 - 1) = 0. tau 1/3: cos(pi/3) = 0.5, cos(2pi/3) = -0.5,
    # cos(pi) = -1: [0.5]*4 and ReLU(-0.5 + 1) = 0.5.
    phi = torch.tensor([[1.0] * 4 + [0.0] * 4, [0.5] * 4 + [0.5] * 4])
    assert got.shape == (1, 2, 8)
    torch.testing.assert_close(got[0], h * phi)
    assert emb.frequencies.tolist() == pytest.approx([math.pi, 2 * math.pi, 3 * math.pi])


def test_shapes_and_fractions_through_the_network():
    net = _agent("dqn+iqn+dueling").online
    obs, taus = torch.randn(7, 4), torch.rand(7, 5)
    out = net(obs, taus)
    assert out.dist.shape == (7, 2, 5) and out.q_values.shape == (7, 2) and out.taus is taus
    assert torch.allclose(out.q_values, out.dist.mean(-1))
    # The same fraction for every sample of a row gives the same quantile: the row's Q.
    same = net(obs, torch.full((7, 5), 0.3))
    assert torch.allclose(same.dist, same.q_values[..., None].expand(7, 2, 5))
    # Quantiles of one row do not depend on the other rows' fractions.
    other = taus.clone()
    other[1:] = torch.rand(6, 5)
    assert torch.equal(net(obs, other).dist[0], out.dist[0])
    with pytest.raises(AssertionError, match="fractions"):
        net(obs)


def _batch(rows: int = 8) -> TensorBatch:
    g = torch.Generator().manual_seed(0)
    return TensorBatch(torch.randn(rows, 4, generator=g), torch.randint(0, 2, (rows,), generator=g),
                       torch.randn(rows, generator=g), torch.full((rows,), 0.99), torch.randn(rows, 4, generator=g), None)


def test_an_update_draws_n_k_and_n_prime_fractions_per_transition():
    """Online quantiles at N fractions, a* from the mean over K, target quantiles at N': each
    [B, n], drawn from the run's generator in that order."""
    a = _agent()
    seen = []
    sampler = a.taus(8)
    out = a.loss_fn(a.online, a.target, _batch(), lambda n: seen.append(n) or sampler(n))
    assert seen == [5, 4, 6] and out.per_sample.shape == (8,)
    b = _agent()
    b.tau_generator.manual_seed(a.cfg.seed + 3)
    first = b.taus(8)(5)
    assert first.shape == (8, 5) and not torch.equal(first[0], first[1])  # per transition


def test_per_batch_fractions_are_one_draw_that_every_transition_shares():
    """fractions = per_batch (Dopamine's and RR's one key under vmap): each sample size's n
    fractions are the generator's next n numbers, one row the batch shares, and the network's
    quantiles at them are those of the same fractions given to every row."""
    a = _agent(**{"implicit_quantile.fractions": "per_batch"})
    g = torch.Generator().manual_seed(a.cfg.seed + 3)
    a.tau_generator.manual_seed(a.cfg.seed + 3)
    sampler = a.taus(8)
    for n in (5, 4, 6):
        got = sampler(n)
        assert torch.equal(got, torch.rand(1, n, generator=g))
    obs = torch.randn(8, 4)
    shared, each = a.online(obs, got), a.online(obs, got.expand(8, -1))
    assert shared.dist.shape == each.dist.shape == (8, 2, 6)
    torch.testing.assert_close(shared.dist, each.dist, rtol=1e-6, atol=1e-6)
    one, every = (_agent(**{"implicit_quantile.fractions": "per_batch"}) for _ in range(2))
    s1, s2 = one.taus(8), every.taus(8)
    got = one.loss_fn(one.online, one.target, _batch(), s1).per_sample
    want = every.loss_fn(every.online, every.target, _batch(), lambda n: s2(n).expand(8, -1)).per_sample
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    with pytest.raises(ConfigError, match="implicit_quantile.fractions must be one of per_transition, per_batch"):
        _agent(**{"implicit_quantile.fractions": "per_run"})


def test_the_loss_is_the_quantile_huber_of_the_taken_actions_quantiles():
    from dqnlab import losses, targets

    a = _agent(**{"implicit_quantile.kappa": "0.5"})
    draws = iter([torch.rand(8, n) for n in (5, 4, 6)])
    fixed = [next(draws) for _ in range(3)]
    out = a.loss_fn(a.online, a.target, _batch(), lambda n: {5: fixed[0], 4: fixed[1], 6: fixed[2]}[n])
    b = _batch()
    with torch.no_grad():
        sel = a.target(b.next_obs, fixed[1]).q_values
        y = targets.quantile_q_learning_target(b.ret, b.discount, a.target(b.next_obs, fixed[2]).dist, sel)
    dist = a.online(b.obs, fixed[0]).dist.gather(1, b.action[:, None, None].expand(8, 1, 5)).squeeze(1)
    torch.testing.assert_close(out.per_sample, losses.quantile_huber(dist, fixed[0], y, 0.5))
    torch.testing.assert_close(out.priority, out.per_sample.detach())


def test_acting_reads_q_from_k_fractions_drawn_after_the_epsilon_draws():
    a = _agent()
    obs = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    rng, replay = np.random.default_rng(5), np.random.default_rng(5)
    actions, q = a.act(obs, 0.0, rng)
    replay.random(3), replay.integers(0, 2, size=3)  # the epsilon draws
    taus = torch.as_tensor(replay.random((3, 4)), dtype=torch.float32)
    with torch.no_grad():
        want = a.online(torch.as_tensor(obs), taus).q_values
    assert actions.tolist() == want.argmax(1).tolist()
    np.testing.assert_allclose(q, want.numpy()[np.arange(3), actions], rtol=1e-6)
    assert rng.random() == replay.random()  # nothing else drawn
    # Every action random: no forward pass, no fraction drawn.
    r1, r2 = np.random.default_rng(6), np.random.default_rng(6)
    a.act(obs, 1.0, r1)
    r2.random(3), r2.integers(0, 2, size=3)
    assert r1.random() == r2.random()


def test_fractions_resume_exactly():
    a = _agent()
    b = _agent()
    a.update(Batch(np.arange(8), *(x.numpy() for x in _batch()[:5]), None))
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.taus(8)(3), b.taus(8)(3))


def test_the_head_as_data():
    head = heads.HEADS["implicit_quantile"]
    assert head.losses.keys() == {"quantile_huber"} and head.embedding is not None
    cfg = resolve_config("CartPole-v1", "dqn+iqn")
    c = cfg.implicit_quantile  # Dabney et al. 2018b's sizes by default
    assert (c.num_tau_samples, c.num_tau_prime_samples, c.num_quantile_samples, c.embedding_dim, c.kappa) == (64, 64, 32, 64, 1.0)
    with pytest.raises(ConfigError, match="implicit_quantile.num_quantile_samples must be"):
        resolve_config("CartPole-v1", "dqn+iqn", overrides={"implicit_quantile.num_quantile_samples": "0"})

"""The agent: all components off is textbook DQN; every one of the 64 subsets builds and updates."""

import numpy as np
import pytest
import torch

from dqnlab import components as C
from dqnlab.agent import Agent
from dqnlab.presets import resolve_config
from dqnlab.replay import Batch, ReplayBuffer


def _batch(rng, n=8, obs_dim=4, weights=False):
    return Batch(
        indices=np.arange(n),
        obs=rng.standard_normal((n, obs_dim)).astype(np.float32),
        action=rng.integers(0, 2, n),
        ret=rng.standard_normal(n).astype(np.float32),
        discount=np.where(rng.random(n) < 0.3, 0.0, 0.99).astype(np.float32),
        next_obs=rng.standard_normal((n, obs_dim)).astype(np.float32),
        weights=rng.random(n).astype(np.float32) if weights else None,
    )


def test_all_components_off_is_textbook_dqn():
    cfg = resolve_config("CartPole-v1", "dqn", overrides={"network.hidden_sizes": "16", "agent.max_grad_norm": "none"})
    agent = Agent(cfg, (4,), 2, torch.device("cpu"))
    rng = np.random.default_rng(0)
    b = _batch(rng)
    tb = agent.to_tensors(b)
    # Textbook: y = r + gamma*(1-done) max_a Q_target(s', a); loss = mean (y - Q(s,a))^2 (MSE, as RR).
    with torch.no_grad():
        y = tb.ret + tb.discount * agent.target(tb.next_obs).q_values.max(1).values
    q_sa = agent.online(tb.obs).q_values.gather(1, tb.action[:, None]).squeeze(1)
    expected_loss = ((y - q_sa) ** 2).mean()
    expected_loss.backward()
    expected_grads = [p.grad.clone() for p in agent.online.parameters()]
    agent.online.zero_grad()
    before = [p.detach().clone() for p in agent.online.parameters()]
    info = agent.update(b)
    assert info.loss == pytest.approx(expected_loss.item(), rel=1e-5)
    assert np.allclose(info.priorities, (y - q_sa).abs().detach().numpy(), rtol=1e-5)
    # One Adam step from zero moments moves each weight by -lr * g / (|g| + eps') ~ sign(g): check direction.
    for p0, p1, g in zip(before, agent.online.parameters(), expected_grads):
        moved = (p1.detach() - p0)
        assert torch.all((moved * g) <= 1e-12)


def test_double_uses_online_selection():
    cfg = resolve_config("CartPole-v1", "dqn+double", overrides={"network.hidden_sizes": "16"})
    agent = Agent(cfg, (4,), 2, torch.device("cpu"))
    b = agent.to_tensors(_batch(np.random.default_rng(1)))
    out = agent.loss_fn(agent.online, agent.target, b, agent.taus(len(b.action)))
    with torch.no_grad():
        a_star = agent.online(b.next_obs).q_values.argmax(1, keepdim=True)
        y = b.ret + b.discount * agent.target(b.next_obs).q_values.gather(1, a_star).squeeze(1)
    q_sa = agent.online(b.obs).q_values.gather(1, b.action[:, None]).squeeze(1)
    assert torch.allclose(out.priority, (y - q_sa).abs().detach(), atol=1e-6)


@pytest.mark.parametrize("subset", C.all_subsets(), ids=lambda s: C.variant_name(s))
def test_every_subset_builds_and_updates(subset):
    spec = C.variant_name(subset)
    cfg = resolve_config("CartPole-v1", spec, overrides={"network.hidden_sizes": "32,32", "agent.batch_size": "16"})
    agent = Agent(cfg, (4,), 2, torch.device("cpu"))
    replay = ReplayBuffer(
        256, (4,), np.float32, n_step=cfg.replay.n_step, gamma=cfg.agent.gamma,
        prioritized=cfg.replay.prioritized, alpha=cfg.replay.priority_exponent, seed=0,
    )
    rng = np.random.default_rng(0)
    replay.start_episode(0, rng.standard_normal(4).astype(np.float32))
    for t in range(64):
        replay.add(0, int(rng.integers(2)), 1.0, rng.standard_normal(4).astype(np.float32), t % 20 == 19, False)
        if t % 20 == 19:
            replay.start_episode(0, rng.standard_normal(4).astype(np.float32))
    before = [p.detach().clone() for p in agent.online.parameters()]
    batch = replay.sample(16, beta=0.4)
    assert (batch.weights is not None) == cfg.replay.prioritized
    info = agent.update(batch)
    replay.update_priorities(batch.indices, info.priorities)
    assert np.isfinite(info.loss) and info.priorities.shape == (16,)
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.online.parameters()))
    actions, q = agent.act(np.zeros((3, 4), np.float32), 0.0, rng)
    assert actions.shape == (3,) and q.shape == (3,)
    agent.update_target()
    assert all(torch.equal(a, b) for a, b in zip(agent.online.state_dict().values(), agent.target.state_dict().values()))


def test_noisy_agent_is_deterministic_in_evaluation():
    cfg = resolve_config("CartPole-v1", "dqn+noisy", overrides={"network.hidden_sizes": "16"})
    agent = Agent(cfg, (4,), 2, torch.device("cpu"))
    obs = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    q1 = agent.q_values(obs, evaluation=True)
    agent.online.reset_noise(agent.noise_generator)
    q2 = agent.q_values(obs, evaluation=True)
    assert torch.equal(q1, q2)
    assert not torch.equal(agent.q_values(obs, evaluation=False), q1)


def test_polyak_target_update():
    cfg = resolve_config("CartPole-v1", "dqn", overrides={"network.hidden_sizes": "8", "agent.target_update_tau": "0.25"})
    agent = Agent(cfg, (4,), 2, torch.device("cpu"))
    with torch.no_grad():
        for p in agent.online.parameters():
            p.add_(1.0)
    old = [p.clone() for p in agent.target.parameters()]
    agent.update_target()
    for t, o, online in zip(agent.target.parameters(), old, agent.online.parameters()):
        assert torch.allclose(t, o + 0.25 * (online - o))


@pytest.mark.parametrize("variant", ["dqn", "dqn+noisy", "dqn+iqn"])
def test_acting_draws_the_epsilon_draws_then_the_heads(variant: str) -> None:
    """One definition of a run's exploration draws (agent.epsilon_draws), then what the head draws
    (an implicit quantile head's fractions, after them); a run alone acts through its Agent."""
    from dqnlab.agent import epsilon_draws
    from dqnlab.learner import AloneLearner

    cfg = resolve_config("CartPole-v1", variant, overrides={"network.hidden_sizes": "16"})
    a1, a2 = (Agent(cfg, (4,), 3, torch.device("cpu")) for _ in range(2))
    r1, r2, r3 = (np.random.default_rng(9) for _ in range(3))
    obs = np.random.default_rng(1).standard_normal((200, 4)).astype(np.float32)
    k = cfg.implicit_quantile.num_quantile_samples
    for t, o in enumerate(obs):
        eps = (0.0, 0.3, 1.0)[t % 3]
        (alone,) = AloneLearner([a1]).act([o[None]], eps, [r1])
        assert alone.tolist() == a2.act(o[None], eps, r2)[0].tolist()
        explore, _ = epsilon_draws(r3, 1, eps, 3)
        if variant == "dqn+iqn" and not explore.all():
            r3.random((1, k))
    assert r1.random() == r2.random() == r3.random()
    assert torch.equal(a1.noise_generator.get_state(), a2.noise_generator.get_state())

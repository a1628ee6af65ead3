"""Replay: sum tree, n-step accumulator, frame-deduplicated storage, uniform and PER samplers."""

import numpy as np
import pytest
from scipy import stats

from dqnlab.replay import NStepAccumulator, ReplayBuffer, SumTree
from dqnlab.replay.samplers import PrioritizedSampler, UniformSampler

# -- sum tree ---------------------------------------------------------------------------------------


def test_sum_tree_find_by_hand():
    tree = SumTree(5)
    tree.set(np.arange(5), np.array([1.0, 0.0, 2.0, 3.0, 4.0]))
    assert tree.total == pytest.approx(10.0)
    # prefix sums: [0,1) -> 0, [1,3) -> 2, [3,6) -> 3, [6,10) -> 4 ; leaf 1 has no mass
    found = tree.find(np.array([0.0, 0.99, 1.0, 2.99, 3.0, 5.5, 6.0, 9.99, 10.0]))
    assert found.tolist() == [0, 0, 2, 2, 3, 3, 4, 4, 4]


def test_sum_tree_batched_updates_with_duplicates_and_no_drift():
    rng = np.random.default_rng(0)
    tree = SumTree(1000)
    values = np.zeros(1000)
    for _ in range(200):
        idx = rng.integers(0, 1000, size=64)
        v = rng.random(64)
        tree.set(idx, v)
        values[idx] = v  # numpy: last write wins, as in the tree
    assert tree.total == pytest.approx(values.sum(), rel=1e-12)
    assert np.allclose(tree.get(np.arange(1000)), values)


def test_sum_tree_never_returns_zero_leaf():
    tree = SumTree(8)
    tree.set(np.array([2, 5]), np.array([1.0, 1.0]))
    found = tree.find(np.linspace(0, tree.total * 1.0000001, 101))
    assert set(found.tolist()) <= {2, 5}


# -- n-step accumulator -----------------------------------------------------------------------------

G = 0.9


def test_n1_accumulator_equals_plain_transitions():
    acc = NStepAccumulator(1, G)
    rewards = [1.0, 2.0, 3.0]
    out = [acc.add(i, r, terminal=(i == 2), truncated=False) for i, r in enumerate(rewards)]
    assert [e for o in out for e in o] == [(0, 1.0, G, 1), (1, 2.0, G, 1), (2, 3.0, 0.0, 1)]


def test_nstep_middle_of_episode():
    acc = NStepAccumulator(3, G)
    assert acc.add(0, 1.0, False, False) == []
    assert acc.add(1, 2.0, False, False) == []
    (e,) = acc.add(2, 3.0, False, False)
    assert e.slot == 0 and e.steps == 3
    assert e.ret == pytest.approx(1 + G * 2 + G * G * 3)
    assert e.discount == pytest.approx(G**3)


def test_nstep_termination_flushes_without_bootstrap():
    acc = NStepAccumulator(3, G)
    acc.add(0, 1.0, False, False)
    out = acc.add(1, 2.0, True, False)
    assert [(e.slot, e.steps, e.discount) for e in out] == [(0, 2, 0.0), (1, 1, 0.0)]
    assert out[0].ret == pytest.approx(1 + G * 2) and out[1].ret == pytest.approx(2.0)
    assert not acc.pending


def test_nstep_truncation_bootstraps_with_gamma_k():
    acc = NStepAccumulator(3, G)
    for i in range(3):
        acc.add(i, 1.0, False, False)  # emits slot 0
    out = acc.add(3, 1.0, False, True)
    assert [(e.slot, e.steps) for e in out] == [(1, 3), (2, 2), (3, 1)]
    assert [e.discount for e in out] == pytest.approx([G**3, G**2, G])
    assert [e.ret for e in out] == pytest.approx([1 + G + G * G, 1 + G, 1.0])


# -- storage ------------------------------------------------------------------------------------------


def _stacked_episode(rng, length, stack=4, shape=(3, 3)):
    frames = rng.integers(0, 255, size=(length + stack, *shape), dtype=np.uint8)
    obs = [frames[t : t + stack] for t in range(length + 1)]
    return obs


def test_stacked_storage_reconstructs_every_observation_and_stores_one_frame_each():
    rng = np.random.default_rng(1)
    buf = ReplayBuffer(200, (4, 3, 3), np.uint8, stack=4, n_step=1, gamma=G, seed=0)
    assert buf.frames.shape == (200, 3, 3)
    transitions = {}
    for ep in range(3):
        obs = _stacked_episode(rng, 10 + ep)
        buf.start_episode(0, obs[0])
        for t in range(len(obs) - 1):
            slot = int(buf.current[0])
            last = t == len(obs) - 2
            buf.add(0, t % 3, float(t), obs[t + 1], terminal=last and ep != 1, truncated=last and ep == 1)
            transitions[slot] = (obs[t], t % 3, float(t), obs[t + 1], last and ep != 1)
    assert len(buf) == sum(10 + ep for ep in range(3))
    idx = np.array(sorted(transitions))
    batch = buf.batch_at(idx)
    for j, slot in enumerate(idx):
        o, a, r, o2, term = transitions[slot]
        assert np.array_equal(batch.obs[j], o)
        assert buf.action[slot] == a and buf.ret[slot] == r
        assert buf.discount[slot] == (0.0 if term else pytest.approx(G))
        assert np.array_equal(batch.next_obs[j], o2)


def test_ring_overwrite_invalidates_transitions_with_stale_history():
    rng = np.random.default_rng(2)
    buf = ReplayBuffer(16, (2, 1), np.uint8, stack=2, n_step=1, gamma=G, seed=0)
    obs = _stacked_episode(rng, 40, stack=2, shape=(1,))
    buf.start_episode(0, obs[0])
    truth = {}
    for t in range(40):
        slot = int(buf.current[0])
        buf.add(0, 0, float(t), obs[t + 1], terminal=False, truncated=False)
        truth[slot] = (obs[t], obs[t + 1])
    for _ in range(20):
        b = buf.sample(8)
        for j, slot in enumerate(b.indices):
            assert np.array_equal(b.obs[j], truth[slot][0])
            assert np.array_equal(b.next_obs[j], truth[slot][1])


def test_vector_observations_and_streams():
    buf = ReplayBuffer(100, (4,), np.float32, stack=1, n_step=3, gamma=G, num_streams=2, seed=0)
    for s in range(2):
        buf.start_episode(s, np.full(4, 100.0 * s, np.float32))
    for t in range(1, 6):
        for s in range(2):
            buf.add(s, s, 1.0, np.full(4, 100.0 * s + t, np.float32), terminal=False, truncated=False)
    b = buf.sample(32)
    # obs value v -> next obs after 3 steps is v + 3, in the same stream
    assert np.allclose(b.next_obs, b.obs + 3)
    assert np.allclose(b.ret, 1 + G + G * G) and np.allclose(b.discount, G**3)
    assert np.all(b.action == (b.obs[:, 0] >= 100))


def test_replay_state_dict_round_trip():
    rng = np.random.default_rng(3)
    bufs = [ReplayBuffer(64, (2, 2, 2), np.uint8, stack=2, n_step=3, prioritized=True, seed=5) for _ in range(2)]
    obs = _stacked_episode(rng, 30, stack=2, shape=(2, 2))
    bufs[0].start_episode(0, obs[0])
    for t in range(20):
        bufs[0].add(0, 1, 0.5, obs[t + 1], False, False)
    bufs[1].load_state_dict(bufs[0].state_dict())
    for t in range(20, 30):
        for b in bufs:
            b.add(0, 1, 0.5, obs[t + 1], False, False)
    x, y = bufs[0].sample(16), bufs[1].sample(16)
    assert np.array_equal(x.indices, y.indices) and np.array_equal(x.obs, y.obs)
    assert np.allclose(x.weights, y.weights)


# -- samplers ------------------------------------------------------------------------------------------


def _draw(sampler, n_batches, batch, seed=0, beta=1.0):
    rng = np.random.default_rng(seed)
    return np.concatenate([sampler.sample(batch, rng, beta)[0] for _ in range(n_batches)])


def test_per_frequencies_match_p_alpha_chi_square():
    alpha = 0.7
    s = PrioritizedSampler(20, alpha=alpha, eps=1e-6)
    s.add(np.arange(20))
    p = np.linspace(0.1, 3.0, 20)
    s.update(np.arange(20), p)
    counts = np.bincount(_draw(s, 400, 32), minlength=20)
    expected_prob = (p + 1e-6) ** alpha / ((p + 1e-6) ** alpha).sum()
    _, pvalue = stats.chisquare(counts, expected_prob * counts.sum())
    assert pvalue > 0.001


def test_per_alpha_zero_samples_like_uniform():
    s = PrioritizedSampler(30, alpha=0.0, eps=1e-6)
    s.add(np.arange(30))
    s.update(np.arange(30), np.random.default_rng(0).random(30) * 10)
    counts = np.bincount(_draw(s, 300, 32), minlength=30)
    _, pvalue = stats.chisquare(counts)
    assert pvalue > 0.001
    u = UniformSampler(30)
    u.add(np.arange(30))
    counts_u = np.bincount(_draw(u, 300, 32), minlength=30)
    _, pvalue_u = stats.chisquare(counts_u)
    assert pvalue_u > 0.001
    # Same distribution: a two-sample chi-square test on the two histograms.
    _, p2, _, _ = stats.chi2_contingency(np.stack([counts, counts_u]))
    assert p2 > 0.001


def test_importance_weights_match_formula():
    alpha, beta = 0.5, 0.4
    s = PrioritizedSampler(10, alpha=alpha, eps=1e-6)
    s.add(np.arange(10))
    p = np.arange(1, 11, dtype=float)
    s.update(np.arange(10), p)
    idx, w = s.sample(64, np.random.default_rng(0), beta)
    probs = (p + 1e-6) ** alpha / ((p + 1e-6) ** alpha).sum()
    raw = (10 * probs[idx]) ** (-beta)
    assert np.allclose(w, raw / raw.max(), rtol=1e-5)
    assert w.max() == pytest.approx(1.0)


def test_new_transitions_enter_at_max_priority_and_removed_get_zero():
    s = PrioritizedSampler(8, alpha=1.0, eps=0.0)
    s.add(np.arange(4))
    s.update(np.arange(4), np.array([1.0, 5.0, 2.0, 0.5]))
    s.add(np.array([4]))
    assert s.tree.get(np.array([4]))[0] == pytest.approx(5.0)
    s.remove_one(1)
    assert s.tree.get(np.array([1]))[0] == 0.0 and s.count == 4
    s.update(np.array([1]), np.array([100.0]))  # stale update of a removed slot is ignored
    assert s.tree.get(np.array([1]))[0] == 0.0


@pytest.mark.parametrize("sampler", [UniformSampler(8), PrioritizedSampler(8, 0.5, 1e-6)])
def test_both_samplers_count_valid_slots_alike(sampler):
    """The valid-slot bookkeeping both samplers share: repeats and removals of invalid slots are no-ops."""
    sampler.add(np.array([1, 2, 2, 5]))
    sampler.add_one(5)
    sampler.add_one(6)
    sampler.remove_one(2)
    sampler.remove_one(3)
    assert sampler.count == 3 and np.flatnonzero(sampler.slots.valid).tolist() == [1, 5, 6]
    state = sampler.state_dict()
    sampler.remove_one(1)
    sampler.load_state_dict(state)
    assert sampler.count == 3 and sampler.slots.valid[1]
    idx, _ = sampler.sample(64, np.random.default_rng(0), 1.0)
    assert set(idx.tolist()) <= {1, 5, 6}

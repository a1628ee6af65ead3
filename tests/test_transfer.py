"""Batches to the device: the staged path (one packed buffer, one copy; pinned on CUDA) gives the
same tensors as the direct one. The staged path runs on the CPU too, so it is tested here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dqnlab.agent import Agent
from dqnlab.presets import resolve_config
from dqnlab.replay import ReplayBuffer
from dqnlab.transfer import BatchTransfer


def filled(prioritized: bool, stack: int = 1) -> ReplayBuffer:
    shape = (stack, 3, 3) if stack > 1 else (5,)
    dtype = np.uint8 if stack > 1 else np.float32
    rb = ReplayBuffer(500, shape, dtype, stack=stack, n_step=3, prioritized=prioritized, seed=1)
    rng = np.random.default_rng(0)

    def obs() -> np.ndarray:
        return (rng.integers(0, 255, shape) if stack > 1 else rng.standard_normal(shape)).astype(dtype)

    rb.start_episode(0, obs())
    for t in range(400):
        rb.add(0, t % 4, float(t % 7), obs(), t % 50 == 49, False)
        if t % 50 == 49:
            rb.start_episode(0, obs())
    return rb


def assert_same(a, b) -> None:
    for f in a._fields:
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is None and y is None, f
        else:
            assert x.dtype == y.dtype and x.shape == y.shape and torch.equal(x.cpu(), y.cpu()), f


@pytest.mark.parametrize("prioritized,stack", [(False, 1), (True, 1), (True, 4)])
def test_staged_batches_equal_direct_ones(prioritized: bool, stack: int) -> None:
    direct, staged = BatchTransfer(torch.device("cpu")), BatchTransfer(torch.device("cpu"), staged=True)
    assert direct.host_batch(32, (5,), np.float32) is None
    rb1, rb2 = filled(prioritized, stack), filled(prioritized, stack)
    for _ in range(3):
        b1 = rb1.sample(32, 0.5)
        # Gathered straight into the staging buffer, as the training loop does.
        b2 = rb2.sample(32, 0.5, staged.host_batch(32, rb2.obs_shape, rb2.frames.dtype))
        assert np.shares_memory(b2.obs, staged.host_batch(32, rb2.obs_shape, rb2.frames.dtype).obs)
        assert_same(direct.to_device(b1), staged.to_device(b2))
        # A batch gathered elsewhere is copied into the staging buffer first.
        assert_same(direct.to_device(b1), staged.to_device(b1))


def test_staging_follows_a_new_batch_layout() -> None:
    t = BatchTransfer(torch.device("cpu"), staged=True)
    a = t.host_batch(8, (4,), np.float32)
    assert a.obs.shape == (8, 4) and a.action.dtype == np.int64
    assert t.host_batch(8, (4,), np.float32) is a
    b = t.host_batch(16, (2, 3, 3), np.uint8)
    assert b.obs.shape == (16, 18) and b.obs.dtype == np.uint8


def test_agent_update_is_the_same_through_the_staged_path() -> None:
    cfg = resolve_config("CartPole-v1", "rainbow", overrides={"network.hidden_sizes": "16", "network.input_low": "()", "network.input_high": "()"})
    agents = [Agent(cfg, (5,), 4, torch.device("cpu")) for _ in range(2)]
    agents[1].transfer = BatchTransfer(torch.device("cpu"), staged=True)
    rbs = [filled(True), filled(True)]
    for _ in range(5):
        infos = []
        for agent, rb in zip(agents, rbs):
            batch = rb.sample(16, 0.4, agent.transfer.host_batch(16, rb.obs_shape, rb.frames.dtype))
            infos.append(agent.update(batch))
            rb.update_priorities(batch.indices, infos[-1].priorities)
        assert infos[0].loss == infos[1].loss
        np.testing.assert_array_equal(infos[0].priorities, infos[1].priorities)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_staging_is_pinned_and_correct() -> None:
    dev = torch.device("cuda")
    t = BatchTransfer(dev)
    assert t.staged
    rb = filled(True, stack=4)
    host = t.host_batch(32, rb.obs_shape, rb.frames.dtype)
    assert t._host_bytes.is_pinned()
    batch = rb.sample(32, 0.5, host)
    got = t.to_device(batch)
    assert got.obs.device.type == "cuda"
    assert_same(BatchTransfer(torch.device("cpu")).to_device(rb.batch_at(batch.indices, batch.weights)), got)

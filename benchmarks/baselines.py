"""BASELINES: the naive designs of the lesson (../shared/reference/000_0494da1b28085690.txt).

Nothing in this file is used by dqnlab. These are the reference points the benchmarks divide by:

* `NaiveReplayBuffer`: a `deque(maxlen=capacity)` of (s, a, r, s', done) tuples, sampled with
  `random.sample` and stacked with `np.array` into torch tensors (the lesson's `ReplayBuffer`).
* `NaiveSumTree` + `NaivePrioritizedReplay`: a recursive Python sum tree, sampled and updated one
  transition at a time (the lesson's `SumTree` / `PrioritizedReplayBuffer`), copied as faithfully
  as possible; the only additions are type hints and `fill_uniform`, a vectorized set-up helper so a
  2^20-leaf tree can be filled in seconds (the timed operations are the lesson's own).
* `bare_train_loop`: a hand-written per-step Python training loop (the lesson's `train_dqn` shape)
  around the SAME `dqnlab.networks.QNetwork`, optimizer, loss function and settings as the real
  `dqnlab train` run, with the leanest storage we could write by hand. It is the "no harness"
  reference for the harness-overhead benchmark, not a naive baseline to beat by a factor.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

# --------------------------------------------------------------------------------------------
# BASELINE 1: deque replay (lesson: "DQN Solution 1: Experience Replay")
# --------------------------------------------------------------------------------------------


class NaiveReplayBuffer:
    """BASELINE. Uniform replay as in the lesson: deque of tuples, random.sample, np.array."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.buffer: deque[tuple[Any, ...]] = deque(maxlen=capacity)

    def push(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray, done: bool) -> None:
        self.buffer.append((state, action, reward, next_state, done))

    def sample(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        batch = random.sample(self.buffer, batch_size)
        states, actions, rewards, next_states, dones = zip(*batch)
        return (
            torch.FloatTensor(np.array(states)),
            torch.LongTensor(actions),
            torch.FloatTensor(rewards),
            torch.FloatTensor(np.array(next_states)),
            torch.FloatTensor(dones),
        )

    def __len__(self) -> int:
        return len(self.buffer)


# --------------------------------------------------------------------------------------------
# BASELINE 2: recursive sum tree + prioritized replay (lesson: "Prioritized Experience Replay")
# --------------------------------------------------------------------------------------------


class NaiveSumTree:
    """BASELINE. The lesson's binary sum tree: recursive propagate/retrieve, one leaf at a time."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tree = np.zeros(2 * capacity)  # Full binary tree in array form
        self.data: list[Any] = [None] * capacity
        self.write = 0  # Next position to write
        self.n_entries = 0

    def _propagate(self, idx: int, change: float) -> None:
        parent = idx // 2
        self.tree[parent] += change
        if parent != 1:
            self._propagate(parent, change)

    def _retrieve(self, idx: int, s: float) -> int:
        left = 2 * idx
        right = left + 1
        if left >= len(self.tree):
            return idx
        if s <= self.tree[left]:
            return self._retrieve(left, s)
        else:
            return self._retrieve(right, s - self.tree[left])

    def total(self) -> float:
        return self.tree[1]

    def add(self, priority: float, data: Any) -> None:
        idx = self.write + self.capacity
        self.data[self.write] = data
        self.update(idx, priority)
        self.write = (self.write + 1) % self.capacity
        self.n_entries = min(self.n_entries + 1, self.capacity)

    def update(self, idx: int, priority: float) -> None:
        change = priority - self.tree[idx]
        self.tree[idx] = priority
        self._propagate(idx, change)

    def get(self, s: float) -> tuple[int, float, Any]:
        idx = self._retrieve(1, s)
        data_idx = idx - self.capacity
        return idx, self.tree[idx], self.data[data_idx]

    # -- set-up helper, NOT part of the lesson and never timed -----------------------------------

    def fill_uniform(self, items: list[Any], priority: float, rng: np.random.Generator) -> None:
        """Fill every leaf (data cycled from `items`, priorities `priority * U(0.5, 1.5)`) and
        compute the internal sums bottom-up in one vectorized pass. Equivalent to `capacity`
        calls of `add`, which would take minutes at 2^20 leaves."""
        if self.capacity & (self.capacity - 1):
            raise ValueError("fill_uniform needs a power-of-two capacity")
        self.data = [items[i % len(items)] for i in range(self.capacity)]
        self.tree[self.capacity :] = priority * rng.uniform(0.5, 1.5, self.capacity)
        lo = self.capacity
        while lo > 1:
            hi, lo = lo, lo // 2
            self.tree[lo:hi] = self.tree[2 * lo : 2 * hi : 2] + self.tree[2 * lo + 1 : 2 * hi : 2]
        self.write, self.n_entries = 0, self.capacity


class NaivePrioritizedReplay:
    """BASELINE. The lesson's PrioritizedReplayBuffer (stratified sampling, one leaf at a time)."""

    def __init__(
        self,
        capacity: int = 100_000,
        alpha: float = 0.6,
        beta_start: float = 0.4,
        beta_end: float = 1.0,
        beta_steps: int = 100_000,
        epsilon: float = 1e-5,
    ) -> None:
        self.tree = NaiveSumTree(capacity)
        self.capacity = capacity
        self.alpha = alpha
        self.beta = beta_start
        self.beta_end = beta_end
        self.beta_increment = (beta_end - beta_start) / beta_steps
        self.epsilon = epsilon
        self.max_priority = 1.0

    def push(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray, done: bool) -> None:
        self.tree.add(self.max_priority, (state, action, reward, next_state, done))

    def sample(self, batch_size: int) -> tuple[Any, ...]:
        batch = []
        indices = []
        priorities = []
        segment = self.tree.total() / batch_size

        self.beta = min(self.beta_end, self.beta + self.beta_increment)

        for i in range(batch_size):
            s = random.uniform(segment * i, segment * (i + 1))
            idx, priority, data = self.tree.get(s)
            batch.append(data)
            indices.append(idx)
            priorities.append(priority)

        total = self.tree.total()
        probs = np.array(priorities) / total
        weights = (len(self.tree.data) * probs) ** (-self.beta)
        weights /= weights.max()

        states, actions, rewards, next_states, dones = zip(*batch)
        return (
            torch.FloatTensor(np.array(states)),
            torch.LongTensor(actions),
            torch.FloatTensor(rewards),
            torch.FloatTensor(np.array(next_states)),
            torch.FloatTensor(dones),
            indices,
            torch.FloatTensor(weights),
        )

    def update_priorities(self, indices: list[int], td_errors: np.ndarray) -> None:
        for idx, error in zip(indices, td_errors):
            priority = (abs(error) + self.epsilon) ** self.alpha
            self.max_priority = max(self.max_priority, priority)
            self.tree.update(idx, priority)


# --------------------------------------------------------------------------------------------
# REFERENCE LOOP: a bare hand-written per-step training loop of the same network and settings
# --------------------------------------------------------------------------------------------


@dataclass
class LoopResult:
    steps: int
    learning_steps: int
    learning_seconds: float  # wall time of the steps after the warm-up (what SPS is computed on)
    total_seconds: float
    updates: int

    @property
    def sps(self) -> float:
        return self.learning_steps / self.learning_seconds


def _make_raw_env(env_id: str, sticky: float, seed: int) -> tuple[Any, Any]:
    """The env itself with no dqnlab wrapper, and a function mapping its observation to the one the
    network takes (classic: float32 vector; MinAtar: uint8 channels-first)."""
    import gymnasium as gym

    if env_id.startswith("MinAtar/"):
        if env_id not in gym.registry:
            import minatar.gym

            minatar.gym.register_envs()
        env = gym.make(env_id, sticky_action_prob=sticky)
        return env, lambda o: np.ascontiguousarray(np.moveaxis(o, -1, 0), dtype=np.uint8)
    env = gym.make(env_id)
    return env, lambda o: np.asarray(o, dtype=np.float32)


def bare_train_loop(cfg: Any, device: torch.device, steps: int) -> LoopResult:
    """A per-step loop written by hand for one config (`dqnlab.config.Config`): the same QNetwork,
    Adam, loss function (incl. double / c51 / noisy / PER weights), batch, update period, target
    period, warm-up and epsilon schedule as `dqnlab train`, and nothing else: no logging, no
    checkpoints, no evaluation, no progress line. Storage is a preallocated numpy ring of
    (obs, action, n-step return, discount, next_obs); PER is a flat priority array sampled by
    cumsum + searchsorted (stratified), which is as lean as hand-written PER gets at 50k-100k slots.
    """
    import copy

    from dqnlab.agent import TensorBatch, make_loss_fn
    from dqnlab.networks import QNetwork

    a, r = cfg.agent, cfg.replay
    env, to_obs = _make_raw_env(cfg.env.id, cfg.env.sticky_action_prob, cfg.seed)
    obs = to_obs(env.reset(seed=cfg.seed)[0])
    num_actions = int(env.action_space.n)
    torch.manual_seed(cfg.seed)
    online = QNetwork(cfg, obs.shape, num_actions).to(device)
    target = copy.deepcopy(online)
    for p in target.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(online.parameters(), lr=a.learning_rate, eps=a.adam_eps, fused=True)
    loss_fn = make_loss_fn(cfg)
    gen = torch.Generator(device=device)
    gen.manual_seed(cfg.seed + 1)
    noisy = cfg.network.noisy

    cap = r.capacity
    s_buf = np.zeros((cap, *obs.shape), obs.dtype)
    n_buf = np.zeros((cap, *obs.shape), obs.dtype)
    act_buf = np.zeros(cap, np.int64)
    ret_buf = np.zeros(cap, np.float32)
    disc_buf = np.zeros(cap, np.float32)
    prio = np.zeros(cap, np.float64)
    max_p, write, size = 1.0, 0, 0
    pending: deque[tuple[np.ndarray, int, float]] = deque()  # n-step window
    gamma, n = a.gamma, r.n_step
    rng = np.random.default_rng(cfg.seed)

    def store(next_obs: np.ndarray, k: int, terminal: bool) -> None:
        nonlocal write, size
        s0, a0, _ = pending[0]
        ret = sum(gamma**j * pending[j][2] for j in range(k))
        s_buf[write], n_buf[write], act_buf[write] = s0, next_obs, a0
        ret_buf[write], disc_buf[write] = ret, 0.0 if terminal else gamma**k
        if r.prioritized:
            prio[write] = max_p**r.priority_exponent
        write, size = (write + 1) % cap, min(size + 1, cap)
        pending.popleft()

    def epsilon(step: int) -> float:
        if step < a.min_replay_steps:
            return cfg.explore.warmup_epsilon
        e = cfg.explore
        if e.epsilon_decay_steps == 0:
            return e.epsilon_end
        frac = min(1.0, (step - a.min_replay_steps) / e.epsilon_decay_steps)
        return e.epsilon_start + frac * (e.epsilon_end - e.epsilon_start)

    updates = 0
    t0 = time.perf_counter()
    t_learn = t0
    for step in range(1, steps + 1):
        if step == a.min_replay_steps + 1:
            t_learn = time.perf_counter()
        if rng.random() < epsilon(step - 1):
            action = int(rng.integers(num_actions))
        else:
            if noisy:
                online.reset_noise(gen)
            with torch.no_grad():
                action = int(online(torch.as_tensor(obs[None], device=device)).q_values.argmax(1).item())
        raw, reward, terminated, truncated, _ = env.step(action)
        next_obs = to_obs(raw)
        pending.append((obs, action, float(reward)))
        if terminated or truncated:
            while pending:
                store(next_obs, len(pending), terminated)
            obs = to_obs(env.reset()[0])
        else:
            if len(pending) == n:
                store(next_obs, n, False)
            obs = next_obs

        if step >= a.min_replay_steps and step % a.update_period_steps == 0:
            if r.prioritized:
                c = np.cumsum(prio[:size])
                u = (np.arange(a.batch_size) + rng.random(a.batch_size)) * (c[-1] / a.batch_size)
                idx = np.minimum(np.searchsorted(c, u, side="right"), size - 1)
                w = (size * prio[idx] / c[-1]) ** -(r.importance_exponent_start
                                                    + min(1.0, step / cfg.total_steps)
                                                    * (r.importance_exponent_end - r.importance_exponent_start))
                weights: torch.Tensor | None = torch.as_tensor((w / w.max()).astype(np.float32), device=device)
            else:
                idx = rng.integers(0, size, a.batch_size)
                weights = None
            if noisy:
                online.reset_noise(gen)
                target.reset_noise(gen)
            tb = TensorBatch(
                torch.as_tensor(s_buf[idx], device=device), torch.as_tensor(act_buf[idx], device=device),
                torch.as_tensor(ret_buf[idx], device=device), torch.as_tensor(disc_buf[idx], device=device),
                torch.as_tensor(n_buf[idx], device=device), weights,
            )
            out = loss_fn(online, target, tb)
            loss = out.per_sample.mean() if weights is None else (weights * out.per_sample).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(online.parameters(), a.max_grad_norm, foreach=True)
            opt.step()
            updates += 1
            if r.prioritized:
                p = out.priority.cpu().numpy().astype(np.float64) + r.priority_eps
                prio[idx] = p**r.priority_exponent
                max_p = max(max_p, float(p.max()))
        if step % a.target_update_period_steps == 0:
            target.load_state_dict(online.state_dict())
    if device.type == "cuda":
        torch.cuda.synchronize()
    end = time.perf_counter()
    env.close()
    return LoopResult(steps, steps - a.min_replay_steps, end - t_learn, end - t0, updates)

"""Replay = storage (a preallocated frame ring) + n-step accumulator + sampler.

Storage keeps ONE frame per slot. A stacked observation at slot i is frames [i-S+1 .. i] of its
stream, so an Atari transition costs one 84x84 uint8 frame plus a few bytes, not two stacked states.
An episode of T steps takes S-1 + 1 + T slots: at reset the first S-1 frames of the stacked reset
observation (whatever padding the env used is reproduced exactly), then one slot per observation;
the last one, the final observation, is never a sample start. With S = 1 (vector or MinAtar
observations) a slot holds the whole observation.

Slot i becomes a sampleable transition once the accumulator knows its n-step return: the batch then
holds obs = stack(i), action[i], ret[i], discount[i] and next_obs = stack(i + k[i]). Writing slot p
invalidates p itself and p+1 .. p+S-1, whose stacks would now reach into overwritten frames.

Several env copies write to separate streams (equal contiguous segments of the ring), so frames of
one episode stay contiguous.

A time-limit truncation is stored as `timeout` says (`replay_modes.TIMEOUTS`): bootstrapping from
the final observation (default), as a termination, or, `next_episode`, as Dopamine >= 3.1.9 stores
it under Revisiting Rainbow's agents: the final observation is never written, so the next slot of
the stream is the next episode's first observation, and the pending n-step transitions carry over
into that episode (their rewards and bootstrap states come from its first steps).
"""

from __future__ import annotations

import numpy as np

from dqnlab.batch import Batch, HostBatch
from dqnlab.replay.accumulator import NStepAccumulator
from dqnlab.replay.kernels import ACTIVE, Kernels
from dqnlab.replay.samplers import PrioritizedSampler, UniformSampler
from dqnlab.replay_modes import TIMEOUTS


class ReplayBuffer:
    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        obs_dtype: np.dtype,
        *,
        stack: int = 1,
        n_step: int = 1,
        gamma: float = 0.99,
        prioritized: bool = False,
        alpha: float = 0.5,
        priority_eps: float = 1e-6,
        num_streams: int = 1,
        seed: int = 0,
        timeout: str = "bootstrap",
        kernels: Kernels = ACTIVE,
    ) -> None:
        if timeout not in TIMEOUTS:
            raise ValueError(f"unknown timeout {timeout!r}; choose from {', '.join(TIMEOUTS)}")
        if timeout == "next_episode" and stack > 1:
            # The carried-over transitions find their bootstrap state k slots on; a stacked reset
            # observation writes stack - 1 padding frames in between.
            raise ValueError("timeout next_episode needs unstacked observations (stack 1)")
        self.stack, self.num_streams, self.timeout = stack, num_streams, timeout
        self.obs_shape = tuple(obs_shape)
        frame_shape = self.obs_shape[1:] if stack > 1 else self.obs_shape
        if stack > 1 and self.obs_shape[0] != stack:
            raise ValueError(f"stacked observations must have {stack} frames first, got {obs_shape}")
        self.segment = capacity // num_streams
        if self.segment < n_step + stack + 2:
            raise ValueError("replay capacity too small for n-step and frame stacking")
        self.capacity = self.segment * num_streams
        # np.zeros maps lazily: untouched pages cost no memory until written.
        self.frames = np.zeros((self.capacity, *frame_shape), dtype=obs_dtype)
        self.action = np.zeros(self.capacity, dtype=np.int32)
        self.ret = np.zeros(self.capacity, dtype=np.float32)
        self.discount = np.zeros(self.capacity, dtype=np.float32)
        self.steps = np.zeros(self.capacity, dtype=np.uint8)
        self.sampler = (
            PrioritizedSampler(self.capacity, alpha, priority_eps, kernels)
            if prioritized
            else UniformSampler(self.capacity)
        )
        self.accumulators = [NStepAccumulator(n_step, gamma) for _ in range(num_streams)]
        self.pos = np.zeros(num_streams, dtype=np.int64)  # next position to write, per stream
        self.current = np.full(num_streams, -1, dtype=np.int64)  # slot of the latest observation
        # Per stream: the last episode timed out under `next_episode`; its pending n-step
        # transitions continue into the episode that start_episode begins.
        self.carry = np.zeros(num_streams, dtype=bool)
        self.filled = np.zeros(num_streams, dtype=np.int64)  # slots written at least once, per stream
        self.rng = np.random.default_rng(seed)
        self.kernels = kernels
        self._flat_frames = self.frames.reshape(self.capacity, -1)  # a view: one row per slot

    # -- writing --------------------------------------------------------------------------------

    def _write(self, stream: int, frame: np.ndarray) -> int:
        base, p = stream * self.segment, int(self.pos[stream])
        slot = base + p
        # Slots p .. p+S-1 stop being transitions: p is overwritten, the others' stacks reach it.
        # Scalar code on purpose: this runs every env step, and S is 1 or 4.
        for k in range(self.stack):
            self.sampler.remove_one(base + (p + k) % self.segment)
        self.frames[slot] = frame
        self.pos[stream] = (p + 1) % self.segment
        if p + 1 > self.filled[stream]:
            self.filled[stream] = p + 1
        return slot

    def start_episode(self, stream: int, obs: np.ndarray) -> None:
        """Record the first observation of an episode."""
        if self.stack > 1:
            for frame in obs[:-1]:
                self._write(stream, frame)
            self.current[stream] = self._write(stream, obs[-1])
        else:
            self.current[stream] = self._write(stream, obs)
        if not self.carry[stream]:
            self.accumulators[stream].pending.clear()
        self.carry[stream] = False

    def add(
        self,
        stream: int,
        action: int,
        reward: float,
        next_obs: np.ndarray,
        terminal: bool,
        truncated: bool,
    ) -> None:
        """Record a step from the current observation of `stream`.

        `reward` in learning units (already clipped where the protocol says so); `terminal`: no
        bootstrapping past this step (termination, or a life loss under nature2015); `truncated`:
        time limit. After a termination or truncation call `start_episode` with the reset observation.
        """
        slot = int(self.current[stream])
        if slot < 0:
            raise RuntimeError("call start_episode before add")
        self.action[slot] = action
        timed_out = truncated and not terminal
        if timed_out and self.timeout == "terminal":
            terminal, truncated = True, False
        if timed_out and self.timeout == "next_episode":
            # The final observation is not stored: the next episode's first observation takes
            # the next slot (start_episode), and this step's transition waits for its rewards.
            self.current[stream], self.carry[stream] = -1, True
            truncated = False
        else:
            self.current[stream] = self._write(stream, next_obs[-1] if self.stack > 1 else next_obs)
        emitted = self.accumulators[stream].add(slot, reward, terminal, truncated)
        for e in emitted:  # usually one; up to n at an episode's end
            self.ret[e.slot], self.discount[e.slot], self.steps[e.slot] = e.ret, e.discount, e.steps
            self.sampler.add_one(e.slot)

    # -- reading --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.sampler.count

    def sample(self, batch_size: int, beta: float = 1.0, out: HostBatch | None = None) -> Batch:
        """A batch; `out` (optional) is where to gather it, e.g. a pinned staging buffer."""
        idx, weights = self.sampler.sample(batch_size, self.rng, beta)
        return self._gather(idx, weights, out)

    def batch_at(
        self, idx: np.ndarray, weights: np.ndarray | None = None, out: HostBatch | None = None
    ) -> Batch:
        """The transitions starting at slots `idx` (which must be valid). With `out`, the batch's
        arrays are views of it: the next gather into the same buffer overwrites them."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= self.capacity)):
            raise IndexError(f"slots must be a 1-d array in [0, {self.capacity})")
        return self._gather(idx, weights, out)

    def _gather(self, idx: np.ndarray, weights: np.ndarray | None, out: HostBatch | None) -> Batch:
        b, row = idx.shape[0], self._flat_frames.shape[1] * self.stack
        if out is None:
            dtype = self.frames.dtype
            obs, next_obs = np.empty((b, row), dtype), np.empty((b, row), dtype)
            action, ret, discount = np.empty(b, np.int64), np.empty(b, np.float32), np.empty(b, np.float32)
        else:
            obs, action, ret, discount, next_obs = out.obs, out.action, out.ret, out.discount, out.next_obs
            # The compiled gather does not check bounds: a mismatched buffer must fail here.
            if obs.shape != (b, row) or next_obs.shape != (b, row) or action.shape != (b,):
                raise ValueError(f"gather buffer {obs.shape} does not fit a batch of {b} x {row}")
        self.kernels.gather(
            self._flat_frames, self.action, self.ret, self.discount, self.steps, idx,
            self.segment, self.stack, obs, action, ret, discount, next_obs,
        )
        shape = (b, *self.obs_shape)
        return Batch(idx, obs.reshape(shape), action, ret, discount, next_obs.reshape(shape), weights)

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        self.sampler.update(indices, priorities)

    @property
    def nbytes(self) -> int:
        """Bytes allocated by the storage and the sampler (the real arrays, not a formula)."""
        arrays = [self.frames, self.action, self.ret, self.discount, self.steps, self.sampler.slots.valid]
        if isinstance(self.sampler, PrioritizedSampler):
            arrays.append(self.sampler.tree.nodes)
        return sum(a.nbytes for a in arrays)

    # -- checkpointing --------------------------------------------------------------------------

    _ARRAYS = ("frames", "action", "ret", "discount", "steps")

    def _written_slots(self) -> np.ndarray:
        """Slots written at least once, stream by stream: an early checkpoint stays small."""
        return np.concatenate(
            [s * self.segment + np.arange(f) for s, f in enumerate(self.filled)]
        ).astype(np.int64)

    def state_dict(self) -> dict:
        slots = self._written_slots()
        return {
            "filled": self.filled.copy(),
            **{name: getattr(self, name)[slots] for name in self._ARRAYS},
            "sampler": self.sampler.state_dict(),
            "accumulators": [a.state_dict() for a in self.accumulators],
            "pos": self.pos.copy(),
            "current": self.current.copy(),
            "carry": self.carry.copy(),
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict) -> None:
        self.filled[:] = state["filled"]
        slots = self._written_slots()
        for name in self._ARRAYS:
            getattr(self, name)[slots] = state[name]
        self.sampler.load_state_dict(state["sampler"])
        for acc, s in zip(self.accumulators, state["accumulators"]):
            acc.load_state_dict(s)
        self.pos[:] = state["pos"]
        self.current[:] = state["current"]
        self.carry[:] = state.get("carry", False)  # absent in checkpoints older than the field
        self.rng.bit_generator.state = state["rng"]

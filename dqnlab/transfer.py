"""Replay batches from host memory to the device the networks live on.

On the CPU a batch's numpy arrays become tensors without a copy. On CUDA, copying six pageable
numpy arrays would be six synchronous staged copies per update; instead the replay gathers the
batch straight into one page-locked (pinned) host buffer, where obs, next_obs, action, ret,
discount and the importance weights sit at aligned offsets, and the whole batch goes to the
device in ONE asynchronous copy. The device tensors are views into one device buffer.

The trainer asks for the staging buffer once (`host_batch`) and hands it to every replay gather.
The buffer may be rewritten once the copy out of it has completed: in the training loop that has
always happened before the next gather, because each update ends by reading its priorities back
(a batch staged by `to_device` itself waits for an event recorded after the copy). The tensors of
a batch stay valid until the next `to_device`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from dqnlab.batch import Batch, HostBatch, TensorBatch

_ALIGN = 16


class _Layout(NamedTuple):
    batch_size: int
    obs_shape: tuple[int, ...]
    obs_dtype: np.dtype


def _fields(layout: _Layout) -> list[tuple[str, np.dtype, tuple[int, ...]]]:
    b, row = layout.batch_size, math.prod(layout.obs_shape)
    f32 = np.dtype(np.float32)
    return [("obs", layout.obs_dtype, (b, row)), ("action", np.dtype(np.int64), (b,)),
            ("ret", f32, (b,)), ("discount", f32, (b,)), ("next_obs", layout.obs_dtype, (b, row)),
            ("weights", f32, (b,))]


class BatchTransfer:
    def __init__(self, device: torch.device, *, staged: bool | None = None) -> None:
        """`staged` (default: on CUDA) packs batches into one buffer and copies it once; it is
        pinned only on CUDA, so the staged path also runs (and is tested) on the CPU."""
        self.device = device
        self.staged = device.type == "cuda" if staged is None else staged
        self._layout: _Layout | None = None
        self._host: HostBatch | None = None
        self._copied: torch.cuda.Event | None = None

    def _allocate(self, layout: _Layout) -> None:
        offsets, total = {}, 0
        for name, dtype, shape in _fields(layout):
            offsets[name] = (total, dtype, shape)
            total += -(-dtype.itemsize * math.prod(shape) // _ALIGN) * _ALIGN
        pin = self.device.type == "cuda"
        self._host_bytes = torch.empty(total, dtype=torch.uint8, pin_memory=pin)
        self._device_bytes = torch.empty(total, dtype=torch.uint8, device=self.device)
        raw = self._host_bytes.numpy()
        self._host = HostBatch(**{
            name: raw[o : o + dtype.itemsize * math.prod(shape)].view(dtype).reshape(shape)
            for name, (o, dtype, shape) in offsets.items()
        })
        torch_dtype = {name: torch.from_numpy(np.empty(0, dtype)).dtype for name, (_, dtype, _) in offsets.items()}
        self._device_views = {
            name: self._device_bytes[o : o + dtype.itemsize * math.prod(shape)].view(torch_dtype[name])
            for name, (o, dtype, shape) in offsets.items()
        }
        self._layout = layout

    def host_batch(
        self, batch_size: int, obs_shape: tuple[int, ...], obs_dtype: np.dtype
    ) -> HostBatch | None:
        """The staging buffer the replay should gather batches into (None on the direct path: the
        replay allocates). Ask once and keep it: every gather rewrites it in place, which is safe
        once the previous batch's update has read its results back (`Agent.update` does)."""
        if not self.staged:
            return None
        layout = _Layout(batch_size, tuple(obs_shape), np.dtype(obs_dtype))
        if layout != self._layout:
            self._allocate(layout)
        if self._copied is not None:
            self._copied.synchronize()  # the previous copy out of the host buffer is done
        return self._host

    def to_device(self, batch: Batch) -> TensorBatch:
        """The batch as device tensors. A batch gathered into the staging buffer goes as it is;
        one gathered elsewhere is staged first."""
        if not self.staged:
            d = self.device
            return TensorBatch(
                obs=torch.as_tensor(batch.obs, device=d),
                action=torch.as_tensor(batch.action, device=d),
                ret=torch.as_tensor(batch.ret, device=d),
                discount=torch.as_tensor(batch.discount, device=d),
                next_obs=torch.as_tensor(batch.next_obs, device=d),
                weights=None if batch.weights is None else torch.as_tensor(batch.weights, device=d),
            )
        host = self._host
        if host is None or not np.may_share_memory(batch.obs, host.obs):
            host = self.host_batch(batch.obs.shape[0], batch.obs.shape[1:], batch.obs.dtype)
            assert host is not None
            for name in ("obs", "action", "ret", "discount", "next_obs"):
                np.copyto(getattr(host, name), getattr(batch, name).reshape(getattr(host, name).shape))
        if batch.weights is not None:
            np.copyto(host.weights, batch.weights)
        self._device_bytes.copy_(self._host_bytes, non_blocking=True)
        if self.device.type == "cuda":
            # On the stream of *this* device (the copy's), not whatever device is current.
            if self._copied is None:
                self._copied = torch.cuda.Event()
            self._copied.record(torch.cuda.current_stream(self.device))
        v, shape = self._device_views, (batch.obs.shape[0], *batch.obs.shape[1:])
        return TensorBatch(
            obs=v["obs"].view(shape), action=v["action"], ret=v["ret"], discount=v["discount"],
            next_obs=v["next_obs"].view(shape), weights=None if batch.weights is None else v["weights"],
        )

"""Keep freed host memory in the process instead of handing it back to the OS (glibc only).

An update allocates and frees the same temporaries every step (activations, their gradients,
built noisy weights: 0.5-4 MB each in a pack). glibc's malloc returns a freed block at the top
of its heap to the OS once more than M_TRIM_THRESHOLD is free there, and serves blocks over its
(adaptive) M_MMAP_THRESHOLD by mmap, so the next step's allocations fault their pages in again:
633 minor page faults per packed 2x128 rainbow update (K = 8). Raising the trim threshold to
1 GiB and fixing the mmap threshold at its adaptive ceiling (32 MiB) removes them (0.02 per
update) and makes packed updates 5-13% faster (benchmarks/README.md, 2026-11-30); runs trained
alone change by -1% to +7%. Results are bitwise unchanged: only where memory comes from changes.

What the process keeps is bounded by its peak heap use: freed blocks are reused, not given back.
A block of 32 MiB or more is mmapped unless freed heap memory already fits it, so replay storage
(far larger than anything freed) is still paged in lazily, as before.
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 1 << 30
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit, the adaptive ceiling


@functools.cache  # once per process: the setting is process-wide
def retain_freed_memory() -> bool:
    """Set the two thresholds for this process; False where libc has no mallopt (not glibc) or
    refuses them (glibc accepts both: tests/test_host_memory.py checks the effect itself)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own libc; no ldconfig lookup
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))

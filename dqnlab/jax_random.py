"""JAX's `jax.random.normal(PRNGKey(seed), shape)` in numpy, as JAX computed it in 2021.

Revisiting Rainbow's noisy layers (networks_new.py L30-31 @ 2d49d68) drew their noise as
`jax.random.normal(PRNGKey(0), shape)`: one constant draw, the same in every run. To reproduce that
draw exactly (`network.noise_draw = fixed`), this module computes it without JAX, from the public
definitions of the pieces:

* Threefry-2x32 with 20 rounds (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3",
  SC'11), the block cipher JAX's default PRNG is built on; checked against the paper's known-answer
  vectors (tests/test_jax_random.py);
* a key from a seed: (0, seed) for 0 <= seed < 2**32;
* the counters of a draw of n 32-bit words (JAX before `jax_threefry_partitionable`, its default
  until 2025): the words 0 .. n-1, padded to an even count m with one 0, split into halves
  x0 = [0, m/2) and x1 = [m/2, m) that form the cipher's two lanes; the output is the first lane's
  words then the second's, cut to n;
* uniform floats in [lo, hi): the top 23 bits as a float32 mantissa in [1, 2), minus 1, scaled,
  at least lo; normal = sqrt(2) erfinv(u) with lo the float32 after -1 and hi 1.

The bits are JAX's exactly; the erfinv here is float64 rounded to float32 where XLA evaluates a
float32 polynomial, so a normal value may differ from JAX's in its last few bits (measured against
JAX 0.11.2 with `jax_threefry_partitionable` off, on an H200 and its CPU: bits equal for every seed
and size tried; normals within 4 ulps up to 153 values, 10 at 512 and 80 at 1600, in the tails;
tests/test_jax_random.py holds values JAX printed there).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfinv

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(key: tuple[int, int], x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Threefry-2x32, 20 rounds, on the counter lanes x0, x1 (uint32 arrays of equal shape)."""
    ks = (np.uint32(key[0]), np.uint32(key[1]), np.uint32(key[0]) ^ np.uint32(key[1]) ^ _PARITY)
    with np.errstate(over="ignore"):
        x0 = np.asarray(x0, np.uint32) + ks[0]
        x1 = np.asarray(x1, np.uint32) + ks[1]
        for block in range(5):  # 5 blocks of 4 rounds, a key injection after each
            for r in _ROTATIONS[block % 2]:
                x0 = x0 + x1
                x1 = _rotl(x1, r) ^ x0
            x0 = x0 + ks[(block + 1) % 3]
            x1 = x1 + ks[(block + 2) % 3] + np.uint32(block + 1)
    return x0, x1


def random_bits(seed: int, n: int) -> np.ndarray:
    """The n uint32 words of `jax.random.bits(PRNGKey(seed), (n,))` (non-partitionable threefry)."""
    if not 0 <= seed < 2**32:
        # JAX's PRNGKey maps larger seeds by its x64 setting; no caller here needs them.
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    key = (0, seed)
    count = np.concatenate([np.arange(n, dtype=np.uint32), np.zeros(n % 2, np.uint32)])  # a 0 pads an odd n
    half = count.size // 2
    y0, y1 = threefry2x32(key, count[:half], count[half:])
    return np.concatenate([y0, y1])[:n]


def uniform(seed: int, n: int, lo: np.float32, hi: np.float32) -> np.ndarray:
    """`jax.random.uniform(PRNGKey(seed), (n,), float32, lo, hi)`."""
    bits = (random_bits(seed, n) >> np.uint32(9)) | np.float32(1.0).view(np.uint32)
    floats = bits.view(np.float32) - np.float32(1.0)
    return np.maximum(np.float32(lo), floats * np.float32(hi - lo) + np.float32(lo))


def normal(seed: int, n: int) -> np.ndarray:
    """`jax.random.normal(PRNGKey(seed), (n,))` as float32 (any shape of n elements gives these
    values in row-major order)."""
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0))
    u = uniform(seed, n, lo, np.float32(1.0))
    return (np.sqrt(2.0) * erfinv(u.astype(np.float64))).astype(np.float32)

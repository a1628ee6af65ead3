"""`dqnlab.jax_random`: JAX's 2021 `jax.random.normal(PRNGKey(seed), shape)` in numpy, which
`network.noise_draw = fixed` uses to reproduce Revisiting Rainbow's noise."""

import numpy as np
import pytest

from dqnlab import jax_random


@pytest.mark.parametrize("key, counter, expected", [
    # Threefry-2x32-20 known-answer vectors (Salmon et al. 2011, Random123's kat_vectors).
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
])
def test_threefry_known_answers(key, counter, expected):
    y0, y1 = jax_random.threefry2x32(key, np.uint32([counter[0]]), np.uint32([counter[1]]))
    assert (int(y0[0]), int(y1[0])) == expected


def test_the_counters_of_a_draw_are_split_into_two_lanes():
    """n words: counters 0 .. n-1 (an odd n padded with one 0), first half one lane, second the
    other; the output is lane one's words, then lane two's, cut to n."""
    y0, y1 = jax_random.threefry2x32((0, 0), np.uint32([0, 1]), np.uint32([2, 0]))
    assert jax_random.random_bits(0, 3).tolist() == [int(y0[0]), int(y0[1]), int(y1[0])]
    z0, z1 = jax_random.threefry2x32((0, 7), np.uint32([0, 1]), np.uint32([2, 3]))
    assert jax_random.random_bits(7, 4).tolist() == [*z0.tolist(), *z1.tolist()]


def test_normal_of_key_zero_is_jaxs_value():
    """`jax.random.normal(jax.random.PRNGKey(0))`, the value JAX's own documentation prints."""
    assert jax_random.normal(0, 1)[0] == pytest.approx(-0.20584226, abs=1e-7)


def test_normal_draws_are_standard_normal():
    x = jax_random.normal(0, 200_001)
    assert x.dtype == np.float32
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01


@pytest.mark.parametrize("seed, n, jax_first_three", [
    # Printed by JAX 0.11.2 (jax_threefry_partitionable off, the 2021 behaviour) on an H200:
    # jax.random.normal(jax.random.PRNGKey(seed), (n, 1)).ravel()[:3]
    (0, 3, [1.8160862922668457, -0.4826231598854065, 0.3398890793323517]),
    (0, 4, [1.8160862922668457, -0.7548851370811462, 0.3398890793323517]),
    (0, 512, [-2.0545668601989746, 0.3398175537586212, 0.2619878053665161]),
    (1, 6, [0.9573070406913757, -0.9699289202690125, 1.0070664882659912]),
    (7, 51, [2.980691432952881, -0.5801833271980286, -2.2977423667907715]),
])
def test_normal_matches_what_jax_printed(seed, n, jax_first_three):
    assert jax_random.normal(seed, n)[:3] == pytest.approx(jax_first_three, rel=1e-6)


def test_seeds_beyond_32_bits_are_refused():
    with pytest.raises(ValueError, match="2\\*\\*32"):
        jax_random.normal(2**32, 1)

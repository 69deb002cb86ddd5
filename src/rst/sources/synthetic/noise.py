"""Counter-based random numbers: a pure function of (seed, stream, keys), vectorised over numpy arrays.

Every random quantity of the generator is drawn from here, keyed by what it describes (parent,
instrument id, day, hour), never from a stateful generator. So a value does not depend on which
date range or which other parents were requested, and a month generated alone equals the same
month cut out of a 20-year run.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

_MASK64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hash64(seed: int, stream: int, *keys: ArrayLike) -> np.ndarray:
    """uint64 hash of ``(seed, stream, *keys)``; keys broadcast against each other."""
    with np.errstate(over="ignore"):
        h = np.array([(seed & _MASK64) ^ ((stream * 0x2545F4914F6CDD1D) & _MASK64)], dtype=np.uint64)
        h = _mix(h + _GOLDEN)
        for key in keys:
            k = np.asarray(key).astype(np.int64).astype(np.uint64)
            h = _mix((h ^ k) + _GOLDEN)
    return h


def uniform(seed: int, stream: int, *keys: ArrayLike) -> np.ndarray:
    """Uniform floats in the open interval (0, 1)."""
    return ((hash64(seed, stream, *keys) >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def normal(seed: int, stream: int, *keys: ArrayLike) -> np.ndarray:
    """Standard normal floats (Box-Muller on the two 32-bit halves of one hash)."""
    h = hash64(seed, stream, *keys)
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) / 4294967296.0
    u2 = ((h & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) / 4294967296.0
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

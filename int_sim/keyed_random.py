"""Uniform numbers addressed by (day, resident): common random numbers for a changing few.

Why: a warning sign or an event of an at-risk resident is decided by a uniform draw. Drawing one
number per resident per day from a sequential stream keeps two configurations on the same
numbers, but costs a full-population draw every day for the few thousand residents who can use
it. Drawing only for those few from a sequential stream would give resident *i* a different
number in each configuration, because who is at risk differs (that is what an INT changes).
Here the number of resident *i* on day *d* is a pure function of the stream's key and
``(d, i)``, so each configuration gets the same number for the same resident and day, at a cost
proportional to the residents asked for.

The generator is SplitMix64 (Steele, Lea and Flood 2014, as used to seed numpy's and Java's
generators): its *n*-th output is a fixed mixing function of ``key + n * 0x9E3779B97F4A7C15``,
so any position can be read without the ones before it. Position ``n = d * size + i``. The mixer
is compiled (numba), so the population's daily loops (:mod:`int_sim.population`) call it on each
resident they visit instead of hashing whole arrays in a dozen numpy passes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def keyed_uniform(resident: int, offset: np.uint64) -> float:
    """The uniform of ``resident`` on the day whose :meth:`KeyedUniforms.offset` is ``offset``.

    The mixer's input ``key + (d * size + i) * gamma`` is taken as ``i * gamma + offset`` with
    ``offset = key + d * size * gamma``, the same number modulo 2**64 (uint64 arithmetic wraps,
    as the generator is defined). The result is the top 53 bits, as numpy's ``random()``.
    """
    z = np.uint64(resident) * _GAMMA + offset
    z ^= z >> _S30
    z *= _MIX1
    z ^= z >> _S27
    z *= _MIX2
    z ^= z >> _S31
    return np.int64(z >> _S11) * _UNIT


@njit(cache=True)
def _draw(residents: np.ndarray, offset: np.uint64, out: np.ndarray) -> None:
    for k in range(residents.size):
        out[k] = keyed_uniform(residents[k], offset)


class KeyedUniforms:
    """Uniforms in [0, 1) for (day, resident) pairs of one population, under one key."""

    def __init__(self, key: int, population_size: int):
        self._key = key
        self._day_step = population_size * int(_GAMMA) % 2**64

    def offset(self, day: int) -> np.uint64:
        """The day's part of every position that day (see :func:`keyed_uniform`)."""
        return np.uint64((self._key + day * self._day_step) % 2**64)

    def draw(self, day: int, residents: np.ndarray) -> np.ndarray:
        """One uniform per resident in ``residents`` (any order, repeats allowed) for ``day``."""
        out = np.empty(residents.size)
        _draw(residents, self.offset(day), out)
        return out

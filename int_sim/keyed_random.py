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
so any position can be read without the ones before it. Position ``n = d * size + i``.
"""

from __future__ import annotations

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


class KeyedUniforms:
    """Uniforms in [0, 1) for (day, resident) pairs of one population, under one key."""

    def __init__(self, key: int, population_size: int):
        self._key = key
        self._day_step = population_size * int(_GAMMA) % 2**64

    def draw(self, day: int, residents: np.ndarray) -> np.ndarray:
        """One uniform per resident in ``residents`` (any order, repeats allowed) for ``day``.

        In place on one array (modulo 2**64, as the generator is defined): called twice a day on
        thousands of residents, where every temporary array costs time. The mixer's input
        ``key + (d * size + i) * gamma`` is taken as ``i * gamma + (key + d * size * gamma)``, the
        same number modulo 2**64, so the day's part is one scalar, added to the array once. The
        residents (as ``intp``, which is free for the usual ``intp`` array) are read as ``uint64``,
        the same bits for indices, so the first product is the new array rather than a copy of them.
        """
        z = np.multiply(np.asarray(residents, dtype=np.intp).view(np.uint64), _GAMMA)
        z += np.uint64((self._key + day * self._day_step) % 2**64)
        z ^= z >> _S30
        z *= _MIX1
        z ^= z >> _S27
        z *= _MIX2
        z ^= z >> _S31
        z >>= _S11
        # the top 53 bits, as numpy's random(); read as int64 (the same values, all below 2**53),
        # which converts to float faster than uint64 does
        return z.view(np.int64) * (1.0 / 9007199254740992.0)

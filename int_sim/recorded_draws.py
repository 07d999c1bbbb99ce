"""What a run drew that its INT run would draw again: onsets, ordinary events, residents.

Why: an INT run would draw exactly the onsets and ordinary-event candidates its no-INT
counterfactual drew. Both come from sequential streams whose consumption depends only on the
hazard normaliser ``Z`` (the counterfactual's, in both runs) and on fixed attributes (see
:mod:`int_sim.population`, "Random numbers"), so drawing them again costs time and gives the
same numbers. The counterfactual keeps them and the INT run given its normaliser replays them.

What is kept is what no configuration changes: each day's onsets with their jumps in excess
risk, and the candidates for an ordinary event who passed their weight test (``u < w_i /
max_w_g``), each with the uniform ``v`` that then picks the event and the length of stay. Whether
such a candidate has the event also depends on whether they are active in the run, so that test
stays in each run. Both are a few dozen residents a day at 50,000 residents (about 20 onsets
and 40 candidates), so a run's record is small: about 0.6 MB at 50,000 residents, in proportion
to the residents. It stays in the process that runs the replication: workers send back only
metrics and daily series.

The residents themselves (their attributes, drawn from the population stream, and the look-ups
derived from them) are the same in both runs when the population settings are, as they are for
a counterfactual, so they are kept too, by reference: the INT run takes the arrays rather than
build its own (about 2.6 MB at 50,000 residents, which the counterfactual built anyway).
"""

from __future__ import annotations

import numpy as np

from .scenario import Population as PopulationSettings


class RecordedDraws:
    """Per day: the onsets (residents, jumps) and the weighted ordinary candidates (residents, v);
    once: the residents (attributes and look-ups) and the population settings they were drawn under.

    The arrays are made read-only when added: every configuration sharing the counterfactual
    replays the same ones.
    """

    def __init__(self):
        self._onsets: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._candidates: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._residents: tuple[PopulationSettings, dict[str, object]] | None = None

    def add_residents(self, settings: PopulationSettings, residents: dict[str, object]) -> None:
        """The residents drawn under ``settings`` and what is derived from them (attributes,
        look-ups): fixed for the run, so the same in every run on the same settings and stream."""
        _read_only(*(value for value in residents.values() if isinstance(value, np.ndarray)))
        self._residents = settings, residents

    def residents(self, settings: PopulationSettings) -> dict[str, object] | None:
        """The residents recorded, if drawn under these population settings; else None."""
        if self._residents is None or self._residents[0] != settings:
            return None
        return self._residents[1]

    def add_onsets(self, day: int, residents: np.ndarray, jumps: np.ndarray) -> None:
        self._onsets[day] = _read_only(residents, jumps)

    def onsets(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The residents whose deterioration starts on ``day`` (distinct, unordered) and their jumps."""
        return self._onsets[day]

    def add_candidates(self, day: int, residents: np.ndarray, v: np.ndarray) -> None:
        self._candidates[day] = _read_only(residents, v)

    def candidates(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The residents with an ordinary event on ``day`` if not active (distinct, unordered), and their v."""
        return self._candidates[day]


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for array in arrays:
        array.flags.writeable = False
    return arrays

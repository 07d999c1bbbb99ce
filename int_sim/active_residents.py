"""The active residents: those whose hazard multiplier may differ from 1, as contiguous columns.

Why a table of its own: on any day about one resident in eight has excess risk, a plan
protecting them or a hospital stay, and everything the population does daily beyond drawing
events for the rest concerns only them. Keeping their state in contiguous columns (rather than
gathering it by index from population-length arrays) makes each daily operation a short
contiguous numpy operation: gathers from scattered positions cost as much as a pass over the
whole population.

A resident keeps their row (``slot``) until :meth:`ActiveResidents.compact` drops the rows
of residents who have become inactive again. Rows are in the order residents became active.
"""

from __future__ import annotations

import numpy as np
from numba import njit


class ActiveResidents:
    """Rows for active residents: their own state (excess risk, a plan's protection) and, copied
    from population-length arrays when they are added, the other columns the daily arithmetic
    needs (weight, group, event rate, and the hospital and protection end days, which the
    population then writes in both places)."""

    _INITIAL_CAPACITY = 1024
    _STATE = ("excess", "protection")
    """The residents' own state, 0 in a new row. Unused rows are kept at 0 (:meth:`compact` clears
    the rows it frees), so :meth:`add`, twice a day, need not reset them."""

    def __init__(self, copied: dict[str, np.ndarray]):
        self._copied = copied
        self.slot = np.full(next(iter(copied.values())).size, -1, dtype=np.intp)  # row of each resident, -1 if inactive
        self.count = 0
        self._columns: dict[str, np.ndarray] = {}
        self._allocate(self._INITIAL_CAPACITY)

    def _allocate(self, capacity: int) -> None:
        old, n = self._columns, self.count
        self._columns = {"resident": np.empty(capacity, dtype=np.intp)}
        self._columns.update({name: np.zeros(capacity) for name in self._STATE})
        self._columns.update({name: np.empty(capacity, dtype=values.dtype) for name, values in self._copied.items()})
        for name, column in old.items():
            self._columns[name][:n] = column[:n]
        for name, column in self._columns.items():
            setattr(self, name, column)

    def rows(self, name: str) -> np.ndarray:
        """The used part of a column (a view: writing to it writes the table)."""
        return self._columns[name][:self.count]

    def add(self, residents: np.ndarray) -> np.ndarray:
        """Make ``residents`` (distinct) active if they are not, and return their rows."""
        if self.count + residents.size > self.resident.size:  # (room for all, if all are new)
            self._allocate(max(2 * self.resident.size, self.count + residents.size))
        slots = np.empty(residents.size, dtype=np.intp)
        start = self.count
        end = _take_rows(residents, self.slot, self.resident, start, slots)
        if end > start:
            new = self.resident[start:end]
            for name, values in self._copied.items():
                self._columns[name][start:end] = values[new]
            self.count = end
        return slots

    def compact(self, kept: np.ndarray) -> None:
        """Keep only the rows ``kept`` (ascending), in order, and free the others."""
        n = self.count
        _renumber(kept, self.resident[:n], self.slot)
        for column in self._columns.values():
            _move_rows(kept, column)
        for name in self._STATE:
            self._columns[name][kept.size:n] = 0.0
        self.count = kept.size


@njit(cache=True)
def _take_rows(residents, slot, resident_column, start, slots):
    """Each resident's row into ``slots``: their own if active, else the next free one from
    ``start`` on, in the order given (``slot`` and ``resident_column`` record it); returns the
    end of the rows used. One compiled pass: :meth:`ActiveResidents.add` runs two or three times
    a day on a few dozen residents, where numpy's per-call overhead was most of its cost."""
    end = start
    for k in range(residents.size):
        row = slot[residents[k]]
        if row < 0:
            row = slot[residents[k]] = end
            resident_column[end] = residents[k]
            end += 1
        slots[k] = row
    return end


@njit(cache=True)
def _renumber(kept, resident, slot):
    """The residents of the used rows ``resident`` leave the table, except those of rows
    ``kept`` (ascending), who get their row's rank among them (before the columns are moved).
    Only the slots that change are written: a kept row before the first dropped one keeps its
    number."""
    j = 0
    for i in range(resident.size):
        if j < kept.size and kept[j] == i:
            if j != i:
                slot[resident[i]] = j
            j += 1
        else:
            slot[resident[i]] = -1


@njit(cache=True)
def _move_rows(kept, column):
    """``column[:kept.size] = column[kept]`` in place: ``kept`` ascending, so each row is read
    before it is written. Compiled, as :func:`_renumber`: a weekly tidy moves every column of a
    few thousand rows, where numpy's gathers and copies cost twice a compiled loop."""
    for j in range(kept.size):
        column[j] = column[kept[j]]

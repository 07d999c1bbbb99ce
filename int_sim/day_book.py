"""The day book: care steps to run on whole days, each day's in the order they were booked.

An entry is a kind of step and two numbers (what it acts on); each day's entries are a queue,
linked through the entries (:mod:`int_sim.linked_lists`), which the run takes from the front
while later steps of the same day join the back. Entries are reused once run. The book never grows during a call (Python makes
room before each, :meth:`~int_sim.care_state.CareState.room_in_book`): numba reaches a growable
array (held in a list) several times slower than a plain one, and the book is its busiest table.
Days at or past the run's horizon never run, so nothing is booked for them. The run's lowest
day that may still hold entries is kept (``NEXT_DAY``): steps are booked for today or later,
except an MDT meeting's, at half past a day whose steps have run, which books more for that day.
"""

from __future__ import annotations

import numpy as np

from .care_state import (DAY_HEAD, DAY_TAIL, ENTRIES_USED, FIRST, FREE_ENTRY, KIND, NEXT_DAY, NEXT_ENTRY, NONE,
                         OVERFLOW, SECOND, inlined)
from .linked_lists import append


@inlined
def book(s, day, kind, first, second):
    """Book a step of ``kind`` on ``first`` and ``second`` for ``day``, after those booked already."""
    days, counters, entries = s.book_days, s.counters, s.book_entries
    if day >= days.shape[1]:
        return
    entry = counters[FREE_ENTRY]
    if entry != NONE:
        counters[FREE_ENTRY] = entries[entry, NEXT_ENTRY]
    else:
        entry = counters[ENTRIES_USED]
        if entry == entries.shape[0]:  # (never, with the room made before each call; checked after it)
            counters[OVERFLOW] = 1
            return
        counters[ENTRIES_USED] = entry + 1
    entries[entry, KIND], entries[entry, FIRST], entries[entry, SECOND] = kind, first, second
    append(entries[:, NEXT_ENTRY], days[:, day], DAY_HEAD, DAY_TAIL, entry)
    if day < counters[NEXT_DAY]:
        counters[NEXT_DAY] = day


@inlined
def take_next(s, day):
    """The entry at the front of ``day``'s queue, taken off it, as (kind, first, second); kind
    is NONE when the day's queue is empty."""
    days, counters, entries = s.book_days, s.counters, s.book_entries
    entry = days[DAY_HEAD, day]
    if entry == NONE:
        return NONE, 0, 0
    following = entries[entry, NEXT_ENTRY]
    days[DAY_HEAD, day] = following
    if following == NONE:
        days[DAY_TAIL, day] = NONE
    entries[entry, NEXT_ENTRY] = counters[FREE_ENTRY]
    counters[FREE_ENTRY] = entry
    return entries[entry, KIND], entries[entry, FIRST], entries[entry, SECOND]


def next_booked_day(s) -> int | None:
    """The first day with a step booked, or None."""
    heads = s.book_days[DAY_HEAD, int(s.counters[NEXT_DAY]):]
    booked = np.flatnonzero(heads != NONE)
    return int(s.counters[NEXT_DAY]) + int(booked[0]) if booked.size else None

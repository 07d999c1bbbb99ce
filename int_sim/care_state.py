"""The state of care as arrays: episodes, actions, people, caseload places and the day book.

Care steps are most of a run's work: tens of thousands of episodes a year at 50,000 residents,
each a few actions, hand-offs and waits for a caseload place. They run compiled
(:mod:`int_sim.care_steps`, :mod:`int_sim.caseload`, :mod:`int_sim.day_book`), on the arrays
laid out here, which the Python side (:mod:`int_sim.care`, :mod:`int_sim.workforce`) reads and
updates between steps. Each table is one integer array with named fields, so a call passes a
few arrays however many fields there are: people's, places' and pools' fields are rows (a pass
reads one field of many), episodes' and actions' are columns (a step reads a dozen fields of one
episode, side by side in a cache line or two; with fields as rows, each was a cache miss).

Arrays that grow (episodes and their actions, people, places) are grown here, from Python,
before the call that might need the room: a day's signs open at most one episode per resident
who shows one, and people and places are added only when a post is filled. The day book too:
a call that runs care steps stops early when its room runs low, and goes on once it has more
(:func:`int_sim.care_steps.run_care`).

The compiled functions are cached by numba (``__pycache__``), and numba checks only the file a
function is in: after changing this module, :mod:`int_sim.caseload`, :mod:`int_sim.day_book` or
:mod:`int_sim.linked_lists`, delete ``int_sim/__pycache__/*.nb*`` so that
:mod:`int_sim.care_steps` is compiled again with the change (a clean checkout has no cache).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .scenario import ROLES

compiled = njit(cache=True, error_model="numpy")
"""How the care steps' entry points are compiled (:func:`int_sim.care_steps._call` and those it
calls): cached, and without division-by-zero checks (nothing divides by zero), so that no
compiled care function can raise, which would cost every call to it."""
inlined = njit(cache=True, error_model="numpy", inline="always")
"""How every other compiled care function is compiled: inlined where it is called. The care
arrays travel as one tuple, ``s``; a call that hands it on costs numba a reference count up and
down for each of its arrays, several times the work of most steps (benchmarks/README.md)."""

MAX_NEEDS = len(ROLES)
"""An episode needs each role at most once. Its actions are consecutive rows of the actions
table, one per need, from its ``FIRST_ACTION``: the action for the need at ``position`` (in the
order usual care takes them) is ``FIRST_ACTION + position``."""

NONE = -1
"""An empty reference (no person, place, waiter, entry or day)."""

# people, by slot (Workforce numbers each person it appoints)
ROLE, ORGANISATION, POST, START_DAY, BUSY, FREE, IN_POST, ABSENT_UNTIL, PARKED_HEAD, PARKED_TAIL = range(10)
# caseload places: who holds the place, and its neighbours in its pool's free list or its holder's parked list
HOLDER, PREVIOUS_PLACE, NEXT_PLACE = range(3)
# caseload pools, by role: the free places (longest-free first) and the actions waiting for one (first come first)
FREE_HEAD, FREE_TAIL, FREE_COUNT, WAITING_HEAD, WAITING_TAIL = range(5)
# usual care keeps its own phase and whether its referral was lost in its episode's fields, as
# the team can start an action for a need while usual care waits for that need's referral
# actions: the request for a place (who, pending, the step to resume, a place granted as it was made,
# neighbours in the queue), the professional who last acted for the resident in this role when it
# asked, the place held, and what a plan's action waits for
(WHO, PENDING, WAITING_STEP, GRANTED, PREVIOUS_WAITER, NEXT_WAITER, PREVIOUS_PROFESSIONAL, PLACE,
 PHASE, ACTION_EPISODE, ACTION_POSITION) = range(11)
ACTION_FIELDS = ACTION_POSITION + 1
# episodes, by number (1, 2, ... in the order they open; 0 is no episode)
(RESIDENT, OPENED, SEEN_BY, NEEDS_COUNT, MEASURED, PENDING_NEEDS, OUTSTANDING, SOURCE, ACTIONS_DONE, KNOWN_DAY,
 REVIEWED, FIRST_ACTION_DAY, CRISIS_BEFORE_ACTION, NAVIGATOR, PROFESSIONALS_COUNT, REPEAT_ASSESSMENTS,
 CLOSED, USUAL_PHASE, USUAL_LOST, FIRST_ACTION) = range(20)
EPISODE_FIELDS = FIRST_ACTION + 1
UNKNOWN, ON_ITS_WAY = -2, -1
"""An episode's ``KNOWN_DAY`` before the team hears of it: not on its way, or on its way."""
# day book entries and days; the kinds of step an entry books: start an episode's usual care;
# resume an action's step (waiting for a day, or a place, granted or not by the deadline); start
# a reviewed plan's action; a sign reaching the team; a navigator's follow-up; a pool's offer
START_USUAL, RESUME, WAKE, DEADLINE, START_JOINT, ARRIVE, FOLLOW_UP, OFFER = range(8)
KIND, FIRST, SECOND, NEXT_ENTRY = range(4)
DAY_HEAD, DAY_TAIL = range(2)
# counters (the care totals of the measured period, then the run's bookkeeping)
(PLANS_COMPLETED, JOINT_PLANS, NAVIGATED_PLANS, REPEAT_TOTAL, CONTINUITY_OPPORTUNITIES, CONTINUITY_KEPT,
 ACTIONS_UNMET, ACTIONS_LOST, ACTIONS_ABANDONED, REVIEWED_TOTAL, HANDOFFS, EPISODES_OPENED, OPEN_EPISODES,
 NEXT_DAY, FREE_ENTRY, ENTRIES_USED, PLANS_NOTED, ARRIVED_COUNT, UNIFORMS_USED, OVERFLOW, ACTIONS_USED,
 ACTIONS_DONE_BY_ROLE) = range(22)
COUNTERS = ACTIONS_DONE_BY_ROLE + len(ROLES)
# parameters (floats): the scenario's constants of the care steps, and what the workforce updates
(USUAL_WAIT_SCALE, INFORMATION_DELAY, HANDOFF_CO_LOCATION, HANDOFF_RECORDS, LOSS_FACTOR, REFERRAL_DAYS,
 REFERRAL_LOSS, TEAM_HANDOFF_DAYS, REPEAT_EXTRA, FOLLOW_UP_DAYS, RECORD_FLOW, JOINED_UP_SINGLE, JOINED_UP_REVIEWED,
 ADHERENCE_ALONE, ADHERENCE_NAVIGATED, INTERVENTION_EFFECT, PROTECTION_DAYS, MAX_WAIT, GP_FIRST, REACH,
 REACH_GP_IN_MDT, WARMUP_DAYS, TEAM_REVIEWS, JOINT_TRAINING, NEW_STARTER_DAYS, COORDINATION_SHARE, MEAN_TRUST,
 JOINT_WORK_GAIN, POSTS) = range(29)
PARAMETERS = POSTS + 1
# role data: staffed (had a funded post at the start) and the action's nominal days
STAFFED, ACTION_DAYS = range(2)


class CareArrays(NamedTuple):
    """Everything the compiled care steps read and write, passed to them as one argument."""

    people: np.ndarray  # int64 (fields, slots)
    burnout: np.ndarray  # float64 (slots,)
    places: np.ndarray  # int64 (fields, places)
    pools: np.ndarray  # int64 (roles, fields)
    actions: np.ndarray  # int64 (actions, fields): each episode's, one per need
    episodes: np.ndarray  # int64 (episodes, fields)
    needs: np.ndarray  # int64 (episodes, MAX_NEEDS): role indices, the order usual care takes them
    professionals: np.ndarray  # int64 (episodes, MAX_NEEDS): who acted, in order (slots)
    last_professional: np.ndarray  # int32 (roles, residents): who last acted for the resident in the role
    status: np.ndarray  # int8 (residents,): NO_EPISODE, OPEN or KNOWN
    open_number: np.ndarray  # int64 (residents,): their open episode's number, 0 when none
    counters: np.ndarray  # int64 (COUNTERS,)
    parameters: np.ndarray  # float64 (PARAMETERS,)
    roles: np.ndarray  # float64 (2, roles): STAFFED, ACTION_DAYS
    role_trust: np.ndarray  # float64 (roles, roles): the workforce's weekly summary
    pair_trust: np.ndarray  # float64: the workforce's pair trust vector (joint work is added to it)
    plans: np.ndarray  # float64 (4, episodes): plans completed since Python last took them
    arrived: np.ndarray  # int64 (2, episodes): residents and episode numbers that reached the team since
    book_days: np.ndarray  # int64 (2, days): each day's first and last entry
    book_entries: np.ndarray  # int64 (entries, 4)
    uniforms: np.ndarray  # float64: the care stream's uniforms drawn ahead, used up to UNIFORMS_USED


NO_EPISODE, OPEN, KNOWN = 0, 1, 2
"""A resident's care status: no open episode, open (not on its way to the team), or on its way or known."""


def _grown(array: np.ndarray, size: int, axis: int, fill: int | float) -> np.ndarray:
    """``array`` with room for at least ``size`` along ``axis`` (doubling), new room filled with ``fill``."""
    have = array.shape[axis]
    if size <= have:
        return array
    shape = list(array.shape)
    shape[axis] = max(size, 2 * have)
    bigger = np.full(shape, fill, dtype=array.dtype)
    bigger[tuple(slice(0, n) for n in array.shape)] = array
    return bigger


class CareState:
    """The care arrays of one run (:class:`CareArrays`), grown as the run needs."""

    def __init__(self, residents: int, days: int):
        roles = len(ROLES)
        self.arrays = CareArrays(
            people=np.full((10, 64), NONE, dtype=np.int64),
            burnout=np.zeros(64),
            places=np.full((3, 1024), NONE, dtype=np.int64),
            pools=np.zeros((roles, 5), dtype=np.int64) + np.array([NONE, NONE, 0, NONE, NONE]),
            actions=np.full((4096, ACTION_FIELDS), NONE, dtype=np.int64),
            episodes=np.zeros((1024, EPISODE_FIELDS), dtype=np.int64),
            needs=np.full((1024, MAX_NEEDS), NONE, dtype=np.int64),
            professionals=np.full((1024, MAX_NEEDS), NONE, dtype=np.int64),
            last_professional=np.full((roles, residents), NONE, dtype=np.int32),
            status=np.full(residents, NO_EPISODE, dtype=np.int8),
            open_number=np.zeros(residents, dtype=np.int64),
            counters=np.zeros(COUNTERS, dtype=np.int64),
            parameters=np.zeros(PARAMETERS),
            roles=np.zeros((2, roles)),
            role_trust=np.zeros((roles, roles)),
            pair_trust=np.ones(1),
            plans=np.zeros((4, 1024)),
            arrived=np.zeros((2, 1024), dtype=np.int64),
            book_days=np.full((2, days), NONE, dtype=np.int64),
            book_entries=np.full((4096, 4), NONE, dtype=np.int64),
            uniforms=np.empty(0),
        )
        self.arrays.counters[FREE_ENTRY] = NONE
        self.people_added = 0
        self.places_added = 0

    def replace(self, **arrays) -> None:
        self.arrays = self.arrays._replace(**arrays)

    def room_for_episodes(self, more: int) -> None:
        """Make room for ``more`` episodes than have opened (with their actions, as many as their
        needs, and what they may leave for Python to take: a plan each, an arrival each)."""
        a = self.arrays
        actions = int(a.counters[ACTIONS_USED]) + MAX_NEEDS * more
        if actions > a.actions.shape[0]:
            self.replace(actions=_grown(a.actions, actions, 0, NONE))
            a = self.arrays
        size = int(a.counters[EPISODES_OPENED]) + 1 + more
        if size <= a.episodes.shape[0]:
            return
        self.replace(episodes=_grown(a.episodes, size, 0, 0), needs=_grown(a.needs, size, 0, NONE),
                     professionals=_grown(a.professionals, size, 0, NONE),
                     plans=_grown(a.plans, size, 1, 0.0),
                     arrived=_grown(a.arrived, size, 1, 0))

    def draw_ahead(self, rng: np.random.Generator, count: int) -> None:
        """Have at least ``count`` of the care stream's uniforms drawn ahead, not yet used.

        The compiled steps take the stream's uniforms from the array, in order; drawn here in
        blocks, they are the same numbers in the same order as drawn one at a time."""
        a = self.arrays
        used = int(a.counters[UNIFORMS_USED])
        left = a.uniforms.size - used
        if left >= count:
            return
        block = max(4096, 2 * count)
        self.replace(uniforms=np.concatenate((a.uniforms[used:], rng.random(block - left))))
        self.arrays.counters[UNIFORMS_USED] = 0

    def room_in_book(self, entries: int) -> None:
        """Make room in the day book for at least ``entries`` more entries."""
        a = self.arrays
        size = int(a.counters[ENTRIES_USED]) + entries
        if size > a.book_entries.shape[0]:
            self.replace(book_entries=_grown(a.book_entries, size, 0, NONE))

    def add_person(self, role: int, organisation: int, post: int, start_day: int, burnout: float) -> int:
        """A new person's slot, in post and present."""
        slot = self.people_added
        self.people_added += 1
        a = self.arrays
        if slot >= a.people.shape[1]:
            self.replace(people=_grown(a.people, slot + 1, 1, NONE), burnout=_grown(a.burnout, slot + 1, 0, 0.0))
            a = self.arrays
        a.people[:, slot] = (role, organisation, post, start_day, 0, 0, 1, NONE, NONE, NONE)
        a.burnout[slot] = burnout
        return slot

    def add_places(self, slot: int, count: int) -> range:
        """``count`` new caseload places held by ``slot`` (not yet in any pool)."""
        first = self.places_added
        self.places_added += count
        a = self.arrays
        if self.places_added > a.places.shape[1]:
            self.replace(places=_grown(a.places, self.places_added, 1, NONE))
            a = self.arrays
        a.places[HOLDER, first:self.places_added] = slot
        return range(first, self.places_added)

"""Caseload pools: each role's free caseload places, and the actions waiting for one, compiled.

A care action waits for a place of its role, holds it while it runs and gives it back
(:mod:`int_sim.workforce` explains why capacity is places). The queue discipline is that of the
SimPy ``FilterStore`` this replaced (with the early stop described in benchmarks/README.md): a
new request, and every place given back, offers the free places to the waiting requests in the
order they came, each taking the longest-free place it accepts (a request for a named
professional accepts only theirs), until the places run out. A request is offered places as
soon as it is made; a place given back is offered once the current step is over (an ``OFFER``
step at the end of today's queue in the day book), so a professional who comes back from
absence and leaves on the same day hands no place to anyone. A request that gets a place later
resumes its action from the day book, in the order the places were handed out.

The free places of a pool are a list linked through the places, longest-free first
(:mod:`int_sim.linked_lists`); a person's places withheld while they are absent are another
(their ``PARKED_HEAD``), and the requests waiting for a place a third, linked through the actions. Each person counts
their places free in the pool (``FREE``), so a request for someone with none free fails at once.
"""

from __future__ import annotations


# Every function takes the arrays it uses out of ``s`` in its first lines, before any branch:
# numba then drops the reference counting of those arrays, which otherwise costs each call
# several times its work (benchmarks/README.md).

from .care_state import (ABSENT_UNTIL, BUSY, FREE, FREE_COUNT, FREE_HEAD, FREE_TAIL, GRANTED, HOLDER, IN_POST,
                         NEXT_PLACE, NEXT_WAITER, NONE, OFFER, PARKED_HEAD, PARKED_TAIL, PENDING, PREVIOUS_PLACE,
                         PREVIOUS_WAITER, ROLE, WAITING_HEAD, WAITING_STEP, WAITING_TAIL, WAKE, WHO, compiled,
                         inlined)
from .day_book import book
from .linked_lists import append, append_linked_both_ways, unlink


@inlined
def _append_free(s, role, place):
    places, pools = s.places, s.pools
    append_linked_both_ways(places[PREVIOUS_PLACE], places[NEXT_PLACE], pools[role], FREE_HEAD, FREE_TAIL, place)
    pools[role, FREE_COUNT] += 1


@inlined
def _unlink_free(s, role, place):
    places, pools = s.places, s.pools
    unlink(places[PREVIOUS_PLACE], places[NEXT_PLACE], pools[role], FREE_HEAD, FREE_TAIL, place)
    pools[role, FREE_COUNT] -= 1


@inlined
def _park(s, person, place):
    """Withhold ``place`` while its holder is absent, after those withheld already."""
    people, places = s.people, s.places
    append(places[NEXT_PLACE], people[:, person], PARKED_HEAD, PARKED_TAIL, place)


@inlined
def put(s, place, now):
    """Give a place back to its pool; waiting requests are offered it after the current step."""
    people, places, pools = s.people, s.places, s.pools
    person = places[HOLDER, place]
    role = people[ROLE, person]
    _append_free(s, role, place)
    people[FREE, person] += 1
    if pools[role, WAITING_HEAD] != NONE:
        book(s, int(now), OFFER, role, 0)


@compiled
def put_places(s, first, stop, now):
    """Give places ``first`` to ``stop - 1`` to their pools, in that order (a new person's)."""
    for place in range(first, stop):
        put(s, place, now)


@inlined
def take(s, role, who):
    """Take the longest-free place a request for ``who`` (anyone, if NONE) accepts out of the
    pool's free places (there is at least one), or NONE if it accepts none of them."""
    people, places, pools = s.people, s.places, s.pools
    place = pools[role, FREE_HEAD]
    if who != NONE:
        if people[FREE, who] == 0:
            return NONE
        while places[HOLDER, place] != who:
            place = places[NEXT_PLACE, place]
    _unlink_free(s, role, place)
    people[FREE, places[HOLDER, place]] -= 1
    return place


@inlined
def take_first(s, role):
    """The longest-free place, outside the queue (care navigators at MDT review), or NONE."""
    pools = s.pools
    if pools[role, FREE_COUNT] == 0:
        return NONE
    return take(s, role, NONE)


@inlined
def _unlink_waiter(s, role, waiter):
    actions, pools = s.actions, s.pools
    unlink(actions[:, PREVIOUS_WAITER], actions[:, NEXT_WAITER], pools[role], WAITING_HEAD, WAITING_TAIL, waiter)


@compiled
def offer(s, role, now):
    """Offer the free places to the waiting requests, first come first, until none is left. A
    request granted as it is made keeps its place (``GRANTED``); one already waiting is resumed
    with it after the steps booked for today."""
    actions, pools = s.actions, s.pools
    waiter = pools[role, WAITING_HEAD]
    while waiter != NONE and pools[role, FREE_COUNT] > 0:
        following = actions[waiter, NEXT_WAITER]
        place = take(s, role, actions[waiter, WHO])
        if place != NONE:
            _unlink_waiter(s, role, waiter)
            actions[waiter, PENDING] = 0
            if actions[waiter, WAITING_STEP] == NONE:
                actions[waiter, GRANTED] = place
            else:
                book(s, int(now), WAKE, actions[waiter, WAITING_STEP], place)
        waiter = following


@compiled
def request(s, role, who, waiter, now):
    """Ask for a place of ``role`` (of ``who`` only, unless NONE) for action ``waiter``: the
    place if it is granted as it asks, else NONE, and the request waits in the queue.

    With nobody waiting and a place it accepts free, the place is taken at once: the offer a new
    waiter would get would grant it that very place."""
    pools, actions = s.pools, s.actions
    if pools[role, WAITING_HEAD] == NONE and pools[role, FREE_COUNT] > 0:
        place = take(s, role, who)
        if place != NONE:
            return place
    actions[waiter, WHO], actions[waiter, PENDING] = who, 1
    actions[waiter, WAITING_STEP], actions[waiter, GRANTED] = NONE, NONE
    append_linked_both_ways(actions[:, PREVIOUS_WAITER], actions[:, NEXT_WAITER], pools[role], WAITING_HEAD,
                            WAITING_TAIL, waiter)
    offer(s, role, now)
    if actions[waiter, PENDING] == 0:
        return actions[waiter, GRANTED]
    return NONE


@inlined
def give_up(s, role, waiter):
    """A request whose deadline has come leaves the queue."""
    actions = s.actions
    actions[waiter, PENDING] = 0
    _unlink_waiter(s, role, waiter)


@compiled
def withdraw(s, person, park):
    """Take all of ``person``'s free places out of their pool (absence or leaving), longest-free
    first, and withhold them (``park``) or drop them."""
    people, places, pools = s.people, s.places, s.pools
    count = people[FREE, person]
    people[FREE, person] = 0
    role = people[ROLE, person]
    place = pools[role, FREE_HEAD]
    while count:
        following = places[NEXT_PLACE, place]
        if places[HOLDER, place] == person:
            _unlink_free(s, role, place)
            count -= 1
            if park:
                _park(s, person, place)
        place = following


@compiled
def release(s, place, now):
    """Give a caseload place back: dropped if its holder has left, withheld if they are absent
    (an absence ending today ended in today's step, before care)."""
    people, places = s.people, s.places
    person = places[HOLDER, place]
    people[BUSY, person] -= 1
    if not people[IN_POST, person]:
        return
    if people[ABSENT_UNTIL, person] > now:
        _park(s, person, place)
    else:
        put(s, place, now)


@compiled
def end_absence(s, person, now):
    """Give the places withheld during an absence back to the pool, in the order withheld."""
    people, places = s.people, s.places
    place = people[PARKED_HEAD, person]
    people[PARKED_HEAD, person] = people[PARKED_TAIL, person] = NONE
    while place != NONE:
        following = places[NEXT_PLACE, place]
        put(s, place, now)
        place = following

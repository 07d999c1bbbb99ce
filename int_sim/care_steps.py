"""The care steps of episodes, compiled: opening, usual care, the team's plans, actions, outcomes.

This is :mod:`int_sim.care`'s model (read its docstring and docs/ODD.md 7) as a state machine on
the arrays of :mod:`int_sim.care_state`. Each episode's usual care, and each action of a reviewed
plan, is a *step* that runs until it has to wait: for a day (a referral, a hand-off, an action's
length), booked in the day book, or for a caseload place (:mod:`int_sim.caseload`). A step is
named by its action and route (``step = action * 2 + route``; an action is a need of an
episode), and what it waits for is its phase. The day book runs each day's steps in the order
booked; a step that gets its place as it asks, or whose place is granted by the offer its own
request makes, goes on at once.

The care stream's uniforms are taken one at a time, in the order the steps need them, from a
block Python draws ahead (:meth:`~int_sim.care_state.CareState.draw_ahead`): the same numbers in
the same order as the Python steps drew, so a run's results are the same
(benchmarks/same_results.py).
"""

from __future__ import annotations

import math

import numpy as np

from .care_state import (ACTIONS_ABANDONED, ACTIONS_DONE, ACTIONS_DONE_BY_ROLE, ACTIONS_LOST, ACTIONS_UNMET,
                         ACTIONS_USED, ACTION_DAYS, ACTION_EPISODE, ACTION_POSITION, ADHERENCE_ALONE,
                         ADHERENCE_NAVIGATED, ARRIVE, ARRIVED_COUNT, BUSY, CLOSED, CONTINUITY_KEPT,
                         CONTINUITY_OPPORTUNITIES, COORDINATION_SHARE, CRISIS_BEFORE_ACTION, DEADLINE, ENTRIES_USED,
                         EPISODES_OPENED, FIRST_ACTION, FIRST_ACTION_DAY, FOLLOW_UP, FOLLOW_UP_DAYS, FREE, GP_FIRST,
                         HANDOFFS, HANDOFF_CO_LOCATION, HANDOFF_RECORDS, HOLDER, INFORMATION_DELAY,
                         INTERVENTION_EFFECT, IN_POST, JOINED_UP_REVIEWED, JOINED_UP_SINGLE, JOINT_PLANS,
                         JOINT_TRAINING, JOINT_WORK_GAIN, KNOWN, KNOWN_DAY, LOSS_FACTOR, MAX_NEEDS, MAX_WAIT,
                         MEAN_TRUST, MEASURED, NAVIGATED_PLANS, NAVIGATOR, NEEDS_COUNT, NEW_STARTER_DAYS, NEXT_DAY,
                         NONE, NO_EPISODE, OFFER, ON_ITS_WAY, OPEN, OPENED, OPEN_EPISODES, ORGANISATION, OUTSTANDING,
                         OVERFLOW, PENDING, PENDING_NEEDS, PHASE, PLACE, PLANS_COMPLETED, PLANS_NOTED, POST, POSTS,
                         PREVIOUS_PROFESSIONAL, PROFESSIONALS_COUNT, PROTECTION_DAYS, REACH, REACH_GP_IN_MDT,
                         RECORD_FLOW, REFERRAL_DAYS, REFERRAL_LOSS, REPEAT_ASSESSMENTS, REPEAT_EXTRA, REPEAT_TOTAL,
                         RESIDENT, RESUME, REVIEWED, REVIEWED_TOTAL, SEEN_BY, SOURCE, STAFFED, START_DAY,
                         START_JOINT, START_USUAL, TEAM_HANDOFF_DAYS, TEAM_REVIEWS, UNIFORMS_USED, UNKNOWN,
                         USUAL_LOST, USUAL_PHASE, USUAL_WAIT_SCALE, WAITING_STEP, WAKE, WARMUP_DAYS, CareArrays,
                         compiled, inlined)
from .caseload import end_absence, give_up, offer, put_places, release, request, take_first, withdraw
from .day_book import book, take_next
from .scenario import ROLE_INDEX

USUAL, JOINT = 0, 1
"""A step's route: an episode's usual care, or an action of the team's plan."""
REFERRAL, WAITING_FOR_PLACE, WORKING = range(3)
"""What a step waits for: a referral to arrive, a caseload place, the end of its action."""
DONE_OUTCOME, LOST_OUTCOME, UNMET_OUTCOME = range(3)
"""What became of a need's action."""
RESERVE = 64
"""Uniforms a care step may use, and more: a referral or hand-off uses three, an action at most
two, the end of an episode one, and a step goes on at most to the next wait."""
SIGN_UNIFORMS = 2
"""Uniforms a sign may use: the wait to decide for a new episode, and the delay to reach the team."""
HANDOFF_UNIFORMS = 3
"""Uniforms an MDT hand-off uses (its delay, whether it is lost, the rounding of its day)."""
GP = ROLE_INDEX["gp"]
NAVIGATOR_ROLE = ROLE_INDEX["care_navigator"]


@inlined
def _uniform(s):
    """The care stream's next uniform (Python keeps enough drawn ahead: :class:`CareState`)."""
    counters, uniforms = s.counters, s.uniforms
    k = counters[UNIFORMS_USED]
    if k == uniforms.size:  # (never, with enough drawn ahead; checked after the call)
        counters[OVERFLOW] = 1
        return 0.5
    counters[UNIFORMS_USED] = k + 1
    return uniforms[k]


@inlined
def day_after(s, delay, now):
    """The day of a care step ``delay`` days after ``now``: the time rounded down or up at
    random, up with probability equal to its fractional part, which keeps its mean exactly."""
    return int(now + delay + _uniform(s))


@compiled
def _handoff(s, episode, role, mean_days, loss, now):
    """When a hand-off between organisations arrives, and whether it is lost on the way:
    co-location, trust and records."""
    p, e, counters, role_trust = s.parameters, s.episodes, s.counters, s.role_trust
    trust = role_trust[e[episode, SOURCE], role]
    factor = p[HANDOFF_CO_LOCATION] * (1.5 - trust) * p[HANDOFF_RECORDS]
    loss *= p[LOSS_FACTOR]
    u_delay = _uniform(s)
    u_lost = _uniform(s)
    if e[episode, MEASURED]:
        counters[HANDOFFS] += 1
    return day_after(s, -mean_days * factor * math.log1p(-u_delay), now), u_lost < loss


@inlined
def _mark(s, episode, role, outcome):
    """Record the outcome of a need's action."""
    e, counters = s.episodes, s.counters
    e[episode, OUTSTANDING] -= 1
    if outcome == DONE_OUTCOME:
        e[episode, ACTIONS_DONE] += 1
    if not e[episode, MEASURED]:
        return
    if outcome == DONE_OUTCOME:
        counters[ACTIONS_DONE_BY_ROLE + role] += 1
    elif outcome == LOST_OUTCOME:
        counters[ACTIONS_LOST] += 1
    else:
        counters[ACTIONS_UNMET] += 1


@compiled
def _joint_work(s, episode):
    """Working a case together builds trust between everyone involved still in post: each pair
    of their posts once, in post order, added to the pair trust vector (``t + gain * (1 - t)``),
    as :meth:`int_sim.workforce.Workforce.joint_work` does for a meeting."""
    e, people, professionals, p, trust = s.episodes, s.people, s.professionals, s.parameters, s.pair_trust
    count = e[episode, PROFESSIONALS_COUNT]
    if count < 2:  # (a third of plans: one professional, nobody to build trust with)
        return
    posts = np.empty(count, dtype=np.int64)
    distinct = 0
    for k in range(count):
        person = professionals[episode, k]
        if people[IN_POST, person]:
            post = people[POST, person]
            new = True
            for j in range(distinct):
                if posts[j] == post:
                    new = False
            if new:
                posts[distinct] = post
                distinct += 1
    if distinct < 2:
        return
    posts = np.sort(posts[:distinct])
    n = int(p[POSTS])
    gain = p[JOINT_WORK_GAIN]
    for a in range(distinct):
        first = posts[a]
        offset = first * (2 * n - first - 3) // 2 - 1  # (see int_sim.workforce.pair_offset)
        for b in range(a + 1, distinct):
            cell = offset + posts[b]
            value = trust[cell]
            trust[cell] = value + gain * (1.0 - value)


@compiled
def _finish_if_resolved(s, episode, now):
    """Once every need has an outcome, close the episode and apply the plan's effect."""
    e, p, counters, status, open_number, plans = s.episodes, s.parameters, s.counters, s.status, s.open_number, s.plans
    if e[episode, CLOSED] or e[episode, OUTSTANDING]:
        return
    e[episode, CLOSED] = 1
    resident = e[episode, RESIDENT]
    counters[OPEN_EPISODES] -= 1
    status[resident] = NO_EPISODE
    open_number[resident] = 0
    navigator = e[episode, NAVIGATOR]
    if navigator != NONE:
        book(s, day_after(s, p[FOLLOW_UP_DAYS], now), FOLLOW_UP, navigator, 0)
    done = e[episode, ACTIONS_DONE]
    if done == 0:
        return
    joined_up = p[JOINED_UP_REVIEWED] if e[episode, REVIEWED] else p[JOINED_UP_SINGLE]
    adherence = p[ADHERENCE_NAVIGATED] if navigator != NONE else p[ADHERENCE_ALONE]
    quality = joined_up * adherence * done / e[episode, NEEDS_COUNT]
    k = counters[PLANS_NOTED]  # (taken by Python after the call: Population.apply_plans)
    counters[PLANS_NOTED] = k + 1
    plans[0, k] = resident
    plans[1, k] = int(now) + p[PROTECTION_DAYS]
    plans[2, k] = p[INTERVENTION_EFFECT] * quality
    plans[3, k] = quality
    _joint_work(s, episode)
    if e[episode, MEASURED]:
        counters[PLANS_COMPLETED] += 1
        counters[JOINT_PLANS] += e[episode, REVIEWED]
        counters[NAVIGATED_PLANS] += navigator != NONE
        counters[REPEAT_TOTAL] += e[episode, REPEAT_ASSESSMENTS]


@inlined
def _slowdown(s, person, day):
    """How much longer an action takes for this person today than its nominal length: new
    starters are slower, joint training makes everyone a little faster, burnout and the share
    of time spent keeping in touch slow everyone down."""
    p, people, burnout = s.parameters, s.people, s.burnout
    tenure = day - people[START_DAY, person]
    ramp = min(1.0, 0.7 + 0.3 * tenure / p[NEW_STARTER_DAYS])
    capability = ramp * (1.1 if p[JOINT_TRAINING] else 1.0)
    return (1.0 + 0.3 * burnout[person]) / (capability * (1.0 - p[COORDINATION_SHARE]))


@inlined
def _set_phase(s, episode, step, phase):
    """What ``step`` now waits for: usual care's in its episode, an action of a plan's in the action."""
    e, actions = s.episodes, s.actions
    if step & 1 == USUAL:
        e[episode, USUAL_PHASE] = phase
    else:
        actions[step >> 1, PHASE] = phase


@compiled
def _start_action(s, episode, position, step, now):
    """Ask for a caseload place for the need at ``position``, the same professional as last time
    if they have one free, else anyone: True if the step now waits (for the place, or for the
    action to end), False if the action is over (its role has no post)."""
    e, people, needs, roles, actions, last_professional, p = (s.episodes, s.people, s.needs, s.roles, s.actions,
                                                               s.last_professional, s.parameters)
    role = needs[episode, position]
    if not roles[STAFFED, role]:
        _mark(s, episode, role, UNMET_OUTCOME)
        return False
    action = step >> 1
    previous = last_professional[role, e[episode, RESIDENT]]
    who = NONE
    if previous != NONE and people[IN_POST, previous] and people[FREE, previous] > 0:
        who = previous
    actions[action, PREVIOUS_PROFESSIONAL] = previous
    place = request(s, role, who, action, now)
    if place == NONE:
        actions[action, WAITING_STEP] = step  # resumed with a place, or at the deadline without one
        _set_phase(s, episode, step, WAITING_FOR_PLACE)
        book(s, int(now) + int(p[MAX_WAIT]), DEADLINE, step, 0)
        return True
    return _act(s, episode, position, step, place, now)


@compiled
def _act(s, episode, position, step, place, now):
    """Do the work with the caseload place granted (NONE: none came before the deadline):
    True while the action runs, False if it was lost."""
    e, people, counters, needs, places, actions, last_professional, roles, professionals, p = (
        s.episodes, s.people, s.counters, s.needs, s.places, s.actions, s.last_professional, s.roles,
        s.professionals, s.parameters)
    role = needs[episode, position]
    measured = e[episode, MEASURED]
    if place == NONE:  # max_wait_days passed first
        _mark(s, episode, role, LOST_OUTCOME)
        if measured:
            counters[ACTIONS_ABANDONED] += 1
        return False
    action = step >> 1
    person = places[HOLDER, place]
    people[BUSY, person] += 1
    day = int(now)
    if e[episode, FIRST_ACTION_DAY] == NONE:
        e[episode, FIRST_ACTION_DAY] = day
    previous = actions[action, PREVIOUS_PROFESSIONAL]
    if measured and previous != NONE and people[IN_POST, previous]:
        counters[CONTINUITY_OPPORTUNITIES] += 1
        counters[CONTINUITY_KEPT] += person == previous
    last_professional[role, e[episode, RESIDENT]] = person
    length = roles[ACTION_DAYS, role]
    # a service the episode has not seen yet assesses again unless the records reach it
    organisation = people[ORGANISATION, person]
    acted = e[episode, PROFESSIONALS_COUNT]
    if acted:
        seen = False
        for k in range(acted):
            if people[ORGANISATION, professionals[episode, k]] == organisation:
                seen = True
                break
        if not seen and _uniform(s) >= p[RECORD_FLOW]:
            e[episode, REPEAT_ASSESSMENTS] += 1
            length *= 1 + p[REPEAT_EXTRA]
    professionals[episode, acted] = person
    e[episode, PROFESSIONALS_COUNT] = acted + 1
    e[episode, SOURCE] = role
    actions[action, PLACE] = place
    _set_phase(s, episode, step, WORKING)
    book(s, day_after(s, length * _slowdown(s, person, day), now), RESUME, step, 0)
    return True


@compiled
def _usual_care(s, episode, position, now):
    """Usual care from the need at ``position`` on: each service acts in turn, after a referral
    unless it saw the sign, on the needs the team has not taken up; then the episode ends if
    every need has an outcome."""
    e, needs, p = s.episodes, s.needs, s.parameters
    count = e[episode, NEEDS_COUNT]
    while position < count:
        role = needs[episode, position]
        bit = 1 << role
        if not e[episode, PENDING_NEEDS] & bit:
            position += 1
            continue
        step = (e[episode, FIRST_ACTION] + position) * 2 + USUAL
        if not (position == 0 and e[episode, SEEN_BY] == role):  # anyone but the service that saw the sign
            day, lost = _handoff(s, episode, role, p[REFERRAL_DAYS], p[REFERRAL_LOSS], now)
            e[episode, USUAL_PHASE] = REFERRAL
            e[episode, USUAL_LOST] = lost
            book(s, day, RESUME, step, 0)
            return
        e[episode, PENDING_NEEDS] ^= bit
        if _start_action(s, episode, position, step, now):
            return
        position += 1
    _finish_if_resolved(s, episode, now)


@compiled
def _resume(s, step, place, now):
    """Resume a waiting step: after its referral or its action, or with a caseload place (NONE
    if none came in time)."""
    e, needs, actions = s.episodes, s.needs, s.actions
    action = step >> 1
    episode, position = actions[action, ACTION_EPISODE], actions[action, ACTION_POSITION]
    usual = step & 1 == USUAL
    phase = e[episode, USUAL_PHASE] if usual else actions[action, PHASE]
    if phase == REFERRAL:
        role = needs[episode, position]
        bit = 1 << role
        if e[episode, PENDING_NEEDS] & bit:  # (else the team took it over meanwhile)
            e[episode, PENDING_NEEDS] ^= bit
            if e[episode, USUAL_LOST]:
                _mark(s, episode, role, LOST_OUTCOME)
            elif _start_action(s, episode, position, step, now):
                return
        _usual_care(s, episode, position + 1, now)
        return
    if phase == WAITING_FOR_PLACE:
        if _act(s, episode, position, step, place, now):
            return
    else:  # the action is over
        release(s, actions[action, PLACE], now)
        _mark(s, episode, needs[episode, position], DONE_OUTCOME)
    if usual:
        _usual_care(s, episode, position + 1, now)
    else:
        _finish_if_resolved(s, episode, now)


@compiled
def _start_joint(s, step, lost, now):
    """A reviewed plan's action, once its in-team hand-off (lost on the way if ``lost``) is over."""
    needs, actions = s.needs, s.actions
    action = step >> 1
    episode, position = actions[action, ACTION_EPISODE], actions[action, ACTION_POSITION]
    if lost:
        _mark(s, episode, needs[episode, position], LOST_OUTCOME)
    elif _start_action(s, episode, position, step, now):
        return
    _finish_if_resolved(s, episode, now)


@compiled
def _deadline(s, step, now):
    """The deadline of a request for a place: unless it got one in time, it leaves the queue and
    its action is lost."""
    actions, needs = s.actions, s.needs
    action = step >> 1
    if actions[action, PENDING]:
        give_up(s, needs[actions[action, ACTION_EPISODE], actions[action, ACTION_POSITION]], action)
        _resume(s, step, NONE, now)


@compiled
def run_care(s, until):
    """Run the care steps of the days before ``until``, day by day, each day's in booked order.

    Returns True if it stopped early, before a step, to have more room: fewer than ``RESERVE``
    of the care stream's uniforms were left drawn ahead (a step uses a handful), or too little
    room in the day book (a step books a few entries, and an offer one per place it grants at
    most); called again, it goes on."""
    counters, uniforms, entries, days, places = s.counters, s.uniforms, s.book_entries, s.book_days, s.places
    day = counters[NEXT_DAY]
    last = min(math.ceil(until), days.shape[1])
    while day < last:
        now = float(day)
        while True:
            if (uniforms.size - counters[UNIFORMS_USED] < RESERVE
                    or entries.shape[0] - counters[ENTRIES_USED] < places.shape[1] + RESERVE):
                counters[NEXT_DAY] = day
                return True
            kind, first, second = take_next(s, day)
            if kind == NONE:
                break
            if kind == RESUME:
                _resume(s, first, NONE, now)
            elif kind == WAKE:
                _resume(s, first, second, now)
            elif kind == DEADLINE:
                _deadline(s, first, now)
            elif kind == OFFER:
                offer(s, first, now)
            elif kind == START_USUAL:
                _usual_care(s, first, 0, now)
            elif kind == START_JOINT:
                _start_joint(s, first, second, now)
            elif kind == ARRIVE:
                _arrive(s, first, day)
            elif kind == FOLLOW_UP:  # the navigator has checked the plan holds and lets the case go
                release(s, first, now)
        day += 1
    if day > counters[NEXT_DAY]:
        counters[NEXT_DAY] = day
    return False


@compiled
def _arrive(s, episode, day):
    """The sign reaches the team: the episode awaits MDT review, unless it has ended meanwhile."""
    e, counters, arrived = s.episodes, s.counters, s.arrived
    e[episode, KNOWN_DAY] = day
    if not e[episode, CLOSED]:
        k = counters[ARRIVED_COUNT]  # (taken by Python at the next meeting: CareSystem._review_queue)
        counters[ARRIVED_COUNT] = k + 1
        arrived[0, k] = e[episode, RESIDENT]
        arrived[1, k] = episode


@compiled
def on_signs(s, residents, needs, u_seen, u_reach, u_delay, u_wait, day):
    """Each sign opens an episode for a resident without one, and may reach the team (when it
    holds MDTs) if it has not yet."""
    p, open_number, e = s.parameters, s.open_number, s.episodes
    team_reviews = p[TEAM_REVIEWS]
    now = float(day)
    for k in range(residents.size):
        resident = residents[k]
        episode = open_number[resident]
        if episode == 0:
            episode = _open_episode(s, resident, needs[k], day, u_seen[k], u_wait[k])
        if team_reviews and e[episode, KNOWN_DAY] == UNKNOWN:
            _maybe_reach_team(s, episode, u_reach[k], u_delay[k], now)


@compiled
def _open_episode(s, resident, bits, day, u, u_wait):
    """A new episode for a resident whose needs are the bitmask ``bits``: the seeing service
    first, then the others in role order; usual care starts after a wait to decide."""
    p, e, counters, needs, status, open_number, actions = (s.parameters, s.episodes, s.counters, s.needs, s.status,
                                                           s.open_number, s.actions)
    count = 0
    for role in range(MAX_NEEDS):
        count += bits >> role & 1
    gp_first = p[GP_FIRST]
    if u < gp_first:
        seen_by = GP
    else:  # the n-th of the needs in role order
        nth = min(int((u - gp_first) / (1 - gp_first) * count), count - 1)
        seen_by = 0
        while not bits >> seen_by & 1 or nth:
            nth -= bits >> seen_by & 1
            seen_by += 1
    episode = counters[EPISODES_OPENED] + 1
    counters[EPISODES_OPENED] = episode
    k = 0
    if bits >> seen_by & 1:
        needs[episode, 0] = seen_by
        k = 1
    for role in range(MAX_NEEDS):
        if bits >> role & 1 and role != seen_by:
            needs[episode, k] = role
            k += 1
    e[episode, :] = 0
    e[episode, RESIDENT] = resident
    e[episode, OPENED] = day
    e[episode, SEEN_BY] = seen_by
    e[episode, NEEDS_COUNT] = count
    e[episode, MEASURED] = day >= p[WARMUP_DAYS]
    e[episode, PENDING_NEEDS] = bits
    e[episode, OUTSTANDING] = count
    e[episode, SOURCE] = seen_by
    e[episode, KNOWN_DAY] = UNKNOWN
    e[episode, FIRST_ACTION_DAY] = NONE
    e[episode, NAVIGATOR] = NONE
    first = e[episode, FIRST_ACTION] = counters[ACTIONS_USED]
    counters[ACTIONS_USED] = first + count
    for position in range(count):
        actions[first + position, ACTION_EPISODE] = episode
        actions[first + position, ACTION_POSITION] = position
    counters[OPEN_EPISODES] += 1
    status[resident] = OPEN
    open_number[resident] = episode
    # services that share a building hear of a sign sooner and decide faster
    book(s, day_after(s, p[USUAL_WAIT_SCALE] * math.log1p(-u_wait), float(day)), START_USUAL, episode, 0)
    return episode


@compiled
def _maybe_reach_team(s, episode, u_reach, u_delay, now):
    """Whether and when the sign reaches the team: records, sharing, co-location, GPs and trust."""
    p, e, status = s.parameters, s.episodes, s.status
    reach = p[REACH_GP_IN_MDT] if e[episode, SEEN_BY] == GP else p[REACH]
    reach = min(0.95, reach) * (0.7 + 0.3 * p[MEAN_TRUST])
    if u_reach >= reach:
        return
    e[episode, KNOWN_DAY] = ON_ITS_WAY
    status[e[episode, RESIDENT]] = KNOWN
    book(s, day_after(s, p[INFORMATION_DELAY] * math.log1p(-u_delay), now), ARRIVE, episode, 0)


@compiled
def review(s, episodes, now):
    """MDT review of ``episodes``, in order: each gets a joint plan, followed through by a care
    navigator if one has a place free, and every need no route has taken up starts together
    after an in-team hand-off."""
    e, p, counters, people, places, needs = s.episodes, s.parameters, s.counters, s.people, s.places, s.needs
    for episode in episodes:
        e[episode, REVIEWED] = 1
        if e[episode, MEASURED]:
            counters[REVIEWED_TOTAL] += 1
        place = take_first(s, NAVIGATOR_ROLE)
        if place != NONE:
            people[BUSY, places[HOLDER, place]] += 1
            e[episode, NAVIGATOR] = place
        loss = p[REFERRAL_LOSS] * 0.3 * (0.3 if place != NONE else 1.0)
        pending = e[episode, PENDING_NEEDS]
        e[episode, PENDING_NEEDS] = 0  # the team takes up every role still pending
        for position in range(e[episode, NEEDS_COUNT]):
            role = needs[episode, position]
            if pending >> role & 1:
                day, lost = _handoff(s, episode, role, p[TEAM_HANDOFF_DAYS], loss, now)
                book(s, day, START_JOINT, (e[episode, FIRST_ACTION] + position) * 2 + JOINT, lost)


@compiled
def on_events(s, residents):
    """A crisis or admission before anyone acted marks the resident's open episode as too late."""
    e, open_number = s.episodes, s.open_number
    for resident in residents:
        episode = open_number[resident]
        if episode and e[episode, FIRST_ACTION_DAY] == NONE:
            e[episode, CRISIS_BEFORE_ACTION] = 1


RUN_CARE, ON_SIGNS, ON_EVENTS, REVIEW, PUT_PLACES, WITHDRAW, END_ABSENCE = range(7)
"""What :func:`call` does: run the care steps before ``value``; open episodes for signs on day
``value`` (``numbers``: residents, needs; ``reals``: the information stream's four uniforms
each); mark events (``numbers[0]``: residents); review episodes (``numbers[0]``) at time
``value``; put a new person's places ``numbers[0, 0]`` to ``numbers[0, 1] - 1`` in their pool,
or withdraw person ``numbers[0, 0]``'s free places (withheld if ``numbers[0, 1]``), or end their
absence, at time ``value``."""


@compiled
def _call(operation, people, burnout, places, pools, actions, episodes, needs, professionals, last_professional,
          status, open_number, counters, parameters, roles, role_trust, pair_trust, plans, arrived, book_days,
          book_entries, uniforms, numbers, reals, value):
    s = CareArrays(people, burnout, places, pools, actions, episodes, needs, professionals, last_professional,
                   status, open_number, counters, parameters, roles, role_trust, pair_trust, plans, arrived,
                   book_days, book_entries, uniforms)
    if operation == RUN_CARE:
        return run_care(s, value)
    if operation == ON_SIGNS:
        on_signs(s, numbers[0], numbers[1], reals[0], reals[1], reals[2], reals[3], int(value))
    elif operation == ON_EVENTS:
        on_events(s, numbers[0])
    elif operation == REVIEW:
        review(s, numbers[0], value)
    elif operation == PUT_PLACES:
        put_places(s, numbers[0, 0], numbers[0, 1], value)
    elif operation == WITHDRAW:
        withdraw(s, numbers[0, 0], numbers[0, 1])
    elif operation == END_ABSENCE:
        end_absence(s, numbers[0, 0], value)
    return False


_NO_NUMBERS, _NO_REALS = np.zeros((1, 0), dtype=np.int64), np.zeros((1, 0))


def call(state, operation: int, numbers: np.ndarray = _NO_NUMBERS, reals: np.ndarray = _NO_REALS,
         value: float = 0.0) -> bool:
    """Do ``operation`` (see RUN_CARE) on ``state``'s arrays: one compiled entry, given each array
    on its own, because numba types a tuple of arrays in Python at every call (benchmarks/README.md).

    The caller has made the room the operation needs (uniforms drawn ahead, room in the book);
    running out is a bug, found here rather than by writing past an array (the compiled steps
    raise nothing: a function that may raise costs every call to it, and they make millions)."""
    stopped = _call(operation, *state.arrays, numbers, reals, float(value))
    if state.arrays.counters[OVERFLOW]:
        raise RuntimeError("care steps ran out of uniforms or day-book room made ready for them")
    return stopped

"""Warning signs, information flow, MDT caseload review and care plans.

Every warning sign opens (or adds to) an *episode* for that resident. Two routes can act on it:

* **Usual care** runs in every configuration, with or without an INT: after a wait to decide
  (``care.usual_response_days``) the service that saw the sign acts on what it can, then refers
  onward, one organisation at a time; each referral takes time and some are lost, and records
  that do not flow mean the resident tells their story again (a repeat assessment).
* **The team** (when it holds MDTs): a sign reaches the team with a probability and delay set by
  IT interoperability, information sharing, co-location, GP involvement and trust. MDT meetings
  review the highest-risk known cases up to their capacity; a reviewed case gets a joint plan whose
  remaining actions start together after short in-team hand-offs, followed through by a care
  navigator when one is free.

So the INT changes how early and how jointly services act, not whether anyone acts. Each action
waits for a caseload place of its role (:mod:`int_sim.workforce`). A completed plan clears the
resident's excess risk and cuts their hazard by ``intervention_effect`` scaled by how complete
and joined-up the plan was, for ``protection_days``.

Scheduling. Care steps happen on whole days: a delay (a wait to decide, a hand-off, an action's
length, an information delay) ends on a day chosen by rounding its end time down or up at random,
up with probability equal to the fractional part, which keeps every delay's mean exactly. A
day's care steps run after that day's step (signs, events, workforce), in the order they were
booked; MDT meetings are SimPy processes at half past a day. The routine steps of an episode
are generators written like SimPy processes, but they yield the day of their next step and run
from :class:`CareEnvironment`'s day book instead of one SimPy process and several SimPy events
each: those events were most of a run's cost (benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import math
import operator
from dataclasses import dataclass, field
from functools import partial
from heapq import heappop, heappush

import numpy as np
import simpy

from .population import Population
from .scenario import CO_LOCATION_LEVEL, ROLE_BIT, ROLE_INDEX, ROLES, Scenario
from .workforce import CaseloadPool, Place, Professional, Waiter, Workforce



_CALL = object()
"""Book value meaning: the entry's target is a plain function, called with no arguments."""


class CareEnvironment(simpy.Environment):
    """SimPy's environment plus a day book for the routine steps of care episodes.

    SimPy still owns the clock: the daily step and the MDT meetings are SimPy processes, and
    ``run``, ``step`` and ``now`` behave as SimPy's. Care steps happen on whole days, each day's
    in the order they were booked. Care episodes are generators written like SimPy processes,
    but instead of SimPy events they yield the day of their next step (a whole number, today or
    later), or what a caseload pool's ``request`` returns (the
    :class:`~int_sim.workforce.Place` granted at once, resumed with it now, or a
    :class:`~int_sim.workforce.Waiter`); an entry of the book can also hold a plain function to
    call (``value`` is ``_CALL``). A day's care steps run after that day's step and before
    SimPy's next event, with ``now`` set to the day; steps booked for today while today's run
    (a place given back, a request granted, a step that takes no time) join the end of today's
    list, and steps a meeting (at half past) books for its own day run after the meeting.
    """

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        self._book: dict[int, list] = {}  # day -> [(target, value), ...], in the order booked
        self._book_days: list[int] = []  # the days in the book, a heap

    # SimPy's ``now`` returns ``_now`` from a Python function; the same read through a C getter
    # costs a third as much, and care steps, hand-offs and caseload places read it several times
    # per action
    now = property(operator.attrgetter("_now"), doc="The current simulation time.")

    def _enter(self, day: int, target, value) -> None:
        steps = self._book.get(day)
        if steps is None:
            self._book[day] = [(target, value)]
            heappush(self._book_days, day)
        else:
            steps.append((target, value))

    def start_on(self, day: int, generator) -> None:
        """Start a care generator (not yet started) on ``day``: its first step runs then."""
        self._enter(day, generator, None)

    def call_on(self, day: int, function) -> None:
        """Call ``function()`` on ``day``, as a care step."""
        self._enter(day, function, _CALL)

    def wake(self, generator, value) -> None:
        """Resume a waiting care generator with ``value`` today, after the steps already booked."""
        self._enter(int(self._now), generator, value)

    def offer_later(self, pool) -> None:
        """Have ``pool`` offer its free places to its waiting requests after the current step."""
        self._enter(int(self._now), pool.offer, _CALL)

    def run_care(self, until: float) -> None:
        """Run the care steps of the days before ``until``, day by day, each day's in booked order.

        A generator that gets its caseload place as it asks, or whose next step is today and would
        be the last of today's list (a delay that rounds to zero), runs on at once instead of being
        booked: it is the step the book would give next, so the order of steps is the book's.
        """
        book, days, enter = self._book, self._book_days, self._enter
        while days and days[0] < until:
            day = days[0]
            self._now = day
            steps = book[day]
            k = 0
            while k < len(steps):
                target, value = steps[k]
                k += 1
                if value is _CALL:
                    target()
                    continue
                generator = target
                if type(value) is Waiter:  # the deadline of a request for a place
                    if not value.pending:
                        continue  # it got a place in time
                    value.pool.give_up(value)
                    value = None
                while True:  # run the generator to its next wait, and on while that is its turn
                    try:
                        wait = generator.send(value)
                    except StopIteration:
                        break
                    if type(wait) is int:  # the day of its next step
                        if wait == day and k == len(steps):
                            value = None
                            continue
                        enter(wait, generator, None)
                        break
                    if type(wait) is Place:  # granted as it asked, with nobody waiting
                        value = wait
                        continue
                    if wait.pending:
                        wait.generator = generator
                        enter(wait.deadline, generator, wait)
                        break
                    value = wait.place  # it got a place as it asked, after any others served in the same offer
            heappop(days)
            del book[day]

    def peek(self) -> float:
        """The time of the next care day or SimPy event."""
        if self._book_days:
            return min(self._book_days[0], super().peek())
        return super().peek()

    def step(self) -> None:
        """Run the care steps of the days before SimPy's next event, then that event."""
        if self._book_days:
            self.run_care(self._queue[0][0] if self._queue else math.inf)
        super().step()


DONE, LOST, UNMET = range(3)
"""What became of a need's action."""


@dataclass(eq=False, slots=True)
class RoleDesk:
    """What the care routes look up about one role, gathered in one object.

    An episode's needs are desks, so an action, a hand-off or an outcome finds the role's pool,
    its continuity record and its action length as attributes rather than through several
    dictionaries keyed by the role's name (care steps are most of a run's Python).
    """

    role: str
    index: int  # in ROLES
    bit: int  # ROLE_BIT[role]
    staffed: bool  # the role had a funded post at the start (otherwise its actions are UNMET)
    action_days: float
    pool: CaseloadPool
    last_professional: dict[int, Professional]  # resident -> who last acted for them in this role


NO_EPISODE, OPEN, KNOWN = 0, 1, 2


@dataclass(eq=False, slots=True)
class Episode:
    """One resident's deterioration, from the first sign a service sees until the plan ends.

    The roles still pending and the organisations seen are bitmasks, not sets, and the list of
    professionals is made at the first action: a run keeps thousands of episodes, whose sets (two
    each) were a quarter of the objects the garbage collector has to free when a finished
    model is dropped (:class:`int_sim.model._CollectorPause`).
    """

    resident: int
    number: int  # 1, 2, ... in the order episodes open (CareSystem._open_number)
    opened: int
    seen_by: RoleDesk
    needs: tuple[RoleDesk, ...]  # in the order usual care takes them: the service that saw the sign first
    measured: bool
    pending: int  # bitmask (ROLE_BIT) of the needs no route has taken up yet (usual care, or the team after review)
    outstanding: int  # needs without an outcome (DONE, LOST or UNMET) yet: the episode ends at 0
    source: int  # ROLES index a hand-off comes from: the last to start an action, else who saw the sign
    actions_done: int = 0
    known_day: int | None = None
    reviewed: bool = False
    first_action_day: float | None = None
    crisis_before_action: bool = False
    navigator: Place | None = None
    professionals: list[Professional] | tuple[()] = ()  # who acted, in order; a list from the first action on
    organisations_seen: int = 0  # bitmask of the organisations that acted (CareSystem._organisation_bit)
    repeat_assessments: int = 0
    closed: bool = False


@dataclass
class CareTotals:
    """Counts collected over the measured period."""

    episodes: list = field(default_factory=list)  # every episode opened in the measured period
    plans_completed: int = 0
    joint_plans: int = 0
    navigated_plans: int = 0
    repeat_assessments: int = 0
    continuity_opportunities: int = 0
    continuity_kept: int = 0
    actions_done: dict = field(default_factory=lambda: {r: 0 for r in ROLES})
    actions_unmet: int = 0
    actions_lost: int = 0
    actions_abandoned: int = 0
    reviewed: int = 0
    handoffs: int = 0


class CareSystem:
    """Episodes, the usual-care route and the team route, as generators on :class:`CareEnvironment`."""

    def __init__(self, scenario: Scenario, env: CareEnvironment, population: Population,
                 workforce: Workforce, rng: np.random.Generator, information_rng: np.random.Generator,
                 warmup_days: int):
        self.scenario, self.env, self.population, self.workforce = scenario, env, population, workforce
        self.rng, self.information_rng = rng, information_rng
        self.warmup_days = warmup_days
        team = scenario.team
        self.co_location = CO_LOCATION_LEVEL[team.co_location]
        self.record_flow = min(1.0, team.it_interoperability * (1.0 if team.information_sharing else 0.5)
                               + 0.15 * self.co_location)
        self.team_reviews = team.mdt_interval_days is not None
        self.open: dict[int, Episode] = {}
        # per resident: NO_EPISODE, OPEN (not yet on its way to the team) or KNOWN (on its way or known)
        self._status = np.full(population.size, NO_EPISODE, dtype=np.int8)
        # per resident: the number of their open episode, 0 when none is open
        self._open_number = np.zeros(population.size, dtype=np.int64)
        self._episodes_opened = 0
        # Episodes known to the team and awaiting MDT review, in review-queue order, as the
        # residents' and episodes' numbers: the backlog left by the last meeting, then those
        # that arrived since. The backlog can reach hundreds of thousands at a million residents
        # and every meeting filters and ranks all of it, so it is held as arrays, not episodes.
        self._backlog_residents = np.empty(0, dtype=np.intp)
        self._backlog_numbers = np.empty(0, dtype=np.int64)
        self._arrived_residents: list[int] = []
        self._arrived_numbers: list[int] = []
        # each organisation's bit in an episode's ``organisations_seen``
        self._organisation_bit = {org: 1 << i for i, org in enumerate(workforce.organisations.values())}
        self.totals = CareTotals()
        # per role (see RoleDesk); continuity is kept by role, then resident, so a run makes no
        # (resident, role) key per action
        self.desks = {role: RoleDesk(role, ROLE_INDEX[role], ROLE_BIT[role], workforce.establishment(role) > 0,
                                     getattr(scenario.roles, role).action_days, workforce.pools[role], {})
                      for role in ROLES}
        # scenario look-ups and constant factors of the hot paths, taken once (each product is
        # formed in the same order as the expression it stands for, so results are unchanged)
        care = scenario.care
        self._gp_first = care.gp_sees_first
        self._usual_wait_scale = -care.usual_response_days * (1 - 0.3 * self.co_location)
        reach = (0.2 + 0.4 * self.record_flow + 0.15 * team.information_sharing + 0.1 * self.co_location
                 + 0.05 * team.patient_involvement)
        self._reach = {False: reach, True: reach + 0.15}  # True: a GP saw it and GPs attend the MDT
        self._gp_in_mdt = team.gp_in_mdt and self.desks["gp"].staffed
        self._information_delay = -(care.information_delay_days * (1 - 0.7 * self.record_flow)
                                    * (1 - 0.4 * self.co_location))
        self._handoff_co_location = 1 - 0.5 * self.co_location
        self._handoff_records = 1 + 0.5 * (1 - self.record_flow)
        self._loss_factor = (1 - 0.5 * team.role_clarity) * (1 - 0.3 * self.co_location)
        self._max_wait = math.ceil(care.max_wait_days)  # whole days: gives up on the first day it has waited that long
        self._referral_days, self._referral_loss = care.referral_days, care.referral_loss
        self._team_handoff_days = care.team_handoff_days
        self._repeat_extra = care.repeat_assessment_extra
        self._follow_up_days = scenario.roles.care_navigator.action_days
        # a completed plan's quality: joined up (by review) and adherence (with a navigator)
        self._joined_up = {True: 1.0 if self._gp_in_mdt else care.no_gp_effect, False: care.single_service_effect}
        self._adherence = {navigated: min(1.0, 0.85 + 0.1 * team.patient_involvement + (0.1 if navigated else 0.0))
                           for navigated in (False, True)}
        self._intervention_effect, self._protection_days = care.intervention_effect, care.protection_days
        self._ordered_needs: dict[tuple[int, str], tuple[RoleDesk, ...]] = {}
        # The care stream's uniforms, ``next(self._uniforms)`` one at a time (``self.rng`` is drawn
        # only through this). They are drawn in blocks of 1,024 as each runs out: the same numbers
        # in the same order as one or two at a time (numpy fills a block draw by draw), for less
        # per-draw overhead.
        self._uniforms = itertools.chain.from_iterable(iter(lambda: rng.random(1024).tolist(), None))
        if self.team_reviews:
            env.process(self._mdt_meetings(team.mdt_interval_days))

    # --- signs and events from the population ----------------------------------------
    def on_signs(self, day: int, residents: np.ndarray) -> None:
        if residents.size == 0:
            return
        u = self.information_rng.random((4, residents.size))
        # Most signs come from residents whose open episode needs nothing more (no MDTs, or the
        # team has heard of it): only the others are visited, in the same order as before.
        status = self._status[residents]
        todo = np.flatnonzero(status != KNOWN if self.team_reviews else status == NO_EPISODE)
        if todo.size == 0:
            return
        u_seen, u_reach, u_delay, u_wait = u[:, todo].tolist()
        residents = residents[todo]
        needs = self.population.needs[residents].tolist()  # bitmasks, gathered at once for new episodes
        for k, resident in enumerate(residents.tolist()):
            episode = self.open.get(resident)
            if episode is None:
                episode = self._open_episode(resident, needs[k], day, u_seen[k], u_wait[k])
            if self.team_reviews and episode.known_day is None:
                self._maybe_reach_team(episode, u_reach[k], u_delay[k])

    def on_events(self, day: int, residents: np.ndarray) -> None:
        """A crisis or admission before anyone acted marks the episode as too late."""
        for resident in residents[self._status[residents] != NO_EPISODE].tolist():  # (the few with an episode)
            episode = self.open[resident]
            if episode.first_action_day is None:
                episode.crisis_before_action = True

    def _open_episode(self, resident: int, bits: int, day: int, u: float, u_wait: float) -> Episode:
        """A new episode for a resident whose needs are the bitmask ``bits``; usual care starts after a wait."""
        needs = self.population.needs_list(bits)
        gp_first = self._gp_first
        if u < gp_first:
            seen_by = "gp"
        else:
            seen_by = needs[min(int((u - gp_first) / (1 - gp_first) * len(needs)), len(needs) - 1)]
        ordered = self._ordered_needs.get((bits, seen_by))
        if ordered is None:  # the seeing service acts first
            ordered = self._ordered_needs[bits, seen_by] = tuple(
                self.desks[role] for role in sorted(needs, key=lambda role: role != seen_by))
        desk = self.desks[seen_by]
        self._episodes_opened += 1
        episode = Episode(resident, self._episodes_opened, day, desk, ordered, day >= self.warmup_days, bits,
                          len(ordered), desk.index)
        self.open[resident] = episode
        self._status[resident] = OPEN
        self._open_number[resident] = episode.number
        if episode.measured:
            self.totals.episodes.append(episode)
        # services that share a building hear of a sign sooner and decide faster
        self.env.start_on(self._day_after(self._usual_wait_scale * math.log1p(-u_wait)), self._usual_care(episode))
        return episode

    # --- information flow to the team ------------------------------------------------
    def _maybe_reach_team(self, episode: Episode, u_reach: float, u_delay: float) -> None:
        p = self._reach[episode.seen_by.role == "gp" and self._gp_in_mdt]
        p = min(0.95, p) * (0.7 + 0.3 * self.workforce.mean_trust_cached)
        if u_reach >= p:
            return
        episode.known_day = -1  # on its way
        self._status[episode.resident] = KNOWN
        self.env.call_on(self._day_after(self._information_delay * math.log1p(-u_delay)),
                             partial(self._arrive, episode))

    def _arrive(self, episode: Episode) -> None:
        """The sign reaches the team: the episode awaits MDT review, unless it has ended meanwhile."""
        episode.known_day = int(self.env.now)
        if not episode.closed:
            self._arrived_residents.append(episode.resident)
            self._arrived_numbers.append(episode.number)

    @property
    def awaiting_review(self) -> int:
        """Episodes in the review queue, counting those closed since the last meeting (it drops them)."""
        return len(self._backlog_residents) + len(self._arrived_residents)

    # --- MDT review --------------------------------------------------------------------
    def _mdt_meetings(self, interval: int):
        team, care = self.scenario.team, self.scenario.care
        yield self.env.timeout(0.5)
        while True:
            yield self.env.timeout(interval)
            navigators = self.workforce.pools["care_navigator"]
            prepared = 0.8 if any(p.role == "care_navigator" for p in self.workforce.in_post()) else 1.0
            capacity = int(team.mdt_minutes * team.mdt_attendance / (care.minutes_per_case * prepared))
            self.workforce.mdt_meeting(team.mdt_attendance)
            residents, numbers = self._review_queue()
            if residents.size and capacity > 0:
                order = self._highest_risk_first(residents)
                residents, numbers = residents[order], numbers[order]
                chosen = residents[:capacity].tolist()
                residents, numbers = residents[capacity:], numbers[capacity:]
            else:
                chosen = []
            self._backlog_residents, self._backlog_numbers = residents, numbers
            for resident in chosen:  # (reviews book later steps: no episode closes during them)
                self._review(self.open[resident], navigators)

    def _review_queue(self) -> tuple[np.ndarray, np.ndarray]:
        """The review queue without the episodes that closed while waiting: residents and episode numbers.

        An episode reviewed leaves the queue at its meeting, and a closed one is no longer its
        resident's open episode, so the queue holds exactly the open episodes whose number is
        still their resident's."""
        residents = np.concatenate((self._backlog_residents, np.array(self._arrived_residents, dtype=np.intp)))
        numbers = np.concatenate((self._backlog_numbers, np.array(self._arrived_numbers, dtype=np.int64)))
        self._arrived_residents.clear()
        self._arrived_numbers.clear()
        waiting = self._open_number[residents] == numbers
        return residents[waiting], numbers[waiting]

    def _highest_risk_first(self, residents: np.ndarray) -> np.ndarray:
        """The order that ranks the queue's residents highest risk first, first in the queue first
        among equals (a stable sort)."""
        risk = -(1.0 + self.population.excess_of(residents)) * self.population.weight[residents]
        return np.argsort(risk, kind="stable")

    def _review(self, episode: Episode, navigators) -> None:
        """A joint plan: every need no route has taken up starts together, after an in-team hand-off."""
        episode.reviewed = True
        if episode.measured:
            self.totals.reviewed += 1
        place = navigators.take_first()
        if place is not None:
            place.professional.busy += 1
            episode.navigator = place
        loss = self._referral_loss * 0.3 * (0.3 if episode.navigator else 1.0)
        pending, episode.pending = episode.pending, 0  # the team takes up every role still pending
        for desk in episode.needs:
            if pending & desk.bit:
                day, lost = self._handoff(episode, desk, self._team_handoff_days, loss)
                self.env.start_on(day, self._joint_action(episode, desk, lost))

    # --- the two routes ------------------------------------------------------------------
    def _usual_care(self, episode: Episode):
        """Each service acts in turn, after a referral unless it saw the sign; started after the wait to decide."""
        first = True
        for desk in episode.needs:
            bit = desk.bit
            if not episode.pending & bit:
                continue
            if not (first and desk is episode.seen_by):  # anyone but the service that saw the sign needs a referral
                day, lost = self._handoff(episode, desk, self._referral_days, self._referral_loss)
                yield day
                if not episode.pending & bit:
                    continue  # the team took it over meanwhile
                if lost:
                    episode.pending ^= bit
                    self._mark(episode, desk, LOST)
                    continue
            episode.pending ^= bit
            first = False
            yield from self._act(episode, desk)
        self._finish_if_resolved(episode)

    def _joint_action(self, episode: Episode, desk: RoleDesk, lost: bool):
        """A reviewed plan's action, started once its in-team hand-off (lost on the way if ``lost``) is over."""
        if lost:
            self._mark(episode, desk, LOST)
        else:
            yield from self._act(episode, desk)
        self._finish_if_resolved(episode)

    def _day_after(self, delay: float) -> int:
        """The day of a care step ``delay`` days from now: care steps happen on whole days, so the
        time ``now + delay`` is rounded down or up at random, up with probability equal to its
        fractional part, which keeps its mean exactly (care stream)."""
        return int(self.env.now + delay + next(self._uniforms))

    def _handoff(self, episode: Episode, desk: RoleDesk, mean_days: float, loss: float) -> tuple[int, bool]:
        """When a hand-off between organisations arrives, and whether it is lost on the way:
        co-location, trust and records."""
        trust = self.workforce.role_trust_rows[episode.source][desk.index]
        factor = self._handoff_co_location * (1.5 - trust) * self._handoff_records
        loss *= self._loss_factor
        u_delay = next(self._uniforms)
        u_lost = next(self._uniforms)
        if episode.measured:
            self.totals.handoffs += 1
        return self._day_after(-mean_days * factor * math.log1p(-u_delay)), u_lost < loss

    def _act(self, episode: Episode, desk: RoleDesk):
        """Wait for a caseload place of the role, do the work, give the place back."""
        if not desk.staffed:
            self._mark(episode, desk, UNMET)
            return
        last_professional = desk.last_professional
        previous = last_professional.get(episode.resident)
        # the same professional as last time if they have a place free now, otherwise anyone
        if previous is not None and previous.in_post and previous.free:
            who = previous
        else:
            who = None
        place = yield desk.pool.request(who, self.env.now + self._max_wait)
        if place is None:  # max_wait_days passed first
            self._mark(episode, desk, LOST)
            if episode.measured:
                self.totals.actions_abandoned += 1
            return
        person = place.professional
        person.busy += 1
        now = self.env.now
        if episode.first_action_day is None:
            episode.first_action_day = now
        if episode.measured and previous is not None and previous.in_post:
            self.totals.continuity_opportunities += 1
            self.totals.continuity_kept += person is previous
        last_professional[episode.resident] = person
        length = desk.action_days
        organisation = self._organisation_bit[person.organisation]
        seen = episode.organisations_seen
        if seen and not seen & organisation and next(self._uniforms) >= self.record_flow:
            episode.repeat_assessments += 1
            length *= 1 + self._repeat_extra
        episode.organisations_seen = seen | organisation
        if episode.professionals:
            episode.professionals.append(person)
        else:  # (no list for the episodes nobody acts on)
            episode.professionals = [person]
        episode.source = desk.index
        yield self._day_after(length * self.workforce.slowdown(person, now))
        self.workforce.release(place)
        self._mark(episode, desk, DONE)

    def _follow_up(self, place: Place) -> None:
        """The navigator has checked the plan holds for a while (``_follow_up_days``) and lets the case go."""
        self.workforce.release(place)

    def _mark(self, episode: Episode, desk: RoleDesk, outcome: int) -> None:
        """Record the outcome of a need's action."""
        episode.outstanding -= 1
        if outcome == DONE:
            episode.actions_done += 1
        if not episode.measured:
            return
        if outcome == DONE:
            self.totals.actions_done[desk.role] += 1
        elif outcome == LOST:
            self.totals.actions_lost += 1
        elif outcome == UNMET:
            self.totals.actions_unmet += 1

    def _finish_if_resolved(self, episode: Episode) -> None:
        """Once every need has an outcome, close the episode and apply the plan's effect."""
        if episode.closed or episode.outstanding:
            return
        episode.closed = True
        del self.open[episode.resident]
        self._status[episode.resident] = NO_EPISODE
        self._open_number[episode.resident] = 0
        if episode.navigator is not None:
            self.env.call_on(self._day_after(self._follow_up_days), partial(self._follow_up, episode.navigator))
        done = episode.actions_done
        if done == 0:
            return
        quality = (self._joined_up[episode.reviewed] * self._adherence[episode.navigator is not None]
                   * done / len(episode.needs))
        self.population.apply_plan(episode.resident, int(self.env.now), self._intervention_effect * quality,
                                   quality, self._protection_days)
        self.workforce.joint_work(episode.professionals)
        if episode.measured:
            t = self.totals
            t.plans_completed += 1
            t.joint_plans += episode.reviewed
            t.navigated_plans += episode.navigator is not None
            t.repeat_assessments += episode.repeat_assessments

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
booked; MDT meetings are SimPy processes at half past a day. The steps of episodes run compiled
from a day book (:mod:`int_sim.care_steps`, on the arrays of :mod:`int_sim.care_state`): in
Python, as generators, they were most of a run's cost (benchmarks/README.md). This module is
their Python side: it hands them each day's signs and events, holds the MDT meetings, and
reads their totals.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
import simpy

from .care_state import (ACTIONS_ABANDONED, ACTIONS_DONE_BY_ROLE, ACTIONS_LOST, ACTIONS_UNMET, ACTION_DAYS,
                         ADHERENCE_ALONE, ADHERENCE_NAVIGATED, ARRIVED_COUNT, CLOSED, CONTINUITY_KEPT,
                         CONTINUITY_OPPORTUNITIES, CRISIS_BEFORE_ACTION, EPISODES_OPENED, FIRST_ACTION_DAY,
                         FOLLOW_UP_DAYS, GP_FIRST, HANDOFFS, HANDOFF_CO_LOCATION, HANDOFF_RECORDS, INFORMATION_DELAY,
                         INTERVENTION_EFFECT, JOINED_UP_REVIEWED, JOINED_UP_SINGLE, JOINT_PLANS, JOINT_TRAINING,
                         JOINT_WORK_GAIN, KNOWN, LOSS_FACTOR, MAX_NEEDS, MAX_WAIT, MEASURED, NAVIGATED_PLANS,
                         NEW_STARTER_DAYS, NEXT_DAY, NONE, NO_EPISODE, OPENED, OPEN_EPISODES, PLANS_COMPLETED,
                         PLANS_NOTED, POSTS, PROFESSIONALS_COUNT, PROTECTION_DAYS, REACH, REACH_GP_IN_MDT,
                         RECORD_FLOW, REFERRAL_DAYS, REFERRAL_LOSS, REPEAT_EXTRA, REPEAT_TOTAL, RESIDENT,
                         REVIEWED_TOTAL, STAFFED, TEAM_HANDOFF_DAYS, TEAM_REVIEWS, USUAL_WAIT_SCALE, WARMUP_DAYS,
                         CareState)
from .care_steps import HANDOFF_UNIFORMS, ON_EVENTS, ON_SIGNS, RESERVE, REVIEW, RUN_CARE, SIGN_UNIFORMS, call
from .day_book import next_booked_day
from .population import Population
from .scenario import CO_LOCATION_LEVEL, ROLE_INDEX, ROLES, Scenario
from .workforce import Workforce


class CareEnvironment(simpy.Environment):
    """SimPy's environment, running the care steps of each day between SimPy's events.

    SimPy owns the clock: the daily step and the MDT meetings are SimPy processes, and ``run``,
    ``step`` and ``now`` behave as SimPy's. Care steps happen on whole days, from the care
    system's day book (``care``, the :class:`CareSystem` that sets itself here): before each
    SimPy event, the care steps of the days before it run, so a day's care runs after that day's
    step, and steps a meeting (at half past) books for its own day run after the meeting.
    """

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        self.care: CareSystem | None = None

    # SimPy's ``now`` returns ``_now`` from a Python function; the same read through a C getter
    # costs a third as much
    now = property(operator.attrgetter("_now"), doc="The current simulation time.")

    def peek(self) -> float:
        """The time of the next care day or SimPy event."""
        day = None if self.care is None else next_booked_day(self.care.state.arrays)
        return super().peek() if day is None else min(day, super().peek())

    def step(self) -> None:
        """Run the care steps of the days before SimPy's next event, then that event."""
        if self.care is not None:
            self.care.run_care(self._queue[0][0] if self._queue else math.inf)
        super().step()


@dataclass
class EpisodeTable:
    """The episodes opened in the measured period, as arrays in the order they opened."""

    resident: np.ndarray
    opened: np.ndarray
    first_action_day: np.ndarray  # float: NaN where nobody acted
    crisis_before_action: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.resident)


@dataclass
class CareTotals:
    """Counts collected over the measured period."""

    episodes: EpisodeTable
    plans_completed: int
    joint_plans: int
    navigated_plans: int
    repeat_assessments: int
    continuity_opportunities: int
    continuity_kept: int
    actions_done: dict
    actions_unmet: int
    actions_lost: int
    actions_abandoned: int
    reviewed: int
    handoffs: int


class CareSystem:
    """Episodes, the usual-care route and the team route: the Python side of :mod:`int_sim.care_steps`."""

    def __init__(self, scenario: Scenario, env: CareEnvironment, population: Population,
                 workforce: Workforce, rng: np.random.Generator, information_rng: np.random.Generator,
                 warmup_days: int, state: CareState):
        self.scenario, self.env, self.population, self.workforce = scenario, env, population, workforce
        self.rng, self.information_rng = rng, information_rng  # the care stream is drawn by the compiled steps
        self.warmup_days = warmup_days
        self.state = state
        team = scenario.team
        self.co_location = CO_LOCATION_LEVEL[team.co_location]
        self.record_flow = min(1.0, team.it_interoperability * (1.0 if team.information_sharing else 0.5)
                               + 0.15 * self.co_location)
        self.team_reviews = team.mdt_interval_days is not None
        # Episodes known to the team and awaiting MDT review, in review-queue order, as the
        # residents' and episodes' numbers: the backlog left by the last meeting (those that
        # arrived since are in the state's ``arrived``). The backlog can reach hundreds of
        # thousands at a million residents and every meeting filters and ranks all of it.
        self._backlog_residents = np.empty(0, dtype=np.intp)
        self._backlog_numbers = np.empty(0, dtype=np.int64)
        self._horizon = state.arrays.book_days.shape[1]
        self._set_parameters()
        env.care = self
        if self.team_reviews:
            env.process(self._mdt_meetings(team.mdt_interval_days))

    def _set_parameters(self) -> None:
        """The scenario's constants of the care steps, each formed in the same order as the
        expression it stands for."""
        scenario, team, care = self.scenario, self.scenario.team, self.scenario.care
        a = self.state.arrays
        p = a.parameters
        for role_index, role in enumerate(ROLES):
            a.roles[STAFFED, role_index] = self.workforce.establishment(role) > 0
            a.roles[ACTION_DAYS, role_index] = getattr(scenario.roles, role).action_days
        p[USUAL_WAIT_SCALE] = -care.usual_response_days * (1 - 0.3 * self.co_location)
        reach = (0.2 + 0.4 * self.record_flow + 0.15 * team.information_sharing + 0.1 * self.co_location
                 + 0.05 * team.patient_involvement)
        gp_in_mdt = team.gp_in_mdt and a.roles[STAFFED, ROLE_INDEX["gp"]]
        p[REACH] = reach
        p[REACH_GP_IN_MDT] = reach + 0.15 if gp_in_mdt else reach  # a GP saw it and GPs attend the MDT
        p[INFORMATION_DELAY] = -(care.information_delay_days * (1 - 0.7 * self.record_flow)
                                 * (1 - 0.4 * self.co_location))
        p[HANDOFF_CO_LOCATION] = 1 - 0.5 * self.co_location
        p[HANDOFF_RECORDS] = 1 + 0.5 * (1 - self.record_flow)
        p[LOSS_FACTOR] = (1 - 0.5 * team.role_clarity) * (1 - 0.3 * self.co_location)
        p[MAX_WAIT] = math.ceil(care.max_wait_days)  # whole days: gives up on the first day it has waited that long
        p[REFERRAL_DAYS], p[REFERRAL_LOSS] = care.referral_days, care.referral_loss
        p[TEAM_HANDOFF_DAYS] = care.team_handoff_days
        p[REPEAT_EXTRA] = care.repeat_assessment_extra
        p[FOLLOW_UP_DAYS] = scenario.roles.care_navigator.action_days
        p[RECORD_FLOW] = self.record_flow
        # a completed plan's quality: joined up (by review) and adherence (with a navigator)
        p[JOINED_UP_REVIEWED] = 1.0 if gp_in_mdt else care.no_gp_effect
        p[JOINED_UP_SINGLE] = care.single_service_effect
        for index, navigated in ((ADHERENCE_ALONE, False), (ADHERENCE_NAVIGATED, True)):
            p[index] = min(1.0, 0.85 + 0.1 * team.patient_involvement + (0.1 if navigated else 0.0))
        p[INTERVENTION_EFFECT], p[PROTECTION_DAYS] = care.intervention_effect, care.protection_days
        p[GP_FIRST] = care.gp_sees_first
        p[WARMUP_DAYS] = self.warmup_days
        p[TEAM_REVIEWS] = self.team_reviews
        p[JOINT_TRAINING] = team.joint_training
        p[NEW_STARTER_DAYS] = scenario.workforce.new_starter_days
        p[JOINT_WORK_GAIN] = scenario.workforce.trust_gain_joint_work
        p[POSTS] = len(self.workforce.posts)

    # --- the care steps ----------------------------------------------------------------
    def run_care(self, until: float) -> None:
        """Run the care steps of the days before ``until``; the plans they complete take effect
        before the residents' state is next read."""
        state = self.state
        until = min(until, self._horizon)
        if state.arrays.counters[NEXT_DAY] >= until:
            return
        while call(state, RUN_CARE, value=until):  # it stopped for more room: uniforms, or in the book
            state.draw_ahead(self.rng, 64 * RESERVE)
            state.room_in_book(state.arrays.places.shape[1] + 64 * RESERVE)
        self._hand_over_plans()

    def _hand_over_plans(self) -> None:
        a = self.state.arrays
        count = int(a.counters[PLANS_NOTED])
        if count:
            self.population.apply_plans(a.plans[:, :count])
            a.counters[PLANS_NOTED] = 0

    # --- signs and events from the population ----------------------------------------
    def on_signs(self, day: int, residents: np.ndarray) -> None:
        if residents.size == 0:
            return
        u = self.information_rng.random((4, residents.size))
        # Most signs come from residents whose open episode needs nothing more (no MDTs, or the
        # team has heard of it): only the others are visited, in the same order as before.
        status = self.state.arrays.status[residents]
        todo = np.flatnonzero(status != KNOWN if self.team_reviews else status == NO_EPISODE)
        if todo.size == 0:
            return
        residents = residents[todo]
        self.state.room_for_episodes(residents.size)
        self.state.draw_ahead(self.rng, SIGN_UNIFORMS * residents.size)
        self.state.room_in_book(SIGN_UNIFORMS * residents.size)  # (an entry for each)
        numbers = np.vstack((residents, self.population.needs[residents])).astype(np.int64)
        call(self.state, ON_SIGNS, numbers, u[:, todo], day)  # rows of u: seen by, reach, delay, wait

    def on_events(self, day: int, residents: np.ndarray) -> None:
        """A crisis or admission before anyone acted marks the episode as too late."""
        if residents.size:
            call(self.state, ON_EVENTS, residents.astype(np.int64)[None, :])

    @property
    def open_episodes(self) -> int:
        """Residents with an open episode."""
        return int(self.state.arrays.counters[OPEN_EPISODES])

    @property
    def awaiting_review(self) -> int:
        """Episodes in the review queue, counting those closed since the last meeting (it drops them)."""
        return len(self._backlog_residents) + int(self.state.arrays.counters[ARRIVED_COUNT])

    # --- MDT review --------------------------------------------------------------------
    def _mdt_meetings(self, interval: int):
        team, care = self.scenario.team, self.scenario.care
        yield self.env.timeout(0.5)
        while True:
            yield self.env.timeout(interval)
            prepared = 0.8 if any(p.role == "care_navigator" for p in self.workforce.in_post()) else 1.0
            capacity = int(team.mdt_minutes * team.mdt_attendance / (care.minutes_per_case * prepared))
            self.workforce.mdt_meeting(team.mdt_attendance)
            residents, numbers = self._review_queue()
            if residents.size and capacity > 0:
                order = self._highest_risk_first(residents)
                residents, numbers = residents[order], numbers[order]
                chosen = numbers[:capacity]
                residents, numbers = residents[capacity:], numbers[capacity:]
            else:
                chosen = numbers[:0]
            self._backlog_residents, self._backlog_numbers = residents, numbers
            self._review(chosen)

    def _review_queue(self) -> tuple[np.ndarray, np.ndarray]:
        """The review queue without the episodes that closed while waiting: residents and episode numbers.

        An episode reviewed leaves the queue at its meeting, and a closed one is no longer its
        resident's open episode, so the queue holds exactly the open episodes whose number is
        still their resident's."""
        a = self.state.arrays
        arrived = int(a.counters[ARRIVED_COUNT])
        residents = np.concatenate((self._backlog_residents, a.arrived[0, :arrived]))
        numbers = np.concatenate((self._backlog_numbers, a.arrived[1, :arrived]))
        a.counters[ARRIVED_COUNT] = 0
        waiting = a.open_number[residents] == numbers
        return residents[waiting], numbers[waiting]

    def _highest_risk_first(self, residents: np.ndarray) -> np.ndarray:
        """The order that ranks the queue's residents highest risk first, first in the queue first
        among equals (a stable sort)."""
        risk = -(1.0 + self.population.excess_of(residents)) * self.population.weight[residents]
        return np.argsort(risk, kind="stable")

    def _review(self, episodes: np.ndarray) -> None:
        """Joint plans for the chosen episodes, in order (:func:`int_sim.care_steps.review`)."""
        if episodes.size:
            self.state.draw_ahead(self.rng, HANDOFF_UNIFORMS * MAX_NEEDS * episodes.size)
            self.state.room_in_book(MAX_NEEDS * episodes.size)
            call(self.state, REVIEW, episodes[None, :], value=self.env.now)

    # --- reading episodes ------------------------------------------------------------------
    def open_episode_numbers(self) -> np.ndarray:
        """The numbers of the open episodes, in the order they opened."""
        a = self.state.arrays
        numbers = a.open_number[a.open_number > 0]
        numbers.sort()
        return numbers

    def is_closed(self, number: int) -> bool:
        return bool(self.state.arrays.episodes[number, CLOSED])

    def professionals(self, number: int) -> list:
        """Who acted on episode ``number``, in order (:class:`~int_sim.workforce.Professional`)."""
        a = self.state.arrays
        slots = a.professionals[number, :a.episodes[number, PROFESSIONALS_COUNT]]
        return [self.workforce.people_by_slot[slot] for slot in slots.tolist()]

    @property
    def totals(self) -> CareTotals:
        """The counts of the measured period so far."""
        a = self.state.arrays
        c = a.counters.tolist()
        opened = int(a.counters[EPISODES_OPENED])
        e = a.episodes[1:opened + 1].T
        measured = e[MEASURED] == 1
        first_action = e[FIRST_ACTION_DAY, measured].astype(float)
        first_action[first_action == NONE] = np.nan
        episodes = EpisodeTable(e[RESIDENT, measured], e[OPENED, measured], first_action,
                                e[CRISIS_BEFORE_ACTION, measured] == 1)
        return CareTotals(
            episodes=episodes, plans_completed=c[PLANS_COMPLETED], joint_plans=c[JOINT_PLANS],
            navigated_plans=c[NAVIGATED_PLANS], repeat_assessments=c[REPEAT_TOTAL],
            continuity_opportunities=c[CONTINUITY_OPPORTUNITIES], continuity_kept=c[CONTINUITY_KEPT],
            actions_done={role: c[ACTIONS_DONE_BY_ROLE + k] for k, role in enumerate(ROLES)},
            actions_unmet=c[ACTIONS_UNMET], actions_lost=c[ACTIONS_LOST], actions_abandoned=c[ACTIONS_ABANDONED],
            reviewed=c[REVIEWED_TOTAL], handoffs=c[HANDOFFS])

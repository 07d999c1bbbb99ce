"""Warning signs, information flow, MDT caseload review and care plans (SimPy processes).

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from .population import Population
from .scenario import CO_LOCATION_LEVEL, ROLES, Scenario
from .workforce import Place, Professional, Workforce


PENDING, CLAIMED, ACTIVE, DONE, LOST, UNMET = range(6)


@dataclass(eq=False)
class Episode:
    """One resident's deterioration, from the first sign a service sees until the plan ends."""

    resident: int
    opened: int
    seen_by: str
    needs: list[str]
    measured: bool
    state: dict[str, int] = field(default_factory=dict)
    known_day: int | None = None
    reviewed: bool = False
    first_action_day: float | None = None
    crisis_before_action: bool = False
    navigator: Place | None = None
    professionals: list[Professional] = field(default_factory=list)
    organisations_seen: set[str] = field(default_factory=set)
    repeat_assessments: int = 0
    closed: bool = False

    def resolved(self) -> bool:
        return all(s in (DONE, LOST, UNMET) for s in self.state.values())


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
    """Episodes, the usual-care route and the team route, as SimPy processes."""

    def __init__(self, scenario: Scenario, env: simpy.Environment, population: Population,
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
        self.known: list[Episode] = []  # known to the team, awaiting MDT review
        self.last_professional: dict[tuple[int, str], Professional] = {}
        self.totals = CareTotals()
        self._establishment = {role: workforce.establishment(role) for role in ROLES}
        if self.team_reviews:
            env.process(self._mdt_meetings(team.mdt_interval_days))

    # --- signs and events from the population ----------------------------------------
    def on_signs(self, day: int, residents: np.ndarray) -> None:
        if residents.size == 0:
            return
        u = self.information_rng.random((4, residents.size))
        for k, resident in enumerate(residents.tolist()):
            episode = self.open.get(resident)
            if episode is None:
                episode = self._open_episode(resident, day, u[0, k], u[3, k])
            if self.team_reviews and episode.known_day is None:
                self._maybe_reach_team(episode, u[1, k], u[2, k])

    def on_events(self, day: int, residents: np.ndarray) -> None:
        """A crisis or admission before anyone acted marks the episode as too late."""
        for resident in residents.tolist():
            episode = self.open.get(resident)
            if episode is not None and episode.first_action_day is None:
                episode.crisis_before_action = True

    def _open_episode(self, resident: int, day: int, u: float, u_wait: float) -> Episode:
        needs = self.population.needs_of(resident)
        gp_first = self.scenario.care.gp_sees_first
        if u < gp_first:
            seen_by = "gp"
        else:
            seen_by = needs[min(int((u - gp_first) / (1 - gp_first) * len(needs)), len(needs) - 1)]
        ordered = sorted(needs, key=lambda role: role != seen_by)  # the seeing service acts first
        episode = Episode(resident=resident, opened=day, seen_by=seen_by, needs=ordered,
                          measured=day >= self.warmup_days, state={role: PENDING for role in ordered})
        self.open[resident] = episode
        if episode.measured:
            self.totals.episodes.append(episode)
        # services that share a building hear of a sign sooner and decide faster
        wait = -self.scenario.care.usual_response_days * (1 - 0.3 * self.co_location) * np.log1p(-u_wait)
        self.env.process(self._usual_care(episode, wait))
        return episode

    # --- information flow to the team ------------------------------------------------
    def _maybe_reach_team(self, episode: Episode, u_reach: float, u_delay: float) -> None:
        team = self.scenario.team
        p = (0.2 + 0.4 * self.record_flow + 0.15 * team.information_sharing + 0.1 * self.co_location
             + 0.05 * team.patient_involvement)
        if episode.seen_by == "gp" and team.gp_in_mdt and self._establishment["gp"] > 0:
            p += 0.15
        p = min(0.95, p) * (0.7 + 0.3 * self.workforce.mean_trust_cached)
        if u_reach >= p:
            return
        mean = self.scenario.care.information_delay_days * (1 - 0.7 * self.record_flow) * (1 - 0.4 * self.co_location)
        episode.known_day = -1  # on its way
        self.env.process(self._arrive(episode, -mean * np.log1p(-u_delay)))

    def _arrive(self, episode: Episode, delay: float):
        yield self.env.timeout(delay)
        episode.known_day = int(self.env.now)
        if not episode.closed:
            self.known.append(episode)

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
            self.known = [e for e in self.known if not e.closed and not e.reviewed]
            if not self.known or capacity <= 0:
                continue
            excess = self.population.excess
            weight = self.population.weight
            self.known.sort(key=lambda e: -(1.0 + excess[e.resident]) * weight[e.resident])
            chosen, self.known = self.known[:capacity], self.known[capacity:]
            for episode in chosen:
                self._review(episode, navigators)

    def _review(self, episode: Episode, navigators: simpy.FilterStore) -> None:
        episode.reviewed = True
        if episode.measured:
            self.totals.reviewed += 1
        if navigators.items:
            place = navigators.items.pop(0)
            place.professional.busy += 1
            episode.navigator = place
        for role in episode.needs:
            if episode.state[role] == PENDING:
                episode.state[role] = CLAIMED
                self.env.process(self._joint_action(episode, role))

    # --- the two routes ------------------------------------------------------------------
    def _usual_care(self, episode: Episode, wait: float):
        care = self.scenario.care
        yield self.env.timeout(wait)
        first = True
        for role in episode.needs:
            if episode.state[role] != PENDING:
                continue
            if not (first and role == episode.seen_by):  # anyone but the service that saw the sign needs a referral
                delay, lost = self._handoff(episode, role, care.referral_days, care.referral_loss)
                yield self.env.timeout(delay)
                if episode.state[role] != PENDING:
                    continue  # the team took it over meanwhile
                if lost:
                    self._mark(episode, role, LOST)
                    continue
            episode.state[role] = ACTIVE
            first = False
            yield from self._act(episode, role)
        self._finish_if_resolved(episode)

    def _joint_action(self, episode: Episode, role: str):
        care = self.scenario.care
        loss = care.referral_loss * 0.3 * (0.3 if episode.navigator else 1.0)
        delay, lost = self._handoff(episode, role, care.team_handoff_days, loss)
        yield self.env.timeout(delay)
        if lost:
            self._mark(episode, role, LOST)
        else:
            episode.state[role] = ACTIVE
            yield from self._act(episode, role)
        self._finish_if_resolved(episode)

    def _handoff(self, episode: Episode, role: str, mean_days: float, loss: float) -> tuple[float, bool]:
        """Delay and loss of a hand-off between organisations: co-location, trust and records."""
        team = self.scenario.team
        source = episode.professionals[-1].role if episode.professionals else episode.seen_by
        trust = self.workforce.role_trust[ROLES.index(source), ROLES.index(role)]
        factor = (1 - 0.5 * self.co_location) * (1.5 - trust) * (1 + 0.5 * (1 - self.record_flow))
        loss *= (1 - 0.5 * team.role_clarity) * (1 - 0.3 * self.co_location)
        u = self.rng.random(2)
        if episode.measured:
            self.totals.handoffs += 1
        return -mean_days * factor * np.log1p(-u[0]), bool(u[1] < loss)

    def _act(self, episode: Episode, role: str):
        """Wait for a caseload place of the role, do the work, give the place back."""
        if self._establishment[role] == 0:
            self._mark(episode, role, UNMET)
            return
        pool = self.workforce.pools[role]
        previous = self.last_professional.get((episode.resident, role))
        if previous is not None and previous.in_post and any(p.professional is previous for p in pool.items):
            request = pool.get(lambda place, who=previous: place.professional is who)
        else:
            request = pool.get()
        outcome = yield request | self.env.timeout(self.scenario.care.max_wait_days)
        if request not in outcome:
            request.cancel()
            self._mark(episode, role, LOST)
            if episode.measured:
                self.totals.actions_abandoned += 1
            return
        place: Place = outcome[request]
        person = place.professional
        person.busy += 1
        now = self.env.now
        if episode.first_action_day is None:
            episode.first_action_day = now
        if episode.measured and previous is not None and previous.in_post:
            self.totals.continuity_opportunities += 1
            self.totals.continuity_kept += person is previous
        self.last_professional[(episode.resident, role)] = person
        length = getattr(self.scenario.roles, role).action_days
        organisation = person.organisation.name
        if episode.organisations_seen and organisation not in episode.organisations_seen \
                and self.rng.random() >= self.record_flow:
            episode.repeat_assessments += 1
            length *= 1 + self.scenario.care.repeat_assessment_extra
        episode.organisations_seen.add(organisation)
        episode.professionals.append(person)
        yield self.env.timeout(length * self.workforce.slowdown(person, int(now)))
        self.workforce.release(place)
        self._mark(episode, role, DONE)

    def _follow_up(self, place: Place):
        """The navigator checks the plan holds for a while before letting the case go."""
        yield self.env.timeout(self.scenario.roles.care_navigator.action_days)
        self.workforce.release(place)

    def _mark(self, episode: Episode, role: str, state: int) -> None:
        episode.state[role] = state
        if not episode.measured:
            return
        if state == DONE:
            self.totals.actions_done[role] += 1
        elif state == LOST:
            self.totals.actions_lost += 1
        elif state == UNMET:
            self.totals.actions_unmet += 1

    def _finish_if_resolved(self, episode: Episode) -> None:
        if episode.closed or not episode.resolved():
            return
        episode.closed = True
        del self.open[episode.resident]
        if episode.navigator is not None:
            self.env.process(self._follow_up(episode.navigator))
        done = sum(1 for s in episode.state.values() if s == DONE)
        if done == 0:
            return
        team = self.scenario.team
        if episode.reviewed:
            joined_up = 1.0 if (team.gp_in_mdt and self._establishment["gp"] > 0) else self.scenario.care.no_gp_effect
        else:
            joined_up = self.scenario.care.single_service_effect
        adherence = min(1.0, 0.85 + 0.1 * team.patient_involvement + (0.1 if episode.navigator else 0.0))
        quality = joined_up * adherence * done / len(episode.needs)
        day = int(self.env.now)
        self.population.apply_plan(episode.resident, day, self.scenario.care.intervention_effect * quality,
                                   quality, self.scenario.care.protection_days)
        self.workforce.joint_work(episode.professionals)
        if episode.measured:
            t = self.totals
            t.plans_completed += 1
            t.joint_plans += episode.reviewed
            t.navigated_plans += episode.navigator is not None
            t.repeat_assessments += episode.repeat_assessments

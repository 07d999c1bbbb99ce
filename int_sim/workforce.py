"""Professionals and organisations: capacity, trust, burnout, turnover, vacancies and cost.

Professionals and organisations are Mesa agents. A *post* is a funded seat in the team; its
occupant is a :class:`Professional` who may burn out, leave and be replaced after a vacancy.
Capacity is a pool of caseload places per role (:mod:`int_sim.caseload`): a care action waits
for a place of its role, first come first served, holds it while it runs and gives it back.

Why team size has an optimum. Each professional spends time keeping in touch with colleagues
(``coordination_minutes_per_colleague`` per colleague per week), which grows with the number
of colleagues and organisations and falls with co-location and shared records; that time makes
every action take longer. A larger team pools places (shorter queues, absences covered) but pays
more coordination: the two together give an interior optimum (tests/test_team_model.py).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import cached_property, reduce
from typing import NamedTuple

import mesa
import numpy as np
import simpy
from numba import njit

from .care_state import ABSENT_UNTIL, BUSY, COORDINATION_SHARE, FREE, IN_POST, MEAN_TRUST, CareState
from .care_steps import END_ABSENCE, PUT_PLACES, WITHDRAW, call
from .scenario import CO_LOCATION_LEVEL, ROLE_INDEX, ROLES, Scenario

SECTOR_OF_ROLE = {
    "gp": "primary_care",
    "care_navigator": "primary_care",
    "community_nurse": "community_health",
    "therapist": "community_health",
    "social_worker": "social_care",
    "mental_health": "mental_health_trust",
    "social_prescriber": "vcse",
    "housing_officer": "housing",
}


class Organisation(mesa.Agent):
    """An employing organisation: its own funding, IT system and information-sharing agreement."""

    def __init__(self, model: mesa.Model, name: str, sector: str, scenario: Scenario, it_system: int):
        super().__init__(model)
        team = scenario.team
        self.name = name
        self.sector = sector
        self.funding_level = team.funding_level
        self.funding_stability = team.funding_stability
        self.it_system = it_system
        self.shares_information = team.information_sharing


class Professional(mesa.Agent):
    """One person in a post: role, organisation, hours, capability, caseload, burnout, tenure.

    What care steps read and change about a person (busy places, places free, burnout, whether
    they are in post or absent) lives in the care arrays, in the person's column ``slot``
    (:mod:`int_sim.care_state`), where the compiled care steps use it; the attributes read it.
    """

    def __init__(self, model: mesa.Model, post: "Post", scenario: Scenario, start_day: int, state: CareState,
                 role_index: int, organisation_index: int):
        super().__init__(model)
        self.post = post
        self.role = post.role
        self.organisation = post.organisation
        self.wte = post.wte
        self.contracted_hours = scenario.workforce.contracted_hours * post.wte
        self.caseload = max(1, int(round(getattr(scenario.roles, post.role).caseload * post.wte)))
        self.start_day = start_day
        self._state = state
        self.slot = state.add_person(role_index, organisation_index, post.index, start_day, burnout=0.0)

    busy = property(lambda self: int(self._state.arrays.people[BUSY, self.slot]), doc="Places in use.")
    free = property(lambda self: int(self._state.arrays.people[FREE, self.slot]), doc="Places free in the pool.")
    burnout = property(lambda self: float(self._state.arrays.burnout[self.slot]))
    in_post = property(lambda self: bool(self._state.arrays.people[IN_POST, self.slot]))
    absent_until = property(lambda self: int(self._state.arrays.people[ABSENT_UNTIL, self.slot]),
                            doc="The day an absence ends (-1 before any).")

    def tenure(self, day: int) -> int:
        return day - self.start_day

    def capability(self, day: int, joint_training: bool, new_starter_days: int) -> float:
        """Relative speed: new starters are slower; joint training makes everyone a little faster."""
        ramp = min(1.0, 0.7 + 0.3 * self.tenure(day) / new_starter_days)
        return ramp * (1.1 if joint_training else 1.0)


@dataclass
class Post:
    index: int
    role: str
    organisation: Organisation
    wte: float
    funded: bool = True
    occupant: Professional | None = None
    fill_day: int | None = None
    vacant_days: int = 0


@dataclass
class WorkforceTotals:
    """Counts collected over the measured period."""

    leavers: int = 0
    starters: int = 0
    vacant_post_days: int = 0
    filled_post_days: float = 0.0
    busy_place_days: float = 0.0
    open_place_days: float = 0.0
    burnout_sum: float = 0.0
    staff_cost: float = 0.0
    lost_at_cliff: int = 0


class DailyRates(NamedTuple):
    """The constants of the people's daily pass (:func:`_people_day`), see :meth:`Workforce._daily_rates`."""

    threshold: float  # utilisation above which burnout builds
    headroom: float  # utilisation from the threshold to full (at least 1e-9)
    target_scale: float  # burnout target at full overload (leadership lowers it)
    calm_target: float  # burnout target at or below the threshold
    time_constant: float  # days burnout takes to follow its target
    absence_start: float  # daily chance that someone present starts an absence
    leave_base: float  # daily chance of leaving at zero burnout
    burnout_leave: float  # how much more likely to leave at full burnout, less 1


# what happens to a post today (see Workforce.daily), as bits: its person starts or ends an
# absence, leaves (any of these), or it is filled
_STARTS_ABSENCE, _RETURNS, _LEAVES, _FILLS = 1, 2, 4, 8


class RoleRun(NamedTuple):
    """The people in post of one role: positions ``start:stop`` in :attr:`Staffing.people`."""

    role: str
    index: int  # in ROLES
    start: int
    stop: int
    places: int  # their caseload places


class Staffing:
    """Who is in post, in post order, and what the daily update needs to know about them.

    Built when first needed after someone joins or leaves (see :attr:`Workforce.staffing`), not
    every day from the posts: at a million residents there are about 840 posts, and changes come
    a few times a day at most.
    """

    def __init__(self, posts: list[Post], daily_cost_rate: dict[str, float], state: CareState):
        self.people = [p.occupant for p in posts if p.occupant is not None]
        self.post_indices = [p.index for p in posts if p.occupant is not None]
        self.posts = np.array(self.post_indices, dtype=np.intp)
        self.vacant = [p for p in posts if p.occupant is None]
        self.places = sum(p.caseload for p in self.people)
        self.wte = sum(p.wte for p in self.people)  # (in post order, as the recorder's daily sum was)
        self.daily_cost = [daily_cost_rate[p.role] * p.wte for p in self.people]
        # posts are created role by role, so each role's people are one run of positions
        self.role_runs: list[RoleRun] = []
        start = 0
        for index, role in enumerate(ROLES):
            stop = start
            while stop < len(self.people) and self.people[stop].role == role:
                stop += 1
            if stop > start:
                places = sum(p.caseload for p in self.people[start:stop])
                self.role_runs.append(RoleRun(role, index, start, stop, places))
            start = stop
        # the compiled daily pass's view of the people (see Workforce.daily): each person's
        # caseload and post, a row each; their columns in the care arrays, and their burnout, the
        # pass's working copy, which it writes back there; and its output, the posts with an event
        self.layout = np.array([[p.caseload for p in self.people], self.post_indices], dtype=np.intp)
        self.slots = np.array([p.slot for p in self.people], dtype=np.intp)
        self.burnout = state.arrays.burnout[self.slots]
        self.events = np.empty((len(self.people), 2), dtype=np.intp)

    @cached_property
    def run_bounds(self) -> np.ndarray:
        """The role runs as rows of (role index in ROLES, start, stop), for compiled passes."""
        return np.array([(run.index, run.start, run.stop) for run in self.role_runs], dtype=np.intp).reshape(-1, 3)


def pair_offset(first, posts: int):
    """Where post ``first``'s pairs start in the pair trust vector, less the second post's index:
    its pair with a later post ``second`` is at ``pair_offset(first, posts) + second``. The pairs
    are the upper triangle of the posts x posts matrix, row by row: first 0 with 1 to n - 1,
    then 1 with 2 to n - 1, and so on (``np.triu_indices(posts, 1)`` order)."""
    return first * (2 * posts - first - 3) // 2 - 1


class _CareParameter:
    """A workforce value kept in the care arrays' parameters (at ``index``), where the compiled
    care steps read it; the workforce reads and sets it as an attribute."""

    def __init__(self, index: int):
        self.index = index

    def __get__(self, workforce: "Workforce", owner=None) -> float:
        return float(workforce.state.arrays.parameters[self.index])

    def __set__(self, workforce: "Workforce", value: float) -> None:
        workforce.state.arrays.parameters[self.index] = value


class Workforce:
    """All posts, people and organisations of the team, and their daily dynamics."""

    def __init__(self, model: mesa.Model, scenario: Scenario, env: simpy.Environment, rng: np.random.Generator,
                 state: CareState):
        self.model, self.scenario, self.env, self.rng = model, scenario, env, rng
        self.state = state  # the care arrays: people's places, burnout and presence, and the pools
        team = scenario.team
        self.integrated = team.mdt_frequency != "none"
        self.co_location = CO_LOCATION_LEVEL[team.co_location]
        self.people_by_slot: list[Professional] = []  # everyone ever appointed, by slot
        self.organisations = self._organisations()
        self.posts = self._posts()
        n = len(self.posts)
        self.stranger_trust = scenario.workforce.stranger_trust
        self._trust_floor, self._trust_decay = 0.1 * team.shared_vision, scenario.workforce.trust_decay_per_day
        pairs = n * (n - 1) // 2
        self._pair_trust = np.full(pairs + 1, self.stranger_trust)  # see trust
        self._pair_trust[pairs] = 1.0  # the self-trust slot
        self._staffing: Staffing | None = None  # who is in post, rebuilt when needed after a change
        self._contact_gains: np.ndarray | None = None  # of the current staffing, when computed
        self._organisation_index = {organisation: i for i, organisation in enumerate(self.organisations.values())}
        self._organisation_of_post = np.array([self._organisation_index[p.organisation] for p in self.posts],
                                              dtype=np.intp)
        self.role_trust = np.full((len(ROLES), len(ROLES)), self.stranger_trust)
        self._joint_training = team.joint_training
        self._new_starter_days = scenario.workforce.new_starter_days
        state.replace(role_trust=self.role_trust, pair_trust=self._pair_trust)  # (read and added to by care steps)
        self.mean_trust_cached = self.stranger_trust
        self.totals = WorkforceTotals()
        self.coordination_share = 0.0
        self.cliff_passed = False
        self._rates = self._daily_rates()
        self.daily_cost_rate = {role: scenario.costs.hourly(role) * scenario.workforce.contracted_hours / 7.0 for role in ROLES}
        for post in self.posts:
            if post.funded:
                self._fill(post, day=0)
        self._update_coordination()
        self._update_role_trust()

    # the share of time spent keeping in touch, and the weekly mean trust between the people in
    # post: the care steps read them (slowdown, a sign's reach), so they live in the care arrays
    coordination_share = _CareParameter(COORDINATION_SHARE)
    mean_trust_cached = _CareParameter(MEAN_TRUST)

    # --- structure ----------------------------------------------------------------------
    def _organisations(self) -> dict[str, Organisation]:
        """One organisation per GP practice and one per other sector; separate IT systems."""
        names = [f"practice_{k + 1}" for k in range(self.scenario.population.gp_practices)]
        names += sorted({s for s in SECTOR_OF_ROLE.values() if s != "primary_care"})
        return {name: Organisation(self.model, name, "primary_care" if name.startswith("practice") else name,
                                   self.scenario, it_system=i)
                for i, name in enumerate(names)}

    def _posts(self) -> list[Post]:
        """Posts per role: whole-time seats plus a part-time one for a fraction; funding_level closes some."""
        staff, funding = self.scenario.team.staff, self.scenario.team.funding_level
        practices = [o for o in self.organisations.values() if o.sector == "primary_care"]
        posts: list[Post] = []
        for role in ROLES:
            wte_total = getattr(staff, role)
            funded_wte = wte_total * funding
            seats = []
            remaining = wte_total
            while remaining > 1e-9:
                seats.append(min(1.0, remaining))
                remaining -= seats[-1]
            funded_left = funded_wte
            for k, wte in enumerate(seats):
                if SECTOR_OF_ROLE[role] == "primary_care":
                    org = practices[k % len(practices)]
                else:
                    org = self.organisations[SECTOR_OF_ROLE[role]]
                post = Post(index=len(posts), role=role, organisation=org, wte=wte, funded=funded_left > 1e-9)
                if post.funded and funded_left < wte:
                    post.wte = funded_left  # the last funded seat is part-funded
                funded_left -= wte
                posts.append(post)
        return posts

    def establishment(self, role: str) -> int:
        """Funded posts of a role (a role with none can never act)."""
        return sum(1 for p in self.posts if p.role == role and p.funded)

    def organisations_in_team(self) -> int:
        return len({p.organisation.name for p in self.posts if p.funded})

    def in_post(self) -> list[Professional]:
        return list(self.staffing.people)

    @property
    def staffing(self) -> Staffing:
        """Who is in post now; built again only after someone has joined or left."""
        if self._staffing is None:
            self._staffing = Staffing(self.posts, self.daily_cost_rate, self.state)
        return self._staffing

    def _staffing_changed(self) -> None:
        self._staffing = None
        self._contact_gains = None

    # --- people joining and leaving ----------------------------------------------------
    def _fill(self, post: Post, day: int) -> None:
        person = Professional(self.model, post, self.scenario,
                              start_day=day - (4 * self.scenario.workforce.new_starter_days if day == 0 else 0),
                              state=self.state, role_index=ROLE_INDEX[post.role],
                              organisation_index=self._organisation_index[post.organisation])
        self.people_by_slot.append(person)
        post.occupant, post.fill_day = person, None
        self._staffing_changed()
        i, trust = post.index, self._pair_trust
        pairs = self._pair_of_cell[i]  # (the self-trust slot at i, left at 1)
        trust[pairs[:i]] = self.stranger_trust
        trust[pairs[i + 1:]] = self.stranger_trust
        places = self.state.add_places(person.slot, person.caseload)
        self.state.room_in_book(person.caseload)  # (an offer for each place, at most)
        call(self.state, PUT_PLACES, np.array([[places.start, places.stop]]), value=self.env.now)

    def _leave(self, post: Post, day: int, refill: bool, u_fill: float = 0.5) -> None:
        person = post.occupant
        self.state.arrays.people[IN_POST, person.slot] = 0
        call(self.state, WITHDRAW, np.array([[person.slot, False]]))
        person.remove()
        post.occupant = None
        self._staffing_changed()
        if refill and post.funded:
            mean = self.scenario.workforce.vacancy_fill_days
            if self.scenario.team.funding_stability == "short_term":
                mean *= self.scenario.workforce.short_term_fill_factor
            if self.scenario.team.pooled_budget:
                mean *= 0.7
            post.fill_day = day + 1 + int(-mean * np.log1p(-u_fill))

    # --- daily dynamics ----------------------------------------------------------------
    def daily(self, day: int, measuring: bool) -> None:
        """Every post's day, in post order (docs/ODD.md 3.1, step 8).

        One pass over the people in post updates burnout and finds who starts or ends an
        absence or leaves; then those posts and the vacancies to fill are handled in post order,
        as the caseload pools need. No post's event changes another post's burnout or draws, so
        this is the same day as handling each post in turn. The pass is compiled
        (:func:`_people_day`), with the same float operations in the same order as the plain
        Python pass it replaced: it reads each person's busy places and the day their absence
        ends, gathered from the care arrays each day (care and absences change them); it updates
        the staffing's working copy of their burnout, which is written back there for the care
        steps and the daily series. At tens of posts, the
        pass in Python cost four times what gathering, the call and writing back do, and reading
        an attribute of every person costs microseconds a day (they are out of the caches).
        """
        posts = self.posts
        # a fixed number of draws per post per day keeps the stream aligned across configurations
        draws = self.rng.random((4, len(posts)))  # rows: leaving, absence, spell length, fill delay
        staffing = self.staffing  # who is in post as the day starts: the people measured
        filling = []
        for post in staffing.vacant:
            if post.funded:
                if measuring:
                    post.vacant_days += 1
                    self.totals.vacant_post_days += 1
                if post.fill_day is not None and day >= post.fill_day:
                    filling.append(post.index)
        care = self.state.arrays
        busy = care.people[BUSY, staffing.slots]
        absence_ends = care.people[ABSENT_UNTIL, staffing.slots]
        burnout_sum, busy_total, flagged = _people_day(staffing.layout, busy, absence_ends, staffing.burnout,
                                                       draws, day, self.totals.burnout_sum, self._rates, staffing.events)
        care.burnout[staffing.slots] = staffing.burnout
        if measuring:
            self._measure(staffing, busy_total, burnout_sum)
        events = dict.fromkeys(filling, _FILLS)
        if flagged:
            events.update(staffing.events[:flagged].tolist())
        changed = bool(filling)
        for k in sorted(events):
            post, event = posts[k], events[k]
            if event == _FILLS:
                self._fill(post, day)
                if measuring:
                    self.totals.starters += 1
                continue
            if event & _STARTS_ABSENCE:
                self._start_absence(post.occupant, day, draws.item(2, k))
            elif event & _RETURNS:
                self._end_absence(post.occupant)
            if event & _LEAVES:
                self._leave(post, day, refill=True, u_fill=draws.item(3, k))
                changed = True
                if measuring:
                    self.totals.leavers += 1
        team = self.scenario.team
        if team.funding_stability == "short_term" and not self.cliff_passed and day >= team.funding_term_days:
            self._funding_cliff(day)
            changed = True
        if changed:
            self._update_coordination()
        self._update_trust()
        if day % 7 == 0:
            self._update_role_trust()

    def _daily_rates(self) -> np.ndarray:
        """The constants of the people's daily pass, the :class:`DailyRates` as an array in their
        order, worked out with the expressions the pass used. They depend only on the scenario
        and whether the funding cliff has passed, so they are worked out at the start and again
        at the cliff."""
        wf, team = self.scenario.workforce, self.scenario.team
        leave_modifier = (1.3 - 0.6 * team.leadership) * (0.7 if team.joint_training else 1.0)
        if team.funding_stability == "short_term" and not self.cliff_passed:
            leave_modifier *= 1.2  # people leave posts that are about to end
        target_scale = 1.0 - 0.3 * team.leadership
        return np.array(DailyRates(
            threshold=wf.burnout_threshold,
            headroom=max(1e-9, 1.0 - wf.burnout_threshold),
            target_scale=target_scale,
            calm_target=0.0 * target_scale,
            time_constant=float(wf.burnout_time_constant_days),  # (a float divisor either way)
            absence_start=wf.absence_rate / wf.absence_spell_days,
            leave_base=wf.annual_turnover / 365.0 * leave_modifier,  # (multiplied left to right)
            burnout_leave=wf.burnout_leave_factor - 1.0,
        ))

    def _measure(self, staffing: Staffing, busy: int, burnout_sum: float) -> None:
        """Add a measured day of everyone in post to the totals: ``busy`` are their busy places
        and ``burnout_sum`` the burnout total with today's added. Places are whole numbers, so
        their sums are exact in any order; the cost, like burnout, is added one person at a time
        in post order, as floats must be to give the same sums."""
        t = self.totals
        t.filled_post_days += len(staffing.people)
        t.busy_place_days += busy
        t.open_place_days += staffing.places
        t.burnout_sum = burnout_sum
        t.staff_cost = reduce(operator.add, staffing.daily_cost, t.staff_cost)

    def _start_absence(self, person: Professional, day: int, u: float) -> None:
        length = 1 + int(-self.scenario.workforce.absence_spell_days * np.log1p(-u))
        self.state.arrays.people[ABSENT_UNTIL, person.slot] = day + length
        call(self.state, WITHDRAW, np.array([[person.slot, True]]))  # withheld while absent

    def _end_absence(self, person: Professional) -> None:
        self.state.room_in_book(person.caseload)
        call(self.state, END_ABSENCE, np.array([[person.slot]]), value=self.env.now)

    def _funding_cliff(self, day: int) -> None:
        """Short-term money ends: a share of posts closes (halved when the budget is pooled)."""
        self.cliff_passed = True
        self._rates = self._daily_rates()
        loss = self.scenario.workforce.funding_cliff_post_loss * (0.5 if self.scenario.team.pooled_budget else 1.0)
        funded = [p for p in self.posts if p.funded]
        n_lost = int(round(loss * len(funded)))
        if n_lost == 0:
            return
        chosen = self.rng.choice(len(funded), size=n_lost, replace=False)
        for k in sorted(chosen):
            post = funded[k]
            post.funded = False
            post.fill_day = None
            if post.occupant is not None:
                self._leave(post, day, refill=False)
        self.totals.lost_at_cliff += n_lost

    # --- coordination and trust --------------------------------------------------------
    def _update_coordination(self) -> None:
        """Share of time spent keeping in touch and in MDT meetings (see module docstring)."""
        team, wf = self.scenario.team, self.scenario.workforce
        people = self.staffing.people
        if not people:
            self.coordination_share = 0.0
            return
        if self.integrated:
            colleagues = len(people) - 1
            organisations = len({p.organisation.name for p in people})
        else:  # working apart, each keeps in touch only within their own organisation
            by_org: dict[str, int] = {}
            for p in people:
                by_org[p.organisation.name] = by_org.get(p.organisation.name, 0) + 1
            colleagues = sum(c * (c - 1) for c in by_org.values()) / len(people)
            organisations = 1
        minutes = wf.coordination_minutes_per_colleague * colleagues
        minutes *= 1.0 + 0.05 * (organisations - 1)
        minutes *= (1.0 - 0.4 * self.co_location) * (1.0 - 0.3 * team.it_interoperability)
        if self.integrated:  # the core members attend: about one per role present, plus two
            attendees = min(len(people), len({p.role for p in people}) + 2)
            minutes += team.mdt_minutes * team.mdt_attendance * 7.0 / team.mdt_interval_days * attendees / len(people)
        self.coordination_share = min(0.8, minutes / (wf.contracted_hours * 60.0))

    def _update_trust(self) -> None:
        """Contact builds trust (each pair meets less often in a large team); it decays without.

        Each pair is updated once, in the pair trust vector (see :attr:`trust`), in place, in one
        compiled pass (:func:`_update_pair_trust`): it gets the same operations in the same order
        as either of its two cells would in a pass over the whole matrix, at half the cost.
        """
        if len(self.staffing.people) < 2:
            return
        if self._contact_gains is None:
            self._contact_gains = self._contact_gains_of_staffing()
        _update_pair_trust(self._pair_trust, self._contact_gains, self._trust_floor, self._trust_decay)

    def _contact_gains_of_staffing(self) -> np.ndarray:
        """Each pair's daily trust gain from contact, given who is in post: one for every pair
        when the team works together, else one per pair, as the pair trust vector holds them
        (contact within organisations only)."""
        team, wf = self.scenario.team, self.scenario.workforce
        gain = wf.trust_gain_per_contact * (1.0 + 0.5 * team.shared_vision + 0.5 * team.leadership
                                            + 0.3 * team.joint_training)
        contacts = wf.daily_contacts * (1.0 + 3.0 * self.co_location)
        # A day's contact closes at most the whole gap to full trust: the levers multiply the
        # gain by up to 2.3, and a share above 1 would overshoot 1 (and, with fast decay, diverge).
        if self.integrated:  # the same for every pair
            return np.full(1, min(gain * min(contacts / (len(self.staffing.people) - 1), 1.0), 1.0))
        # colleagues in post in each organisation; a pair in different organisations has no
        # contact, and min(gain * min(0, 1), 1) is 0, so only each organisation's value is computed
        in_post = np.bincount(self._organisation_of_post[self.staffing.posts], minlength=len(self.organisations))
        per_org = np.maximum(in_post - 1, 1)
        own_organisation = np.minimum(gain * np.minimum(contacts / per_org, 1.0), 1.0)
        return np.append(own_organisation, 0.0).take(self._organisation_of_pairs)

    @cached_property
    def _pair_of_cell(self) -> np.ndarray:
        """Where in the pair trust vector (see :attr:`trust`) each cell of the posts x posts
        matrix is: the pair's position either way round, the self-trust slot on the diagonal."""
        n = len(self.posts)
        post = np.arange(n)
        first, second = np.minimum.outer(post, post), np.maximum.outer(post, post)
        positions = pair_offset(first, n) + second
        np.fill_diagonal(positions, n * (n - 1) // 2)
        return positions

    @cached_property
    def _organisation_of_pairs(self) -> np.ndarray:
        """For each pair of posts, in pair trust vector order, the organisation both are in, or
        the number of organisations (one past the last) when they are in different ones."""
        first, second = np.triu_indices(len(self.posts), 1)
        organisation = self._organisation_of_post
        return np.where(organisation[first] == organisation[second], organisation[first], len(self.organisations))

    @property
    def trust(self) -> np.ndarray:
        """Pairwise trust between posts (posts x posts, symmetric, 1 on the diagonal), up to date,
        as a new array.

        Trust is the same both ways (a pair's contact, joint work and meetings count for both),
        so the model keeps one value per pair: the upper triangle of this matrix, row by row, in a
        vector (:func:`pair_offset`), followed by a self-trust slot that stays 1. The daily
        update then costs half a pass over the whole matrix. The model reads and writes the
        vector; the matrix is built from it for readers that want it whole (network views, tests).
        """
        return self._pair_trust.take(self._pair_of_cell)

    def joint_work(self, people: list[Professional], gain: float) -> None:
        """A meeting is contact for everyone who attends: trust builds between each pair of them.
        (Joint work on a case is added by the care steps, :func:`int_sim.care_steps._joint_work`.)"""
        idx = sorted({p.post.index for p in people if p.in_post})
        if len(idx) < 2:
            return
        # a meeting: each pair among the posts once, all at once (self-trust stays 1): the upper
        # triangle of their block of pair positions, computed (see pair_offset) rather than
        # gathered from _pair_of_cell with its two copies of each pair, at 840 posts a quarter of the cost
        posts = np.array(idx)
        block = pair_offset(posts, len(self.posts))[:, None] + posts
        cells = block[~np.tri(len(posts), dtype=bool)]
        trust = self._pair_trust
        before = trust[cells]
        trust[cells] = before + gain * (1.0 - before)

    def mdt_meeting(self, attendance: float) -> None:
        """A meeting is contact for everyone who attends."""
        u = self.rng.random(len(self.posts))
        staffing = self.staffing
        attending = [person for person, here in zip(staffing.people, (u[staffing.posts] < attendance).tolist()) if here]
        self.joint_work(attending, gain=self.scenario.workforce.trust_gain_mdt)

    def _update_role_trust(self) -> None:
        """Weekly summaries of the pairwise trust matrix used by hand-offs and information flow:
        the mean trust between the people in post, and between each pair of roles (within a role,
        leaving out each person's trust in themselves). A role pair with nobody to summarise keeps
        its previous value.

        People in post are in role runs, so each pair's block is a slice of the in-post trust;
        the blocks are summarised in one compiled pass (:func:`_summarise_role_blocks`), which
        sums each as numpy summed the C-contiguous arrays ``trust[np.ix_(rows, cols)]`` gave, so
        the values are the same floats (the numpy calls for up to 64 blocks cost more than the
        sums themselves).
        """
        if len(self.staffing.people) < 2:
            self.mean_trust_cached = self.stranger_trust
            return
        among = self._trust_in_post()
        _summarise_role_blocks(among, self.staffing.run_bounds, self.role_trust)
        self.mean_trust_cached = _mean_between_others(among)

    def _trust_in_post(self) -> np.ndarray:
        """Trust between the people in post (people x people, in post order) as a C-contiguous
        array, the values ``trust[np.ix_(filled, filled)]`` gives."""
        return _gather_trust(self._pair_trust, self._pair_of_cell, self.staffing.posts)

    def mean_trust(self) -> float:
        """Mean trust between the people in post (stranger trust with fewer than two)."""
        if len(self.staffing.people) < 2:
            return self.stranger_trust
        return _mean_between_others(self._trust_in_post())


def _mean_between_others(block: np.ndarray) -> float:
    """Mean of a square block of the trust matrix without its diagonal (self-trust, 1)."""
    n = len(block)
    return float((block.sum() - n) / (n * (n - 1)))


@njit(cache=True)
def _update_pair_trust(trust: np.ndarray, gains: np.ndarray, floor: float, decay: float) -> None:
    """One day of contact and decay for every pair of the pair trust vector ``trust`` (its last
    slot, self-trust, stays 1): ``t += gain * (1 - t) - decay * max(t - floor, 0)``, term by term
    as numpy evaluated it. ``gains`` holds one gain per pair, or a single gain for every pair."""
    same = gains.size == 1
    for k in range(trust.size - 1):
        t = trust[k]
        build = (1.0 - t) * (gains[0] if same else gains[k])
        fade = t - floor
        if fade < 0.0:
            fade = 0.0
        build -= fade * decay
        trust[k] = t + build


@njit(cache=True)
def _people_day(layout, busy, absence_ends, burnout, draws, day, burnout_sum, rates, events):
    """The people in post's day, in post order (``layout`` and the outputs as in :class:`Staffing`):
    each person's burnout (``burnout``, updated in place) follows their utilisation (``busy``
    places), and the draws (``draws[0]`` leaving, ``draws[1]`` absence, by post) decide who
    starts an absence or leaves; a person whose absence ends today (``absence_ends``, by person)
    returns. ``rates`` are the :class:`DailyRates`, in their order.

    Fills the first rows of ``events`` with the posts with an event, as (post, event bits), and
    returns the burnout total with today's added person by person in post order (from
    ``burnout_sum``), the busy places in all and the number of posts with an event. Every float is the
    expression the plain Python pass evaluated, in its order; max(0, .) and min(1, .) are
    written out as comparisons, which give the same floats. Few arguments and no arrays
    returned: each costs the call microseconds when the caches are cold, as they are once a day.
    """
    threshold, headroom, target_scale, calm_target = rates[0], rates[1], rates[2], rates[3]
    time_constant, absence_start, leave_base, burnout_leave = rates[4], rates[5], rates[6], rates[7]
    people = len(burnout)
    busy_total = 0
    flagged = 0
    for i in range(people):
        caseload, post = layout[0, i], layout[1, i]
        busy_total += busy[i]
        # burnout follows sustained utilisation above the threshold
        level = burnout[i]
        excess = busy[i] / caseload - threshold
        if excess > 0.0:
            over = excess / headroom
            target = (over if over < 1.0 else 1.0) * target_scale
        else:
            target = calm_target
        level += (target - level) / time_constant
        burnout[i] = level
        burnout_sum += level
        event = 0
        absent_until = absence_ends[i]
        if absent_until < day:
            if draws[1, post] < absence_start:
                event |= _STARTS_ABSENCE
        elif absent_until == day:
            event |= _RETURNS
        if draws[0, post] < leave_base * (1.0 + burnout_leave * level):
            event |= _LEAVES
        if event:
            events[flagged, 0], events[flagged, 1] = post, event
            flagged += 1
    return burnout_sum, busy_total, flagged


@njit(cache=True)
def _gather_trust(trust: np.ndarray, pair_of_cell: np.ndarray, posts: np.ndarray) -> np.ndarray:
    """The trust between the people in post at ``posts`` (people x people, in post order), from
    the pair trust vector (``pair_of_cell`` as :attr:`Workforce._pair_of_cell`): one compiled
    pass, where numpy's two gathers through flat cell indices cost the weekly summary more than
    its sums."""
    people = len(posts)
    among = np.empty((people, people))
    for i in range(people):
        for j in range(people):
            among[i, j] = trust[pair_of_cell[posts[i], posts[j]]]
    return among


@njit(cache=True)
def _summarise_role_blocks(among: np.ndarray, runs: np.ndarray, role_trust: np.ndarray) -> None:
    """Mean trust between each pair of role runs (``runs`` as in :attr:`Staffing.run_bounds`)
    of the in-post trust ``among``, into ``role_trust``: within a run of two or more people the
    mean leaves out the diagonal (self-trust, 1); a run of one keeps its previous value on the
    diagonal. Each block is copied in C order and summed as numpy sums it (:func:`_numpy_sum`),
    and the means are divided as numpy divided a float64 by a Python int."""
    block = np.empty(among.size)
    for a in range(len(runs)):
        role_a, start_a, stop_a = runs[a, 0], runs[a, 1], runs[a, 2]
        people = stop_a - start_a
        for b in range(len(runs)):
            role_b, start_b, stop_b = runs[b, 0], runs[b, 1], runs[b, 2]
            n = 0
            for i in range(start_a, stop_a):
                for j in range(start_b, stop_b):
                    block[n] = among[i, j]
                    n += 1
            total = _numpy_sum(block, 0, n)
            if role_a != role_b:
                role_trust[role_a, role_b] = total / (people * (stop_b - start_b))
            elif people > 1:
                role_trust[role_a, role_b] = (total - people) / (people * (people - 1))


@njit(cache=True)
def _numpy_sum(values: np.ndarray, start: int, count: int) -> float:
    """``values[start:start + count].sum()`` as numpy computes it, bit for bit: its sum of a
    contiguous float64 array starts from 0.0 and adds numpy's pairwise sum of the elements."""
    return 0.0 + _pairwise_sum(values, start, count)


@njit(cache=True)
def _pairwise_sum(values: np.ndarray, start: int, count: int) -> float:
    """numpy's pairwise summation (``pairwise_sum`` in its loops): up to 128 elements summed
    as :func:`_short_sum` does; above that, the two halves (split at half the count, rounded down
    to a multiple of 8), each summed in the same way, added, left half first.

    The halving is worked through with explicit stacks, not by recursion, which numba's cache
    does not support: ``spans`` holds the spans still to sum, and a span of count -1 stands for
    "add the two sums on top of ``sums``" once both halves are there.
    """
    if count <= 128:
        return _short_sum(values, start, count)
    spans = np.empty((3 * 64, 2), dtype=np.intp)  # a halving puts 3 spans for 1 and a count halves < 64 times
    sums = np.empty(64 + 1)  # one sum per halving on the way down, and one more
    spans[0, 0], spans[0, 1] = start, count
    pending, held = 1, 0
    while pending:
        pending -= 1
        first, size = spans[pending, 0], spans[pending, 1]
        if size == -1:
            held -= 1
            sums[held - 1] = sums[held - 1] + sums[held]
        elif size <= 128:
            sums[held] = _short_sum(values, first, size)
            held += 1
        else:
            half = size // 2
            half -= half % 8
            spans[pending, 0], spans[pending, 1] = 0, -1  # after both halves: add them
            spans[pending + 1, 0], spans[pending + 1, 1] = first + half, size - half  # the right half second
            spans[pending + 2, 0], spans[pending + 2, 1] = first, half  # the left half first
            pending += 3
    return sums[0]


@njit(cache=True)
def _short_sum(values: np.ndarray, start: int, count: int) -> float:
    """numpy's pairwise summation of up to 128 elements: under 8 one after another; else eight
    running sums over the elements in steps of 8, combined as ((r0 + r1) + (r2 + r3)) +
    ((r4 + r5) + (r6 + r7)), then the remainder one after another."""
    if count < 8:
        total = 0.0
        for i in range(start, start + count):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    whole = count - count % 8
    for i in range(start + 8, start + whole, 8):
        r0 += values[i]
        r1 += values[i + 1]
        r2 += values[i + 2]
        r3 += values[i + 3]
        r4 += values[i + 4]
        r5 += values[i + 5]
        r6 += values[i + 6]
        r7 += values[i + 7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(start + whole, start + count):
        total += values[i]
    return total

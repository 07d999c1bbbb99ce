"""Professionals and organisations: capacity, trust, burnout, turnover, vacancies and cost.

Professionals and organisations are Mesa agents. A *post* is a funded seat in the team; its
occupant is a :class:`Professional` who may burn out, leave and be replaced after a vacancy.
Capacity is a pool of caseload places per role (:class:`CaseloadPool` of :class:`Place`
tokens): a care action waits for a place of its role, first come first served, holds it while it
runs and gives it back.

Why team size has an optimum. Each professional spends time keeping in touch with colleagues
(``coordination_minutes_per_colleague`` per colleague per week), which grows with the number
of colleagues and organisations and falls with co-location and shared records; that time makes
every action take longer. A larger team pools places (shorter queues, absences covered) but pays
more coordination: the two together give an interior optimum (tests/test_team_model.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import mesa
import numpy as np
import simpy

from .scenario import CO_LOCATION_LEVEL, ROLES, Scenario

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
    """One person in a post: role, organisation, hours, capability, caseload, burnout, tenure."""

    def __init__(self, model: mesa.Model, post: "Post", scenario: Scenario, start_day: int):
        super().__init__(model)
        self.post = post
        self.role = post.role
        self.organisation = post.organisation
        self.wte = post.wte
        self.contracted_hours = scenario.workforce.contracted_hours * post.wte
        self.caseload = max(1, int(round(getattr(scenario.roles, post.role).caseload * post.wte)))
        self.busy = 0
        self.burnout = 0.0
        self.start_day = start_day
        self.absent_until = -1
        self.in_post = True
        self.parked: list[Place] = []  # places withheld while absent
        self.free = 0  # of this person's places, how many are free in the pool now

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


class Waiter:
    """An action's request for a caseload place: of one professional (``who``) or of anyone."""

    __slots__ = ("who", "deadline", "pending", "generator", "pool", "place")

    def __init__(self, pool: "CaseloadPool", who: "Professional | None", deadline: float):
        self.pool, self.who, self.deadline = pool, who, deadline
        self.pending = True  # False once it has a place or has given up
        self.generator = None  # the care generator that yielded it (set by the care environment)
        self.place: Place | None = None  # a place granted before it was yielded


class CaseloadPool:
    """A role's free caseload places, and the actions waiting for one.

    The queue discipline is that of the SimPy ``FilterStore`` this replaced (with the early stop
    described in benchmarks/README.md): a new request, and every place given back, offers the
    free places to the waiting requests in the order they came, each taking the longest-free place
    it accepts (a request for a named professional accepts only theirs), until the places run out.
    A request is offered places as soon as it is made; a place given back is offered once the
    current step is over (the care environment's next step at the same time), so a professional
    who comes back from absence and leaves on the same day hands no place to anyone. A request
    that gets a place resumes in the order the places were handed out.
    """

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.items: list[Place] = []  # free places, longest-free first
        self.waiting: deque[Waiter] = deque()  # requests still waiting, first come first

    def request(self, who: "Professional | None", deadline: float) -> Waiter:
        """Ask for a place (of ``who`` only, if given) until ``deadline``; the care generator that
        asks yields the returned waiter at once, and is resumed with the place or, at the
        deadline, with None."""
        waiter = Waiter(self, who, deadline)
        self.waiting.append(waiter)
        self.offer()
        return waiter

    def put(self, place: "Place") -> None:
        """Give a place back; waiting requests are offered it after the current step."""
        self.items.append(place)
        place.professional.free += 1
        if self.waiting:
            self.env.offer_later(self)

    def offer(self) -> None:
        """Offer the free places to the waiting requests, first come first, until none is left."""
        waiting, items = self.waiting, self.items
        k = 0
        while k < len(waiting) and items:
            waiter = waiting[k]
            who = waiter.who
            if who is None:
                place = items.pop(0)
            else:
                for j, item in enumerate(items):
                    if item.professional is who:
                        place = items.pop(j)
                        break
                else:
                    k += 1
                    continue
            del waiting[k]
            place.professional.free -= 1
            waiter.pending = False
            if waiter.generator is None:  # granted as it was made: resumed as soon as it is yielded
                waiter.place = place
            else:
                self.env.wake(waiter.generator, place)

    def take_first(self) -> "Place | None":
        """The longest-free place, outside the queue (care navigators at MDT review), or None."""
        if not self.items:
            return None
        place = self.items.pop(0)
        place.professional.free -= 1
        return place

    def withdraw(self, person: "Professional") -> "list[Place]":
        """Take all of ``person``'s free places out of the pool (absence or leaving)."""
        mine = [place for place in self.items if place.professional is person]
        if mine:
            self.items[:] = [place for place in self.items if place.professional is not person]
        person.free = 0
        return mine

    def give_up(self, waiter: Waiter) -> None:
        """A request whose deadline has come leaves the queue."""
        waiter.pending = False
        self.waiting.remove(waiter)


@dataclass(eq=False, slots=True)
class Place:
    """One caseload place of a professional: the token an action holds while it runs."""

    professional: Professional


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
    by_role_busy: dict = field(default_factory=lambda: {r: 0.0 for r in ROLES})
    by_role_open: dict = field(default_factory=lambda: {r: 0.0 for r in ROLES})


class Workforce:
    """All posts, people and organisations of the team, and their daily dynamics."""

    def __init__(self, model: mesa.Model, scenario: Scenario, env: simpy.Environment, rng: np.random.Generator):
        self.model, self.scenario, self.env, self.rng = model, scenario, env, rng
        team = scenario.team
        self.integrated = team.mdt_frequency != "none"
        self.co_location = CO_LOCATION_LEVEL[team.co_location]
        self.pools = {role: CaseloadPool(env) for role in ROLES}
        self.organisations = self._organisations()
        self.posts = self._posts()
        n = len(self.posts)
        self.stranger_trust = scenario.workforce.stranger_trust
        self._trust = np.full((n, n), self.stranger_trust)
        np.fill_diagonal(self._trust, 1.0)
        self._joint_cells: list[int] = []  # flat cells of joint work not yet applied to _trust (see trust)
        self._trust_buffers = (np.empty((n, n)), np.empty((n, n)))
        self._contact_gain_key: bytes | None = None
        self._contact_gain: float | np.ndarray = 0.0
        self._same_org = np.array([[a.organisation is b.organisation for b in self.posts] for a in self.posts], dtype=bool)
        self._role_of_post = np.array([ROLES.index(p.role) for p in self.posts], dtype=int)
        self.role_trust = np.full((len(ROLES), len(ROLES)), self.stranger_trust)
        self.role_trust_rows = self.role_trust.tolist()  # the same values as Python floats, for hand-offs
        # posts are created role by role, so each role's posts are one ascending run of indices
        self._posts_of_role = [np.flatnonzero(self._role_of_post == a) for a in range(len(ROLES))]
        self._joint_training = team.joint_training
        self._new_starter_days = scenario.workforce.new_starter_days
        self.mean_trust_cached = self.stranger_trust
        self.totals = WorkforceTotals()
        self.coordination_share = 0.0
        self.cliff_passed = False
        self.daily_cost_rate = {role: scenario.costs.hourly(role) * scenario.workforce.contracted_hours / 7.0 for role in ROLES}
        for post in self.posts:
            if post.funded:
                self._fill(post, day=0)
        self._update_coordination()
        self._update_role_trust()

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
        return [p.occupant for p in self.posts if p.occupant is not None]

    # --- people joining and leaving ----------------------------------------------------
    def _fill(self, post: Post, day: int) -> None:
        person = Professional(self.model, post, self.scenario, start_day=day - (4 * self.scenario.workforce.new_starter_days if day == 0 else 0))
        post.occupant, post.fill_day = person, None
        i = post.index
        self.trust[i, :] = self.stranger_trust
        self.trust[:, i] = self.stranger_trust
        self.trust[i, i] = 1.0
        for _ in range(person.caseload):
            self.pools[post.role].put(Place(person))

    def _leave(self, post: Post, day: int, refill: bool, u_fill: float = 0.5) -> None:
        person = post.occupant
        person.in_post = False
        self.pools[post.role].withdraw(person)
        person.remove()
        post.occupant = None
        if refill and post.funded:
            mean = self.scenario.workforce.vacancy_fill_days
            if self.scenario.team.funding_stability == "short_term":
                mean *= self.scenario.workforce.short_term_fill_factor
            if self.scenario.team.pooled_budget:
                mean *= 0.7
            post.fill_day = day + 1 + int(-mean * np.log1p(-u_fill))

    def release(self, place: Place) -> None:
        """Give a caseload place back (dropped if its holder has left, parked if absent)."""
        person = place.professional
        person.busy -= 1
        if not person.in_post:
            return
        if person.absent_until >= self.env.now:
            person.parked.append(place)
        else:
            self.pools[person.role].put(place)

    # --- daily dynamics ----------------------------------------------------------------
    def daily(self, day: int, measuring: bool) -> None:
        wf, team = self.scenario.workforce, self.scenario.team
        posts = self.posts
        # a fixed number of draws per post per day keeps the stream aligned across configurations
        u_leave, u_absence, u_spell, u_fill = self.rng.random((4, len(posts))).tolist()
        base_leave = wf.annual_turnover / 365.0
        leave_modifier = (1.3 - 0.6 * team.leadership) * (0.7 if team.joint_training else 1.0)
        if team.funding_stability == "short_term" and not self.cliff_passed:
            leave_modifier *= 1.2  # people leave posts that are about to end
        absence_start = wf.absence_rate / wf.absence_spell_days
        burnout_target_scale = 1.0 - 0.3 * team.leadership
        threshold, time_constant = wf.burnout_threshold, wf.burnout_time_constant_days
        headroom = max(1e-9, 1.0 - threshold)
        leave_base = base_leave * leave_modifier  # (the hazard below multiplies left to right)
        burnout_leave = wf.burnout_leave_factor - 1.0
        changed = False
        for k, post in enumerate(posts):
            person = post.occupant
            if person is None:
                if post.funded:
                    if measuring:
                        post.vacant_days += 1
                        self.totals.vacant_post_days += 1
                    if post.fill_day is not None and day >= post.fill_day:
                        self._fill(post, day)
                        changed = True
                        if measuring:
                            self.totals.starters += 1
                continue
            # burnout follows sustained utilisation above the threshold
            utilisation = person.busy / person.caseload
            over = max(0.0, utilisation - threshold) / headroom
            target = min(1.0, over) * burnout_target_scale
            person.burnout += (target - person.burnout) / time_constant
            if measuring:
                self._measure(person)
            # absence
            if person.absent_until < day and u_absence[k] < absence_start:
                self._start_absence(person, day, u_spell[k])
            elif person.absent_until == day:
                self._end_absence(person)
            # leaving
            hazard = leave_base * (1.0 + burnout_leave * person.burnout)
            if u_leave[k] < hazard:
                self._leave(post, day, refill=True, u_fill=u_fill[k])
                changed = True
                if measuring:
                    self.totals.leavers += 1
        if team.funding_stability == "short_term" and not self.cliff_passed and day >= team.funding_term_days:
            self._funding_cliff(day)
            changed = True
        if changed:
            self._update_coordination()
        self._update_trust()
        if day % 7 == 0:
            self._update_role_trust()

    def _measure(self, person: Professional) -> None:
        t = self.totals
        t.filled_post_days += 1
        t.busy_place_days += person.busy
        t.open_place_days += person.caseload
        t.by_role_busy[person.role] += person.busy
        t.by_role_open[person.role] += person.caseload
        t.burnout_sum += person.burnout
        t.staff_cost += self.daily_cost_rate[person.role] * person.wte

    def _start_absence(self, person: Professional, day: int, u: float) -> None:
        length = 1 + int(-self.scenario.workforce.absence_spell_days * np.log1p(-u))
        person.absent_until = day + length
        person.parked.extend(self.pools[person.role].withdraw(person))

    def _end_absence(self, person: Professional) -> None:
        parked, person.parked = person.parked, []
        for place in parked:
            self.pools[person.role].put(place)

    def _funding_cliff(self, day: int) -> None:
        """Short-term money ends: a share of posts closes (halved when the budget is pooled)."""
        self.cliff_passed = True
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
        people = self.in_post()
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

    def slowdown(self, person: Professional, day: int) -> float:
        """How much longer an action takes for this person today than its nominal length."""
        capability = person.capability(day, self._joint_training, self._new_starter_days)
        return (1.0 + 0.3 * person.burnout) / (capability * (1.0 - self.coordination_share))

    def _update_trust(self) -> None:
        """Contact builds trust (each pair meets less often in a large team); it decays without."""
        team, wf = self.scenario.team, self.scenario.workforce
        filled = np.array([p.occupant is not None for p in self.posts])
        n = int(filled.sum())
        if n < 2:
            return
        key = filled.tobytes()
        if self._contact_gain_key != key:  # who is in post changed: recompute the contact gain
            gain = wf.trust_gain_per_contact * (1.0 + 0.5 * team.shared_vision + 0.5 * team.leadership
                                                + 0.3 * team.joint_training)
            contacts = wf.daily_contacts * (1.0 + 3.0 * self.co_location)
            # A day's contact closes at most the whole gap to full trust: the levers multiply the
            # gain by up to 2.3, and a share above 1 would overshoot 1 (and, with fast decay, diverge).
            if self.integrated:  # the same for every pair: a number, not a matrix
                self._contact_gain = min(gain * min(contacts / (n - 1), 1.0), 1.0)
            else:
                per_org = np.maximum(self._same_org[:, filled].sum(axis=1) - 1, 1)
                contact = np.where(self._same_org, (contacts / per_org)[:, None], 0.0)
                self._contact_gain = np.minimum(gain * np.minimum(contact, 1.0), 1.0)
            self._contact_gain_key = key
        floor = 0.1 * team.shared_vision
        t = self.trust
        # t += gain * min(contact, 1) * (1 - t) - decay * max(t - floor, 0), in place, term by term
        build, fade = self._trust_buffers
        np.subtract(1.0, t, out=build)
        build *= self._contact_gain
        np.subtract(t, floor, out=fade)
        fade.clip(0, out=fade)
        fade *= wf.trust_decay_per_day
        build -= fade
        t += build
        np.fill_diagonal(t, 1.0)

    @property
    def trust(self) -> np.ndarray:
        """Pairwise trust between posts (posts x posts, 1 on the diagonal), up to date.

        Joint work on a case (the default gain) is collected and applied here, in one pass, the
        next time anyone reads the matrix: the daily update reads it every day. Every cell gets
        the same sequence of updates as if each had been applied at once, because nothing else
        touches the matrix in between, so the values are identical.
        """
        if self._joint_cells:
            self._apply_joint_work()
        return self._trust

    @trust.setter
    def trust(self, value: np.ndarray) -> None:
        self._joint_cells.clear()
        self._trust = value

    def _apply_joint_work(self) -> None:
        cells, times = np.unique(np.array(self._joint_cells, dtype=np.intp), return_counts=True)
        self._joint_cells.clear()
        gain = self.scenario.workforce.trust_gain_joint_work
        flat = self._trust.reshape(-1)  # a view
        for k in range(int(times.max())):  # a pair that worked together k times is updated k times
            if k:
                cells = cells[times > k]
                times = times[times > k]
            before = flat[cells]
            flat[cells] = before + gain * (1.0 - before)  # the diagonal stays exactly 1

    def joint_work(self, people: list[Professional], gain: float | None = None) -> None:
        """Working a case together builds trust between everyone involved."""
        idx = list(dict.fromkeys(p.post.index for p in people if p.in_post))
        if len(idx) < 2:
            return
        n = self._trust.shape[0]
        if gain is None:  # the cells of np.ix_(idx, idx), as flat indices, applied when next read;
            # the diagonal is left out, as the update keeps it at exactly 1 (1 + gain * 0)
            self._joint_cells.extend([i * n + j for i in idx for j in idx if i != j])
            return
        cols = np.array(idx)
        block = (cols[:, None] * n + cols).ravel()
        flat = self.trust.reshape(-1)  # (a view, after any joint work still to apply)
        before = flat[block]
        flat[block] = before + gain * (1.0 - before)  # the diagonal stays exactly 1

    def mdt_meeting(self, attendance: float) -> None:
        """A meeting is contact for everyone who attends."""
        u = self.rng.random(len(self.posts))
        attending = [p.occupant for k, p in enumerate(self.posts) if p.occupant is not None and u[k] < attendance]
        self.joint_work(attending, gain=self.scenario.workforce.trust_gain_mdt)

    def _update_role_trust(self) -> None:
        """Weekly summaries of the pairwise trust matrix used by hand-offs and information flow."""
        self.mean_trust_cached = self.mean_trust()
        posts = self.posts
        # each block is gathered as np.ix_ would (a contiguous copy in the same order), so its sum,
        # and the mean as sum / size, are the same floats as before
        members = [idx[[posts[i].occupant is not None for i in idx]] if idx.size else idx
                   for idx in self._posts_of_role]
        trust, role_trust = self.trust, self.role_trust
        for a, rows in enumerate(members):
            if rows.size == 0:
                continue
            rows = rows[:, None]
            for b, cols in enumerate(members):
                if a == b:
                    n = cols.size
                    if n > 1:  # leave out each person's trust in themselves
                        role_trust[a, b] = float((trust[rows, cols].sum() - n) / (n * (n - 1)))
                elif cols.size:
                    block = trust[rows, cols]
                    role_trust[a, b] = float(block.sum() / block.size)
        self.role_trust_rows = role_trust.tolist()

    def mean_trust(self) -> float:
        filled = np.flatnonzero([p.occupant is not None for p in self.posts])
        n = filled.size
        if n < 2:
            return self.stranger_trust
        block = self.trust[filled[:, None], filled]
        return float((block.sum() - n) / (n * (n - 1)))

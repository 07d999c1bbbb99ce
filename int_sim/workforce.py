"""Professionals and organisations: capacity, trust, burnout, turnover, vacancies and cost.

Professionals and organisations are Mesa agents. A *post* is a funded seat in the team; its
occupant is a :class:`Professional` who may burn out, leave and be replaced after a vacancy.
Capacity is a pool of caseload places per role (a SimPy ``FilterStore`` of :class:`Place`
tokens): a care action waits for a place of its role, holds it while it runs and gives it back.

Why team size has an optimum. Each professional spends time keeping in touch with colleagues
(``coordination_minutes_per_colleague`` per colleague per week), which grows with the number
of colleagues and organisations and falls with co-location and shared records; that time makes
every action take longer. A larger team pools places (shorter queues, absences covered) but pays
more coordination: the two together give an interior optimum (tests/test_team_model.py).
"""

from __future__ import annotations

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


class CaseloadPool(simpy.FilterStore):
    """A role's free caseload places. SimPy's FilterStore offers every new or returned place to
    every waiting action in turn, even when no place is left, which costs the square of the queue;
    this one stops as soon as the places run out. Which action gets which place is unchanged."""

    def _do_get(self, event) -> bool:
        super()._do_get(event)
        return bool(self.items)


@dataclass(eq=False)
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
        self.trust = np.full((n, n), self.stranger_trust)
        np.fill_diagonal(self.trust, 1.0)
        self._same_org = np.array([[a.organisation is b.organisation for b in self.posts] for a in self.posts], dtype=bool)
        self._role_of_post = np.array([ROLES.index(p.role) for p in self.posts], dtype=int)
        self.role_trust = np.full((len(ROLES), len(ROLES)), self.stranger_trust)
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
        pool = self.pools[post.role]
        pool.items[:] = [place for place in pool.items if place.professional is not person]
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
        u = self.rng.random((4, len(posts)))
        base_leave = wf.annual_turnover / 365.0
        leave_modifier = (1.3 - 0.6 * team.leadership) * (0.7 if team.joint_training else 1.0)
        if team.funding_stability == "short_term" and not self.cliff_passed:
            leave_modifier *= 1.2  # people leave posts that are about to end
        absence_start = wf.absence_rate / wf.absence_spell_days
        burnout_target_scale = 1.0 - 0.3 * team.leadership
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
            over = max(0.0, utilisation - wf.burnout_threshold) / max(1e-9, 1.0 - wf.burnout_threshold)
            target = min(1.0, over) * burnout_target_scale
            person.burnout += (target - person.burnout) / wf.burnout_time_constant_days
            if measuring:
                self._measure(person)
            # absence
            if person.absent_until < day and u[1, k] < absence_start:
                self._start_absence(person, day, u[2, k])
            elif person.absent_until == day:
                self._end_absence(person)
            # leaving
            hazard = base_leave * leave_modifier * (1.0 + (wf.burnout_leave_factor - 1.0) * person.burnout)
            if u[0, k] < hazard:
                self._leave(post, day, refill=True, u_fill=u[3, k])
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
        pool = self.pools[person.role]
        mine = [place for place in pool.items if place.professional is person]
        pool.items[:] = [place for place in pool.items if place.professional is not person]
        person.parked.extend(mine)

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
        capability = person.capability(day, self.scenario.team.joint_training, self.scenario.workforce.new_starter_days)
        return (1.0 + 0.3 * person.burnout) / (capability * (1.0 - self.coordination_share))

    def _update_trust(self) -> None:
        """Contact builds trust (each pair meets less often in a large team); it decays without."""
        team, wf = self.scenario.team, self.scenario.workforce
        filled = np.array([p.occupant is not None for p in self.posts])
        n = int(filled.sum())
        if n < 2:
            return
        gain = wf.trust_gain_per_contact * (1.0 + 0.5 * team.shared_vision + 0.5 * team.leadership
                                            + 0.3 * team.joint_training)
        contacts = wf.daily_contacts * (1.0 + 3.0 * self.co_location)
        if self.integrated:
            contact = np.full(self.trust.shape, contacts / (n - 1))
        else:
            per_org = np.maximum(self._same_org[:, filled].sum(axis=1) - 1, 1)
            contact = np.where(self._same_org, (contacts / per_org)[:, None], 0.0)
        floor = 0.1 * team.shared_vision
        t = self.trust
        t += gain * np.minimum(contact, 1.0) * (1.0 - t) - wf.trust_decay_per_day * (t - floor).clip(0)
        np.fill_diagonal(t, 1.0)

    def joint_work(self, people: list[Professional], gain: float | None = None) -> None:
        """Working a case together builds trust between everyone involved."""
        gain = self.scenario.workforce.trust_gain_joint_work if gain is None else gain
        idx = [p.post.index for p in people if p.in_post]
        if len(idx) < 2:
            return
        block = np.ix_(idx, idx)
        self.trust[block] += gain * (1.0 - self.trust[block])
        np.fill_diagonal(self.trust, 1.0)

    def mdt_meeting(self, attendance: float) -> None:
        """A meeting is contact for everyone who attends."""
        u = self.rng.random(len(self.posts))
        attending = [p.occupant for k, p in enumerate(self.posts) if p.occupant is not None and u[k] < attendance]
        self.joint_work(attending, gain=self.scenario.workforce.trust_gain_mdt)

    def _update_role_trust(self) -> None:
        """Weekly summaries of the pairwise trust matrix used by hand-offs and information flow."""
        self.mean_trust_cached = self.mean_trust()
        filled = np.array([p.occupant is not None for p in self.posts])
        for a in range(len(ROLES)):
            rows = filled & (self._role_of_post == a)
            for b in range(len(ROLES)):
                cols = filled & (self._role_of_post == b)
                block = self.trust[np.ix_(rows, cols)]
                if a == b and rows.sum() > 1:  # leave out each person's trust in themselves
                    n = int(rows.sum())
                    self.role_trust[a, b] = float((block.sum() - n) / (n * (n - 1)))
                elif a != b and rows.any() and cols.any():
                    self.role_trust[a, b] = float(block.mean())

    def mean_trust(self) -> float:
        filled = np.array([p.occupant is not None for p in self.posts])
        n = int(filled.sum())
        if n < 2:
            return self.stranger_trust
        block = self.trust[np.ix_(filled, filled)]
        return float((block.sum() - n) / (n * (n - 1)))

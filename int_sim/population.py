"""Residents: a synthetic neighbourhood population as a struct of numpy arrays.

Every resident is an individual with its own attributes and history, but a day of the whole
population is a handful of vectorised operations: no Python loop runs over residents.

Latent risk. Each resident's hazard multiplier is ``1 + excess``. A deterioration episode starts
at the group's ``deterioration_rate`` and adds an exponentially distributed jump to ``excess``,
which then decays with a half-life of ``risk.half_life_days``. While ``excess`` is above
``risk.sign_threshold`` the resident shows warning signs that some service sees. A completed care
plan clears the excess and cuts the hazard by the plan's effect for ``care.protection_days``.

Calibration (why configured base rates come out again). The daily probability of an emergency
admission for resident *i* in group *g* is::

    p_i = admission_rate_g / 365 * w_i * m_i(t) / Z_g(t)

where ``w_i`` is the resident's fixed weight (deprivation gradient x individual frailty, scaled
to mean 1 within the group), ``m_i(t)`` the dynamic multiplier (latent risk, plan effect, 0 while
in hospital) and ``Z_g(t) = sum_g w_i m_i(t) / sum_g w_i``. Summed over the group, the expected
admissions on any day are exactly ``N_g * admission_rate_g / 365``. ``Z`` is taken from the
no-INT counterfactual run on the same random numbers, so the counterfactual reproduces the base
rates for any values a user sets, and an INT that lowers ``m`` lowers admissions below them.
Crises work the same way with ``crisis_rate``. One uniform draw per resident per day decides
both (admission if ``u < p_adm``, crisis if ``p_adm <= u < p_adm + p_crisis``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scenario import GROUPS, ROLES, Scenario


AGE_UNDER_65, AGE_65_79, AGE_80_PLUS = 0, 1, 2
ROLE_INDEX = {role: i for i, role in enumerate(ROLES)}


@dataclass
class DayEvents:
    """What happened to residents on one day (indices into the population arrays)."""

    admitted: np.ndarray
    crisis: np.ndarray
    signs: np.ndarray


class Population:
    """The residents, their attributes and their daily risk dynamics."""

    def __init__(self, scenario: Scenario, init_rng: np.random.Generator,
                 risk_rng: np.random.Generator, event_rng: np.random.Generator,
                 sign_rng: np.random.Generator):
        self.scenario = scenario
        self._risk_rng, self._event_rng, self._sign_rng = risk_rng, event_rng, sign_rng
        pop = scenario.population
        n = self.size = pop.size
        self._build_attributes(init_rng)

        group_rates = [getattr(pop.groups, g) for g in GROUPS]
        self.admission_rate = np.array([r.admission_rate for r in group_rates]) / 365.0
        self.crisis_rate = np.array([r.crisis_rate for r in group_rates]) / 365.0
        self.onset_probability = 1.0 - np.exp(-np.array([r.deterioration_rate for r in group_rates]) / 365.0)
        self.group_size = np.bincount(self.group, minlength=len(GROUPS))

        # dynamic state
        self.excess = np.zeros(n)
        self.protected_until = np.full(n, -1, dtype=np.int32)
        self.protection = np.zeros(n)
        self.hospital_until = np.full(n, -1, dtype=np.int32)
        # the few residents a plan protects or a hospital holds, so a day touches only them
        self._newly_protected: list[int] = []
        self._protected = np.empty(0, dtype=np.intp)  # may hold some whose protection has ended
        self._in_hospital = np.empty(0, dtype=np.intp)  # likewise
        self._risk = pop.risk
        self._decay = 0.5 ** (1.0 / pop.risk.half_life_days)
        self._sign_probability = scenario.care.signs_per_week_at_risk / 7.0
        self._group_weight_total = np.bincount(self.group, weights=self.weight, minlength=len(GROUPS))
        # static per-resident look-ups, taken once instead of gathered every day
        self._group_index = self.group.astype(np.intp)
        self._onset_p = self.onset_probability[self._group_index]
        self._any_rate = self.admission_rate + self.crisis_rate
        self._needs_list = [[role for i, role in enumerate(ROLES) if bits >> i & 1] for bits in range(1 << len(ROLES))]
        self._weighted_multiplier: tuple[np.ndarray, np.ndarray] | None = None  # (m, w m) of today, for Z and events
        # Residents whose excess may be above the sign threshold: those above it at the last
        # draw_signs, plus those whose excess may have risen since (onsets; plans, which only
        # lower it, are included anyway). Excess otherwise only decays, so no one else can be
        # above it, and draw_signs checks these few instead of every resident.
        self._above = np.empty(0, dtype=np.intp)
        self._risen: list[np.ndarray] = []
        self._planned: list[int] = []

    # --- initialisation -----------------------------------------------------------------
    def _build_attributes(self, rng: np.random.Generator) -> None:
        pop = self.scenario.population
        n = self.size
        u = rng.random((8, n))
        self.age_band = np.where(u[0] < pop.age_80_plus_share, AGE_80_PLUS,
                                 np.where(u[0] < pop.age_80_plus_share + pop.age_65_to_79_share, AGE_65_79,
                                          AGE_UNDER_65)).astype(np.int8)
        older = self.age_band > AGE_UNDER_65
        severe = pop.frailty_severe_share
        moderate = severe + pop.frailty_moderate_share
        mild = moderate + pop.frailty_mild_share
        frailty = np.where(u[1] < severe, 3, np.where(u[1] < moderate, 2, np.where(u[1] < mild, 1, 0)))
        self.frailty = np.where(older, frailty, 0).astype(np.int8)

        quintile_cdf = np.cumsum(pop.deprivation_mix.shares())
        self.quintile = (np.searchsorted(quintile_cdf, u[2], side="right") + 1).clip(1, 5).astype(np.int8)
        self.practice = rng.integers(0, pop.gp_practices, size=n, dtype=np.int16)

        # multimorbidity rises with age (Barnett 2012): weights 1 / 3 / 4, scaled to the overall share
        age_weight = np.array([1.0, 3.0, 4.0])
        age_shares = np.bincount(self.age_band, minlength=3) / n
        scale = pop.multimorbidity_share / max(float(age_shares @ age_weight), 1e-12)
        self.multimorbid = u[3] < np.minimum(age_weight[self.age_band] * scale, 0.95)
        self.smi = u[4] < pop.severe_mental_illness_share
        self.anxiety_isolation = u[5] < pop.anxiety_isolation_share
        # unpaid caring is more common in deprived areas (Census 2021: 10.1% vs 8.1%)
        carer_gradient = np.linspace(1.12, 0.9, 5)[self.quintile - 1]
        self.carer = u[6] < pop.carer_share * carer_gradient

        group = np.full(n, GROUPS.index("general"), dtype=np.int8)
        for name, mask in reversed([
            ("frail_severe", self.frailty == 3),
            ("frail_moderate", self.frailty == 2),
            ("frail_mild", self.frailty == 1),
            ("severe_mental_illness", self.smi),
            ("multimorbidity", self.multimorbid),
            ("anxiety_isolation", self.anxiety_isolation),
        ]):
            group[mask] = GROUPS.index(name)
        self.group = group

        self.needs = self._needs(u[7])
        self.weight = self._fixed_weight(rng)

    def _needs(self, u: np.ndarray) -> np.ndarray:
        """Bitmask over ROLES of what a joined-up plan for this resident needs."""
        bits = np.zeros(self.size, dtype=np.uint16)

        def add(role: str, mask: np.ndarray) -> None:
            bits[mask] |= np.uint16(1 << ROLE_INDEX[role])

        add("therapist", (self.frailty >= 1) | (self.age_band == AGE_80_PLUS))  # falls and function
        add("social_worker", self.carer | (self.frailty >= 2))                 # carer strain, care needs
        add("mental_health", self.smi | self.anxiety_isolation)
        add("social_prescriber", self.anxiety_isolation)                        # isolation
        add("community_nurse", self.multimorbid | (self.frailty >= 2))          # long-term conditions
        environmental = u < np.array([0.1, 0.07, 0.05, 0.035, 0.025])[self.quintile - 1]
        add("housing_officer", environmental)
        add("gp", self.multimorbid | (self.frailty >= 1) | self.smi | (bits == 0))
        return bits

    def _fixed_weight(self, rng: np.random.Generator) -> np.ndarray:
        """Deprivation gradient x individual frailty, rescaled to mean 1 within each group."""
        gradient = self.scenario.population.deprivation_gradient
        deprivation = gradient ** ((5 - self.quintile) / 4.0)
        shape = self.scenario.population.risk.individual_variation
        individual = rng.gamma(shape, 1.0 / shape, size=self.size)
        weight = deprivation * individual
        group_mean = np.bincount(self.group, weights=weight, minlength=len(GROUPS)) / np.maximum(
            np.bincount(self.group, minlength=len(GROUPS)), 1)
        return weight / group_mean[self.group]

    # --- daily dynamics -----------------------------------------------------------------
    def advance(self, day: int) -> None:
        """Latent risk: decay of excess, onset of new deterioration episodes."""
        self.excess *= self._decay
        u = self._risk_rng.random(self.size)
        p = self._onset_p
        onset = np.flatnonzero(u < p)
        if onset.size:
            # u/p is uniform on (0, 1) given onset: one draw gives both onset and jump size
            self.excess[onset] += -self._risk.mean_jump * np.log1p(-u[onset] / p[onset])
            self._risen.append(onset)

    def hazard_multiplier(self, day: int) -> np.ndarray:
        """Dynamic multiplier m_i(t): latent risk, plan effect, zero while in hospital."""
        m = 1.0 + self.excess
        if self._newly_protected:
            self._protected = np.concatenate([self._protected, np.array(self._newly_protected, dtype=np.intp)])
            self._newly_protected.clear()
        protected = self._protected[self.protected_until[self._protected] >= day]
        self._protected = protected
        if protected.size:
            m[protected] *= 1.0 - self.protection[protected]
        in_hospital = self._in_hospital[self.hospital_until[self._in_hospital] >= day]
        self._in_hospital = in_hospital
        m[in_hospital] = 0.0
        return m

    def normaliser(self, multiplier: np.ndarray) -> np.ndarray:
        """Z_g(t): the weight-averaged dynamic multiplier of each group."""
        weighted = self.weight * multiplier
        self._weighted_multiplier = (multiplier, weighted)
        total = np.bincount(self._group_index, weights=weighted, minlength=len(GROUPS))
        return total / np.maximum(self._group_weight_total, 1e-300)

    def draw_events(self, day: int, multiplier: np.ndarray, normaliser: np.ndarray,
                    length_of_stay: float) -> tuple[np.ndarray, np.ndarray]:
        """Admissions and crises for the day, normalised by Z (see module docstring)."""
        z = np.where(normaliser > 0, normaliser, 1.0)
        cached = self._weighted_multiplier
        weighted = cached[1] if cached is not None and cached[0] is multiplier else self.weight * multiplier
        u = self._event_rng.random(self.size)
        # Only residents whose u falls below a bound on their p_any can have an event: a generous
        # bound (the largest group rate, plus a margin far above rounding error) picks them out with
        # one dense comparison, and the exact probabilities, computed for them alone with the same
        # elementwise arithmetic as for everyone, decide as before.
        bound = float(np.max(self._any_rate / z)) * (1.0 + 1e-9)
        candidates = np.flatnonzero(u < weighted * bound)
        group = self._group_index[candidates]
        scaled = weighted[candidates] / z[group]
        p_admit = self.admission_rate[group] * scaled
        p_any = p_admit + self.crisis_rate[group] * scaled
        u = u[candidates]
        is_admitted = u < p_admit
        admitted = candidates[is_admitted]
        crisis = candidates[(u >= p_admit) & (u < p_any)]
        if admitted.size:
            # given admission, u / p_admit is uniform: it also sets the (geometric) length of stay, so the
            # stream's consumption never depends on the configuration (common random numbers hold)
            v = u[is_admitted] / p_admit[is_admitted]
            stay = 1 + np.floor(np.log1p(-v) / np.log1p(-1.0 / max(length_of_stay, 1.0 + 1e-9)))
            self.hospital_until[admitted] = day + stay.astype(np.int32)
            self._in_hospital = np.concatenate([self._in_hospital, admitted])
        return admitted, crisis

    def draw_signs(self, day: int) -> np.ndarray:
        """Residents showing a warning sign today (seen by some service)."""
        # one draw per resident per day, used or not, keeps the stream aligned across configurations
        u = self._sign_rng.random(self.size)
        candidates = self._above
        if self._planned:
            self._risen.append(np.array(self._planned, dtype=np.intp))
            self._planned.clear()
        if self._risen:  # sorted, without repeats: the order np.flatnonzero gives
            candidates = np.concatenate([candidates, *self._risen])
            self._risen.clear()
            candidates.sort(kind="stable")
            if candidates.size > 1:
                candidates = candidates[np.concatenate(([True], candidates[1:] != candidates[:-1]))]
        at_risk = candidates[self.excess[candidates] > self._risk.sign_threshold]  # = flatnonzero(excess > threshold)
        self._above = at_risk
        at_risk = at_risk[self.hospital_until[at_risk] < day]
        visible = np.minimum(self.excess[at_risk], 1.0) * self._sign_probability
        return at_risk[u[at_risk] < visible]

    def apply_plan(self, resident: int, day: int, effect: float, resolved_share: float,
                   protection_days: int) -> None:
        """A completed plan resolves (part of) the deterioration and protects the resident for a while.

        ``resolved_share`` is how much of the excess risk the plan clears: all of it for a complete,
        joined-up plan, less when needs were missed or services acted each on their own.
        """
        self.excess[resident] *= 1.0 - resolved_share
        self.protected_until[resident] = day + protection_days
        self.protection[resident] = effect
        self._newly_protected.append(resident)
        self._planned.append(resident)

    def needs_of(self, resident: int) -> list[str]:
        return list(self._needs_list[self.needs[resident]])

    def needs_list(self, bits: int) -> list[str]:
        """The roles of a needs bitmask, in ROLES order (shared: do not modify)."""
        return self._needs_list[bits]

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
Crises work the same way with ``crisis_rate``; one draw decides whether a resident has an event
and which (admission if ``u < p_adm``, crisis if ``p_adm <= u < p_adm + p_crisis``).

Cost (why a day touches only a few residents). On any day most residents have ``m_i = 1``: no
excess risk, no plan protecting them, not in hospital. Only the *active* residents, those with
``m_i != 1`` possible, are kept in a table of their own (:mod:`int_sim.active_residents`), so
``Z_g`` is ``1 + sum over them of w_i (m_i - 1) / W_g`` and their events are drawn one by one.
Once a week, excess below ``NEGLIGIBLE_EXCESS`` is cleared and residents back to ``m_i = 1``
leave the table. Everyone else's events are drawn
exactly, without touching them all: each group's residents are candidates with probability
``q_g = rate_g * max_w_g / Z_g`` (a binomial count, then a uniformly random subset), and a
candidate has the event with probability ``w_i / max_w_g``, so with ``q_g * w_i / max_w_g = p_i``.
Deterioration onsets are drawn the same way. A day costs O(active residents + events), not
O(residents): about 1 in 8 residents is active at the baseline's rates. The passes over the
active residents (their multipliers and ``Z``, their events, their signs, the weekly tidy) are
compiled loops (numba, at the end of this module), one pass each instead of a dozen numpy calls:
at a few thousand rows numpy's per-call overhead, not the arithmetic, was most of the cost. So is
the bookkeeping of a subset draw (distinct positions, the weight test) and of the lengths of
stay, at a few dozen residents; their random numbers and logarithms are still numpy's, drawn
before the compiled pass that uses them. Setting ``NUMBA_DISABLE_JIT=1`` runs them as plain
Python, for debugging, with the same results.

Random numbers. Onsets and candidates come from sequential streams whose consumption depends
only on ``Z`` (the counterfactual's, in both runs) and fixed attributes, so two configurations
draw the same numbers. The counterfactual therefore records its onsets and the candidates that
passed their weight test (:mod:`int_sim.recorded_draws`), and the INT run replays them rather
than drawing them again; only whether such a candidate is active is decided in each run. The
residents' attributes, drawn from their own stream, are recorded too, and taken by an INT run on
the same population settings. Who is active depends on the configuration, so their events and
every warning sign use :class:`~int_sim.keyed_random.KeyedUniforms`: the same number for the
same resident and day in every configuration.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .active_residents import ActiveResidents
from .keyed_random import KeyedUniforms, keyed_uniform
from .recorded_draws import RecordedDraws
from .scenario import GROUPS, ROLE_BIT, ROLES, Scenario


AGE_UNDER_65, AGE_65_79, AGE_80_PLUS = 0, 1, 2

NEGLIGIBLE_EXCESS = 0.01
"""Excess risk below this (1% of the resident's base hazard) counts as none, so a resident whose
deterioration has faded leaves the active residents instead of decaying for ever."""
DENSE_ABOVE = 0.25
"""A group's daily candidate probability above which its residents are drawn one by one."""
TIDY_INTERVAL_DAYS = 7
"""How often negligible excess is cleared and inactive residents leave the active table: weekly
is cheap, and a resident who stays in it a few days longer has m_i = 1 there too."""
_NEEDS_LISTS = [[role for i, role in enumerate(ROLES) if bits >> i & 1] for bits in range(1 << len(ROLES))]
"""The roles of each needs bitmask, in ROLES order: built once, not for every population."""


class Population:
    """The residents, their attributes and their daily risk dynamics.

    ``draws``: the onsets and ordinary-event candidates of a run on the same streams and the same
    normaliser (its :attr:`draws`), replayed instead of drawn, and its residents, taken if the
    population settings are the same; without them they are drawn, and recorded in :attr:`draws`.
    """

    def __init__(self, scenario: Scenario, init_rng: np.random.Generator,
                 risk_rng: np.random.Generator, event_rng: np.random.Generator,
                 sign_rng: np.random.Generator, draws: RecordedDraws | None = None):
        self.scenario = scenario
        self._risk_rng, self._event_rng = risk_rng, event_rng  # (the signs stream only keys its uniforms)
        self._replaying = draws is not None
        self.draws = draws if self._replaying else RecordedDraws()
        pop = scenario.population
        n = self.size = pop.size
        residents = self.draws.residents(pop) if self._replaying else None
        if residents is None:
            residents = self._draw_residents(init_rng)
            if not self._replaying:
                self.draws.add_residents(pop, residents)
        vars(self).update(residents)

        # dynamic state: the active residents' excess risk and protection live in their table;
        # hospital stays and protection are also kept for every resident, for readers
        self.protected_until = np.full(n, -1, dtype=np.int32)
        self.hospital_until = np.full(n, -1, dtype=np.int32)
        self._active_multiplier = np.empty(0)  # m_i of the active residents today, by row
        # plans completed since the residents' state was last read, applied together (apply_plans)
        self._plans: list[np.ndarray] = []
        self._risk = pop.risk
        self._decay = 0.5 ** (1.0 / pop.risk.half_life_days)
        self._sign_probability = scenario.care.signs_per_week_at_risk / 7.0
        self._active = ActiveResidents({"weight": self.weight, "group": self._group_index, "event_rate": self._event_rate,
                                        "hospital_until": self.hospital_until, "protected_until": self.protected_until})
        self._event_uniforms = KeyedUniforms(int(event_rng.bit_generator.random_raw()), n)
        self._sign_uniforms = KeyedUniforms(int(sign_rng.bit_generator.random_raw()), n)

    # --- initialisation -----------------------------------------------------------------
    def _draw_residents(self, rng: np.random.Generator) -> dict[str, object]:
        """The residents' attributes and rates, and the look-ups for drawing by group: fixed for
        a run, and the same in every run on the same population settings and stream. An INT run
        therefore takes its counterfactual's (:meth:`RecordedDraws.residents`) rather than draw
        them again, which was about 7% of the population's time."""
        before = set(vars(self))
        pop = self.scenario.population
        self._build_attributes(rng)

        group_rates = [getattr(pop.groups, g) for g in GROUPS]
        self.admission_rate = np.array([r.admission_rate for r in group_rates]) / 365.0
        self.crisis_rate = np.array([r.crisis_rate for r in group_rates]) / 365.0
        self.onset_probability = 1.0 - np.exp(-np.array([r.deterioration_rate for r in group_rates]) / 365.0)
        self.group_size = np.bincount(self.group, minlength=len(GROUPS))
        self._group_sizes = self.group_size.tolist()  # as Python ints, for the per-group scalar draws

        # static look-ups for drawing by group: residents laid out group after group
        self._group_index = self.group.astype(np.intp)
        total_weight = np.bincount(self.group, weights=self.weight, minlength=len(GROUPS))
        self._group_weight_divisor = np.where(total_weight > 0, total_weight, 1.0)  # 1 for an empty group
        self._by_group = np.argsort(self.group, kind="stable")  # (by the int8 groups: a radix sort, 7 times faster)
        self._group_end = np.cumsum(self.group_size)
        self._group_start = self._group_end - self.group_size
        self._max_weight = np.zeros(len(GROUPS))
        np.maximum.at(self._max_weight, self._group_index, self.weight)
        self._any_rate = self.admission_rate + self.crisis_rate
        self._admitted_share = np.divide(self.admission_rate, self._any_rate,
                                         out=np.zeros(len(GROUPS)), where=self._any_rate > 0)
        self._relative_weight = self.weight / np.where(self._max_weight > 0, self._max_weight, 1.0)[self._group_index]
        self._event_rate = self._any_rate[self._group_index] * self.weight
        return {name: value for name, value in vars(self).items() if name not in before}

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
            np.bitwise_or(bits, mask * np.uint16(ROLE_BIT[role]), out=bits)  # (the bit or 0: no masked scatter, 40x faster)

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
    @property
    def excess(self) -> np.ndarray:
        """Every resident's excess risk (a new array: for reading, e.g. in tests)."""
        self._apply_plans()
        table = self._active
        excess = np.zeros(self.size)
        excess[table.rows("resident")] = table.rows("excess")
        return excess

    def excess_of(self, residents: np.ndarray) -> np.ndarray:
        """The excess risk of some residents."""
        self._apply_plans()
        slots = self._active.slot[residents]
        return np.where(slots >= 0, self._active.excess[np.maximum(slots, 0)], 0.0)

    def advance(self, day: int) -> None:
        """Latent risk: the active residents' excess decays, new deterioration episodes start."""
        self._apply_plans()
        if day % TIDY_INTERVAL_DAYS == 0:
            self._tidy(day)
        table = self._active
        excess = table.rows("excess")
        excess *= self._decay  # in place on the view (``rows(...)[:] *=`` would also copy it onto itself)
        onset, jumps = self._onsets(day)
        if onset.size:
            rows = table.add(onset)  # first: adding may move the columns
            table.excess[rows] += jumps

    def _onsets(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Today's deterioration onsets and their jumps in excess risk: drawn and recorded, or replayed."""
        if self._replaying:
            return self.draws.onsets(day)
        onset = self._group_subset(self._risk_rng, self.onset_probability)
        jumps = self._risk_rng.exponential(self._risk.mean_jump, onset.size)  # none drawn for none
        self.draws.add_onsets(day, onset, jumps)
        return onset, jumps

    def normaliser(self, day: int) -> np.ndarray:
        """Z_g(t): each group's weight-averaged dynamic multiplier m_i(t), from the active residents.

        m_i is latent risk, scaled down by a plan's protection, and 0 while in hospital; it is
        exactly 1 for everyone else, who therefore add nothing to ``Z_g - 1``.
        """
        table = self._active
        multiplier = self._active_multiplier = np.empty(table.count)
        return _multipliers(day, table.rows("excess"), table.rows("protection"), table.rows("protected_until"),
                            table.rows("hospital_until"), table.rows("weight"), table.rows("group"),
                            self._group_weight_divisor, multiplier)

    def draw_events(self, day: int, normaliser: np.ndarray, length_of_stay: float) -> tuple[np.ndarray, np.ndarray]:
        """Admissions and crises for the day, normalised by Z (see module docstring).

        Must follow :meth:`normaliser` for the same day (it computes the active residents' m_i).
        """
        z = np.where(normaliser > 0, normaliser, 1.0)
        table = self._active
        # everyone else: the weighted candidates who are not active
        candidates, v_candidates = self._weighted_candidates(day, z)
        # the active residents: one keyed draw each against their own p_i
        hit, v_hit = np.empty(table.count, dtype=np.intp), np.empty(table.count)
        hits = _active_events(self._event_uniforms.offset(day), table.rows("resident"), table.rows("event_rate"),
                              self._active_multiplier, z, table.rows("group"), hit, v_hit)
        events = candidates.size + hits
        admitted, crisis, w = np.empty(events, dtype=np.intp), np.empty(events, dtype=np.intp), np.empty(events)
        admissions, crises = _split_events(candidates, v_candidates, table.slot, hit[:hits], v_hit[:hits],
                                           self._group_index, self._admitted_share, admitted, crisis, w)
        admitted, crisis = admitted[:admissions], crisis[:crises]
        if admissions:
            rows = table.add(admitted)
            # the logarithms by numpy (which may round differently from the compiled loop's own)
            _admit(day, np.log1p(-w[:admissions]), np.log1p(-1.0 / max(length_of_stay, 1.0 + 1e-9)), admitted, rows,
                   self.hospital_until, table.hospital_until)
        return admitted, crisis

    def _weighted_candidates(self, day: int, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The residents who have an ordinary event today unless they are active, with the uniform
        ``v`` that picks it: drawn and recorded, or replayed.

        Candidates by group, then each with probability w_i / max_w_g.
        """
        if self._replaying:
            return self.draws.candidates(day)
        bound = self._any_rate * self._max_weight / z  # the group's largest p_i
        candidates = self._group_subset(self._event_rng, bound)
        # above 1 (only for extreme rates and weights) every resident is a candidate and the
        # chance carries the rest: p_i is not clipped, as in the calibration's statement
        candidates, v = _weight_test(candidates, self._event_rng.random(candidates.size), self._relative_weight,
                                     np.maximum(bound, 1.0), self._group_index)
        self.draws.add_candidates(day, candidates, v)
        return candidates, v

    def draw_signs(self, day: int) -> np.ndarray:
        """Residents showing a warning sign today (seen by some service), in index order."""
        table = self._active
        showing = np.empty(table.count, dtype=np.intp)
        count = _signs(day, self._sign_uniforms.offset(day), table.rows("resident"), table.rows("excess"),
                       table.rows("hospital_until"), self._risk.sign_threshold, self._sign_probability, showing)
        showing = showing[:count]
        showing.sort()
        return showing

    def apply_plans(self, plans: np.ndarray) -> None:
        """Completed plans resolve (part of) the deterioration and protect the resident for a while.

        ``plans`` has a column per plan, in the order they completed: the resident, the day their
        protection lasts until, the plan's effect on their hazard, and the share of their excess
        risk it clears (all of it for a complete, joined-up plan, less when needs were missed or
        services acted each on their own).

        The plans take effect before anything reads the residents' state again (the next day's
        step, or an MDT meeting's ranking by risk): they are noted here and applied together
        then (:meth:`_apply_plans`), in the order they completed, with the same results as one at
        a time and a fraction of the cost (a day completes a few dozen plans at 50,000 residents).
        """
        self._plans.append(plans.copy())

    def _apply_plans(self) -> None:
        """Apply the plans noted since the state was last read (see :meth:`apply_plans`). A
        resident completes at most one plan between two reads (a new episode opens only in a
        day's step, after the read), so the residents are distinct."""
        if not self._plans:
            return
        plans = self._plans[0] if len(self._plans) == 1 else np.concatenate(self._plans, axis=1)
        self._plans.clear()
        residents_array, until_array = plans[0].astype(np.intp), plans[1].astype(np.int32)
        table = self._active
        rows = table.add(residents_array)
        _apply_plans(rows, residents_array, until_array, plans[2], plans[3], table.excess,
                     table.protection, table.protected_until, self.protected_until)

    def _tidy(self, day: int) -> None:
        """Clear negligible excess, and drop the residents whose multiplier is back to exactly 1."""
        table = self._active
        table.compact(_still_active(day, NEGLIGIBLE_EXCESS, table.rows("excess"), table.rows("protected_until"),
                                    table.rows("hospital_until")))

    def _group_subset(self, rng: np.random.Generator, probability: np.ndarray) -> np.ndarray:
        """Each resident independently with their group's ``probability`` (capped at 1), unordered.

        Usually a binomial count per group, then that many distinct residents of the group
        uniformly at random: drawn with replacement, repeats redrawn until all differ (which leaves
        every subset of that size equally likely). It costs O(residents drawn), not O(residents).
        A group whose probability is above ``DENSE_ABOVE`` (only with extreme rates) is drawn
        resident by resident instead, where repeats would take many rounds to redraw.
        """
        probability = np.minimum(probability, 1.0).tolist()
        # a scalar call per group: for a handful of groups cheaper than numpy's array call, and the
        # same numbers (a dense group's count, like an array call's at probability 0, draws none)
        counts = [rng.binomial(n, p) if p <= DENSE_ABOVE else 0 for n, p in zip(self._group_sizes, probability)]
        chosen = [self._by_group[self._group_start[g]:self._group_end[g]][rng.random(self._group_sizes[g]) < p]
                  for g, p in enumerate(probability) if p > DENSE_ABOVE]
        total = sum(counts)
        if total:
            position, redraw, repeats = np.empty(total, dtype=np.intp), np.arange(total), total
            counts = np.array(counts)
            while repeats:  # (the uniforms of a round are drawn before the compiled pass that uses them)
                repeats = _distinct_positions(counts, self._group_start, self.group_size, rng.random(repeats),
                                              redraw, position)
            chosen.append(self._by_group[position])
        if not chosen:
            return np.empty(0, dtype=np.intp)
        return chosen[0] if len(chosen) == 1 else np.concatenate(chosen)

    def needs_list(self, bits: int) -> list[str]:
        """The roles of a needs bitmask, in ROLES order (shared: do not modify)."""
        return _NEEDS_LISTS[bits]


# --- the daily loops over the active residents, compiled -------------------------------------
# Each is one pass over the active table's rows, in row order, doing what a dozen numpy calls on
# the same columns would, with the same floating-point operations in the same order (so the same
# results): at a few thousand rows a day, numpy's per-call overhead, not the arithmetic, was most
# of the population's time (benchmarks/README.md, "Round 5").

@njit(cache=True)
def _multipliers(day, excess, protection, protected_until, hospital_until, weight, group, group_weight, multiplier):
    """Each active resident's m_i (latent risk, scaled down by a plan's protection, 0 in
    hospital) into ``multiplier``; returns each group's ``Z_g = 1 + sum_g w_i (m_i - 1) / W_g``
    (``W_g``: ``group_weight``).

    Two loops, not one: the first has no branch the data decide (the compiler selects instead,
    and vectorises it), while in one loop the order of protected and unprotected rows, about
    half each, was mispredicted on every other row, doubling the pass. The second adds to each
    group's sum in row order, as before."""
    for i in range(excess.size):
        factor = 1.0 - (protection[i] if protected_until[i] >= day else 0.0)
        if hospital_until[i] >= day:
            factor *= 0.0
        multiplier[i] = (excess[i] + 1.0) * factor
    shift = np.zeros(group_weight.size)
    for i in range(excess.size):
        shift[group[i]] += (multiplier[i] - 1.0) * weight[i]
    return 1.0 + shift / group_weight


@njit(cache=True)
def _active_events(offset, resident, event_rate, multiplier, z, group, hit, v_hit):
    """The active residents with an event today (one keyed uniform each against their own p_i),
    in row order into ``hit``, with ``v = u / p_i`` into ``v_hit``; returns how many.

    Given an event, v is uniform: it picks admission or crisis, and then sets the (geometric)
    length of stay, so the draws never depend on the configuration."""
    hits = 0
    for i in range(resident.size):
        p = event_rate[i] * multiplier[i]
        p /= z[group[i]]
        u = keyed_uniform(resident[i], offset)
        if u < p:
            hit[hits] = resident[i]
            v_hit[hits] = u / p
            hits += 1
    return hits


@njit(cache=True)
def _split_events(candidates, v_candidates, slot, hit, v_hit, group_index, admitted_share, admitted, crisis, w):
    """Today's events in resident order, split into admissions and crises: the ordinary
    candidates who are not active and the active residents hit (distinct residents), each with
    its ``v``. An event is an admission if ``v`` is below the group's admitted share, and then
    ``w = v / share`` is uniform and sets the length of stay. Fills ``admitted``, ``crisis`` and
    ``w`` and returns how many admissions and crises."""
    residents = np.empty(candidates.size + hit.size, dtype=np.intp)
    v = np.empty(residents.size)
    n = 0
    for k in range(candidates.size):
        if slot[candidates[k]] < 0:
            residents[n] = candidates[k]
            v[n] = v_candidates[k]
            n += 1
    for k in range(hit.size):
        residents[n] = hit[k]
        v[n] = v_hit[k]
        n += 1
    admissions = crises = 0
    for k in np.argsort(residents[:n]):
        share = admitted_share[group_index[residents[k]]]
        if v[k] < share:
            admitted[admissions] = residents[k]
            w[admissions] = v[k] / share
            admissions += 1
        else:
            crisis[crises] = residents[k]
            crises += 1
    return admissions, crises


@njit(cache=True)
def _admit(day, log_w, log_q, admitted, rows, hospital_until, row_hospital_until):
    """Each admitted resident's (geometric) length of stay from its uniform ``w``, as
    ``1 + floor(log(1 - w) / log(q))`` with ``q = 1 - 1 / mean stay``; the day they leave is kept
    for the resident and in their row."""
    for k in range(admitted.size):
        until = day + np.int32(1.0 + np.floor(log_w[k] / log_q))
        hospital_until[admitted[k]] = row_hospital_until[rows[k]] = until


@njit(cache=True)
def _distinct_positions(counts, group_start, group_size, u, redraw, position):
    """One round of drawing ``counts[g]`` distinct positions in each group's block (residents laid
    out group after group): the positions at rows ``redraw[:u.size]`` of ``position`` are drawn
    again, ``start + floor(u * size)`` of their group, then the positions are sorted and the rows
    that repeat the one before are written to ``redraw``; returns how many (0: all distinct).

    ``position`` holds the groups' draws in group order, and sorting keeps every group in its
    block, so row k always belongs to the same group. The first round redraws every row."""
    start, size = np.empty(position.size, dtype=np.intp), np.empty(position.size, dtype=np.intp)
    k = 0
    for g in range(counts.size):
        for _ in range(counts[g]):
            start[k], size[k] = group_start[g], group_size[g]
            k += 1
    for j in range(u.size):
        k = redraw[j]
        position[k] = start[k] + np.intp(u[j] * size[k])  # (u * size truncated, as numpy's astype)
    position.sort()
    repeats = 0
    for k in range(1, position.size):
        if position[k] == position[k - 1]:
            redraw[repeats] = k
            repeats += 1
    return repeats


@njit(cache=True)
def _weight_test(candidates, u, relative_weight, bound, group_index):
    """The candidates whose uniform ``u`` is below their chance ``w_i / max_w_g * bound_g``, in
    order, and ``v = u / chance`` for each (uniform given the event)."""
    passed, v = np.empty(candidates.size, dtype=np.intp), np.empty(candidates.size)
    n = 0
    for k in range(candidates.size):
        chance = relative_weight[candidates[k]] * bound[group_index[candidates[k]]]
        if u[k] < chance:
            passed[n], v[n] = candidates[k], u[k] / chance
            n += 1
    return passed[:n], v[:n]


@njit(cache=True)
def _still_active(day, negligible, excess, protected_until, hospital_until):
    """The rows still active (in order) once excess below ``negligible`` is cleared to 0: those
    with excess left, a plan protecting them or a hospital stay on ``day`` or later."""
    kept = np.empty(excess.size, dtype=np.intp)
    m = 0
    for i in range(excess.size):
        if excess[i] < negligible:
            excess[i] = 0.0
        if excess[i] > 0.0 or protected_until[i] >= day or hospital_until[i] >= day:
            kept[m] = i
            m += 1
    return kept[:m]


@njit(cache=True)
def _apply_plans(rows, residents, until, effects, shares, excess, protection, protected_until, resident_protected_until):
    """Each plan clears its share of the resident's excess and protects them until ``until``."""
    for k in range(rows.size):
        row = rows[k]
        excess[row] *= 1.0 - shares[k]
        protected_until[row] = resident_protected_until[residents[k]] = until[k]
        protection[row] = effects[k]


@njit(cache=True)
def _signs(day, offset, resident, excess, hospital_until, threshold, probability, showing):
    """The active residents above the sign threshold, not in hospital, who show a sign today
    (probability ``min(excess, 1) * probability``, a keyed uniform each), in row order into
    ``showing``; returns how many.

    The rows that may show a sign are listed first, without a branch (each row's index is
    written and the count moves on only if it qualifies): about half the rows do, in no order a
    branch predictor learns, and a branch there was mispredicted on every other row. Only
    those rows then draw their uniform, and few of them show a sign."""
    eligible = 0
    for i in range(resident.size):
        showing[eligible] = i
        eligible += (excess[i] > threshold) & (hospital_until[i] < day)
    count = 0
    for k in range(eligible):
        i = showing[k]  # (read before ``showing[count]``, count <= k, is written)
        if keyed_uniform(resident[i], offset) < min(excess[i], 1.0) * probability:
            showing[count] = resident[i]
            count += 1
    return count

"""The scenario: every number the model uses, validated in one place.

A scenario is immutable data (a frozen pydantic model). Variants are made with
:meth:`Scenario.with_overrides`, never by mutating a shared object, so two configurations
compared side by side can never leak into each other. Every field carries a unit, a range, a
description and a source or stated assumption: the app's help text and docs/parameters.md are
generated from these, so the documentation cannot drift from the code.

Bad input of any kind (missing file, malformed YAML, unknown key, out-of-range or mistyped
value) raises :class:`ScenarioError`, whose message names the file, the dotted field, the bad
value and what is allowed.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ROLES = (
    "gp",
    "community_nurse",
    "therapist",
    "social_worker",
    "mental_health",
    "social_prescriber",
    "housing_officer",
    "care_navigator",
)
"""Professional roles, in the order used for arrays throughout the model."""
ROLE_INDEX = {role: i for i, role in enumerate(ROLES)}
"""A role's position in ROLES (its row in role arrays)."""
ROLE_BIT = {role: 1 << i for i, role in enumerate(ROLES)}
"""A role's bit in a bitmask over ROLES: a resident's needs, an episode's pending roles."""

GROUPS = (
    "frail_mild",
    "frail_moderate",
    "frail_severe",
    "severe_mental_illness",
    "multimorbidity",
    "anxiety_isolation",
    "general",
)
"""Patient groups. Every resident belongs to exactly one (the first that applies, in the
priority frailty > severe mental illness > multimorbidity > anxiety/isolation > general), so
that each group's configured base rate can be reproduced exactly."""

MDT_INTERVAL_DAYS = {"none": None, "monthly": 28, "fortnightly": 14, "weekly": 7}
CO_LOCATION_LEVEL = {"none": 0.0, "partial": 0.5, "full": 1.0}

MAX_RESIDENT_DAYS = 2_000_000 * 3650
"""Largest population x horizon accepted: beyond this a run would not fit this class of machine."""


class ScenarioError(ValueError):
    """Bad scenario input. ``str(err)`` is one line naming file, field, value and what is allowed."""

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None):
        super().__init__(message)
        self.field = field
        self.source = source


def param(default: Any, *, unit: str, description: str, source: str, **limits: Any) -> Any:
    """A documented scenario field: default, unit, range (ge/le/gt/lt), description, source."""
    return Field(default, description=description, json_schema_extra={"unit": unit, "source": source}, **limits)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


ASSUMPTION = "assumption (illustrative; sweep it)"


class GroupRates(_Section):
    """Base rates of one patient group under today's (fragmented) services."""

    admission_rate: float = param(
        0.06, unit="per resident per year", ge=0, le=10,
        description="Emergency admissions per resident per year without an INT. The fragmented counterfactual reproduces it.",
        source="see docs/parameters.md, group table")
    crisis_rate: float = param(
        0.2, unit="per resident per year", ge=0, le=20,
        description="Crisis presentations (A&E or crisis team, not admitted) per resident per year without an INT.",
        source="see docs/parameters.md, group table")
    deterioration_rate: float = param(
        0.03, unit="episodes per resident per year", ge=0, le=20,
        description="How often a resident's latent risk starts to rise (an episode that emits warning signs).",
        source=ASSUMPTION)


def _group(admission: float, crisis: float, deterioration: float):
    return Field(default_factory=lambda: GroupRates(
        admission_rate=admission, crisis_rate=crisis, deterioration_rate=deterioration))


class Groups(_Section):
    """Base rates by patient group (each resident is in exactly one group)."""

    frail_mild: GroupRates = _group(0.21, 0.35, 0.4)
    frail_moderate: GroupRates = _group(0.33, 0.45, 0.7)
    frail_severe: GroupRates = _group(0.52, 0.6, 1.0)
    severe_mental_illness: GroupRates = _group(0.20, 0.8, 0.6)
    multimorbidity: GroupRates = _group(0.12, 0.3, 0.35)
    anxiety_isolation: GroupRates = _group(0.07, 0.45, 0.3)
    general: GroupRates = _group(0.06, 0.2, 0.03)


class Risk(_Section):
    """How residents' latent risk rises, shows itself and fades."""

    half_life_days: float = param(60, unit="days", ge=1, le=3650,
                                  description="Half-life of a deterioration's excess risk when nobody acts.", source=ASSUMPTION)
    mean_jump: float = param(3.0, unit="x baseline hazard", ge=0, le=50,
                             description="Mean excess hazard added when a deterioration starts (exponentially distributed).",
                             source=ASSUMPTION + "; sets how much of admissions falls in deterioration episodes")
    sign_threshold: float = param(0.25, unit="excess hazard", ge=0, le=50,
                                  description="Excess risk above which a resident shows warning signs.", source=ASSUMPTION)
    individual_variation: float = param(2.0, unit="gamma shape", ge=0.1, le=1000,
                                        description="Shape of residents' fixed individual hazard weight (mean 1); smaller means more varied.",
                                        source=ASSUMPTION)


class DeprivationMix(_Section):
    """Relative share of residents in each IMD quintile (1 = most deprived); normalised to sum 1."""

    q1: float = param(0.2, unit="relative weight", ge=0, le=1, description="Most deprived quintile.", source="IMD quintiles: 20% of areas each by definition")
    q2: float = param(0.2, unit="relative weight", ge=0, le=1, description="Second most deprived quintile.", source="IMD definition")
    q3: float = param(0.2, unit="relative weight", ge=0, le=1, description="Middle quintile.", source="IMD definition")
    q4: float = param(0.2, unit="relative weight", ge=0, le=1, description="Second least deprived quintile.", source="IMD definition")
    q5: float = param(0.2, unit="relative weight", ge=0, le=1, description="Least deprived quintile.", source="IMD definition")

    @model_validator(mode="after")
    def _some_weight(self) -> "DeprivationMix":
        if self.q1 + self.q2 + self.q3 + self.q4 + self.q5 <= 0:
            raise ValueError("at least one quintile must have a positive weight")
        return self

    def shares(self) -> list[float]:
        weights = [self.q1, self.q2, self.q3, self.q4, self.q5]
        total = sum(weights)
        return [w / total for w in weights]


class Population(_Section):
    """The residents the team covers (its reach) and their needs."""

    size: int = param(50_000, unit="residents", ge=100, le=2_000_000,
                      description="Residents covered by the team: its reach.",
                      source="Fuller Stocktake 2022: 30,000-50,000 per neighbourhood")
    gp_practices: int = param(6, unit="practices", ge=1, le=100,
                              description="GP practices in the footprint; each is an organisation the team must work with.",
                              source="BMA 2020: PCN mean list 48,020, about 5-7 practices")
    age_65_to_79_share: float = param(0.14, unit="share of residents", ge=0, le=1,
                                      description="Residents aged 65 to 79.", source="ONS mid-year estimates, England (about 14%)")
    age_80_plus_share: float = param(0.05, unit="share of residents", ge=0, le=1,
                                     description="Residents aged 80 and over.", source="ONS mid-year estimates, England (about 5%)")
    frailty_mild_share: float = param(0.28, unit="share of residents 65+", ge=0, le=1,
                                      description="Over-65s with mild frailty (eFI).", source="Fogg et al., Age Ageing 2023: 43.7% of over-65s frail at any level; split is an assumption")
    frailty_moderate_share: float = param(0.11, unit="share of residents 65+", ge=0, le=1,
                                          description="Over-65s with moderate frailty (eFI).", source="Fogg et al. 2023 (split assumed)")
    frailty_severe_share: float = param(0.045, unit="share of residents 65+", ge=0, le=1,
                                        description="Over-65s with severe frailty (eFI).", source="Fogg et al. 2023 (split assumed)")
    multimorbidity_share: float = param(0.232, unit="share of residents", ge=0, le=1,
                                        description="Residents with two or more long-term conditions (rises with age).",
                                        source="Barnett et al., Lancet 2012: 23.2% of all")
    severe_mental_illness_share: float = param(0.01, unit="share of residents", ge=0, le=0.2,
                                               description="Residents on the severe mental illness register.",
                                               source="QOF SMI register prevalence, about 1%")
    anxiety_isolation_share: float = param(0.07, unit="share of residents", ge=0, le=1,
                                           description="Residents with anxiety or social isolation (lonely often or always).",
                                           source="ONS 2024: 7% of adults lonely often or always")
    carer_share: float = param(0.089, unit="share of residents", ge=0, le=1,
                               description="Unpaid carers (carer strain is a warning sign social work responds to).",
                               source="Census 2021: 8.9%")
    deprivation_mix: DeprivationMix = Field(default_factory=DeprivationMix,
                                            description="Residents by IMD quintile (relative weights).")
    deprivation_gradient: float = param(1.6, unit="rate ratio", ge=1, le=5,
                                        description="Admission and crisis rate of the most deprived quintile relative to the least, within a group (the group's mean rate is kept).",
                                        source=ASSUMPTION + "; direction from the Marmot reviews")
    groups: Groups = Field(default_factory=Groups, description="Base rates by patient group.")
    risk: Risk = Field(default_factory=Risk, description="Latent risk dynamics.")

    @model_validator(mode="after")
    def _shares_fit(self) -> "Population":
        if self.age_65_to_79_share + self.age_80_plus_share > 1:
            raise ValueError("age_65_to_79_share + age_80_plus_share must not exceed 1")
        if self.frailty_mild_share + self.frailty_moderate_share + self.frailty_severe_share > 1:
            raise ValueError("the three frailty shares must not add up to more than 1")
        return self


class Staff(_Section):
    """Headcount (whole-time equivalents) of the team by role."""

    gp: float = param(4, unit="WTE", ge=0, le=500, description="GP time given to the neighbourhood team.", source="assumption; ONS 2022: about 1,700 patients per GP")
    community_nurse: float = param(14, unit="WTE", ge=0, le=500, description="Community and district nurses (long-term conditions).", source=ASSUMPTION)
    therapist: float = param(7, unit="WTE", ge=0, le=500, description="Occupational therapists and physiotherapists (falls, function).", source=ASSUMPTION)
    social_worker: float = param(5, unit="WTE", ge=0, le=500, description="Adult social workers (carer strain, care packages).", source=ASSUMPTION)
    mental_health: float = param(5, unit="WTE", ge=0, le=500, description="Mental health practitioners (anxiety, SMI).", source=ASSUMPTION)
    social_prescriber: float = param(3, unit="WTE", ge=0, le=500, description="Social prescribers and VCSE link workers (isolation).", source=ASSUMPTION)
    housing_officer: float = param(1, unit="WTE", ge=0, le=500, description="Housing officers (environmental risk).", source=ASSUMPTION)
    care_navigator: float = param(3, unit="WTE", ge=0, le=500, description="Care navigators and case managers: prepare MDT cases, follow plans through.", source=ASSUMPTION)

    def total(self) -> float:
        return sum(getattr(self, role) for role in ROLES)


class Team(_Section):
    """The integrated neighbourhood team: who is in it and the levers of the review's checklist."""

    staff: Staff = Field(default_factory=Staff, description="Headcount by role.")
    co_location: Literal["none", "partial", "full"] = param(
        "partial", unit="level", description="Whether the team works from one place: none, partial (some days, some roles) or full.",
        source="checklist factor 11 (co-located teams)")
    mdt_frequency: Literal["none", "monthly", "fortnightly", "weekly"] = param(
        "weekly", unit="cadence", description="How often the multidisciplinary team reviews its caseload; none means no MDT.",
        source="Ke et al. 2013: MDTs meet daily to 3-monthly")
    mdt_minutes: float = param(120, unit="minutes per meeting", ge=0, le=480,
                               description="Protected time per MDT meeting.", source="checklist factor 10 (protected time); assumption")
    mdt_attendance: float = param(0.75, unit="share", ge=0, le=1,
                                  description="Consistency of attendance: share of the meeting's capacity that is usable.",
                                  source="checklist factor 10 (consistent attendance); assumption")
    gp_in_mdt: bool = param(True, unit="yes/no", description="Whether a GP attends the MDT (needs GP staff).",
                            source="checklist factor 6 (involving primary care)")
    it_interoperability: float = param(0.4, unit="0 (no shared record) to 1 (one shared record)", ge=0, le=1,
                                       description="How far records flow between the organisations' IT systems.",
                                       source="checklist factor 13 (compatible IT)")
    information_sharing: bool = param(True, unit="yes/no", description="Information-sharing agreement in place between partners.",
                                      source="checklist factor 13; seed 001 (governance)")
    funding_level: float = param(1.0, unit="share of establishment funded", ge=0.2, le=1,
                                 description="Share of the team's posts that are funded; unfunded posts stay empty.",
                                 source="checklist factor 7 (adequate resources)")
    funding_stability: Literal["recurrent", "short_term"] = param(
        "recurrent", unit="kind", description="Recurrent funding, or short-term funding that ends at a cliff.",
        source="checklist factor 8 (sustained funding)")
    funding_term_days: int = param(365, unit="days", ge=30, le=3650,
                                   description="With short-term funding: days from the start of the run to the funding cliff.",
                                   source=ASSUMPTION)
    pooled_budget: bool = param(False, unit="yes/no", description="Pooled budget across organisations: money follows the shortage, so vacancies fill 30% faster and a funding cliff closes half as many posts.",
                                source="checklist factor 8 (pooled budgets where appropriate)")
    leadership: float = param(0.5, unit="0 to 1", ge=0, le=1, description="Strength of enabling, supportive leadership.",
                              source="checklist factor 2")
    shared_vision: float = param(0.5, unit="0 to 1", ge=0, le=1, description="A clear vision co-developed with and communicated to all partners.",
                                 source="checklist factor 1")
    role_clarity: float = param(0.5, unit="0 to 1", ge=0, le=1, description="Clarity on roles, responsibilities and decision-making between professionals.",
                                source="checklist factor 4")
    patient_involvement: float = param(0.3, unit="0 to 1", ge=0, le=1, description="Involvement of residents in designing services and in decisions about their care.",
                                       source="checklist factor 5")
    joint_training: bool = param(False, unit="yes/no", description="Joint training and shared learning across organisations.",
                                 source="checklist factor 9")

    @property
    def mdt_interval_days(self) -> int | None:
        return MDT_INTERVAL_DAYS[self.mdt_frequency]


class Care(_Section):
    """How services respond to warning signs, and what a completed plan does."""

    intervention_effect: float = param(0.15, unit="relative hazard cut", ge=0, le=0.9,
                                       description="Relative cut in crisis and admission hazard for protection_days after a completed, fully joined-up plan (scaled down for partial or uncoordinated plans). A completed plan also clears the resident's excess risk in proportion to its quality.",
                                       source="modest on purpose: Stokes et al. 2015 and Baxter et al. 2018 find small, inconsistent effects")
    protection_days: int = param(180, unit="days", ge=1, le=1000,
                                 description="How long a completed plan keeps its effect.", source=ASSUMPTION)
    signs_per_week_at_risk: float = param(0.35, unit="signs per week", ge=0.01, le=7,
                                          description="How often a clearly deteriorating resident (excess risk of 1 or more; proportionally less below) shows a warning sign some service sees (missed appointment, fall, carer stress...).",
                                          source=ASSUMPTION)
    usual_response_days: float = param(28, unit="days", ge=0, le=365,
                                       description="Mean wait, without an INT, between a service seeing a sign and deciding to act (before waiting for a professional).",
                                       source=ASSUMPTION)
    referral_days: float = param(14, unit="days", ge=0, le=365,
                                 description="Mean delay of an onward referral between organisations, before co-location, trust and records act on it: the delay is multiplied by (1 - 0.5 x co-location)(1.5 - trust)(1 + 0.5 x (1 - record flow)), about 1.8 in the fragmented counterfactual.",
                                 source=ASSUMPTION)
    referral_loss: float = param(0.25, unit="share", ge=0, le=1,
                                 description="Share of onward referrals between organisations that are never acted on, without an INT.",
                                 source=ASSUMPTION)
    team_handoff_days: float = param(3, unit="days", ge=0, le=365,
                                     description="Mean delay of a hand-off within a joint plan, multiplied by the same factor as referrals (about 0.25 with full trust, co-location and shared records).",
                                     source=ASSUMPTION)
    information_delay_days: float = param(10, unit="days", ge=0, le=365,
                                          description="Mean delay for a sign seen by one service to reach the team with no shared records and no co-location.",
                                          source=ASSUMPTION)
    single_service_effect: float = param(0.5, unit="share of full effect", ge=0, le=1,
                                         description="Share of a joined-up plan's effect that services acting each on their own achieve.",
                                         source=ASSUMPTION + "; Stokes et al. 2015: case management works better with an MDT")
    no_gp_effect: float = param(0.85, unit="share of full effect", ge=0, le=1,
                                description="Share of a joint plan's effect when no GP attends the MDT (clinical review missed).",
                                source=ASSUMPTION + "; checklist factor 6")
    gp_sees_first: float = param(0.5, unit="share of signs", ge=0, le=1,
                                 description="Share of warning signs first seen in general practice.", source=ASSUMPTION)
    max_wait_days: float = param(180, unit="days", ge=1, le=3650,
                                 description="An action still waiting for a professional after this long is abandoned.",
                                 source=ASSUMPTION)
    repeat_assessment_extra: float = param(0.25, unit="share of action length", ge=0, le=5,
                                           description="Extra work when a resident must tell their story again.",
                                           source=ASSUMPTION)
    minutes_per_case: float = param(6, unit="minutes", ge=1, le=120,
                                    description="MDT time to review one case (care navigators who prepare cases cut it by up to a fifth).",
                                    source=ASSUMPTION)


class RoleWork(_Section):
    """How much of a role's time the team's caseload can use, and how long one action takes."""

    caseload: float = param(10, unit="concurrent actions per WTE", ge=0.1, le=200,
                            description="Actions one whole-time professional of this role carries at once for the team's residents.",
                            source=ASSUMPTION)
    action_days: float = param(14, unit="days", ge=0.1, le=365,
                               description="Elapsed days one action (assessment and intervention) holds a caseload place.",
                               source=ASSUMPTION)


def _role(caseload: float, action_days: float):
    return Field(default_factory=lambda: RoleWork(caseload=caseload, action_days=action_days))


class Roles(_Section):
    """Caseload and action length by role.

    GP actions are clinical reviews. A care navigator holds a place from the MDT review until
    ``care_navigator.action_days`` after the plan completes (follow-up monitoring)."""

    gp: RoleWork = _role(24, 3)
    community_nurse: RoleWork = _role(21, 14)
    therapist: RoleWork = _role(26, 21)
    social_worker: RoleWork = _role(32, 28)
    mental_health: RoleWork = _role(31, 28)
    social_prescriber: RoleWork = _role(36, 28)
    housing_officer: RoleWork = _role(38, 28)
    care_navigator: RoleWork = _role(60, 14)


class Workforce(_Section):
    """Staff time, wellbeing, turnover and recruitment."""

    contracted_hours: float = param(37.5, unit="hours per week per WTE", ge=1, le=60,
                                    description="Contracted hours of one whole-time post.", source="NHS Agenda for Change full time")
    coordination_minutes_per_colleague: float = param(5, unit="minutes per week", ge=0, le=120,
                                                      description="Time each professional spends keeping in touch with each colleague in the team, before co-location and shared systems reduce it (links grow as n(n-1)/2).",
                                                      source="Hackman: n(n-1)/2 links; minutes are an assumption")
    annual_turnover: float = param(0.15, unit="share per year", ge=0, le=1,
                                   description="Leavers per post per year at zero burnout, average leadership, no joint training.",
                                   source="Skills for Care 2023/24: 24.2% social care; NHS lower; blended assumption")
    vacancy_fill_days: float = param(70, unit="days", ge=1, le=730,
                                     description="Mean time to fill a vacancy with recurrent funding.", source=ASSUMPTION)
    short_term_fill_factor: float = param(1.8, unit="multiplier", ge=1, le=10,
                                          description="How much longer vacancies take to fill when funding is short-term.",
                                          source=ASSUMPTION)
    funding_cliff_post_loss: float = param(0.3, unit="share of posts", ge=0, le=1,
                                           description="With short-term funding: share of posts lost at the funding cliff (halved by a pooled budget).",
                                           source=ASSUMPTION)
    burnout_threshold: float = param(0.9, unit="utilisation", ge=0, le=1,
                                     description="Sustained utilisation above which burnout builds.", source=ASSUMPTION)
    burnout_leave_factor: float = param(2.5, unit="multiplier at full burnout", ge=1, le=20,
                                        description="Leaving hazard at full burnout relative to none.",
                                        source="NHS Staff Survey 2023: 30.4% burnt out; factor assumed")
    absence_spell_days: float = param(5, unit="days", ge=1, le=365,
                                      description="Mean length of an absence spell.", source=ASSUMPTION)
    burnout_time_constant_days: float = param(60, unit="days", ge=1, le=3650,
                                              description="How quickly burnout follows sustained overload (and recovers).",
                                              source=ASSUMPTION)
    new_starter_days: int = param(90, unit="days", ge=1, le=730,
                                  description="Days a new starter takes to reach full speed.", source=ASSUMPTION)
    stranger_trust: float = param(0.3, unit="0 to 1", ge=0, le=1,
                                  description="Trust between two professionals who have not yet worked together.", source=ASSUMPTION)
    trust_gain_per_contact: float = param(0.05, unit="share of the gap to full trust", ge=0, le=1,
                                          description="Trust gained per day of contact (each pair meets less often in a large team).",
                                          source=ASSUMPTION)
    trust_decay_per_day: float = param(0.002, unit="share per day", ge=0, le=1,
                                       description="Trust lost per day without contact.", source=ASSUMPTION)
    trust_gain_joint_work: float = param(0.08, unit="share of the gap to full trust", ge=0, le=1,
                                         description="Trust gained between everyone who worked one completed plan together.",
                                         source=ASSUMPTION)
    trust_gain_mdt: float = param(0.02, unit="share of the gap to full trust", ge=0, le=1,
                                  description="Trust gained between everyone attending one MDT meeting.", source=ASSUMPTION)
    daily_contacts: float = param(1.0, unit="colleagues per day", ge=0, le=50,
                                  description="Colleagues a professional is in touch with on a typical day, before co-location (which multiplies it by up to 4).",
                                  source=ASSUMPTION)
    absence_rate: float = param(0.045, unit="share of days", ge=0, le=0.5,
                                description="Share of working days lost to sickness and leave beyond planned cover.",
                                source="NHS sickness absence, about 4.5-5%")


class Costs(_Section):
    """Unit costs (GBP) for staff, admissions and crises."""

    gp_hour: float = param(260, unit="GBP per hour", ge=0, le=10_000, description="GP cost per hour.", source="PSSRU 2025: GBP 239-285 per hour of patient contact")
    nurse_hour: float = param(62, unit="GBP per hour", ge=0, le=10_000, description="Community nurse cost per hour (Band 5-6).", source="PSSRU 2025: Band 5 57, Band 6 68")
    therapist_hour: float = param(62, unit="GBP per hour", ge=0, le=10_000, description="Therapist cost per hour (Band 6).", source="PSSRU 2025 (Band 6, assumed)")
    social_worker_hour: float = param(58, unit="GBP per hour", ge=0, le=10_000, description="Adult social worker cost per hour.", source="PSSRU 2025: GBP 54-61")
    mental_health_hour: float = param(68, unit="GBP per hour", ge=0, le=10_000, description="Mental health practitioner cost per hour (Band 6-7).", source="PSSRU 2025 (assumed band)")
    social_prescriber_hour: float = param(40, unit="GBP per hour", ge=0, le=10_000, description="Social prescriber / link worker cost per hour.", source=ASSUMPTION)
    housing_officer_hour: float = param(40, unit="GBP per hour", ge=0, le=10_000, description="Housing officer cost per hour.", source=ASSUMPTION)
    care_navigator_hour: float = param(35, unit="GBP per hour", ge=0, le=10_000, description="Care navigator cost per hour.", source=ASSUMPTION)
    admission: float = param(824, unit="GBP per admission", ge=0, le=1_000_000, description="Fixed cost of an emergency admission (before bed days).", source="PSSRU 2025: non-elective short stay GBP 824")
    bed_day: float = param(901, unit="GBP per bed day", ge=0, le=100_000, description="Cost of a non-elective bed day.", source="PSSRU: GBP 901 (2020/21)")
    crisis: float = param(300, unit="GBP per presentation", ge=0, le=100_000, description="Cost of a crisis presentation that does not lead to admission.", source=ASSUMPTION)
    length_of_stay_days: float = param(9.1, unit="days", ge=0.5, le=100, description="Mean length of an emergency stay.", source="Health Foundation 2023: 9.1 days (12.5 for 85+)")

    def hourly(self, role: str) -> float:
        """Cost per hour of a role (nurse_hour serves community nurses)."""
        name = {"community_nurse": "nurse"}.get(role, role)
        return getattr(self, f"{name}_hour")


class Counterfactual(_Section):
    """Today's services without an INT: what every configuration is measured against."""

    staff: Staff | None = Field(
        None, json_schema_extra={"unit": "WTE by role", "source": "your place's current staffing",
                                 "allowed": "empty, or headcount by role as in team.staff"},
        description="Headcount of today's services by role. Empty: the same as team.staff, i.e. the INT "
                          "integrates the staff already there. Set it when the INT adds or removes posts, or to hold "
                          "the comparison fixed across a sweep of team size.")


class Simulation(_Section):
    """Horizon of a run."""

    days: int = param(365, unit="days", ge=30, le=3650, description="Days measured after the warm-up.", source="one year, the usual planning horizon")
    warmup_days: int = param(180, unit="days", ge=0, le=3650,
                             description="Days simulated first and excluded from every metric, so queues, trust and risk reach a steady state.",
                             source="assumption; checked by the daily series plots")


class Scenario(_Section):
    """A complete, validated configuration of a neighbourhood and its team."""

    name: str = Field("unnamed", max_length=200, description="Short name shown in outputs.")
    description: str = Field("", max_length=5000, description="What the scenario represents.")
    population: Population = Field(default_factory=Population)
    team: Team = Field(default_factory=Team)
    care: Care = Field(default_factory=Care)
    roles: Roles = Field(default_factory=Roles)
    workforce: Workforce = Field(default_factory=Workforce)
    costs: Costs = Field(default_factory=Costs)
    counterfactual: Counterfactual = Field(default_factory=Counterfactual)
    simulation: Simulation = Field(default_factory=Simulation)

    @model_validator(mode="after")
    def _fits_machine(self) -> "Scenario":
        resident_days = self.population.size * (self.simulation.days + self.simulation.warmup_days)
        if resident_days > MAX_RESIDENT_DAYS:
            raise ValueError(f"population.size x (days + warmup_days) = {resident_days:,} resident-days is more than "
                             f"the {MAX_RESIDENT_DAYS:,} this machine can run")
        return self

    # --- variants -----------------------------------------------------------------------
    def with_overrides(self, overrides: dict[str, Any], *, source: str = "override") -> "Scenario":
        """A new scenario with dotted keys replaced, validated exactly like a file."""
        data = self.model_dump(mode="python")
        for key, value in overrides.items():
            _set_dotted(data, key, value, source)
        return Scenario.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<scenario>") -> "Scenario":
        if not isinstance(data, dict):
            raise ScenarioError(f"{source}: the scenario must be a mapping of keys to values, got {type(data).__name__}",
                                source=source)
        _reject_non_finite(data, source, ())
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise _scenario_error(err, source) from None

    # --- serialisation ------------------------------------------------------------------
    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    def hash(self) -> str:
        """Short hash of the full scenario, for provenance: same hash, same inputs."""
        return hashlib.sha256(self.to_yaml().encode()).hexdigest()[:12]


MAX_SCENARIO_BYTES = 1_000_000
"""Largest scenario file read: a real one is a few kilobytes, so anything bigger is the wrong file
(and reading at most this much keeps a device such as /dev/zero from filling memory)."""


MAX_YAML_VALUES = 100_000
"""Most values a YAML document may expand to. Aliases (``*name``) are allowed, and PyYAML's own
dump writes them for repeated lists, but an alias bomb ("billion laughs") expands exponentially."""


class _BoundedLoader(yaml.SafeLoader):
    """Safe YAML whose aliases may neither refer to themselves nor expand beyond MAX_YAML_VALUES."""

    def construct_document(self, node):  # noqa: D102
        _expanded_size(node, {}, set())
        return super().construct_document(node)


def _expanded_size(node, memo: dict, active: set) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise yaml.constructor.ConstructorError(None, None, "a YAML alias (*name) refers to itself", node.start_mark)
    active.add(key)
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    total = 1 + sum(_expanded_size(child, memo, active) for child in children)
    active.discard(key)
    if total > MAX_YAML_VALUES:
        raise yaml.constructor.ConstructorError(
            None, None, f"the YAML expands to more than {MAX_YAML_VALUES:,} values (aliases repeating aliases?)",
            node.start_mark)
    memo[key] = total
    return total


def safe_yaml(text: str) -> Any:
    """Parse untrusted YAML: safe types only, bounded alias expansion. Raises yaml.YAMLError,
    RecursionError (deep nesting) or ValueError (an integer too long to convert)."""
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario; ScenarioError names the file and field on bad input."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SCENARIO_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file", source=str(path)) from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file; give a .yaml file such as "
                            "scenarios/baseline.yaml", source=str(path)) from None
    except PermissionError:
        raise ScenarioError(f"{path}: permission denied; make the file readable (chmod u+r) or copy it somewhere "
                            "you can read", source=str(path)) from None
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read the scenario file ({err.strerror or err})", source=str(path)) from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"{path}: more than {MAX_SCENARIO_BYTES:,} bytes; a scenario file is a few kilobytes of "
                            "YAML, so this is probably not one", source=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{path}: not a text file (byte {err.start} is not UTF-8); a scenario is a YAML text "
                            "file such as scenarios/baseline.yaml", source=str(path)) from None
    if "\x00" in text:
        raise ScenarioError(f"{path}: not a text file (it contains NUL bytes); a scenario is a YAML text file "
                            "such as scenarios/baseline.yaml", source=str(path))
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, *, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as YAML text (uploads, tests)."""
    try:
        data = safe_yaml(text)
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise ScenarioError(f"{source}: malformed YAML{where}: {problem}", source=source) from None
    except RecursionError:
        raise ScenarioError(f"{source}: YAML nested too deeply", source=source) from None
    except ValueError as err:  # an integer of thousands of digits
        problem = ("a number has more than 4,300 digits" if "integer string conversion" in str(err)
                   else " ".join(str(err).split())[:120])
        raise ScenarioError(f"{source}: unreadable value in the YAML: {problem}", source=source) from None
    if data is None:
        raise ScenarioError(f"{source}: the scenario is empty; write at least one key, e.g. 'name: my_team' "
                            "(every value left out takes its default)", source=source)
    return Scenario.from_dict(data, source=source)


def parse_override(text: str, *, source: str = "--set") -> tuple[str, Any]:
    """Split ``key=value`` from the command line; the value is read as a YAML scalar."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"{source}: '{text}' is not of the form key=value (for example team.mdt_frequency=weekly)",
                            source=source)
    try:
        value = safe_yaml(raw) if raw.strip() else ""
    except (yaml.YAMLError, RecursionError, ValueError):
        value = raw  # not a YAML value: kept as text, which the schema then accepts or refuses
    return key, value


# --- error reporting -----------------------------------------------------------------------

def _set_dotted(data: dict, key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None and isinstance(node, dict) and part in node:
            section = _model_at(parts[: depth + 1])  # an empty optional section: start from its defaults
            if section is not None:
                child = node[part] = section().model_dump(mode="python")
        if not isinstance(child, dict):
            prefix = ".".join(parts[: depth + 1])
            raise ScenarioError(f"{source}: {key}: unknown key '{prefix}'; allowed here: {_allowed_keys(parts[:depth])}",
                                field=key, source=source)
        node = child
    if parts[-1] not in node:
        raise ScenarioError(f"{source}: {key}: unknown key; allowed here: {_allowed_keys(parts[:-1])}",
                            field=key, source=source)
    if isinstance(node[parts[-1]], dict):
        raise ScenarioError(f"{source}: {key}: is a section, not a value; set one of {_allowed_keys(parts)}",
                            field=key, source=source)
    node[parts[-1]] = value


def _model_at(path: list[str] | tuple) -> type[BaseModel] | None:
    model: Any = Scenario
    for part in path:
        if isinstance(part, int):
            return None
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        model = field.annotation
        for option in getattr(model, "__args__", ()):  # Optional[Section]
            if isinstance(option, type) and issubclass(option, BaseModel):
                model = option
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _allowed_keys(path: list[str] | tuple) -> str:
    model = _model_at(path)
    return ", ".join(model.model_fields) if model else "(nothing)"


def field_info(dotted: str):
    """The pydantic FieldInfo of a dotted key, or None."""
    parts = dotted.split(".")
    model = _model_at(parts[:-1])
    return model.model_fields.get(parts[-1]) if model else None


def allowed_text(dotted: str) -> str:
    """Human description of what a field accepts: range and unit, or choices."""
    info = field_info(dotted)
    if info is None:
        return ""
    extra = info.json_schema_extra or {}
    if isinstance(extra, dict) and "allowed" in extra:
        return extra["allowed"]
    unit = extra.get("unit", "") if isinstance(extra, dict) else ""
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
        high = getattr(meta, "lt", None) if getattr(meta, "lt", None) is not None else high
    annotation = info.annotation
    choices = getattr(annotation, "__args__", None)
    if choices and all(isinstance(c, str) for c in choices):
        return "one of " + ", ".join(choices)
    if annotation is bool:
        return "true or false"
    if annotation is str:
        longest = next((m.max_length for m in info.metadata if getattr(m, "max_length", None) is not None), None)
        return f"text of at most {longest:,} characters" if longest else "text"
    kind = "a whole number" if annotation is int else "a number"
    if low is not None and high is not None:
        return f"{kind} from {low:,} to {high:,}" + (f" ({unit})" if unit else "")
    return kind + (f" ({unit})" if unit else "")


def _scenario_error(err: ValidationError, source: str) -> ScenarioError:
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    dotted = ".".join(loc) or "(scenario)"
    value = first.get("input")
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"{source}: {dotted}: unknown key; allowed here: {_allowed_keys(loc[:-1])}"
    elif kind in ("value_error", "assertion_error") and not loc:
        message = f"{source}: {first['msg'].removeprefix('Value error, ')}"
    elif kind in ("value_error",):
        message = f"{source}: {dotted}: {first['msg'].removeprefix('Value error, ')}"
    else:
        shown = _short(value)
        allowed = allowed_text(dotted) or first["msg"]
        message = f"{source}: {dotted}: {shown} is not allowed; expected {allowed}"
    more = len(err.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(message, field=dotted, source=source)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _reject_non_finite(node: Any, source: str, path: tuple) -> None:
    """NaN and infinity pass pydantic's range checks on some fields; refuse them everywhere."""
    if isinstance(node, dict):
        for key, value in node.items():
            _reject_non_finite(value, source, path + (str(key),))
    elif isinstance(node, float) and not math.isfinite(node):
        dotted = ".".join(path)
        raise ScenarioError(f"{source}: {dotted}: {node!r} is not allowed; expected {allowed_text(dotted) or 'a finite number'}",
                            field=dotted, source=source)


# --- the counterfactual and the checklist ---------------------------------------------------

FRAGMENTED_TEAM = {
    "team.co_location": "none",
    "team.mdt_frequency": "none",
    "team.gp_in_mdt": False,
    "team.it_interoperability": 0.0,
    "team.information_sharing": False,
    "team.pooled_budget": False,
    "team.joint_training": False,
    "team.shared_vision": 0.0,
    "team.role_clarity": 0.2,
    "team.staff.care_navigator": 0,
}
"""The no-INT counterfactual: the same residents and the same services, working apart.

Admissions avoided are measured against this, on the same random numbers, and the configured
base rates are the rates this counterfactual reproduces (see docs/ODD.md, calibration)."""


def counterfactual(scenario: Scenario) -> Scenario:
    """The scenario's no-INT counterfactual: today's services, working apart (itself when fragmented)."""
    overrides: dict[str, Any] = {}
    current = scenario.counterfactual.staff
    if current is not None:
        overrides.update({f"team.staff.{role}": getattr(current, role) for role in ROLES})
    overrides.update(FRAGMENTED_TEAM)
    return scenario.with_overrides(overrides, source=f"{scenario.name} (no-INT counterfactual)")


def is_counterfactual(scenario: Scenario) -> bool:
    return counterfactual(scenario).model_dump(exclude={"name"}) == scenario.model_dump(exclude={"name"})


CHECKLIST = {
    "Clear vision and purpose": ["team.shared_vision"],
    "Strong leadership": ["team.leadership"],
    "Good working relationships": ["workforce.stranger_trust", "team.shared_vision", "team.leadership", "team.co_location",
                                   "team.joint_training"],
    "Clear professional identities and boundaries": ["team.role_clarity"],
    "Involving service users, patients and the public": ["team.patient_involvement"],
    "Involving primary care and GPs": ["team.gp_in_mdt", "team.staff.gp"],
    "Adequate and sustained resources and capacity": ["team.staff", "team.funding_level"],
    "Sustained funding and suitable financial mechanisms": ["team.funding_stability", "team.pooled_budget"],
    "Professional development and shared learning": ["team.joint_training"],
    "Multidisciplinary teams": ["team.mdt_frequency", "team.mdt_minutes", "team.mdt_attendance"],
    "Co-located teams": ["team.co_location"],
    "Appointed care navigators and case managers": ["team.staff.care_navigator"],
    "Compatible IT systems and data sharing": ["team.it_interoperability", "team.information_sharing"],
}
"""The 13 factors of the evidence review's checklist and the scenario keys that represent them."""

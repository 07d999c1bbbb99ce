"""The team model: each lever moves outcomes the way the evidence says, on common random numbers.

Each comparison holds everything else fixed and pairs replications, so a difference whose whole
95% interval lies on one side of zero is a real response of the model, not noise.
"""

import numpy as np
import pytest

from int_sim import compare
from int_sim.care_state import RESIDENT, REVIEWED
from int_sim.experiment import replication_seeds
from int_sim.model import NeighbourhoodModel
from int_sim.scenario import ROLES

from model_helpers import diff, preset, scaled

SIZE = 20_000


@pytest.fixture(scope="module")
def levers():
    base = scaled(preset("baseline"), SIZE)
    variants = {
        "base": base,
        "mdt_none": base.with_overrides({"team.mdt_frequency": "none"}),
        "it_none": base.with_overrides({"team.it_interoperability": 0.0}),
        "it_full": base.with_overrides({"team.it_interoperability": 1.0}),
        "colocation_none": base.with_overrides({"team.co_location": "none"}),
        "colocation_full": base.with_overrides({"team.co_location": "full"}),
        "checklist_full": scaled(preset("checklist_full"), SIZE),
        "fragmented": scaled(preset("fragmented"), SIZE),
    }
    return compare(variants, replications=5, seed=3, workers=2)


def significantly_below(comparison, a, b, metric):
    """a's metric is below b's: the paired difference a - b has its whole interval below zero."""
    mean_a, low_a, high_a = diff(comparison, a, metric) if a != "base" else (0.0, 0.0, 0.0)
    if b == "base":
        return high_a < 0, (mean_a, low_a, high_a)
    # both against base: difference of paired differences, per replication
    reps = comparison.replications
    wide = reps[reps.metric == metric].pivot(index="replication", columns="configuration", values="value")
    d = (wide[a] - wide[b]).to_numpy()
    from int_sim.experiment import t_interval
    mean, low, high = t_interval(d)
    return high < 0, (mean, low, high)


def test_weekly_mdt_gives_fewer_admissions_than_none(levers):
    ok, interval = significantly_below(levers, "base", "mdt_none", "admissions_per_1000")
    assert ok, interval


def test_full_it_interoperability_cuts_repeat_assessments_and_time_to_action(levers):
    for metric in ("repeat_assessments_per_plan", "days_to_action_median"):
        ok, interval = significantly_below(levers, "it_full", "it_none", metric)
        assert ok, (metric, interval)


def test_co_location_shortens_time_to_action(levers):
    ok, interval = significantly_below(levers, "colocation_full", "colocation_none", "days_to_action_median")
    assert ok, interval


def test_a_larger_intervention_effect_gives_fewer_admissions():
    """The lever off against at its largest, with more replications than the other levers: the
    counterfactual's plans are protected by the same rule, so only the INT's extra and better
    plans carry the difference, which is small beside the run-to-run spread (a paired difference
    of about 2.5 admissions per 1,000 with a standard deviation of about 2.5 at 20,000 residents)."""
    base = scaled(preset("baseline"), SIZE)
    comparison = compare({"effect_none": base.with_overrides({"care.intervention_effect": 0.0}),
                          "effect_large": base.with_overrides({"care.intervention_effect": 0.9})},
                         replications=16, seed=3, workers=2)
    mean, low, high = diff(comparison, "effect_large", "admissions_per_1000")
    assert high < 0, (mean, low, high)


@pytest.fixture(scope="module")
def workforce_levers():
    """Turnover and vacancies, with enough staff that burnout (which amplifies any difference
    either way and makes single replications diverge) does not swamp the levers' own effect."""
    base = scaled(preset("baseline"), 10_000, days=730, warmup=60, staff_factor=3)
    variants = {"base": base,
                "short_term": base.with_overrides({"team.funding_stability": "short_term"}),
                "joint_training": base.with_overrides({"team.joint_training": True})}
    return compare(variants, replications=8, seed=21, workers=2)


def test_short_term_funding_raises_vacancies(workforce_levers):
    ok, interval = significantly_below(workforce_levers, "base", "short_term", "vacancy_days")
    assert ok, interval


def test_joint_training_lowers_turnover(workforce_levers):
    ok, interval = significantly_below(workforce_levers, "joint_training", "base", "staff_turnover_pct")
    assert ok, interval


def test_checklist_full_beats_fragmented_on_admissions_avoided_and_time_to_action(levers):
    ok, interval = significantly_below(levers, "fragmented", "checklist_full", "admissions_avoided_per_1000")
    assert ok, interval
    ok, interval = significantly_below(levers, "checklist_full", "fragmented", "days_to_action_median")
    assert ok, interval


def test_fragmented_avoids_nothing_against_itself(levers):
    values = levers.replications
    avoided = values[(values.configuration == "fragmented") & (values.metric == "admissions_avoided_per_1000")]
    assert (avoided.value == 0).all()


def test_invariants_hold_in_every_configuration(levers):
    values = levers.replications
    signed = values.metric.str.startswith("admissions_avoided_per_1000") | (values.metric == "net_cost_per_resident")
    never_negative = values[~signed]
    assert (never_negative.value >= 0).all(), never_negative[never_negative.value < 0]
    for metric in ("staff_utilisation_pct", "signs_acted_before_crisis_pct", "continuity_of_care_pct", "joint_plans_pct"):
        v = values[values.metric == metric].value
        assert ((v >= 0) & (v <= 100)).all(), metric
    burnout = values[values.metric == "staff_burnout_mean"].value
    assert ((burnout >= 0) & (burnout <= 1)).all()
    daily = levers.daily
    assert (daily.dropna().value >= 0).all()


def test_residents_are_neither_created_nor_lost_and_admissions_fit_resident_days():
    scenario = scaled(preset("baseline"), 5_000, days=120, warmup=30)
    model = NeighbourhoodModel(scenario, replication_seeds(4, 0))
    result = model.run()
    pop = model.population
    for name in ("group", "quintile", "excess", "weight", "hospital_until", "needs"):
        assert len(getattr(pop, name)) == scenario.population.size, name
    assert pop.group_size.sum() == scenario.population.size
    admissions = result.daily[result.daily.metric == "admissions"].value
    assert admissions.sum() <= scenario.population.size * model.total_days
    posts = model.workforce.posts
    assert sum(p.occupant is not None for p in posts) <= sum(p.funded for p in posts) <= len(posts)
    for person in model.workforce.in_post():
        assert 0 <= person.busy <= person.caseload
    episodes = model.care.totals.episodes
    assert len(episodes) > 0 and (episodes.opened >= model.warmup_days).all()
    acted = ~np.isnan(episodes.first_action_day)
    assert acted.any() and (episodes.first_action_day[acted] >= episodes.opened[acted]).all()


def test_mdt_reviews_the_highest_risk_waiting_episodes_and_none_that_ended():
    """With too little MDT time for everyone known, each meeting reviews the highest-risk open
    episodes of its queue; episodes that ended while waiting leave the queue and are never reviewed."""
    scenario = scaled(preset("baseline"), 5_000, days=120, warmup=30).with_overrides({"team.mdt_minutes": 30})
    model = NeighbourhoodModel(scenario, replication_seeds(2, 0))
    care, population = model.care, model.population
    reviews = []
    review = care._review

    def risk(residents: np.ndarray) -> np.ndarray:
        return (1.0 + population.excess_of(residents)) * population.weight[residents]

    def recorded_review(episodes: np.ndarray) -> None:
        still_waiting = care._backlog_residents  # what the meeting leaves for the next one
        e = care.state.arrays.episodes
        for number in episodes.tolist():
            reviews.append((care.is_closed(number), bool(e[number, REVIEWED]), risk(np.array([e[number, RESIDENT]]))[0],
                            risk(still_waiting).max() if still_waiting.size else -np.inf,
                            bool((care.state.arrays.open_number[still_waiting] > 0).all())))
        review(episodes)

    care._review = recorded_review
    model.run()
    assert reviews
    assert any(highest_left > -np.inf for *_, highest_left, _ in reviews)  # the MDT time ran out
    for closed, reviewed, reviewed_risk, highest_left, all_open in reviews:
        assert not closed and not reviewed
        assert reviewed_risk >= highest_left
        assert all_open
    assert care.awaiting_review >= len(care._backlog_residents)


def test_a_team_without_a_role_never_completes_actions_that_need_it():
    scenario = scaled(preset("baseline"), 5_000, days=180, warmup=30).with_overrides({"team.staff.therapist": 0})
    model = NeighbourhoodModel(scenario, replication_seeds(1, 0))
    model.run()
    totals = model.care.totals
    assert totals.actions_done["therapist"] == 0
    assert totals.actions_unmet > 0
    assert sum(totals.actions_done[r] for r in ROLES) > 0  # the other roles still act


def test_team_size_has_an_interior_optimum_at_fixed_reach():
    """Too few staff: queues. Too many: time spent keeping in touch. The middle does best."""
    base = preset("baseline")
    sizes = {f"x{k}": scaled(base, SIZE, staff_factor=k, fixed_counterfactual=True) for k in (0.25, 2, 16)}
    result = compare(sizes, replications=3, seed=5, workers=2)
    small_minus_middle = diff(result, "x2", "admissions_per_1000")  # x2 - x0.25
    assert small_minus_middle[2] < 0, small_minus_middle
    reps = result.replications
    wide = reps[reps.metric == "admissions_per_1000"].pivot(index="replication", columns="configuration", values="value")
    from int_sim.experiment import t_interval
    middle_minus_large = t_interval((wide["x2"] - wide["x16"]).to_numpy())
    assert middle_minus_large[2] < 0, middle_minus_large
    coordination = result.summary[result.summary.metric == "coordination_time_pct"].set_index("configuration")["mean"]
    assert coordination["x16"] > 3 * coordination["x2"]

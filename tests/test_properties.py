"""Property-based tests (hypothesis) over the whole scenario space.

Two claims of issue 7, checked on scenarios hypothesis draws from the schema itself (every leaf
field's range, choices or type is read from the pydantic field metadata, so a field added to
:mod:`int_sim.scenario` is covered without touching this file):

* any valid scenario runs without an exception, and its results respect the invariants: no
  resident created or lost, no negative count, utilisation within 0-100%, admissions no more
  than resident-days, every summary interval containing its mean;
* any invalid value of any field (out of range, wrong type, NaN, infinity, an unknown choice) is
  refused with a ScenarioError naming that field's dotted key, whether it comes from
  ``with_overrides`` or from a YAML file.

Runs are small (at most 1,500 residents, 30-60 measured days, small teams) so that the suite
stays quick; everything else is drawn from the full schema ranges. ``derandomize=True`` makes
the examples the same on every run, so CI is deterministic.
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from int_sim import Scenario, ScenarioError, parse_scenario, run_experiment
from int_sim.experiment import replication_seeds, simulate_replication
from int_sim.metrics import METRICS
from int_sim.model import NeighbourhoodModel
from int_sim.scenario import GROUPS, ROLES, counterfactual

RUN_EXAMPLES = 30
MODEL_EXAMPLES = 15
EXPERIMENT_EXAMPLES = 10
INVALID_EXAMPLES = 300

RUNS = settings(max_examples=RUN_EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                phases=[Phase.explicit, Phase.generate])
"""Runs are not shrunk: shrinking a failing simulation can take many minutes; the failing example
is printed whole instead."""

TOLERANCE = 1e-9
"""Floating-point slack on the bounds (a share summed from many terms may be 1 + 1e-16)."""


# --- the schema, read from pydantic ---------------------------------------------------------------

def _section(annotation: Any) -> type[BaseModel] | None:
    options = get_args(annotation) or (annotation,)
    return next((o for o in options if isinstance(o, type) and issubclass(o, BaseModel)), None)


def leaves(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, FieldInfo]]:
    """Every value field of the schema as (dotted key, FieldInfo), sections walked recursively."""
    out = []
    for name, info in model.model_fields.items():
        sub = _section(info.annotation)
        if sub is not None:
            out += leaves(sub, f"{prefix}{name}.")
        else:
            out.append((f"{prefix}{name}", info))
    return out


def sections(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        sub = _section(info.annotation)
        if sub is not None:
            out.append(f"{prefix}{name}")
            out += sections(sub, f"{prefix}{name}.")
    return out


LEAVES = leaves()
SECTIONS = sections()


def bounds(info: FieldInfo) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low_open, high_open) from the field's ge/gt/le/lt metadata."""
    low = high = None
    low_open = high_open = False
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            low = meta.ge
        if getattr(meta, "gt", None) is not None:
            low, low_open = meta.gt, True
        if getattr(meta, "le", None) is not None:
            high = meta.le
        if getattr(meta, "lt", None) is not None:
            high, high_open = meta.lt, True
    return low, high, low_open, high_open


def max_length(info: FieldInfo) -> int | None:
    return next((m.max_length for m in info.metadata if getattr(m, "max_length", None) is not None), None)


def valid_value(info: FieldInfo) -> st.SearchStrategy:
    """Any value the field's metadata allows."""
    annotation = info.annotation
    if get_origin(annotation) is Literal:
        return st.sampled_from(get_args(annotation))
    if annotation is bool:
        return st.booleans()
    if annotation is str:
        return st.text(max_size=min(max_length(info) or 50, 50))
    low, high, low_open, high_open = bounds(info)
    assert low is not None and high is not None, f"{info}: a number without a range"
    if annotation is int:
        return st.integers(int(math.ceil(low)) + low_open, int(math.floor(high)) - high_open)
    return st.floats(low, high, exclude_min=low_open, exclude_max=high_open, allow_nan=False, allow_infinity=False)


# Kept small so the suite stays quick; every other field ranges over its whole schema range.
SMALL: dict[str, st.SearchStrategy] = {
    "population.size": st.integers(100, 1500),
    "population.gp_practices": st.integers(1, 12),
    "simulation.days": st.integers(30, 60),
    "simulation.warmup_days": st.integers(0, 20),
    **{f"team.staff.{role}": st.floats(0, 6) for role in ROLES},
    **{f"counterfactual.staff.{role}": st.floats(0, 6) for role in ROLES},
}


def _nest(flat: dict[str, Any]) -> dict:
    data: dict = {}
    for key, value in flat.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


@st.composite
def valid_scenarios(draw) -> Scenario:
    """A valid scenario: every field drawn from its schema range (small sizes, see SMALL)."""
    flat = {}
    for key, info in LEAVES:
        if key.startswith("counterfactual.staff."):
            continue
        flat[key] = draw(SMALL.get(key, valid_value(info)))
    if draw(st.booleans()):  # today's staffing given separately, or the same as the team's
        flat.update({f"counterfactual.staff.{role}": draw(SMALL[f"counterfactual.staff.{role}"]) for role in ROLES})
    # Cross-field rules of the schema: shares that must fit in one, a quintile with some weight.
    for keys in (("population.age_65_to_79_share", "population.age_80_plus_share"),
                 ("population.frailty_mild_share", "population.frailty_moderate_share",
                  "population.frailty_severe_share")):
        total = sum(flat[k] for k in keys)
        if total > 1:
            for k in keys:
                flat[k] = flat[k] / total * 0.999
    if sum(flat[f"population.deprivation_mix.q{q}"] for q in range(1, 6)) <= 0:
        flat["population.deprivation_mix.q1"] = 1.0
    return Scenario.from_dict(_nest(flat), source="hypothesis")


# --- invariants -----------------------------------------------------------------------------------

PERCENT_0_100 = ("staff_utilisation_pct", "signs_acted_before_crisis_pct", "continuity_of_care_pct",
                 "joint_plans_pct")
SHARE_0_1 = ("staff_burnout_mean", "trust_mean")
SIGNED = ("admissions_avoided_per_1000", "net_cost_per_resident", "deprivation_gap_admissions_per_1000")


def check_metrics(scenario: Scenario, metrics: dict[str, float]) -> None:
    """The invariants every replication's metrics must respect."""
    size, days = scenario.population.size, scenario.simulation.days
    assert "admissions_per_1000" in metrics and "cost_per_resident" in metrics
    for metric, value in metrics.items():
        assert metric in METRICS, f"undeclared metric {metric}"
        assert isinstance(value, float) and not math.isnan(value), (metric, value)
        if not metric.startswith(SIGNED):
            assert value >= 0, f"{metric} is negative: {value}"
        if metric.startswith(PERCENT_0_100):
            assert 0 <= value <= 100 + TOLERANCE, (metric, value)
        if metric in SHARE_0_1:
            assert 0 <= value <= 1 + TOLERANCE, (metric, value)
    # Admissions and crises (at most one event a resident-day) and bed days within resident-days.
    per_year = days / 365.0 / 1000.0
    admissions = metrics["admissions_per_1000"] * size * per_year
    crises = metrics["crises_per_1000"] * size * per_year
    assert admissions + crises <= size * days + 1e-6
    assert metrics["bed_days_per_1000"] * size * per_year <= size * days + 1e-6
    for g in GROUPS:  # within each group too
        if f"admissions_per_1000.{g}" in metrics:
            assert metrics[f"admissions_per_1000.{g}"] <= 1000 * 365 + 1e-6
    # The headline rate is the group rates weighted by group size: nobody counted twice or lost.
    # (checked exactly on the model in test_model_conserves_residents_and_events)


def check_daily(scenario: Scenario, daily) -> None:
    size = scenario.population.size
    total_days = scenario.simulation.days + scenario.simulation.warmup_days
    assert set(daily.day) == set(range(-scenario.simulation.warmup_days, scenario.simulation.days))
    series = {name: group.sort_values("day").value.to_numpy() for name, group in daily.groupby("metric")}
    for name, values in series.items():
        assert len(values) == total_days, name
        finite = values[~np.isnan(values)]
        assert (finite >= 0).all(), f"daily {name} has a negative value"
    assert (series["admissions"] + series["crises"] <= size).all()
    assert (series["open_episodes"] <= size).all()
    util = series["utilisation_pct"]
    assert ((util[~np.isnan(util)] >= 0) & (util[~np.isnan(util)] <= 100 + TOLERANCE)).all()
    for name in ("burnout_mean", "trust_mean"):
        values = series[name][~np.isnan(series[name])]
        assert ((values >= 0) & (values <= 1 + TOLERANCE)).all(), f"daily {name} outside 0-1"


# --- valid scenarios run and respect the invariants -----------------------------------------------

@RUNS
@given(scenario=valid_scenarios(), seed=st.integers(0, 2**32 - 1), replication=st.integers(0, 50))
def test_any_valid_scenario_runs_and_respects_the_invariants(scenario, seed, replication):
    (metrics, daily), = simulate_replication({"drawn": scenario}, seed, replication).values()
    check_metrics(scenario, metrics)
    check_daily(scenario, daily)


@settings(RUNS, max_examples=MODEL_EXAMPLES)
@given(scenario=valid_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_model_conserves_residents_and_events(scenario, seed):
    """No resident is created or lost, and every event is counted once in every breakdown."""
    seeds = replication_seeds(seed, 0)
    base = NeighbourhoodModel(counterfactual(scenario), seeds)
    base_run = base.run()
    model = NeighbourhoodModel(scenario, seeds, normaliser=base_run.normaliser)
    model.run()
    size = scenario.population.size
    for m in (base, model):
        pop, rec = m.population, m.recorder
        for name in ("group", "quintile", "excess", "hospital_until", "protected_until", "weight"):
            assert len(getattr(pop, name)) == size, name
        assert pop.group_size.sum() == size
        assert (np.bincount(pop.group, minlength=len(GROUPS)) == pop.group_size).all()
        assert np.bincount(pop.quintile - 1, minlength=5).sum() == size
        assert (pop.excess >= 0).all() and np.isfinite(pop.excess).all()
        measured = slice(m.warmup_days, None)
        admissions = rec.series["admissions"][measured].sum()
        crises = rec.series["crises"][measured].sum()
        assert rec.admissions_by_group.sum() == rec.admissions_by_quintile.sum() == admissions
        assert rec.crises_by_group.sum() == rec.crises_by_quintile.sum() == crises
        assert admissions + crises <= size * scenario.simulation.days
        assert 0 <= rec.bed_days <= size * scenario.simulation.days
        # Care episodes refer to residents that exist.
        residents = m.care.totals.episodes.resident
        assert ((0 <= residents) & (residents < size)).all()


@settings(RUNS, max_examples=EXPERIMENT_EXAMPLES)
@given(scenario=valid_scenarios(), seed=st.integers(0, 2**32 - 1), replications=st.integers(2, 3))
def test_summary_intervals_contain_their_means(scenario, seed, replications):
    result = run_experiment(scenario, replications=replications, seed=seed, workers=1)
    summary = result.summary
    assert len(summary) > 0 and set(summary.metric) == set(result.replications.metric)
    for row in summary.itertuples():
        values = result.replications[result.replications.metric == row.metric].value
        assert row.n == len(values) <= replications
        assert row.mean == pytest.approx(values.mean(), rel=1e-12, abs=1e-12)
        if row.n >= 2:
            assert row.ci_low <= row.mean <= row.ci_high, row
        else:
            assert math.isnan(row.ci_low) and math.isnan(row.ci_high)
    for metric, group in result.replications.groupby("metric"):
        assert group.replication.is_unique, metric


# --- invalid values are refused, naming the field --------------------------------------------------

NOT_A_NUMBER = ["abc", [1, 2], {"a": 1}, None, "", "1,5"]


@st.composite
def invalid_values(draw) -> tuple[str, Any]:
    """A (dotted key, value) the schema must refuse for that key."""
    key, info = draw(st.sampled_from(LEAVES))
    annotation = info.annotation
    if get_origin(annotation) is Literal:
        choices = get_args(annotation)
        value = draw(st.one_of(
            st.text(min_size=1, max_size=20).filter(lambda t: t not in choices),
            st.sampled_from([1, 2.5, True, None, [choices[0]], {"x": 1}, float("nan")])))
        return key, value
    if annotation is bool:
        return key, draw(st.sampled_from(["maybe", 2, -1, 0.5, "2", None, [True], {"a": True}, float("nan"),
                                          float("inf")]))
    if annotation is str:
        longest = max_length(info) or 10_000
        return key, draw(st.one_of(st.just("x" * (longest + 1)), st.integers(), st.sampled_from([[1], {"a": 1}, None]),
                                   st.floats(allow_nan=True)))
    low, high, low_open, high_open = bounds(info)
    choices = [
        st.floats(max_value=low, exclude_max=not low_open, allow_nan=False, allow_infinity=False)
        .filter(lambda v: annotation is not int or v < low),
        st.floats(min_value=high, exclude_min=not high_open, allow_nan=False, allow_infinity=False),
        st.sampled_from([float("nan"), float("inf"), float("-inf"), *NOT_A_NUMBER]),
    ]
    if annotation is int:
        choices += [st.integers(max_value=math.ceil(low) - 1 + low_open), st.integers(min_value=math.floor(high) + 1 - high_open),
                    st.floats(low, high, allow_nan=False).filter(lambda v: not float(v).is_integer())]
    return key, draw(st.one_of(choices))


INVALID = settings(max_examples=INVALID_EXAMPLES, deadline=None, derandomize=True, database=None)


@INVALID
@given(case=invalid_values())
def test_invalid_value_of_any_field_is_refused_naming_it(case):
    key, value = case
    with pytest.raises(ScenarioError) as err:
        Scenario().with_overrides({key: value}, source="drawn.yaml")
    message = str(err.value)
    assert err.value.field == key, (key, value, message)
    assert message.startswith(f"drawn.yaml: {key}: ") and "\n" not in message


@INVALID
@given(case=invalid_values())
def test_invalid_value_in_a_yaml_file_is_refused_naming_it(case):
    key, value = case
    text = yaml.safe_dump(_nest({key: value}))
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="drawn.yaml")
    assert err.value.field == key, (key, value, str(err.value))
    assert str(err.value).startswith(f"drawn.yaml: {key}: ") and "\n" not in str(err.value)


@settings(INVALID, max_examples=60)
@given(key=st.sampled_from(SECTIONS), value=st.one_of(st.integers(), st.text(max_size=10), st.booleans()))
def test_a_value_in_place_of_a_section_is_refused_naming_it(key, value):
    if key == "counterfactual.staff" and value is None:
        return
    with pytest.raises(ScenarioError) as err:
        Scenario().with_overrides({key: value}, source="drawn.yaml")
    assert err.value.field == key and key in str(err.value)


@settings(INVALID, max_examples=60)
@given(prefix=st.sampled_from(["", *[s + "." for s in SECTIONS]]),
       name=st.text(st.characters(categories=["Ll", "Nd"], include_characters="_"), min_size=1, max_size=20))
def test_an_unknown_key_is_refused_naming_it(prefix, name):
    key = prefix + name
    if any(k == key or k.startswith(key + ".") for k, _ in LEAVES) or key in SECTIONS:
        return
    with pytest.raises(ScenarioError) as err:
        Scenario().with_overrides({key: 1}, source="drawn.yaml")
    assert key in str(err.value) and "unknown key" in str(err.value)


def test_the_strategies_cover_every_field():
    """The drawn scenarios and invalid values are derived from every leaf field of the schema."""
    keys = {key for key, _ in LEAVES}
    assert len(keys) > 100
    assert {"population.size", "team.mdt_frequency", "team.gp_in_mdt", "name", "counterfactual.staff.gp",
            "population.groups.general.admission_rate", "simulation.days"} <= keys
    for key, info in LEAVES:
        if info.annotation in (int, float):
            low, high, _, _ = bounds(info)
            assert low is not None and high is not None, f"{key} has no range in the schema"

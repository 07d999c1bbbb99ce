"""Replications to a target precision (Hoad et al.'s confidence-interval method with look-ahead)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import preset, scaled

from int_sim import compare, run_experiment
from int_sim.precision import MIN_REPLICATIONS, PrecisionRule, decide, relative_half_width


def series_of(values, key="m"):
    return {key: list(enumerate(values))}


def precise(values, m, target):
    return relative_half_width(np.asarray(values[:m])) <= target


def test_relative_half_width_matches_the_t_interval():
    values = np.array([9.0, 10.0, 11.0, 10.0])
    half = 3.182446305284263 * values.std(ddof=1) / 2  # t(0.975, 3) * sd / sqrt(4)
    assert relative_half_width(values) == pytest.approx(half / 10.0)
    assert relative_half_width(np.array([4.0, 4.0, 4.0])) == 0.0  # no spread: exact
    assert relative_half_width(np.array([-1.0, 1.0])) == math.inf  # mean 0 with spread: never precise
    assert relative_half_width(np.array([5.0])) == math.inf


def test_constant_output_stops_after_the_first_round_of_three_plus_the_look_ahead():
    rule = PrecisionRule(target=0.05)
    decision = decide(series_of([7.0] * 20), 20, rule)
    assert decision.finished and decision.reached
    assert decision.precise_from == MIN_REPLICATIONS
    assert decision.replications == MIN_REPLICATIONS + rule.look_ahead == rule.first_round


def test_the_choice_is_the_smallest_n_that_stays_precise_for_the_look_ahead():
    rng = np.random.default_rng(3)
    values = list(100 + 15 * rng.standard_normal(200))
    rule = PrecisionRule(target=0.04, max_replications=200)
    decision = decide(series_of(values), 200, rule)
    assert decision.finished and decision.reached
    m = decision.replications
    k = rule.window(m)
    assert decision.precise_from == m - k
    assert all(precise(values, j, rule.target) for j in range(m - k, m + 1))
    for earlier in range(MIN_REPLICATIONS + k, m):  # no smaller n satisfies the rule
        assert not all(precise(values, j, rule.target) for j in range(earlier - rule.window(earlier), earlier + 1))


def test_an_output_centred_on_zero_hits_the_cap_and_says_which_metric():
    rng = np.random.default_rng(0)
    series = {("a", "steady"): list(enumerate(50 + rng.standard_normal(30))),
              ("a", "near_zero"): list(enumerate(rng.standard_normal(30)))}
    rule = PrecisionRule(target=0.05, max_replications=30)
    decision = decide(series, 30, rule)
    assert decision.finished and not decision.reached
    assert decision.replications == 30
    assert decision.worst == ("a", "near_zero")
    assert decision.as_dict(rule)["worst_metric"] == "a/near_zero"


def test_an_unfinished_decision_asks_for_at_least_enough_to_finish():
    values = [10.0, 30.0, 10.0, 30.0] + [20.0] * 50
    rule = PrecisionRule(target=0.05, max_replications=50)
    decision = decide(series_of(values), 4, rule)
    assert not decision.finished
    assert decision.replications >= 5 + rule.look_ahead  # prefix 4 is imprecise, so 5..10 at the earliest


@settings(max_examples=40, deadline=None, derandomize=True)
@given(values=st.lists(st.floats(1.0, 100.0), min_size=3, max_size=40),
       batches=st.lists(st.integers(1, 7), min_size=1, max_size=40),
       target=st.sampled_from([0.02, 0.1, 0.3]))
def test_the_decision_does_not_depend_on_how_replications_were_batched(values, batches, target):
    rule = PrecisionRule(target=target, max_replications=len(values) if len(values) >= 3 else 3)
    everything = decide(series_of(values), len(values), rule)
    available, step = 0, iter(batches * 40)
    while True:
        available = min(len(values), available + next(step))
        decision = decide(series_of(values), available, rule)
        if decision.finished:
            break
        assert decision.replications > available  # an unfinished decision always asks for more
    assert (decision.replications, decision.reached, decision.precise_from) == \
           (everything.replications, everything.reached, everything.precise_from)


@pytest.mark.parametrize("options, message", [
    ({"target": 0.0}, "between 0 and 1"), ({"target": float("nan")}, "between 0 and 1"),
    ({"target": 1.5}, "between 0 and 1"), ({"max_replications": 2}, "between 3"),
    ({"look_ahead": -1}, "0 or more"), ({"metrics": ()}, "no metrics"),
])
def test_bad_rules_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        PrecisionRule(**options)


def test_auto_replications_are_the_same_whatever_the_workers_and_report_the_precision():
    scenario = scaled(preset("baseline"), 2000, days=60, warmup=30)
    options = dict(replications="auto", precision=0.2, max_replications=12, seed=5,
                   precision_metrics=["admissions_per_1000", "crises_per_1000"])
    serial = run_experiment(scenario, workers=1, **options)
    parallel = run_experiment(scenario, workers=2, **options)
    assert serial.n_replications == parallel.n_replications == serial.precision["replications"]
    assert serial.precision == parallel.precision
    assert serial.provenance["precision"] == 0.2
    assert serial.replications.equals(parallel.replications)
    # the result is exactly the fixed-number run of the chosen size: nothing extra is kept
    fixed = run_experiment(scenario, replications=serial.n_replications, seed=5, workers=2)
    assert fixed.replications.equals(serial.replications)
    if serial.precision["reached"]:
        watched = serial.summary.set_index("metric").loc[["admissions_per_1000", "crises_per_1000"]]
        assert ((watched.ci_high - watched["mean"]) <= 0.2 * watched["mean"].abs() + 1e-12).all()


def test_compare_to_a_precision_watches_every_configuration():
    base = scaled(preset("baseline"), 2000, days=60, warmup=30)
    result = compare({"base": base, "weekly": base.with_overrides({"team.mdt_frequency": "weekly"})},
                     replications="auto", precision=0.5, max_replications=8, seed=1, workers=2,
                     precision_metrics=["admissions_per_1000"])
    assert result.precision["worst_metric"].split("/")[0] in {"base", "weekly"}
    assert result.n_replications == result.precision["replications"] <= 8
    assert set(result.replications.replication) == set(range(result.n_replications))


def test_precision_options_need_auto():
    with pytest.raises(ValueError, match="only with replications='auto'"):
        run_experiment(scaled(preset("baseline"), 1000, days=30, warmup=0), replications=2, precision=0.1)
    with pytest.raises(ValueError, match="whole number of at least 1, or 'auto'"):
        run_experiment(scaled(preset("baseline"), 1000, days=30, warmup=0), replications="many")


# --- the command line --------------------------------------------------------------------------

SMALL = ["--set", "population.size=2000", "--set", "simulation.days=60", "--set", "simulation.warmup_days=30"]


def cli(*args):
    from typer.testing import CliRunner

    from int_sim.cli import app
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_reps_auto_reports_the_precision_it_reached_in_json():
    result = cli("run", "scenarios/baseline.yaml", "--reps", "auto", "--precision", "0.25", "--max-reps", "10",
                 "--precision-metric", "crises_per_1000", "--json", "--seed", "3", *SMALL)
    assert result.exit_code == 0, result.stderr
    obj = json.loads(result.stdout)
    precision = obj["precision"]
    assert precision["target"] == 0.25 and precision["max_replications"] == 10
    assert obj["replications"] == precision["replications"] <= 10
    crises = obj["metrics"]["crises_per_1000"]
    if precision["reached"]:
        assert crises["ci_high"] - crises["mean"] <= 0.25 * crises["mean"] * 1.0001


@pytest.mark.parametrize("args, message", [
    (["--reps", "lots"], "--reps lots: must be a whole number of at least 1, or auto"),
    (["--reps", "0"], "--reps 0: must be at least 1, or auto"),
    (["--reps", "5", "--precision", "0.1"], "--precision: only applies with --reps auto"),
    (["--reps", "auto", "--precision", "nan"], "--precision: precision nan: must be a number between 0 and 1"),
    (["--reps", "auto", "--max-reps", "2"], "--max-reps: maximum replications 2: must be between 3"),
    (["--reps", "auto", "--precision-metric", "happiness"], "--precision-metric happiness: unknown outcome"),
])
def test_cli_bad_replication_options_exit_2_with_one_line(args, message):
    result = cli("run", "scenarios/baseline.yaml", *args, *SMALL)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {message}" or result.stderr.startswith(f"error: {message}")
    assert "Traceback" not in result.output

"""Reproducibility and common random numbers."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from int_sim import compare, run_experiment
from int_sim.experiment import replication_seeds, t_interval
from int_sim.model import NeighbourhoodModel
from int_sim.scenario import counterfactual
from int_sim.workforce import _summarise_role_blocks

from model_helpers import preset, scaled

SMALL = dict(days=90, warmup=30)


@pytest.fixture(scope="module")
def small_baseline():
    return scaled(preset("baseline"), 5_000, **SMALL)


def test_same_seed_same_results_bit_for_bit(small_baseline):
    a = run_experiment(small_baseline, replications=2, seed=3)
    b = run_experiment(small_baseline, replications=2, seed=3)
    assert_frame_equal(a.replications, b.replications)
    assert_frame_equal(a.summary, b.summary)
    assert_frame_equal(a.daily, b.daily)


def test_different_seed_different_results(small_baseline):
    a = run_experiment(small_baseline, replications=2, seed=3).replications
    b = run_experiment(small_baseline, replications=2, seed=4).replications
    merged = a.merge(b, on=["replication", "metric"])
    assert (merged.value_x != merged.value_y).mean() > 0.5


def test_parallel_workers_give_the_serial_results(small_baseline):
    serial = run_experiment(small_baseline, replications=3, seed=8, workers=1)
    parallel = run_experiment(small_baseline, replications=3, seed=8, workers=2)
    assert_frame_equal(serial.replications, parallel.replications)
    assert_frame_equal(serial.daily, parallel.daily)


def test_a_configuration_compared_with_itself_differs_by_exactly_zero(small_baseline):
    result = compare({"a": small_baseline, "b": small_baseline}, replications=2, seed=1)
    assert len(result.differences) > 20
    assert (result.differences.mean_diff == 0).all()
    assert (result.differences.ci_low == 0).all() and (result.differences.ci_high == 0).all()


def test_configurations_share_residents_and_underlying_events(small_baseline):
    """Common random numbers: the population and its risk stream do not depend on the configuration."""
    weekly = small_baseline
    none = small_baseline.with_overrides({"team.mdt_frequency": "none", "team.co_location": "full"})
    seeds = replication_seeds(2, 0)
    a, b = NeighbourhoodModel(weekly, seeds), NeighbourhoodModel(none, seeds)
    for attribute in ("group", "quintile", "age_band", "frailty", "needs", "weight", "practice"):
        assert np.array_equal(getattr(a.population, attribute), getattr(b.population, attribute)), attribute
    # the risk stream draws one number per resident per day whatever happens, so before anyone
    # acts (no plan can complete on day 0) both models see the same deteriorations
    a.population.advance(0)
    b.population.advance(0)
    assert np.array_equal(a.population.excess, b.population.excess)


def test_common_random_numbers_shrink_the_variance_of_differences(small_baseline):
    """Paired differences are far less variable than the outcomes they compare."""
    other = small_baseline.with_overrides({"team.it_interoperability": 0.9})
    result = compare({"a": small_baseline, "b": other}, replications=4, seed=9)
    values = result.replications[result.replications.metric == "admissions_per_1000"]
    wide = values.pivot(index="replication", columns="configuration", values="value")
    assert (wide.a - wide.b).std() < 0.5 * wide.a.std()


def test_shared_counterfactual_is_run_once_and_gives_identical_references(small_baseline):
    """Two configurations with the same counterfactual see the same no-INT admissions."""
    other = small_baseline.with_overrides({"team.mdt_frequency": "monthly"})
    assert counterfactual(other) == counterfactual(small_baseline)
    result = compare({"a": small_baseline, "b": other}, replications=2, seed=6)
    wide = result.replications.pivot_table(index=["replication", "configuration"], columns="metric", values="value")
    reference = wide["admissions_per_1000"] + wide["admissions_avoided_per_1000"]
    by_rep = reference.unstack("configuration")
    assert np.allclose(by_rep["a"], by_rep["b"])


def test_warmup_is_excluded_from_metrics(small_baseline):
    res = run_experiment(small_baseline, replications=1, seed=2)
    daily = res.daily[res.daily.metric == "admissions"]
    measured = daily[daily.day >= 0].value.sum()
    assert daily.day.min() == -small_baseline.simulation.warmup_days
    per_1000 = res.replications.set_index("metric").value["admissions_per_1000"]
    expected = measured / small_baseline.population.size * 1000 * 365 / small_baseline.simulation.days
    assert per_1000 == pytest.approx(expected)


def test_t_interval_matches_the_textbook_and_contains_the_mean():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, low, high = t_interval(values)
    assert mean == 2.5
    assert high - mean == pytest.approx(3.182446305 * values.std(ddof=1) / 2, rel=1e-8)
    assert low < mean < high
    assert np.isnan(t_interval(np.array([5.0]))[1])


def test_summary_has_the_design_columns(small_baseline):
    res = run_experiment(small_baseline, replications=2, seed=1)
    assert list(res.summary.columns) == ["metric", "mean", "ci_low", "ci_high", "n"]
    assert list(res.replications.columns) == ["replication", "metric", "value"]
    assert list(res.daily.columns) == ["replication", "day", "metric", "value"]
    assert ((res.summary.ci_low <= res.summary["mean"]) & (res.summary["mean"] <= res.summary.ci_high)).all()
    cmp = compare({"x": small_baseline, "y": small_baseline.with_overrides({"team.mdt_minutes": 60})}, 2, 1)
    assert list(cmp.summary.columns) == ["configuration", "metric", "mean", "ci_low", "ci_high", "n"]
    assert list(cmp.differences.columns) == ["configuration", "metric", "mean_diff", "ci_low", "ci_high", "n"]
    assert set(cmp.differences.configuration) == {"y"}
    assert isinstance(cmp.daily, pd.DataFrame) and set(cmp.daily.configuration) == {"x", "y"}


def test_the_compiled_daily_loops_give_the_results_of_plain_python():
    """The population's and the workforce's compiled loops (numba) are plain Python with
    ``NUMBA_DISABLE_JIT=1``: a small replication's metrics and daily series must not change."""
    import os
    import subprocess
    import sys

    script = (
        "import json, sys; sys.path.insert(0, 'tests')\n"
        "from model_helpers import preset, scaled\n"
        "from int_sim.experiment import simulate_replication\n"
        "metrics, daily = simulate_replication({'b': scaled(preset('baseline'), 3_000, days=60, warmup=30)}, 1, 0)['b']\n"
        "print(json.dumps({'metrics': metrics, 'daily': daily.value.tolist()}, sort_keys=True))\n"
    )
    runs = []
    for disable in ("0", "1"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
        done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], env=env, capture_output=True, text=True,
                              check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        runs.append(done.stdout)  # compared as text, so that NaN equals NaN
    assert runs[0] == runs[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8), st.integers(0, 2**32 - 1))
def test_the_compiled_role_trust_summary_sums_blocks_as_numpy_does(run_sizes, seed):
    """Role trust means are summed in a compiled pass that must give, bit for bit, the sums numpy
    gave of each C-contiguous block (short, eight running sums, and halved blocks alike), and
    leave alone what has nobody to summarise (absent roles, a lone person's own role)."""
    rng = np.random.default_rng(seed)
    roles = np.sort(rng.choice(8, size=len(run_sizes), replace=False))
    stops = np.cumsum(run_sizes)
    runs = np.column_stack([roles, stops - run_sizes, stops])
    among = rng.random((stops[-1], stops[-1])) * 10.0 ** rng.uniform(-3, 3, (stops[-1], stops[-1]))
    before = rng.random((8, 8))
    expected = before.copy()
    for role_a, start_a, stop_a in runs:
        for role_b, start_b, stop_b in runs:
            total = np.ascontiguousarray(among[start_a:stop_a, start_b:stop_b]).sum()
            people = stop_a - start_a
            if role_a != role_b:
                expected[role_a, role_b] = total / (people * (stop_b - start_b))
            elif people > 1:
                expected[role_a, role_b] = (total - people) / (people * (people - 1))
    summarised = before.copy()
    _summarise_role_blocks(among, runs, summarised)
    assert np.array_equal(summarised, expected)

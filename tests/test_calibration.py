"""Calibration: the no-INT configuration reproduces whatever base rates a user enters.

The hazard is normalised each day by the counterfactual's own group mean (see
int_sim/population.py), so the expected number of events in each group equals
N_g x rate_g x years exactly; the observed count may differ only by sampling error. Events are
sums of independent daily Bernoulli draws, so their variance is at most their mean and
|observed - expected| <= 4.5 sqrt(expected) fails by chance less than once in 10^5.
"""

import numpy as np
import pytest

from int_sim import run_experiment
from int_sim.scenario import GROUPS

from model_helpers import group_sizes, preset, scaled

RATE_SETS = {
    "user_rates": {"frail_mild": (0.4, 0.9), "frail_moderate": (0.6, 1.2), "frail_severe": (1.1, 2.0),
                   "severe_mental_illness": (0.35, 3.0), "multimorbidity": (0.2, 0.5),
                   "anxiety_isolation": (0.12, 1.4), "general": (0.03, 0.1)},
    "extreme_rates": {"frail_mild": (0.05, 0.05), "frail_moderate": (2.5, 0.01), "frail_severe": (4.0, 6.0),
                      "severe_mental_illness": (0.01, 8.0), "multimorbidity": (1.0, 1.0),
                      "anxiety_isolation": (0.0, 2.0), "general": (0.2, 0.6)},
}


@pytest.mark.parametrize("rates", RATE_SETS.values(), ids=RATE_SETS.keys())
def test_fragmented_preset_reproduces_configured_group_rates(rates):
    overrides = {}
    for group, (admission, crisis) in rates.items():
        overrides[f"population.groups.{group}.admission_rate"] = admission
        overrides[f"population.groups.{group}.crisis_rate"] = crisis
    overrides["population.deprivation_gradient"] = 2.5  # the group mean is kept whatever the gradient
    scenario = scaled(preset("fragmented"), 30_000, days=365, warmup=60).with_overrides(overrides)
    reps = 2
    result = run_experiment(scenario, replications=reps, seed=11)

    sizes = [group_sizes(scenario, 11, r) for r in range(reps)]
    for g, group in enumerate(GROUPS):
        admission, crisis = rates[group]
        for metric, rate in (("admissions_per_1000", admission), ("crises_per_1000", crisis)):
            per_rep = result.replications[result.replications.metric == f"{metric}.{group}"].sort_values("replication")
            observed = sum(v * sizes[r][g] / 1000.0 for r, v in zip(per_rep.replication, per_rep.value))
            expected = sum(rate * sizes[r][g] for r in range(reps))
            assert abs(observed - expected) <= 4.5 * np.sqrt(expected) + 1.0, (group, metric, observed, expected)


def test_overall_rate_is_the_resident_weighted_mean_of_group_rates():
    scenario = scaled(preset("baseline"), 20_000, warmup=60)
    result = run_experiment(scenario, replications=1, seed=5)
    value = result.replications.set_index("metric")["value"]
    sizes = group_sizes(scenario, 5, 0)
    weighted = sum(value[f"admissions_per_1000.{g}"] * sizes[i] for i, g in enumerate(GROUPS)) / sizes.sum()
    assert value["admissions_per_1000"] == pytest.approx(weighted, rel=1e-9)
    # the defaults give about 90 per 1,000 per year (EVIDENCE.md: 90-95)
    assert 75 <= value["admissions_per_1000"] <= 100

"""The population's sparse daily draws keep the model's law (int_sim/population.py, "Cost").

A day touches only the active residents and the residents drawn; these tests check the pieces
that make that exact: the group subsets, the keyed uniforms, the active table and the events.
"""

import numpy as np
import pytest

from int_sim.experiment import counterfactual, replication_seeds
from int_sim.keyed_random import KeyedUniforms
from int_sim.model import NeighbourhoodModel
from int_sim.population import DENSE_ABOVE, Population
from int_sim.scenario import GROUPS

from model_helpers import preset, scaled


def small_population(size=3000, **overrides):
    scenario = preset("baseline").with_overrides({"population.size": size, **overrides})
    return Population(scenario, *(np.random.default_rng(i) for i in range(4)))


@pytest.mark.parametrize("probability", [0.01, 0.2, DENSE_ABOVE + 0.1, 1.0])
def test_group_subsets_include_every_resident_with_the_group_probability(probability):
    """Distinct residents, each included with the same probability and binomial total."""
    pop = small_population()
    rng = np.random.default_rng(5)
    rounds = 600
    included = np.zeros(pop.size)
    totals = []
    for _ in range(rounds):
        chosen = pop._group_subset(rng, np.full(len(GROUPS), probability))
        assert np.unique(chosen).size == chosen.size
        included[chosen] += 1
        totals.append(chosen.size)
    share = included / rounds
    spread = np.sqrt(probability * (1 - probability) / rounds)
    assert abs(share.mean() - probability) <= 5 * spread / np.sqrt(pop.size) + 1e-12
    assert share.std() <= 1.3 * spread + 1e-12  # no resident favoured: binomial spread only
    assert np.var(totals) <= 1.4 * pop.size * probability * (1 - probability) + 1e-9


def test_group_subsets_follow_each_groups_own_probability():
    pop = small_population()
    rng = np.random.default_rng(6)
    probability = np.linspace(0.0, 0.3, len(GROUPS))
    counts = np.zeros(len(GROUPS))
    for _ in range(400):
        counts += np.bincount(pop.group[pop._group_subset(rng, probability)], minlength=len(GROUPS))
    expected = 400 * pop.group_size * probability
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected) + 1e-9)


def test_keyed_uniforms_are_splitmix64_and_depend_only_on_day_and_resident():
    # SplitMix64 from seed 0: first output 0xE220A8397B1DCDAF (Steele, Lea and Flood 2014)
    assert KeyedUniforms(0, 1).draw(0, np.array([1])) == pytest.approx(0xE220A8397B1DCDAF / 2**64, abs=2**-52)
    keyed = KeyedUniforms(2024, 50_000)
    everyone = keyed.draw(17, np.arange(50_000))
    some = np.array([49_999, 3, 3, 12_345])
    assert np.array_equal(keyed.draw(17, some), everyone[some])  # whoever else is asked
    assert not np.array_equal(keyed.draw(18, some), everyone[some])
    assert 0.0 <= everyone.min() and everyone.max() < 1.0
    assert abs(everyone.mean() - 0.5) < 5 * np.sqrt(1 / 12 / everyone.size)
    assert abs(np.corrcoef(everyone[:-1], everyone[1:])[0, 1]) < 5 / np.sqrt(everyone.size)


def test_the_active_table_holds_exactly_the_residents_whose_multiplier_can_differ_from_one():
    scenario = scaled(preset("baseline"), 5_000, days=120, warmup=30)
    model = NeighbourhoodModel(scenario, replication_seeds(4, 0))
    model.run_to_end()
    pop, day = model.population, model.total_days
    table = pop._active
    residents = table.rows("resident")
    assert np.unique(residents).size == residents.size
    assert np.array_equal(table.slot[residents], np.arange(table.count))
    assert (np.delete(table.slot, residents) == -1).all()
    excess = pop.excess
    must_be_active = (excess > 0) | (pop.protected_until >= day) | (pop.hospital_until >= day)
    assert table.slot[must_be_active].min() >= 0
    assert np.array_equal(table.rows("hospital_until"), pop.hospital_until[residents])
    assert np.array_equal(table.rows("protected_until"), pop.protected_until[residents])
    assert np.array_equal(pop.excess_of(np.arange(pop.size)), excess)


def test_heavy_weights_and_high_rates_still_reproduce_the_configured_rates():
    """A group whose daily candidate chance is above DENSE_ABOVE is drawn resident by resident."""
    scenario = scaled(preset("fragmented"), 4_000, days=200, warmup=20).with_overrides({
        "population.risk.individual_variation": 0.3,
        "population.groups.general.crisis_rate": 8.0,
    })
    model = NeighbourhoodModel(counterfactual(scenario), replication_seeds(8, 0))
    model.run_to_end()
    pop = model.population
    g = GROUPS.index("general")
    assert 1 > (pop.crisis_rate[g] + pop.admission_rate[g]) * pop._max_weight[g] > DENSE_ABOVE  # the path is exercised
    crises = model.recorder.series["crises"].sum()
    expected = float((pop.crisis_rate * pop.group_size).sum()) * model.total_days
    assert abs(crises - expected) <= 5 * np.sqrt(expected), (crises, expected)


def test_an_int_run_replaying_its_counterfactuals_draws_runs_as_if_it_drew_them():
    """Onsets and weighted ordinary candidates do not depend on the configuration, so the INT run
    may replay the counterfactual's (int_sim/recorded_draws.py) and must then run exactly as when
    it draws them itself."""
    scenario = scaled(preset("baseline"), 5_000, days=120, warmup=30)
    seeds = replication_seeds(6, 0)
    base = NeighbourhoodModel(counterfactual(scenario), seeds).run()
    drawn = NeighbourhoodModel(scenario, seeds, normaliser=base.normaliser).run()
    replayed = NeighbourhoodModel(scenario, seeds, normaliser=base.normaliser, draws=base.draws).run()
    assert replayed.draws is base.draws
    for day in range(len(base.normaliser)):  # the premise: the same draws in both configurations
        for kind in ("onsets", "candidates"):
            for own, counterfactuals in zip(getattr(drawn.draws, kind)(day), getattr(base.draws, kind)(day)):
                assert np.array_equal(own, counterfactuals), (day, kind)
    assert drawn.daily.equals(replayed.daily)
    assert drawn.metrics.keys() == replayed.metrics.keys()
    assert all(np.array_equal(drawn.metrics[key], replayed.metrics[key], equal_nan=True) for key in drawn.metrics)
    assert not base.daily.equals(drawn.daily)  # the INT changes who is active, so the test means something
    with pytest.raises(ValueError, match="normaliser"):
        NeighbourhoodModel(scenario, seeds, draws=base.draws)

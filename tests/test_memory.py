"""A finished run leaves nothing behind, so a long sweep's memory stays flat.

Two leaks kept every finished model alive for the life of the process, about 34 MB per
50,000-resident replication (benchmarks/README.md, round 4):

* Mesa 3.3 numbers each model's agents from a class-level dictionary keyed by the model
  (``mesa.Agent._ids``; Mesa issue #3179), which ``int_sim.model`` now holds weakly;
* the MDT meetings' generator kept a numpy object array of episodes between meetings, and the
  garbage collector cannot see an object array's references, so it could never free the INT
  model those episodes lead to.
"""

from __future__ import annotations

import gc
import weakref

from model_helpers import preset, scaled

from int_sim.experiment import replication_seeds, simulate_replication
from int_sim.model import NeighbourhoodModel
from int_sim.scenario import counterfactual


def small_baseline():
    """Long enough for MDT meetings (weekly), where the second leak began."""
    return scaled(preset("baseline"), 3_000, days=40, warmup=20)


def live_models() -> int:
    gc.collect()
    return sum(isinstance(thing, NeighbourhoodModel) for thing in gc.get_objects())


def test_replications_leave_no_model_alive():
    scenario = small_baseline()
    before = live_models()
    for replication in range(2):
        simulate_replication({"baseline": scenario}, 0, replication)
    assert live_models() == before


def test_a_model_run_and_dropped_is_freed_with_or_without_a_team():
    scenario = small_baseline()
    seeds = replication_seeds(0, 0)
    base = NeighbourhoodModel(counterfactual(scenario), seeds).run()
    for build in (lambda: NeighbourhoodModel(counterfactual(scenario), seeds),
                  lambda: NeighbourhoodModel(scenario, seeds, normaliser=base.normaliser, draws=base.draws)):
        model = build()
        model.run()
        finished = weakref.ref(model)
        del model
        gc.collect()
        assert finished() is None

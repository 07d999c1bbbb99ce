"""int-sim: a simulation of England's Integrated Neighbourhood Teams.

Public API (stable names)::

    from int_sim import load_scenario, run_experiment, compare
    sc = load_scenario("scenarios/baseline.yaml")
    res = run_experiment(sc, replications=10, seed=42)   # .summary, .replications, .daily
    cmp = compare({"baseline": sc, "weekly": sc.with_overrides({"team.mdt_frequency": "weekly"})},
                  replications=10, seed=42)              # .summary, .differences

Defaults are illustrative, not calibrated to any one place: see docs/parameters.md.
"""

__version__ = "0.1.0"

from .experiment import ComparisonResult, ExperimentResult, compare, run_experiment  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario, parse_scenario  # noqa: E402

__all__ = ["__version__", "Scenario", "ScenarioError", "load_scenario", "parse_scenario", "run_experiment",
           "compare", "ExperimentResult", "ComparisonResult"]

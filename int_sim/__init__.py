"""int-sim: a simulation of England's Integrated Neighbourhood Teams.

Public API (stable names)::

    from int_sim import load_scenario, run_experiment, compare
    sc = load_scenario("scenarios/baseline.yaml")
    res = run_experiment(sc, replications=10, seed=42)   # .summary, .replications, .daily
    cmp = compare({"baseline": sc, "weekly": sc.with_overrides({"team.mdt_frequency": "weekly"})},
                  replications=10, seed=42)              # .summary, .differences

Defaults are illustrative, not calibrated to any one place: see docs/parameters.md.
"""

from importlib import import_module

__version__ = "0.1.0"

_PUBLIC = {"Scenario": "scenario", "ScenarioError": "scenario", "load_scenario": "scenario",
           "parse_scenario": "scenario", "run_experiment": "experiment", "compare": "experiment",
           "ExperimentResult": "experiment", "ComparisonResult": "experiment"}
"""The public names and their modules, imported on first use: ``import int_sim`` itself stays
light, so the command can load the heavy libraries where it can handle a Ctrl-C (launch.py)."""

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'int_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

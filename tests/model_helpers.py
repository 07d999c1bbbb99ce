"""Shared helpers for the model tests: small, quick versions of the presets."""

from __future__ import annotations

from int_sim import Scenario, load_scenario
from int_sim.scenario import ROLES


def scaled(scenario: Scenario, size: int, days: int = 365, warmup: int = 180, staff_factor: float = 1.0,
           fixed_counterfactual: bool = False) -> Scenario:
    """The scenario for ``size`` residents with staff and practices scaled in proportion.

    ``staff_factor`` multiplies the scaled team; with ``fixed_counterfactual`` the no-INT
    comparison keeps the proportionally scaled staff, so team sizes share one counterfactual.
    """
    ratio = size / scenario.population.size
    overrides = {"population.size": size, "population.gp_practices": max(1, round(scenario.population.gp_practices * ratio)),
                 "simulation.days": days, "simulation.warmup_days": warmup}
    for role in ROLES:
        wte = getattr(scenario.team.staff, role) * ratio
        overrides[f"team.staff.{role}"] = round(wte * staff_factor, 3)
        if fixed_counterfactual:
            overrides[f"counterfactual.staff.{role}"] = round(wte, 3)
    return scenario.with_overrides(overrides)


def preset(name: str) -> Scenario:
    return load_scenario(f"scenarios/{name}.yaml")


def diff(comparison, configuration: str, metric: str):
    """(mean, ci_low, ci_high) of a paired difference against the first configuration."""
    d = comparison.differences
    row = d[(d.configuration == configuration) & (d.metric == metric)].iloc[0]
    return row.mean_diff, row.ci_low, row.ci_high


def group_sizes(scenario: Scenario, seed: int, replication: int):
    """Residents per patient group in one replication (the population stream fixes them)."""
    import numpy as np

    from int_sim.experiment import replication_seeds
    from int_sim.population import Population

    seeds = replication_seeds(seed, replication)
    rngs = [np.random.default_rng(seeds[name]) for name in ("population", "risk", "events", "signs")]
    return Population(scenario, *rngs).group_size

"""Replications, common random numbers, summaries with t-intervals, and paired comparisons.

Randomness: one ``SeedSequence`` per experiment. Replication *r* gets the child with spawn key
``(r,)`` and that child spawns one stream per source of randomness (:data:`model.STREAMS`). The
streams depend on the seed and the replication index only, never on the configuration, so every
configuration of a comparison sees the same residents and the same underlying events (common
random numbers), and the result is the same bit for bit whatever the number of workers.

Each replication also runs the configuration's no-INT counterfactual on the same streams: its
hazard normaliser calibrates the configuration (see :mod:`int_sim.population`) and its outcomes
give ``admissions_avoided_per_1000`` and ``net_cost_per_resident``. Configurations that share a
counterfactual share its run.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
from .metrics import paired_with_counterfactual
from .model import STREAMS, NeighbourhoodModel, RunResult
from .scenario import Scenario, counterfactual

Progress = Callable[[int, int], None]
"""Called as progress(done, total) after each replication."""


def replication_seeds(seed: int, replication: int) -> dict[str, np.random.SeedSequence]:
    """The named random streams of one replication (independent of the configuration)."""
    root = np.random.SeedSequence(seed)
    children = np.random.SeedSequence(root.entropy, spawn_key=(replication,)).spawn(len(STREAMS))
    return dict(zip(STREAMS, children))


def simulate_replication(scenarios: dict[str, Scenario], seed: int, replication: int
                         ) -> dict[str, tuple[dict[str, float], pd.DataFrame]]:
    """Run every configuration once on replication ``replication``'s streams, with counterfactuals."""
    seeds = replication_seeds(seed, replication)
    counterfactual_runs: dict[str, RunResult] = {}
    out = {}
    for name, scenario in scenarios.items():
        reference = counterfactual(scenario)
        key = reference.model_copy(update={"name": ""}).hash()  # shared whatever the configuration is called
        if key not in counterfactual_runs:
            counterfactual_runs[key] = NeighbourhoodModel(reference, seeds).run()
        base = counterfactual_runs[key]
        if reference.model_dump(exclude={"name"}) == scenario.model_dump(exclude={"name"}):
            run = base
        else:
            run = NeighbourhoodModel(scenario, seeds, normaliser=base.normaliser).run()
        out[name] = (paired_with_counterfactual(run.metrics, base.metrics), run.daily)
    return out


def _task(args):
    scenarios, seed, replication = args
    return replication, simulate_replication(scenarios, seed, replication)


def _process_context():
    """Fork on Linux: fast and safe for scripts without a main guard. (Mesa switches the global
    default to spawn on import, so the context is chosen here, not inherited.)"""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _run_all(scenarios: dict[str, Scenario], replications: int, seed: int, workers: int,
             progress: Progress | None):
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if seed < 0:
        raise ValueError("seed must be a non-negative whole number")
    tasks = [(scenarios, seed, r) for r in range(replications)]
    results: dict[int, dict] = {}
    workers = max(1, min(workers or os.cpu_count() or 1, replications))
    if workers == 1:
        for task in tasks:
            r, res = _task(task)
            results[r] = res
            if progress:
                progress(len(results), replications)
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_process_context()) as pool:
            for r, res in pool.map(_task, tasks):
                results[r] = res
                if progress:
                    progress(len(results), replications)
    rows, daily = [], []
    for r in range(replications):
        for name, (metrics, frame) in results[r].items():
            rows.extend((name, r, metric, float(value)) for metric, value in metrics.items()
                        if value is not None and np.isfinite(value))
            daily.append(frame.assign(configuration=name, replication=r))
    long = pd.DataFrame(rows, columns=["configuration", "replication", "metric", "value"])
    daily_frame = pd.concat(daily, ignore_index=True)[["configuration", "replication", "day", "metric", "value"]]
    return long, daily_frame


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t-interval; with one value the interval is undefined (NaN)."""
    values = np.asarray(values, dtype=float)
    n = values.size
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / np.sqrt(n)
    return mean, mean - half, mean + half


def _summarise(long: pd.DataFrame, value: str, keys: list[str], mean_name: str) -> pd.DataFrame:
    rows = []
    for key, group in long.groupby(keys, sort=False):
        mean, low, high = t_interval(group[value].to_numpy())
        key = key if isinstance(key, tuple) else (key,)
        rows.append((*key, mean, low, high, len(group)))
    return pd.DataFrame(rows, columns=[*keys, mean_name, "ci_low", "ci_high", "n"])


def provenance(scenario_hashes: dict[str, str], seed: int, replications: int) -> dict:
    return {"int_sim_version": __version__, "seed": seed, "replications": replications,
            "scenario_hash": scenario_hashes}


@dataclass
class ExperimentResult:
    """Replications of one configuration: ``summary``, ``replications`` (long), ``daily``."""

    scenario: Scenario
    seed: int
    n_replications: int
    replications: pd.DataFrame
    summary: pd.DataFrame
    daily: pd.DataFrame
    provenance: dict = field(default_factory=dict)


@dataclass
class ComparisonResult:
    """Several configurations on common random numbers, with paired differences to the first."""

    scenarios: dict[str, Scenario]
    seed: int
    n_replications: int
    replications: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    daily: pd.DataFrame
    provenance: dict = field(default_factory=dict)


def run_experiment(scenario: Scenario, replications: int = 10, seed: int = 0, workers: int = 1,
                   progress: Progress | None = None) -> ExperimentResult:
    """Run ``replications`` replications of one configuration."""
    long, daily = _run_all({scenario.name: scenario}, replications, seed, workers, progress)
    long = long.drop(columns="configuration")
    daily = daily.drop(columns="configuration")
    summary = _summarise(long, "value", ["metric"], "mean")
    return ExperimentResult(scenario=scenario, seed=seed, n_replications=replications, replications=long,
                            summary=summary, daily=daily,
                            provenance=provenance({scenario.name: scenario.hash()}, seed, replications))


def compare(scenarios: dict[str, Scenario], replications: int = 10, seed: int = 0, workers: int = 1,
            progress: Progress | None = None) -> ComparisonResult:
    """Compare configurations on common random numbers; differences are paired by replication."""
    if not scenarios:
        raise ValueError("compare needs at least one configuration")
    long, daily = _run_all(dict(scenarios), replications, seed, workers, progress)
    summary = _summarise(long, "value", ["configuration", "metric"], "mean")
    first = next(iter(scenarios))
    reference = long[long.configuration == first].set_index(["replication", "metric"])["value"]
    paired = long.join(reference.rename("reference"), on=["replication", "metric"], how="inner")
    paired["difference"] = paired["value"] - paired["reference"]
    differences = _summarise(paired[paired.configuration != first], "difference", ["configuration", "metric"],
                             "mean_diff")
    return ComparisonResult(scenarios=dict(scenarios), seed=seed, n_replications=replications, replications=long,
                            summary=summary, differences=differences, daily=daily,
                            provenance=provenance({n: s.hash() for n, s in scenarios.items()}, seed, replications))

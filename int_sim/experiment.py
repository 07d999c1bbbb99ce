"""Replications, common random numbers, summaries with t-intervals, and paired comparisons.

Randomness: one ``SeedSequence`` per experiment. Replication *r* gets the child with spawn key
``(r,)`` and that child spawns one stream per source of randomness (:data:`model.STREAMS`). The
streams depend on the seed and the replication index only, never on the configuration, so every
configuration of a comparison sees the same residents and the same underlying events (common
random numbers), and the result is the same bit for bit whatever the number of workers.

Each replication also runs the configuration's no-INT counterfactual on the same streams: its
hazard normaliser calibrates the configuration (see :mod:`int_sim.population`), the configuration
replays its onsets and ordinary events instead of drawing the same ones again
(:mod:`int_sim.recorded_draws`), and its outcomes give ``admissions_avoided_per_1000`` and
``net_cost_per_resident``. Configurations that share a counterfactual share its run.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal, Union

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
from .metrics import daily_frame as frame_of_series, paired_with_counterfactual
from .model import STREAMS, NeighbourhoodModel, collector_paused
from .precision import PrecisionRule, decide
from .recorded_draws import RecordedDraws
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
    return {name: (metrics, frame_of_series(*series)) for name, (metrics, series) in _replication(scenarios, seed, replication).items()}


_Series = tuple[dict[str, np.ndarray], int, int]
"""A run's daily series before they become a frame: (name -> values, total days, warm-up days)."""


def _replication(scenarios: dict[str, Scenario], seed: int, replication: int) -> dict[str, tuple[dict[str, float], _Series]]:
    """:func:`simulate_replication` before any frame is built: metrics and daily series per configuration
    (small to send back from a worker; the frames are built where the results are gathered)."""
    with collector_paused():  # until the models are dropped: the first collection then frees them
        return _replication_runs(scenarios, replication_seeds(seed, replication))


def _replication_runs(scenarios: dict[str, Scenario], seeds: dict[str, np.random.SeedSequence]
                      ) -> dict[str, tuple[dict[str, float], _Series]]:
    counterfactual_runs: dict[str, tuple[dict[str, float], _Series, np.ndarray, RecordedDraws]] = {}
    out = {}
    for name, scenario in scenarios.items():
        reference = counterfactual(scenario)
        key = reference.model_copy(update={"name": ""}).hash()  # shared whatever the configuration is called
        if key not in counterfactual_runs:
            counterfactual_runs[key] = _run_model(reference, seeds)
        base = counterfactual_runs[key]
        if reference.model_dump(exclude={"name"}) == scenario.model_dump(exclude={"name"}):
            run = base
        else:
            run = _run_model(scenario, seeds, normaliser=base[2], draws=base[3])
        out[name] = (paired_with_counterfactual(run[0], base[0]), run[1])
    return out


def _run_model(scenario: Scenario, seeds: dict[str, np.random.SeedSequence], normaliser: np.ndarray | None = None,
               draws: RecordedDraws | None = None) -> tuple[dict[str, float], _Series, np.ndarray, RecordedDraws]:
    model = NeighbourhoodModel(scenario, seeds, normaliser=normaliser, draws=draws)
    metrics = model.run_to_end()
    recorder = model.recorder
    result = metrics, (recorder.series, recorder.total_days, recorder.warmup_days), model.normaliser, model.population.draws
    model.dismantle()  # freed now by reference counting, not later by the collector
    return result


def _task(args):
    scenarios, seed, replication = args
    return replication, _replication(scenarios, seed, replication)


def _process_context():
    """Fork on Linux: fast and safe for scripts without a main guard. (Mesa switches the global
    default to spawn on import, so the context is chosen here, not inherited.)"""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


Replications = Union[int, Literal["auto"]]
"""A number of replications, or ``"auto"``: as many as a :class:`PrecisionRule` needs."""


def die_with_parent(parent: int) -> None:
    """Arrange for this worker process to be killed when its parent dies (Linux; elsewhere a no-op).

    A parent killed outright (SIGKILL, the OOM killer) cannot stop its workers, and forked workers
    hold each other's end of the task pipe open, so they would wait for tasks forever; on Linux the
    kernel kills them when the parent dies (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no prctl: the worker lives on as before
        return
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


@contextmanager
def _mapper(workers: int) -> Iterator[Callable]:
    """``map`` over replication tasks: in this process, or in a pool kept for the whole run."""
    if workers == 1:
        yield map
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_process_context(), initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        def mapper(function, tasks):
            # many small replications go out in chunks (at least four per worker, for balance)
            return pool.map(function, tasks, chunksize=max(1, len(tasks) // (4 * workers)))
        yield mapper


def _watched(results: dict[int, dict], metrics: tuple[str, ...]) -> dict:
    """Each watched series' (replication, value) pairs, finite values only; keyed by metric for
    one configuration, by (configuration, metric) for several."""
    series: dict = {}
    for r, per_configuration in results.items():
        for name, (values, _) in per_configuration.items():
            for metric in metrics:
                value = values.get(metric)
                if value is not None and np.isfinite(value):
                    key = metric if len(per_configuration) == 1 else (name, metric)
                    series.setdefault(key, []).append((r, float(value)))
    return series


def _run_all(scenarios: dict[str, Scenario], replications: int | str, seed: int, workers: int,
             progress: Progress | None, rule: PrecisionRule | None):
    """Run replications 0, 1, ... of every configuration; a fixed number, or to ``rule``'s precision.

    To a precision, replications run in rounds (the first one :attr:`PrecisionRule.first_round`
    long, later ones at least one per worker) until :func:`precision.decide` finishes; it decides
    on prefixes of the replication sequence, and replications run beyond its choice are dropped,
    so the result does not depend on ``workers``.
    """
    if seed < 0:
        raise ValueError("seed must be a non-negative whole number")
    if replications == "auto":
        rule = rule or PrecisionRule()
        planned = rule.first_round
        cap = rule.max_replications
    elif isinstance(replications, (int, np.integer)) and not isinstance(replications, bool) and replications >= 1:
        planned = cap = int(replications)
        rule = None
    else:
        raise ValueError(f"replications {replications!r}: must be a whole number of at least 1, or 'auto'")
    workers = max(1, min(workers or os.cpu_count() or 1, cap))
    results: dict[int, dict] = {}
    decision = None
    with _mapper(workers) as mapper:
        while True:
            tasks = [(scenarios, seed, r) for r in range(len(results), planned)]
            for r, res in mapper(_task, tasks):
                results[r] = res
                if progress:
                    progress(len(results), planned)
            if rule is None:
                break
            decision = decide(_watched(results, rule.metrics), len(results), rule)
            if decision.finished:
                break
            planned = min(cap, max(decision.replications, len(results) + workers))
    used = len(results) if decision is None else decision.replications
    rows, daily = [], []
    for r in range(used):
        for name, (metrics, series) in results[r].items():
            rows.extend((name, r, metric, float(value)) for metric, value in metrics.items()
                        if value is not None and np.isfinite(value))
            daily.append(frame_of_series(*series).assign(configuration=name, replication=r))
    long = pd.DataFrame(rows, columns=["configuration", "replication", "metric", "value"])
    daily_frame = pd.concat(daily, ignore_index=True)[["configuration", "replication", "day", "metric", "value"]]
    precision = None if decision is None else decision.as_dict(rule)
    return long, daily_frame, used, precision


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


def provenance(scenario_hashes: dict[str, str], seed: int, replications: int, precision: dict | None = None) -> dict:
    """What any output needs to be re-run; ``precision`` when the replications were chosen by one."""
    out = {"int_sim_version": __version__, "seed": seed, "replications": replications,
           "scenario_hash": scenario_hashes}
    if precision is not None:
        out["precision"] = precision["target"]
    return out


@dataclass
class ExperimentResult:
    """Replications of one configuration: ``summary``, ``replications`` (long), ``daily``.

    ``precision`` (only when run with ``replications="auto"``): the target, whether it was
    reached, the replications used, and the watched metric with the widest interval
    (:meth:`int_sim.precision.Decision.as_dict`).
    """

    scenario: Scenario
    seed: int
    n_replications: int
    replications: pd.DataFrame
    summary: pd.DataFrame
    daily: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    precision: dict | None = None


@dataclass
class ComparisonResult:
    """Several configurations on common random numbers, with paired differences to the first.

    ``precision`` as for :class:`ExperimentResult`, over every configuration's watched metrics.
    """

    scenarios: dict[str, Scenario]
    seed: int
    n_replications: int
    replications: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    daily: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    precision: dict | None = None


def _rule(replications: Replications, precision: float | None, max_replications: int | None,
          metrics: list[str] | None) -> PrecisionRule | None:
    if replications != "auto":
        if precision is not None or max_replications is not None:
            raise ValueError("precision and max_replications apply only with replications='auto'")
        return None
    options = {"target": precision, "max_replications": max_replications,
               "metrics": None if metrics is None else tuple(metrics)}
    return PrecisionRule(**{key: value for key, value in options.items() if value is not None})


def run_experiment(scenario: Scenario, replications: Replications = 10, seed: int = 0, workers: int = 1,
                   progress: Progress | None = None, *, precision: float | None = None,
                   max_replications: int | None = None, precision_metrics: list[str] | None = None
                   ) -> ExperimentResult:
    """Run ``replications`` replications of one configuration.

    ``replications="auto"`` runs until every watched metric's 95% interval is within
    ``precision`` (default 0.05, i.e. 5%) of its mean, or ``max_replications`` (default 50) is
    reached; see :mod:`int_sim.precision`. ``progress(done, total)``: ``total`` may grow.
    """
    rule = _rule(replications, precision, max_replications, precision_metrics)
    long, daily, used, precision_info = _run_all({scenario.name: scenario}, replications, seed, workers, progress, rule)
    long = long.drop(columns="configuration")
    daily = daily.drop(columns="configuration")
    summary = _summarise(long, "value", ["metric"], "mean")
    return ExperimentResult(scenario=scenario, seed=seed, n_replications=used, replications=long,
                            summary=summary, daily=daily,
                            provenance=provenance({scenario.name: scenario.hash()}, seed, used, precision_info),
                            precision=precision_info)


def compare(scenarios: dict[str, Scenario], replications: Replications = 10, seed: int = 0, workers: int = 1,
            progress: Progress | None = None, *, precision: float | None = None,
            max_replications: int | None = None, precision_metrics: list[str] | None = None) -> ComparisonResult:
    """Compare configurations on common random numbers; differences are paired by replication.

    ``replications="auto"`` as in :func:`run_experiment`, until every configuration's watched
    metrics are within the precision.
    """
    if not scenarios:
        raise ValueError("compare needs at least one configuration")
    rule = _rule(replications, precision, max_replications, precision_metrics)
    long, daily, used, precision_info = _run_all(dict(scenarios), replications, seed, workers, progress, rule)
    summary = _summarise(long, "value", ["configuration", "metric"], "mean")
    first = next(iter(scenarios))
    reference = long[long.configuration == first].set_index(["replication", "metric"])["value"]
    paired = long.join(reference.rename("reference"), on=["replication", "metric"], how="inner")
    paired["difference"] = paired["value"] - paired["reference"]
    differences = _summarise(paired[paired.configuration != first], "difference", ["configuration", "metric"],
                             "mean_diff")
    return ComparisonResult(scenarios=dict(scenarios), seed=seed, n_replications=used, replications=long,
                            summary=summary, differences=differences, daily=daily,
                            provenance=provenance({n: s.hash() for n, s in scenarios.items()}, seed, used, precision_info),
                            precision=precision_info)

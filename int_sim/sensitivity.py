"""Global sensitivity analysis (SALib): which levers move the outcomes, and how much.

A sensitivity spec is a sweep spec (:mod:`int_sim.sweep`) whose factors are ranges, plus the
metrics to analyse::

    name: factor_ranking
    base: scenarios/baseline.yaml       # beside the spec, else the project root; empty: defaults
    factors:
      team.leadership: {low: 0.1, high: 0.9}     # a number drawn between low and high
      team.staff.care_navigator: {low: 0, high: 8}
      team.co_location: [none, partial, full]    # ordered levels (also [false, true])
    samples: 10                         # Morris: trajectories (default 10); Sobol: base sample, a power of two (64)
    replications: 2
    seed: 2026
    metrics: [admissions_avoided_per_1000, days_to_action_median, cost_per_resident, staff_turnover_pct]
    fixed: {population.size: 10000}     # optional: values set in every configuration

``fixed`` (an addition to the sweep format) sets keys to one value in every configuration, e.g. a
modest population for a screening run, without a separate base scenario file. The method
(``morris`` or ``sobol``) is chosen when running; a spec may name it as ``design`` to
say what it was written for. Levels are an addition to DESIGN.md's ``{low, high}`` ranges: most of
the review's checklist levers are switches or ordered categories (co-location, MDT cadence, a
pooled budget), and leaving them out would rank only half the checklist.

How it runs. SALib draws the design in the unit hypercube with the spec's seed (Morris
trajectories with 4 levels; Sobol/Saltelli with scrambled Sobol' points, first and total order).
Each row becomes one configuration: a range maps u to ``low + u (high - low)`` (whole-number
fields rounded), levels map u to the ``floor(u k)``-th of k levels; every configuration is
validated with :meth:`Scenario.with_overrides`. The configurations then run through
:func:`int_sim.sweep.run_sweep` as a sweep named ``<name>.<method>``: replication-major, common
random numbers per replication index, every replication committed to the DuckDB store as it
finishes, resumed where it stopped, and the same values whatever the executor. (The sweep's spec
is a small stand-in, :class:`_StoredSpec`, carrying what ``run_sweep`` and the store use: the name,
seed, replications and the canonical spec text, which includes the method and the sample size, so
a changed spec under the same name is refused as for sweeps.)

Analysis. Replications are averaged per configuration; SALib then computes, per metric,

* Morris: ``mu_star`` (mean absolute elementary effect) with ``conf`` = the half-width of its 95%
  bootstrap interval, ``sigma`` (spread of the effects: interactions or non-linearity) and ``mu``
  (signed mean). Effects are per unit of the scaled range, i.e. roughly the change in the metric
  across a factor's whole range, so they compare across factors in the metric's own unit.
* Sobol: ``S1`` (first-order share of variance) and ``ST`` (total-order), each with ``conf``.

Bootstrap resamples are drawn from a generator seeded with the spec's seed, so re-running the
analysis gives the same indices, bit for bit.

A metric some configurations lack (a median time to action when nobody acted) is analysed on the
trajectories (Morris) or base samples (Sobol) complete for it, with a warning; a metric with too
few complete ones, or without variance (Sobol), is skipped with a warning. Indices go to the
store's ``sensitivity_indices`` table, replacing earlier ones of the same sweep and method;
:func:`load_indices` reads them back as one tidy frame.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from .scenario import ScenarioError, field_info
from .store import INDEX_COLUMNS, Store
from .sweep import (MAX_CONFIGURATIONS, MAX_SAMPLES, Configuration, NamedSpec, Progress, Range, Sweep, SweepError,
                    SweepOutcome, _is_integer_field, _resolve_base, check_metric_names, read_spec_file, run_sweep,
                    spec_error)

METHODS = ("morris", "sobol")

DEFAULT_SAMPLES = {"morris": 10, "sobol": 64}
"""Morris: trajectories; Sobol: base sample size (a power of two)."""

DEFAULT_METRICS = ["admissions_avoided_per_1000", "days_to_action_median", "cost_per_resident", "staff_turnover_pct"]

MORRIS_LEVELS = 4
"""Grid levels of the Morris design (SALib's default; jumps of 2/3 of the range)."""

BOOTSTRAP_RESAMPLES = 1000
CONF_LEVEL = 0.95

INDICES = {"morris": ("mu_star", "sigma", "mu"), "sobol": ("S1", "ST")}
"""The indices stored per method, in display order."""

IMPORTANCE = {"morris": "mu_star", "sobol": "ST"}
"""The index that ranks parameters by importance, per method."""


class SensitivityError(SweepError):
    """A bad sensitivity spec or option; the message names the spec file and field."""


# --- the spec --------------------------------------------------------------------------------------

class SensitivitySpec(NamedSpec):
    """A validated sensitivity spec (a sweep spec with ranges or ordered levels, plus metrics)."""

    base: str | None = None
    design: Literal["morris", "sobol"] | None = None
    factors: dict[str, Any] = Field(min_length=1)
    samples: int | None = Field(None, ge=2, le=MAX_SAMPLES)
    replications: int = Field(ge=1, le=10_000)
    seed: int = Field(ge=0, le=2**63 - 1)
    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS), min_length=1)
    fixed: dict[str, Any] = Field(default_factory=dict)

    _known_metrics = field_validator("metrics")(check_metric_names)

    @model_validator(mode="after")
    def _factors_fit(self) -> "SensitivitySpec":
        for key in self.fixed:
            if key in self.factors:
                raise ValueError(f"fixed.{key}: also a factor; a key is either fixed or varied")
        for key, values in self.factors.items():
            where = f"factors.{key}"
            info = field_info(key)
            annotation = getattr(info, "annotation", None)
            choices = getattr(annotation, "__args__", None)
            categorical = annotation is bool or bool(choices and all(isinstance(c, str) for c in choices))
            if isinstance(values, dict):
                if set(values) != {"low", "high"}:
                    raise ValueError(f"{where}: a range needs {{low: , high: }}, or give ordered levels as a list")
                if categorical:
                    allowed = "[false, true]" if annotation is bool else f"[{', '.join(choices)}]"
                    raise ValueError(f"{where}: not a number; give its levels as a list, e.g. {allowed}")
                try:
                    Range.model_validate(values)
                except ValidationError as err:
                    raise ValueError(f"{where}: {err.errors()[0]['msg'].removeprefix('Value error, ')}") from None
            elif isinstance(values, list):
                if len(values) < 2:
                    raise ValueError(f"{where}: give at least two levels")
                if any(isinstance(v, (dict, list)) for v in values):
                    raise ValueError(f"{where}: levels must be single values (numbers, words, true/false)")
                if len(set(map(repr, values))) != len(values):
                    raise ValueError(f"{where}: a level is listed twice")
            else:
                raise ValueError(f"{where}: give a range {{low: , high: }} or a list of ordered levels")
        return self


@dataclass(frozen=True)
class _StoredSpec:
    """What :func:`int_sim.sweep.run_sweep` needs of a spec: the stored name, seed, replications
    and the canonical text that the store compares to refuse a changed spec of the same name."""

    name: str
    seed: int
    replications: int
    text: str
    rule = None  # a fixed number of replications: SALib's estimators need every configuration alike

    @property
    def planned_replications(self) -> int:
        return self.replications

    def to_yaml(self) -> str:
        return self.text


@dataclass
class Analysis:
    """A loaded sensitivity analysis: its spec, method, SALib problem, unit sample and sweep."""

    spec: SensitivitySpec
    method: str
    samples: int
    problem: dict
    unit: np.ndarray
    """The SALib sample in the unit hypercube, one row per configuration (id = row)."""
    sweep: Sweep

    @property
    def name(self) -> str:
        """The sweep's name in the store: ``<spec name>.<method>``."""
        return self.sweep.spec.name

    @property
    def block(self) -> int:
        """Rows per Morris trajectory or per Sobol base sample (first and total order)."""
        d = self.problem["num_vars"]
        return d + 1 if self.method == "morris" else d + 2


def _value(key: str, spec_value: Any, u: float) -> Any:
    """The scenario value of factor ``key`` at unit coordinate ``u``."""
    if isinstance(spec_value, list):
        return spec_value[min(int(u * len(spec_value)), len(spec_value) - 1)]
    low, high = float(spec_value["low"]), float(spec_value["high"])
    value = low + float(u) * (high - low)
    return int(round(value)) if _is_integer_field(key) else value


def _sample(problem: dict, method: str, samples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if method == "morris":
        from SALib.sample import morris
        return morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=rng)
    from SALib.sample import sobol
    return sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=rng)


def load_analysis(path: str | Path, method: str) -> Analysis:
    """Load a sensitivity spec, draw its design and validate every configuration.

    SensitivityError (a SweepError) names the file and field on bad input.
    """
    path = Path(path)
    if method not in METHODS:
        raise SensitivityError(f"--method {method}: unknown method; use one of {', '.join(METHODS)}")
    data = read_spec_file(path)
    try:
        spec = SensitivitySpec.model_validate(data)
    except ValidationError as err:
        raise spec_error(err, path, SensitivitySpec, "name, factors, replications and seed",
                         {"design": METHODS}, SensitivityError) from None
    if spec.design is not None and spec.design != method:
        raise SensitivityError(f"{path}: design: the spec is written for {spec.design}, but --method is {method}")
    samples = spec.samples or DEFAULT_SAMPLES[method]
    if method == "sobol" and samples & (samples - 1):
        raise SensitivityError(f"{path}: samples: Sobol needs a power of two (e.g. 32, 64, 128), not {samples}")
    keys = list(spec.factors)
    rows = samples * (len(keys) + (1 if method == "morris" else 2))
    if rows > MAX_CONFIGURATIONS:
        raise SensitivityError(f"{path}: samples: {method} with {samples} samples and {len(keys)} factors needs "
                               f"{rows:,} configurations, more than {MAX_CONFIGURATIONS:,}")
    try:
        base = _resolve_base(spec, path)  # type: ignore[arg-type]  # needs only .base
    except SweepError as err:
        raise SensitivityError(str(err)) from None
    problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's advice on sample sizes; ours are checked above
        unit = np.asarray(_sample(problem, method, samples, spec.seed), dtype=float)
    name = f"{spec.name}.{method}"
    record = dict(spec.model_dump(mode="json"), samples=samples, method=method)
    stored = _StoredSpec(name, spec.seed, spec.replications,
                         yaml.safe_dump(record, sort_keys=False, allow_unicode=True))
    configurations = []
    for cid, row in enumerate(unit):
        point = {key: _value(key, spec.factors[key], u) for key, u in zip(keys, row)}
        try:
            scenario = base.with_overrides({**spec.fixed, **point, "name": f"{name}#{cid}"},
                                           source=f"{path}: configuration {cid}")
        except ScenarioError as err:
            raise SensitivityError(str(err)) from None
        configurations.append(Configuration(cid, point, scenario))
    sweep = Sweep(stored, path, base, configurations)  # type: ignore[arg-type]  # duck-typed spec
    return Analysis(spec, method, samples, problem, unit, sweep)


# --- running and analysing -------------------------------------------------------------------------

@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` did: the sweep's outcome, the indices and any warnings."""

    analysis: Analysis
    outcome: SweepOutcome
    indices: pd.DataFrame
    """Columns :data:`int_sim.store.INDEX_COLUMNS`, each metric's parameters by importance."""
    warnings: list[str] = field(default_factory=list)


def run_sensitivity(analysis: Analysis, store: Store, workers: int = 0, scheduler: str | None = None,
                    progress: Progress | None = None) -> SensitivityResult:
    """Run every configuration not yet in ``store`` (see :func:`int_sim.sweep.run_sweep`), then
    compute the indices from all stored replications and store them."""
    outcome = run_sweep(analysis.sweep, store, workers=workers, scheduler=scheduler, progress=progress)
    indices, notes = compute_indices(analysis, store.results(analysis.name))
    store.write_indices(analysis.name, analysis.method, indices)
    return SensitivityResult(analysis, outcome, indices, notes)


def configuration_means(analysis: Analysis, results: pd.DataFrame) -> pd.DataFrame:
    """Mean over stored replications per configuration (rows, in design order) and metric (columns).

    A configuration with no stored value of a metric has NaN there.
    """
    frame = results[results.metric.isin(analysis.spec.metrics)]
    means = frame.groupby(["configuration_id", "metric"])["value"].mean().unstack("metric")
    return means.reindex(index=range(len(analysis.sweep.configurations)), columns=analysis.spec.metrics)


def compute_indices(analysis: Analysis, results: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Sensitivity indices from stored results (``configuration_id, replication, metric, value``).

    Returns the tidy indices (columns :data:`INDEX_COLUMNS`) and warnings about metrics analysed
    on part of the design or skipped.
    """
    means = configuration_means(analysis, results)
    n, block = analysis.samples, analysis.block
    unit_name = "trajectories" if analysis.method == "morris" else "base samples"
    notes: list[str] = []
    frames = []
    for metric in analysis.spec.metrics:
        y = means[metric].to_numpy(dtype=float).reshape(n, block)
        complete = np.isfinite(y).all(axis=1)
        kept = int(complete.sum())
        if kept < 2:
            notes.append(f"{metric}: only {kept} of {n} {unit_name} have a value for every configuration "
                         "(the metric is undefined in some runs); no indices for it")
            continue
        if kept < n:
            notes.append(f"{metric}: {n - kept} of {n} {unit_name} include a configuration without a value "
                         f"(the metric is undefined in some runs); its indices use the other {kept}")
        y = y[complete]
        if analysis.method == "sobol" and np.ptp(y) == 0:
            notes.append(f"{metric}: the same value in every configuration; no Sobol indices for it")
            continue
        frame = _analyse(analysis, y, complete)
        frames.append(frame.assign(metric=metric))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("value", "conf") else "object")
                             for c in INDEX_COLUMNS}), notes
    tidy = pd.concat(frames, ignore_index=True).assign(sweep=analysis.name, method=analysis.method)
    return _by_importance(tidy[INDEX_COLUMNS]), notes


def _analyse(analysis: Analysis, y: np.ndarray, complete: np.ndarray) -> pd.DataFrame:
    """One metric's indices (``parameter, index, value, conf``) from complete blocks ``y``."""
    problem = analysis.problem
    rng = np.random.default_rng(analysis.spec.seed)  # bootstrap intervals: the same run, the same bytes
    rows = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # SALib warns about small samples; the intervals say it
        if analysis.method == "morris":
            from SALib.analyze import morris
            x = analysis.unit.reshape(analysis.samples, analysis.block, -1)[complete].reshape(-1, problem["num_vars"])
            si = morris.analyze(problem, x, y.reshape(-1), num_resamples=BOOTSTRAP_RESAMPLES, conf_level=CONF_LEVEL,
                                num_levels=MORRIS_LEVELS, seed=rng)
            for j, name in enumerate(problem["names"]):
                rows += [(name, "mu_star", si["mu_star"][j], si["mu_star_conf"][j]),
                         (name, "sigma", si["sigma"][j], None), (name, "mu", si["mu"][j], None)]
        else:
            from SALib.analyze import sobol
            si = sobol.analyze(problem, y.reshape(-1), calc_second_order=False, num_resamples=BOOTSTRAP_RESAMPLES,
                               conf_level=CONF_LEVEL, seed=rng)
            for j, name in enumerate(problem["names"]):
                rows += [(name, "S1", si["S1"][j], si["S1_conf"][j]), (name, "ST", si["ST"][j], si["ST_conf"][j])]
    frame = pd.DataFrame(rows, columns=["parameter", "index", "value", "conf"])
    for column in ("value", "conf"):
        frame[column] = [float(v) if v is not None and math.isfinite(float(v)) else np.nan for v in frame[column]]
    return frame


def _by_importance(indices: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped by sweep, method and metric (first seen first), parameters by importance
    (Morris: mu_star; Sobol: ST; highest first), then the indices in :data:`INDICES` order."""
    if indices.empty:
        return indices.reset_index(drop=True)
    out = indices.copy()
    first = out["method"].map(lambda m: IMPORTANCE.get(m, ""))
    key = out[out["index"] == first].set_index(["sweep", "method", "metric", "parameter"])["value"]
    out["_importance"] = [key.get((s, m, me, p), np.nan)
                          for s, m, me, p in out[["sweep", "method", "metric", "parameter"]].itertuples(index=False)]
    out["_importance"] = out["_importance"].fillna(-np.inf)
    out["_metric"] = pd.Categorical(out["metric"], categories=list(dict.fromkeys(out["metric"])))
    order = {name: i for names in INDICES.values() for i, name in enumerate(names)}
    out["_index"] = out["index"].map(order).fillna(len(order))
    out = out.sort_values(["sweep", "method", "_metric", "_importance", "parameter", "_index"],
                          ascending=[True, True, True, False, True, True], kind="mergesort")
    return out[INDEX_COLUMNS].reset_index(drop=True)


def load_indices(store_path: str | Path) -> pd.DataFrame:
    """Every stored sensitivity index as one tidy frame.

    Columns ``sweep, method, metric, parameter, index, value, conf`` (``conf``: half-width of the
    95% interval, NaN where the index has none); within each sweep, method and metric, the
    parameters by importance. Empty (with those columns) if the store holds no indices.
    StoreError if the file is not a results store.
    """
    return _by_importance(Store(store_path).indices())

"""Parameter sweeps: designs (grid, Latin hypercube, one-at-a-time) and the executors that run them.

A sweep spec (YAML, see DESIGN.md "Sweep specs and the store") names a base scenario, a design
and the factors it varies (dotted scenario keys). :func:`load_spec` validates the spec and
:func:`load_sweep` turns it into numbered configurations (the id is the position in design
order), each validated with :meth:`Scenario.with_overrides` so that a bad factor value is
reported against its key::

    name: mdt_and_navigators
    base: scenarios/baseline.yaml     # beside the spec, else the project root; empty: defaults
    design: grid                      # grid | lhs | oat
    factors:
      team.mdt_frequency: [monthly, weekly]                 # grid/oat: a list of values
      team_size:                                            # or linked levels: each sets several keys
        small: {team.staff.gp: 2, team.staff.care_navigator: 1}
        large: {team.staff.gp: 8, team.staff.care_navigator: 6}
    replications: 10                  # or auto, with precision: 0.05 and max_replications: 40
    seed: 2026

(``lhs``: ``key: {low: , high: }`` and ``samples: N``.) Linked levels are an addition to
DESIGN.md: a grid of dotted keys cannot scale several roles together, which a team-size study
needs; the store records the level's label under the factor's name.

Running: one task is one (configuration, replication). Task (c, r) calls
:func:`int_sim.experiment.simulate_replication` for configuration c alone on replication r's
streams, so every configuration sees the same random numbers in replication r (common random
numbers) and a task's result depends on nothing but its configuration, the seed and r. That is
why results are the same bit for bit whatever the executor and the number of workers. Tasks run
replication-major (replication 0 of every configuration, then 1, ...) so an interrupted sweep
leaves a balanced design. Only this (parent) process writes to the store, one transaction per
finished replication (:mod:`int_sim.store`); re-running the same sweep skips what is done.

How many replications: a number, or ``auto`` (:mod:`int_sim.precision`): each configuration
gets replications, in rounds run replication-major across the configurations still short,
until its watched metrics' 95% intervals are within ``precision`` of their means (or
``max_replications``). The decision is taken from the stored values, so an interrupted
automatic sweep resumes too. The replication settings are not part of a sweep's identity: the
same sweep run again with more replications (or ``auto``) adds to what is stored.

Executors: a local process pool (fork on Linux, see :func:`experiment._process_context`) or an
existing Dask distributed cluster (``scheduler="tcp://host:8786"``).
"""

from __future__ import annotations

import itertools
import math
import os
import re
import secrets
import signal
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import __version__
from .experiment import _process_context, die_with_parent, simulate_replication
from .metrics import HEADLINE, METRICS
from .precision import Decision, PrecisionRule, decide
from .scenario import MAX_SCENARIO_BYTES, Scenario, ScenarioError, field_info, load_scenario, safe_yaml
from .store import Store

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""Where a relative ``base`` is looked up when it is not beside the spec file."""

MAX_CONFIGURATIONS = 100_000
MAX_SAMPLES = 100_000
MAX_TASKS = 1_000_000
"""Most (configuration, replication) pairs in one sweep: beyond this the task list alone would not
fit in memory and the run would take years; refused up front, naming the limit."""


def check_size(configurations: int, replications: int) -> None:
    """SweepError if a sweep of this many configurations and replications is beyond :data:`MAX_TASKS`."""
    if configurations * replications > MAX_TASKS:
        raise SweepError(f"{configurations:,} configurations x {replications:,} replications = "
                         f"{configurations * replications:,} replications, more than the {MAX_TASKS:,} a sweep may "
                         "hold; use fewer levels, samples or replications")

Progress = Callable[[int, int], None]
"""Called as progress(done, total) with done counting replications stored, including earlier runs."""


class SweepError(ValueError):
    """A bad sweep spec or sweep option; the message names the spec file and field."""


# --- the spec --------------------------------------------------------------------------------------

class Range(BaseModel):
    """A Latin hypercube factor: sampled uniformly between ``low`` and ``high``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is more than high ({self.high:g})")
        return self


class NamedSpec(BaseModel):
    """What every spec of a stored run shares: a name that is safe as a store key and a file name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=100, description="Sweep name: the key of its rows in the store.")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", value):
            raise ValueError("use letters, digits, '_', '-' and '.', starting with a letter or digit")
        return value


def check_metric_names(names: list[str] | None) -> list[str] | None:
    """Metric names given in a spec: each one int-sim reports, none twice."""
    for metric in names or []:
        if metric not in METRICS:
            raise ValueError(f"'{metric}' is not a metric int-sim reports; see docs/ODD.md or int_sim/metrics.py "
                             f"(e.g. {', '.join(HEADLINE[:3])})")
    if names and len(set(names)) != len(names):
        raise ValueError("a metric is listed twice")
    return names


class SweepSpec(NamedSpec):
    """A validated sweep spec."""

    base: str | None = Field(None, description="Base scenario YAML, relative to the spec file or the project root; "
                                               "empty: the built-in defaults.")
    design: Literal["grid", "lhs", "oat"]
    factors: dict[str, Any] = Field(
        min_length=1, description="grid/oat: {key: [values]} or linked levels {label: {level: {key: value, ...}}}; "
                                  "lhs: {key: {low: , high: }}.")
    samples: int | None = Field(None, ge=1, le=MAX_SAMPLES, description="Latin hypercube points (lhs only).")
    fixed: dict[str, Any] = Field(default_factory=dict,
                                  description="Dotted keys set to one value in every configuration (applied to the "
                                              "base before the design), e.g. a smaller population for a quick run.")
    replications: int | Literal["auto"] = Field(
        description="Replications per configuration, or auto: until each configuration's watched metrics "
                    "are within precision (see int_sim.precision).")
    precision: float | None = Field(None, gt=0, lt=1, description="With replications: auto, the widest 95% "
                                                                   "interval accepted, as a fraction of the mean "
                                                                   "(default 0.05).")
    max_replications: int | None = Field(None, ge=3, le=10_000, description="With replications: auto, the cap "
                                                                             "per configuration (default 50).")
    precision_metrics: list[str] | None = Field(None, min_length=1, description="With replications: auto, the "
                                                "metrics watched (default: the headline levels).")
    seed: int = Field(ge=0, le=2**63 - 1)

    @field_validator("replications")
    @classmethod
    def _replication_count(cls, value: Any) -> Any:
        if value != "auto" and not 1 <= value <= 10_000:
            raise ValueError(f"{value} is not allowed; give a whole number from 1 to 10,000, or auto")
        return value

    _known_metrics = field_validator("precision_metrics")(check_metric_names)

    @model_validator(mode="after")
    def _design_fits(self) -> "SweepSpec":
        owner: dict[str, str] = {}
        for key, values in self.factors.items():
            where = f"factors.{key}"
            if self.design == "lhs":
                if not isinstance(values, dict) or set(values) != {"low", "high"}:
                    raise ValueError(f"{where}: a Latin hypercube factor needs {{low: , high: }}")
                try:
                    Range.model_validate(values)
                except ValidationError as err:
                    raise ValueError(f"{where}: {err.errors()[0]['msg'].removeprefix('Value error, ')}") from None
                continue
            if isinstance(values, list):
                if not values:
                    raise ValueError(f"{where}: the list of values is empty")
                if any(isinstance(v, (dict, list)) for v in values):
                    raise ValueError(f"{where}: values must be single values (numbers, words, true/false)")
            elif not (isinstance(values, dict) and values
                      and all(isinstance(v, dict) and v and all(isinstance(k, str) for k in v) for v in values.values())):
                raise ValueError(f"{where}: a {self.design} factor needs a list of values, or linked levels "
                                 "{level: {key: value, ...}} that set several keys together")
            for keys in self.levels(key):
                for dotted in keys[1]:
                    if owner.setdefault(dotted, key) != key:
                        raise ValueError(f"{where}: sets {dotted}, which factor {owner[dotted]} also sets")
        for dotted in self.fixed:
            if dotted in owner or dotted in self.factors:
                raise ValueError(f"fixed.{dotted}: also varied by a factor; a key is either fixed or varied")
        if self.design == "lhs" and self.samples is None:
            raise ValueError("samples: a Latin hypercube (design: lhs) needs samples")
        if self.design != "lhs" and self.samples is not None:
            raise ValueError(f"samples: only used by design lhs, not {self.design}")
        if self.replications != "auto":
            for key in ("precision", "max_replications", "precision_metrics"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key}: only used with replications: auto")
        return self

    @property
    def rule(self) -> PrecisionRule | None:
        """The precision rule of ``replications: auto``, else None."""
        if self.replications != "auto":
            return None
        options = {"target": self.precision, "max_replications": self.max_replications,
                   "metrics": None if self.precision_metrics is None else tuple(self.precision_metrics)}
        return PrecisionRule(**{key: value for key, value in options.items() if value is not None})

    @property
    def planned_replications(self) -> int:
        """Replications per configuration: the fixed number, or the cap of an automatic sweep."""
        rule = self.rule
        return self.replications if rule is None else rule.max_replications

    def levels(self, key: str) -> list[tuple[Any, dict[str, Any]]]:
        """A grid/oat factor's levels as (value recorded for the factor, scenario overrides)."""
        values = self.factors[key]
        if isinstance(values, list):
            return [(value, {key: value}) for value in values]
        return [(label, dict(overrides)) for label, overrides in values.items()]

    def to_yaml(self) -> str:
        """Canonical YAML: the same spec gives the same text (used to spot a changed spec)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class Configuration:
    """One point of the design: its id (position in design order), factor values and scenario."""

    id: int
    factors: dict[str, Any]
    """What the store and exports record: the value of each factor (a linked factor: its level)."""
    scenario: Scenario


@dataclass
class Sweep:
    """A loaded sweep: its spec, where it came from, and its configurations."""

    spec: SweepSpec
    path: Path
    base: Scenario
    configurations: list[Configuration]

    @property
    def tasks(self) -> list[tuple[int, int]]:
        """Every (configuration_id, replication) of a fixed number of replications, replication-major.
        (An automatic sweep's tasks depend on its results: see :func:`plan`.)"""
        return [(c.id, r) for r in range(self.spec.planned_replications) for c in self.configurations]


def spec_error(err: ValidationError, path: Path, spec: type[BaseModel], needs: str,
               choices: dict[str, tuple[str, ...]], error: type[SweepError] = SweepError) -> SweepError:
    """One line naming the spec file and the first bad field (shared with sensitivity specs).

    ``needs``: the required keys, for a missing one; ``choices``: each word field's allowed words.
    """
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        message = f"{loc}: unknown key; allowed here: {', '.join(spec.model_fields)}"
    elif first["type"] == "missing":
        message = f"{loc}: missing; a spec needs {needs}"
    elif loc.startswith("replications.") or (loc == "replications" and first["type"] == "literal_error"):
        message = f"replications: {first.get('input')!r} is not allowed; give a whole number from 1 to 10,000, or auto"
    elif first["type"] == "literal_error" and loc in choices:
        message = f"{loc}: {first.get('input')!r} is not allowed; expected one of {', '.join(choices[loc])}"
    else:
        message = first["msg"].removeprefix("Value error, ")
        message = f"{loc}: {message}" if loc else message
    more = len(err.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return error(f"{path}: {message}")


def read_spec_file(path: str | Path) -> dict:
    """Read a spec file's YAML mapping (not yet validated); SweepError names the file on bad input.

    Shared with :mod:`int_sim.sensitivity`, whose specs are sweep specs with ranges.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SCENARIO_BYTES + 1)  # at most: /dev/zero must not fill memory
        if len(raw) > MAX_SCENARIO_BYTES:
            raise SweepError(f"{path}: more than {MAX_SCENARIO_BYTES:,} bytes; a sweep spec is a few lines of YAML, "
                             "so this is probably not one")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise SweepError(f"{path}: no such sweep spec file") from None
    except IsADirectoryError:
        raise SweepError(f"{path}: is a directory, not a sweep spec file") from None
    except UnicodeDecodeError as err:
        raise SweepError(f"{path}: not a text file (byte {err.start} is not UTF-8); a sweep spec is a YAML text file "
                         "such as experiments/size_and_reach/spec.yaml") from None
    except OSError as err:
        raise SweepError(f"{path}: cannot read the sweep spec ({err.strerror or err})") from None
    try:
        data = safe_yaml(text)  # bounded aliases: a "billion laughs" spec would expand without end
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SweepError(f"{path}: malformed YAML{where}: {getattr(err, 'problem', None) or err}") from None
    except RecursionError:
        raise SweepError(f"{path}: YAML nested too deeply") from None
    except ValueError as err:  # an integer of thousands of digits
        raise SweepError(f"{path}: unreadable value in the YAML: {' '.join(str(err).split())[:120]}") from None
    if data is None:
        raise SweepError(f"{path}: the sweep spec is empty; it needs name, design, factors, replications and seed "
                         "(see experiments/size_and_reach/spec.yaml)")
    if not isinstance(data, dict):
        raise SweepError(f"{path}: a sweep spec must be a mapping of keys to values, got {type(data).__name__}")
    return data


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file; SweepError names the file and field on bad input."""
    path = Path(path)
    data = read_spec_file(path)
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        raise spec_error(err, path, SweepSpec, "name, design, factors, replications and seed",
                         {"design": ("grid", "lhs", "oat")}) from None


def _resolve_base(spec: SweepSpec, path: Path) -> Scenario:
    if spec.base is None:
        return Scenario()
    candidates = [path.parent / spec.base, PROJECT_ROOT / spec.base, Path.cwd() / spec.base]
    if Path(spec.base).is_absolute():
        candidates = [Path(spec.base)]
    for candidate in candidates:
        if candidate.is_file():
            try:
                return load_scenario(candidate)
            except ScenarioError as err:
                raise SweepError(f"{path}: base: {err}") from None
    raise SweepError(f"{path}: base: no scenario file '{spec.base}' beside the spec, in the project root "
                     "or in the current folder")


def _is_integer_field(key: str) -> bool:
    info = field_info(key)
    return info is not None and info.annotation is int


def design_points(spec: SweepSpec, base: Scenario) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each configuration's (factor values, scenario overrides), in design order (giving the ids).

    grid: every combination, the first factor varying slowest. oat: the base scenario first,
    then each factor through its levels with the others at the base (a level that changes
    nothing is skipped, being the base itself). lhs: ``samples`` points of a Latin hypercube
    drawn with the spec's seed, scaled to each factor's range; whole-number fields rounded.
    A linked factor records its level and sets all of that level's keys.
    """
    keys = list(spec.factors)
    if spec.design == "grid":
        total = math.prod(len(spec.levels(key)) for key in keys)
        if total > MAX_CONFIGURATIONS:
            raise SweepError(f"factors: the grid has {total:,} configurations, more than {MAX_CONFIGURATIONS:,}")
        points = []
        for combo in itertools.product(*(spec.levels(key) for key in keys)):
            overrides: dict[str, Any] = {}
            for _, level in combo:
                overrides.update(level)
            points.append(({key: value for key, (value, _) in zip(keys, combo)}, overrides))
        return points
    if spec.design == "oat":
        current = base.model_dump(mode="json")
        points = [({}, {})]
        for key in keys:
            points += [({key: value}, level) for value, level in spec.levels(key)
                       if any(_lookup(current, k) != v for k, v in level.items())]
        return points
    from scipy.stats import qmc
    try:
        sampler = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(spec.seed))
    except TypeError:  # scipy < 1.15
        sampler = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(spec.seed))
    unit = sampler.random(spec.samples)
    points = []
    for row in unit:
        point = {}
        for key, u in zip(keys, row):
            rng_ = Range.model_validate(spec.factors[key])
            value = rng_.low + float(u) * (rng_.high - rng_.low)
            point[key] = int(round(value)) if _is_integer_field(key) else value
        points.append((point, point))
    return points


_MISSING = object()


def _lookup(data: dict, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def load_sweep(path: str | Path) -> Sweep:
    """Load a spec, its base scenario and every configuration, each validated."""
    path = Path(path)
    spec = load_spec(path)
    try:
        base = _resolve_base(spec, path)
        if spec.fixed:
            try:
                base = base.with_overrides(spec.fixed, source=f"{path}: fixed")
            except ScenarioError as err:
                raise SweepError(str(err)) from None
        points = design_points(spec, base)
        check_size(len(points), spec.planned_replications)
    except SweepError as err:
        message = str(err)
        raise SweepError(message if message.startswith(f"{path}: ") else f"{path}: {message}") from None
    configurations = []
    for cid, (point, overrides) in enumerate(points):
        name = f"{spec.name}#{cid}"
        try:
            scenario = base.with_overrides({**overrides, "name": name},
                                           source=f"{path}: configuration {cid}")
        except ScenarioError as err:
            raise SweepError(str(err)) from None
        configurations.append(Configuration(cid, point, scenario))
    return Sweep(spec, path, base, configurations)


# --- running ---------------------------------------------------------------------------------------

def run_task(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """One (configuration, replication): its metrics, paired with its no-INT counterfactual."""
    (metrics, _daily), = simulate_replication({scenario.name: scenario}, seed, replication).values()
    return {metric: float(value) for metric, value in metrics.items()
            if value is not None and math.isfinite(float(value))}


def _ignore_sigint(parent: int | None = None) -> None:
    """Workers leave Ctrl-C to the parent, which cancels the sweep cleanly, and die with it
    (:func:`int_sim.experiment.die_with_parent`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        die_with_parent(parent)


@dataclass
class SweepOutcome:
    """What a run of a sweep did; ``precision``: each configuration's decision (automatic sweeps)."""

    sweep: str
    total: int
    already_done: int
    ran: int
    precision: dict[int, Decision] | None = None


def prepare(sweep: Sweep, store: Store) -> set[tuple[int, int]]:
    """Record the sweep in the store (refusing a conflicting one) and return what is already done."""
    store.register(sweep.spec.name, sweep.spec.to_yaml(), sweep.spec.seed, sweep.spec.planned_replications,
                   __version__,
                   [(c.id, c.scenario.to_yaml(), c.scenario.hash(), c.factors) for c in sweep.configurations])
    return store.done(sweep.spec.name)


def plan(sweep: Sweep, store: Store, done: set[tuple[int, int]]) -> tuple[list[tuple[int, int]], dict[int, Decision]]:
    """An automatic sweep's next round: for each configuration, the replications its precision
    decision still needs (replication-major), and every configuration's decision so far."""
    rule = sweep.spec.rule
    stored = store.results(sweep.spec.name)
    stored = stored[stored.metric.isin(rule.metrics)]
    by_configuration = {cid: group for cid, group in stored.groupby("configuration_id")}
    decisions, todo = {}, []
    for configuration in sweep.configurations:
        cid = configuration.id
        available = next(r for r in itertools.count() if (cid, r) not in done)
        rows = by_configuration.get(cid)
        series = {} if rows is None else {
            metric: list(zip(group.replication, group.value)) for metric, group in rows.groupby("metric")}
        decision = decide(series, available, rule) if available else \
            Decision(False, False, rule.first_round, None, None, math.inf)
        decisions[cid] = decision
        if not decision.finished:
            todo += [(cid, r) for r in range(available, decision.replications) if (cid, r) not in done]
    return sorted(todo, key=lambda task: task[::-1]), decisions


def run_sweep(sweep: Sweep, store: Store, workers: int = 0, scheduler: str | None = None,
              progress: Progress | None = None) -> SweepOutcome:
    """Run every replication of ``sweep`` not yet in ``store``, storing each as it finishes.

    ``workers``: local processes (0 = one per CPU); ignored with ``scheduler``, the address of
    an existing Dask distributed scheduler. On KeyboardInterrupt the pending tasks are cancelled
    and everything finished stays stored; the exception propagates.
    """
    name = sweep.spec.name
    check_size(len(sweep.configurations), sweep.spec.planned_replications)  # also after --reps changed it
    done = prepare(sweep, store)
    automatic = sweep.spec.rule is not None
    if automatic:
        todo, decisions = plan(sweep, store, done)
    else:
        todo, decisions = [task for task in sweep.tasks if task not in done], None
    outcome = SweepOutcome(name, len(done) + len(todo), len(done), 0, decisions)
    if progress:
        progress(outcome.already_done, outcome.total)
    scenarios = {c.id: c.scenario for c in sweep.configurations}
    seed = sweep.spec.seed

    def finished(cid: int, replication: int, metrics: dict[str, float]) -> None:
        store.record(name, cid, replication, metrics)
        done.add((cid, replication))
        outcome.ran += 1
        if progress:
            progress(outcome.already_done + outcome.ran, outcome.total)

    while todo:
        if scheduler:
            _run_dask(scheduler, todo, scenarios, seed, finished, store)
        else:
            local = max(1, min(workers or os.cpu_count() or 1, len(todo)))
            if local == 1:
                for cid, replication in todo:
                    finished(cid, replication, run_task(scenarios[cid], seed, replication))
            else:
                _run_pool(local, todo, scenarios, seed, finished, store)
        if not automatic:
            break
        todo, outcome.precision = plan(sweep, store, done)
        outcome.total += len(todo)
    return outcome


def _run_pool(workers: int, todo, scenarios, seed, finished, store: Store) -> None:
    queue = deque(todo)
    limit = 2 * workers  # enough to keep workers busy; few to cancel on Ctrl-C
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_process_context(), initializer=_ignore_sigint,
                               initargs=(os.getpid(),))
    running: dict = {}
    try:
        while queue or running:
            while queue and len(running) < limit:
                cid, replication = queue.popleft()
                running[pool.submit(run_task, scenarios[cid], seed, replication)] = (cid, replication)
            ready, _ = wait(running, return_when=FIRST_COMPLETED)
            # Store in task order among those ready, so the store's insertion order is stable too.
            with store.session():
                for future in sorted(ready, key=lambda f: running[f][::-1]):
                    cid, replication = running.pop(future)
                    finished(cid, replication, future.result())
    except BaseException:
        for future in running:
            future.cancel()
        # Tasks already running would otherwise run to the end first; their results are not wanted.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_dask(address: str, todo, scenarios, seed, finished, store: Store) -> None:
    from distributed import Client, as_completed
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise SweepError(f"--scheduler {address}: cannot connect to a Dask scheduler ({type(err).__name__}: "
                         f"{' '.join(str(err).split())[:200]})") from None
    queue = deque(todo)
    futures: dict = {}
    token = secrets.token_hex(6)  # task keys unique to this run on a shared cluster
    try:
        threads = max(1, sum(client.nthreads().values()))
        limit = 2 * threads

        def submit():
            cid, replication = queue.popleft()
            future = client.submit(run_task, scenarios[cid], seed, replication, pure=False,
                                   key=f"int-sim-{cid}-{replication}-{token}")
            futures[future] = (cid, replication)
            return future

        pending = as_completed([submit() for _ in range(min(limit, len(queue)))], loop=client.loop)
        for batch in pending.batches():
            with store.session():
                for future in sorted(batch, key=lambda f: futures[f][::-1]):
                    cid, replication = futures.pop(future)
                    finished(cid, replication, future.result())
                    if queue:
                        pending.add(submit())
    except BaseException:
        try:
            client.cancel(list(futures))
        finally:
            client.close()
        raise
    client.close()

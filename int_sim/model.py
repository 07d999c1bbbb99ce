"""NeighbourhoodModel: wires residents, workforce and care to one SimPy clock.

One clock owner: a SimPy process advances the day and calls the Mesa ``step``; MDT meetings
are SimPy processes too. Care episodes, hand-offs and actions are compiled steps
(:mod:`int_sim.care_steps`) that fall on whole days and run, after each day's step, from the care
day book (:class:`~int_sim.care.CareEnvironment`), always before SimPy's next event. Each
source of randomness has its own stream (see :mod:`int_sim.experiment`), so two configurations
run with the same seed see the same residents and the same underlying events.
"""

from __future__ import annotations

import gc
import itertools
import os
import threading
import weakref
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd
import simpy

from .care import CareEnvironment, CareSystem
from .care_state import CareState
from .metrics import Recorder
from .population import Population
from .recorded_draws import RecordedDraws
from .scenario import Scenario
from .workforce import Workforce

STREAMS = ("population", "risk", "events", "signs", "information", "care", "workforce")
"""Named random streams, one child SeedSequence each, in this fixed order."""


class _AgentIdCounters(weakref.WeakKeyDictionary):
    """Mesa's per-model agent id counters, held weakly, so a finished model can be freed.

    Why: Mesa 3.3 (the version pip gives Python 3.11) numbers each model's agents from a
    class-level ``defaultdict`` keyed by the model itself (``mesa.Agent._ids``), so every model
    ever created stayed alive for the life of the process: about 34 MB per 50,000-resident
    replication, which a long sweep or the app's server would accumulate until memory ran out
    (Mesa issue #3179; later Mesa assigns ids in ``Model.register_agent`` instead, PR #3180). The
    same counters, starting at 1 for each model, are kept here only as long as their model lives.
    """

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = self[model] = itertools.count(1)
            return counter


if isinstance(mesa.Agent.__dict__.get("_ids"), defaultdict):  # a Mesa with the leak: hold models weakly
    mesa.Agent._ids = _AgentIdCounters(mesa.Agent._ids)


class _CollectorPause:
    """Python's cyclic garbage collector, paused while any model runs in this process.

    Why: a run allocated hundreds of thousands of long-lived objects (episodes and what they
    held, until care steps became arrays in December 2026), so the collector ran hundreds of
    times per run and its full collections traversed every episode and every imported object
    again: 10% of a 50,000-resident run's CPU time and 15% at 200,000 (benchmarks/README.md).
    A run makes almost no cyclic garbage, so memory is freed by reference counting as before. The exception is the
    finished model itself, a cycle (Mesa agents refer to their model): a replication therefore
    takes its models apart (:meth:`NeighbourhoodModel.dismantle`) and keeps the collector paused
    until it has dropped them (``experiment``), and the first collection afterwards finds what
    is left of them still in the youngest generation and frees it, so a long sweep's memory
    stays flat.

    The collector's state is process-wide, so it is restored whatever happens: the first run to
    start (in any thread) disables it if it was enabled, and the last to end re-enables it, also
    when a run raises. A process forked during a run starts with the state from before it.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        if self._running:
            self._running = 0
            if self._was_enabled:
                gc.enable()

    @contextmanager
    def __call__(self):
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._was_enabled:
                    gc.enable()


collector_paused = _CollectorPause()
"""``with collector_paused():`` pauses the garbage collector (see :class:`_CollectorPause`)."""


@dataclass
class RunResult:
    """What one replication of one configuration produced."""

    metrics: dict[str, float]
    daily: pd.DataFrame
    normaliser: np.ndarray  # (days, groups): Z_g(t) of this run, reused by the INT run it is the counterfactual of
    draws: RecordedDraws  # this run's onsets and ordinary events, replayed by that INT run too


class NeighbourhoodModel(mesa.Model):
    """A neighbourhood, its residents and its team, for one replication.

    ``normaliser`` is the per-day, per-group hazard normaliser of the no-INT counterfactual run;
    when absent the model normalises by its own state, which makes it the counterfactual.
    ``draws``, optional with ``normaliser``: the counterfactual's onsets and ordinary events
    (its ``population.draws``, on the same seeds), which this run would draw again identically,
    so it replays them instead (:mod:`int_sim.recorded_draws`).
    """

    def __init__(self, scenario: Scenario, seeds: dict[str, np.random.SeedSequence],
                 normaliser: np.ndarray | None = None, draws: RecordedDraws | None = None):
        if draws is not None and normaliser is None:
            raise ValueError("recorded draws can only be replayed with the normaliser they were drawn under")
        rngs = {name: np.random.default_rng(seeds[name]) for name in STREAMS}
        super().__init__(rng=rngs["workforce"])
        self.scenario = scenario
        sim = scenario.simulation
        self.warmup_days = sim.warmup_days
        self.total_days = sim.warmup_days + sim.days
        self.env: simpy.Environment = CareEnvironment()
        self.population = Population(scenario, rngs["population"], rngs["risk"], rngs["events"], rngs["signs"], draws)
        care_state = CareState(scenario.population.size, self.total_days)
        self.workforce = Workforce(self, scenario, self.env, rngs["workforce"], care_state)
        self.care = CareSystem(scenario, self.env, self.population, self.workforce, rngs["care"], rngs["information"],
                               warmup_days=self.warmup_days, state=care_state)
        self.recorder = Recorder(self.total_days, self.warmup_days, self.population)
        self._external_normaliser = normaliser
        self.normaliser = np.zeros((self.total_days, len(self.population.group_size)))
        self.day = 0

    def step(self) -> None:
        """One day: risk, events, signs, then the workforce; care runs on ``env`` between days."""
        day, pop = self.day, self.population
        pop.advance(day)
        own = pop.normaliser(day)
        self.normaliser[day] = own
        z = own if self._external_normaliser is None else self._external_normaliser[day]
        admitted, crisis = pop.draw_events(day, z, self.scenario.costs.length_of_stay_days)
        self.recorder.record_events(day, admitted, crisis)
        self.care.on_events(day, np.concatenate([admitted, crisis]))
        self.care.on_signs(day, pop.draw_signs(day))
        self.workforce.daily(day, measuring=day >= self.warmup_days)
        self.recorder.record_day(day, self.care, self.workforce)

    def _clock(self):
        while self.day < self.total_days:
            self.step()
            self.day += 1
            yield self.env.timeout(1)

    def run(self) -> RunResult:
        """Run to the end of the horizon: metrics, the daily frame, this run's normaliser and draws."""
        metrics = self.run_to_end()
        return RunResult(metrics=metrics, daily=self.recorder.daily_frame(), normaliser=self.normaliser,
                         draws=self.population.draws)

    def dismantle(self) -> None:
        """Take a finished model apart, so that reference counting frees almost all of it at once.

        Why: the model is a web of cycles (Mesa agents and their model; the clock's queues, the
        MDT meetings' process and the care system its frame holds), so dropping it frees nothing
        until the garbage collector finds the whole web and traverses it several times over
        (finalising, checking for resurrection, clearing). When episodes were objects, emptying
        the attributes of the parts that close those cycles let reference counting free them 4
        times faster (0.35 s against 0.07 s for a 200,000-resident replication); the care arrays
        are now freed at once either way, and the collector is left a few hundred small cycles (a
        post and its occupant) and the empty shells. Nothing may use the model afterwards.
        """
        # (the care arrays first: every professional holds them, and the professionals, Mesa agents
        # of this model, wait for the collector)
        for part in (self.care.state, self.env, self.care, self.workforce, self):
            vars(part).clear()

    def run_to_end(self) -> dict[str, float]:
        """Run to the end of the horizon and return the metrics, building no frame: the daily
        series stay in ``recorder.series`` (parallel workers send those back, not frames). The
        garbage collector is paused meanwhile (see :class:`_CollectorPause`)."""
        with collector_paused():
            self.env.process(self._clock())
            self.env.run(until=self.total_days)
            return self.recorder.metrics(self.scenario, self.care, self.workforce)

"""How many replications are enough: replications to a target precision.

This is the confidence-interval method with a look-ahead of Hoad, Robinson and Davies
("Automated selection of the number of replications for a discrete-event simulation", Journal of
the Operational Research Society 61, 2010), which DES practice in health care follows. After *n*
replications each watched metric has a 95% t-interval; its *relative half-width* is the
half-width divided by the absolute mean. The replications are enough at *n* when every watched
metric is within the target precision (5% by default) at *n* **and** stays within it for the
next ``look_ahead`` replications (Hoad's kLimit = 5, growing to ``n * 5 / 100`` beyond 100), so
that a lucky early interval does not stop the run. The results then use all
``n + look_ahead`` replications run, and the decision records ``precise_from = n``.

The decision is made on prefixes of the replication sequence (0, 1, 2, ...), never on how the
replications were batched, so the number chosen, and so the result, is the same whatever the
number of workers. A metric whose mean is zero with no spread (e.g. admissions avoided by the
counterfactual itself) counts as precise; one whose mean is zero with spread never is, and the
run stops at ``max_replications`` with ``reached = False`` naming the worst metric, as Hoad et
al. advise for outputs near zero. (At the cap, ``reached`` says whether the intervals are within
the target there, without the look-ahead's confirmation.) By default the headline metrics are
watched except the differences (admissions avoided, net cost, deprivation gap), whose mean can
be zero; a comparison's paired differences are judged by their own intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping

import numpy as np
from scipy import stats

from .metrics import HEADLINE

DEFAULT_PRECISION = 0.05
DEFAULT_MAX_REPLICATIONS = 50
MIN_REPLICATIONS = 3
"""Hoad et al. start from three replications: fewer give no usable interval."""
LOOK_AHEAD = 5
"""Hoad et al.'s kLimit: replications the precision must hold for before the run stops."""
DIFFERENCES = ("admissions_avoided_per_1000", "net_cost_per_resident", "deprivation_gap_admissions_per_1000")
"""Headline metrics that are differences of two levels: their mean may be near zero, where a
relative precision cannot be reached, so they are not watched by default (watch them by name)."""
DEFAULT_METRICS = tuple(m for m in HEADLINE if m not in DIFFERENCES)


@dataclass(frozen=True)
class PrecisionRule:
    """Keep adding replications until every watched metric's 95% interval is within ``target``.

    ``target`` is the largest relative half-width accepted (0.05: the interval is the mean
    plus or minus 5%); ``max_replications`` the cap; ``metrics`` the metrics watched (default:
    the headline metrics, those the tables and the app show first, except the three that are
    differences, :data:`DIFFERENCES`).
    """

    target: float = DEFAULT_PRECISION
    max_replications: int = DEFAULT_MAX_REPLICATIONS
    look_ahead: int = LOOK_AHEAD
    metrics: tuple[str, ...] = DEFAULT_METRICS

    def __post_init__(self) -> None:
        if not (isinstance(self.target, (int, float)) and math.isfinite(self.target) and 0 < self.target < 1):
            raise ValueError(f"precision {self.target!r}: must be a number between 0 and 1 (0.05 means within 5% "
                             "of the mean)")
        if self.look_ahead < 0:
            raise ValueError(f"look-ahead {self.look_ahead}: must be 0 or more")
        if not MIN_REPLICATIONS <= self.max_replications <= 10_000:
            raise ValueError(f"maximum replications {self.max_replications}: must be between {MIN_REPLICATIONS} "
                             "and 10,000")
        if not self.metrics:
            raise ValueError("precision: no metrics to watch")

    def window(self, n: int) -> int:
        """Hoad's look-ahead for a run of ``n`` replications: kLimit, scaled up beyond 100."""
        return self.look_ahead if n <= 100 else n * self.look_ahead // 100

    @property
    def first_round(self) -> int:
        """Replications worth running before the first decision (fewer can never stop)."""
        return min(self.max_replications, MIN_REPLICATIONS + self.window(MIN_REPLICATIONS))


def relative_half_width(values: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the t-interval over |mean|; 0 when all values are equal; inf if undefined."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return math.inf
    sd = float(values.std(ddof=1))
    if sd == 0.0:
        return 0.0
    mean = abs(float(values.mean()))
    if mean == 0.0:
        return math.inf
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1)) * sd / math.sqrt(values.size)
    return half / mean


@dataclass(frozen=True)
class Decision:
    """Where a sequence of replications stands against a :class:`PrecisionRule`.

    ``replications`` is the number to use when ``finished``, else the number the sequence must
    at least reach before it can finish. ``worst`` names the watched key (e.g. a metric, or a
    (configuration, metric) pair) with the widest relative interval at that number, and
    ``worst_relative_half_width`` its width.
    """

    finished: bool
    reached: bool
    replications: int
    precise_from: int | None
    worst: Hashable | None
    worst_relative_half_width: float

    def as_dict(self, rule: PrecisionRule) -> dict:
        """Plain values for JSON output, stores and provenance."""
        worst = self.worst
        if isinstance(worst, tuple):
            worst = "/".join(str(part) for part in worst)
        width = self.worst_relative_half_width
        return {"target": rule.target, "reached": self.reached, "replications": self.replications,
                "precise_from": self.precise_from, "max_replications": rule.max_replications,
                "look_ahead": rule.look_ahead, "worst_metric": worst,
                "worst_relative_half_width": width if math.isfinite(width) else None}


def decide(series: Mapping[Hashable, Iterable[tuple[int, float]]], available: int, rule: PrecisionRule) -> Decision:
    """Decide on replications ``0 .. available-1`` of every watched series.

    ``series`` maps a key (a metric, or a (configuration, metric) pair) to its (replication,
    value) pairs; a replication where the metric was undefined is simply absent. Prefix *m*
    is precise when every key's values from replications below *m* are within the target; the
    run finishes at the smallest *m* whose prefixes ``m - window .. m`` are all precise.
    """
    ordered = {}
    for key, pairs in series.items():
        pairs = sorted((int(r), float(v)) for r, v in pairs if r < available)
        ordered[key] = (np.array([r for r, _ in pairs], dtype=int), np.array([v for _, v in pairs]))

    def widest(m: int) -> tuple[Hashable | None, float]:
        worst, width = None, 0.0
        for key, (reps, values) in ordered.items():
            w = relative_half_width(values[reps < m])
            if worst is None or w > width:
                worst, width = key, w
        return worst, width

    if not ordered:
        return Decision(True, True, min(available, rule.max_replications), None, None, 0.0)
    precise = {m: widest(m)[1] <= rule.target for m in range(MIN_REPLICATIONS, available + 1)}
    last_imprecise = MIN_REPLICATIONS - 1
    for m in range(MIN_REPLICATIONS, available + 1):
        if not precise[m]:
            last_imprecise = m
            continue
        start = m - rule.window(m)
        if start > last_imprecise:  # every prefix from start to m is precise
            worst, width = widest(m)
            return Decision(True, True, m, start, worst, width)
    cap = rule.max_replications
    if available >= cap:  # reached if precise now, though not yet confirmed by the look-ahead
        worst, width = widest(cap)
        return Decision(True, width <= rule.target, cap, None, worst, width)
    needed = max(available + 1, last_imprecise + 1 + rule.window(last_imprecise + 1))
    worst, width = widest(available)
    return Decision(False, False, min(cap, needed), None, worst, width)

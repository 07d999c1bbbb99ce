"""Outcome metrics: declared once with labels and units, collected cheaply, returned tidy.

Every metric the CLI, the app and the reports show is declared in :data:`METRICS`. A value the
model cannot produce for a replication (say, a median time to action when nobody acted) is left
out rather than reported as a fake zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .care_state import BUSY
from .scenario import GROUPS


@dataclass(frozen=True)
class Metric:
    label: str
    unit: str
    description: str
    better: str = "lower"  # "lower", "higher" or "neither"


METRICS: dict[str, Metric] = {
    "admissions_per_1000": Metric("Emergency admissions", "per 1,000 residents per year", "Emergency admissions in the measured period, annualised."),
    "crises_per_1000": Metric("Crisis presentations", "per 1,000 residents per year", "Crisis presentations not leading to admission, annualised."),
    "bed_days_per_1000": Metric("Emergency bed days", "per 1,000 residents per year", "Bed days of emergency admissions that started in the measured period."),
    "admissions_avoided_per_1000": Metric("Admissions avoided", "per 1,000 residents per year", "Admissions of the no-INT counterfactual minus this configuration's, on the same random numbers.", "higher"),
    "days_to_action_median": Metric("Time to action", "days (median)", "Days from the first warning sign a service saw to the first action for that resident; episodes never acted on count as longer than any wait."),
    "signs_acted_before_crisis_pct": Metric("Signs acted on before a crisis", "% of episodes", "Episodes where someone acted before any crisis or admission.", "higher"),
    "repeat_assessments_per_plan": Metric("Repeat assessments", "per completed plan", "Times a resident had to tell their story again because records did not flow."),
    "continuity_of_care_pct": Metric("Continuity of care", "% of repeat contacts", "Repeat contacts in a role delivered by the professional the resident saw last time.", "higher"),
    "joint_plans_pct": Metric("Joint plans", "% of completed plans", "Completed plans that an MDT reviewed and joined up.", "higher"),
    "unmet_actions_per_1000": Metric("Unmet actions", "per 1,000 residents per year", "Actions needed but lost in hand-offs, abandoned after waiting, or impossible for want of the role."),
    "staff_utilisation_pct": Metric("Staff utilisation", "% of caseload places in use", "Caseload places in use over places open, across staff in post.", "neither"),
    "staff_burnout_mean": Metric("Staff burnout", "0 to 1", "Mean burnout of staff in post."),
    "staff_turnover_pct": Metric("Staff turnover", "% of posts per year", "Leavers per filled post, annualised."),
    "vacancy_days": Metric("Vacancy days", "post-days per year", "Days funded posts stood empty, annualised."),
    "coordination_time_pct": Metric("Time keeping in touch", "% of staff time", "Share of staff time spent on coordination and MDT meetings at the end of the run."),
    "trust_mean": Metric("Trust between colleagues", "0 to 1", "Mean pairwise trust among staff in post at the end of the run.", "higher"),
    "staff_wte": Metric("Staff in post", "WTE (mean)", "Whole-time equivalents in post, averaged over the measured period.", "neither"),
    "staff_cost_per_resident": Metric("Staff cost", "GBP per resident per year", "Cost of staff in post (unit cost per hour x contracted hours).", "neither"),
    "cost_per_resident": Metric("Total cost", "GBP per resident per year", "Staff, admissions, bed days and crises per resident per year."),
    "net_cost_per_resident": Metric("Net cost against no INT", "GBP per resident per year", "Total cost minus the no-INT counterfactual's, on the same random numbers."),
    "deprivation_gap_admissions_per_1000": Metric("Deprivation gap", "per 1,000 residents per year", "Admissions in the most deprived quintile minus the least deprived."),
}
for _group in GROUPS:
    METRICS[f"admissions_per_1000.{_group}"] = Metric(f"Admissions, {_group.replace('_', ' ')}", "per 1,000 residents per year", f"Emergency admissions among {_group.replace('_', ' ')} residents.")
    METRICS[f"crises_per_1000.{_group}"] = Metric(f"Crises, {_group.replace('_', ' ')}", "per 1,000 residents per year", f"Crisis presentations among {_group.replace('_', ' ')} residents.")
for _q in range(1, 6):
    METRICS[f"admissions_per_1000.q{_q}"] = Metric(f"Admissions, IMD quintile {_q}", "per 1,000 residents per year", f"Emergency admissions in deprivation quintile {_q} (1 = most deprived).")
    METRICS[f"crises_per_1000.q{_q}"] = Metric(f"Crises, IMD quintile {_q}", "per 1,000 residents per year", f"Crisis presentations in deprivation quintile {_q} (1 = most deprived).")
for _name, _who in [(g, g.replace("_", " ")) for g in GROUPS] + [(f"q{q}", f"IMD quintile {q}") for q in range(1, 6)]:
    for _base in ("admissions_avoided_per_1000", "days_to_action_median", "signs_acted_before_crisis_pct"):
        _metric = METRICS[_base]
        METRICS[f"{_base}.{_name}"] = Metric(f"{_metric.label}, {_who}", _metric.unit, f"{_metric.description} ({_who} only)", _metric.better)

HEADLINE = ["admissions_per_1000", "admissions_avoided_per_1000", "crises_per_1000", "days_to_action_median",
            "signs_acted_before_crisis_pct", "repeat_assessments_per_plan", "continuity_of_care_pct",
            "staff_utilisation_pct", "staff_burnout_mean", "staff_turnover_pct", "vacancy_days",
            "cost_per_resident", "net_cost_per_resident", "deprivation_gap_admissions_per_1000"]
"""The metrics shown first in tables and the app."""

DAILY_SERIES = {
    "admissions": "Emergency admissions that day",
    "crises": "Crisis presentations that day",
    "open_episodes": "Residents with an open episode (someone has seen a sign)",
    "awaiting_review": "Cases known to the team awaiting MDT review",
    "staff_in_post": "Staff in post (headcount)",
    "utilisation_pct": "Caseload places in use (%)",
    "burnout_mean": "Mean staff burnout",
    "trust_mean": "Mean trust between colleagues",
}


class Recorder:
    """Per-day counts held in preallocated numpy arrays (no per-day pandas)."""

    def __init__(self, total_days: int, warmup_days: int, population):
        self.total_days, self.warmup_days = total_days, warmup_days
        self.population = population
        self.series = {name: np.zeros(total_days) for name in DAILY_SERIES}
        # Measured events are counted by (group, quintile) cell, one count a day for both
        # breakdowns; the counts are whole numbers, so their sums are exact in any order.
        self._cell = population.group.astype(np.int8) * 5 + (population.quintile - 1)  # (under 128 cells)
        self._admissions_by_cell = np.zeros(len(GROUPS) * 5, dtype=np.int64)
        self._crises_by_cell = np.zeros(len(GROUPS) * 5, dtype=np.int64)
        self.bed_days = 0.0
        self.wte_days = 0.0

    def record_events(self, day: int, admitted: np.ndarray, crisis: np.ndarray) -> None:
        s = self.series
        s["admissions"][day] = admitted.size
        s["crises"][day] = crisis.size
        if day < self.warmup_days:
            return
        pop = self.population
        if admitted.size:
            self._admissions_by_cell += np.bincount(self._cell[admitted], minlength=len(GROUPS) * 5)
            self.bed_days += float(np.minimum(pop.hospital_until[admitted] - day, self.total_days - day).sum())
        if crisis.size:
            self._crises_by_cell += np.bincount(self._cell[crisis], minlength=len(GROUPS) * 5)

    # the measured events by group and by quintile, as float arrays
    admissions_by_group = property(lambda self: _by_group(self._admissions_by_cell))
    crises_by_group = property(lambda self: _by_group(self._crises_by_cell))
    admissions_by_quintile = property(lambda self: _by_quintile(self._admissions_by_cell))
    crises_by_quintile = property(lambda self: _by_quintile(self._crises_by_cell))

    def record_day(self, day: int, care, workforce) -> None:
        """The day's series. Places and WTE in post are the staffing's own totals; busy places
        and burnout are read through C iterators, and the mean burnout is numpy's sum of the
        same values over their count, the float ``np.mean`` gives."""
        s = self.series
        staffing = workforce.staffing
        people = staffing.people
        s["open_episodes"][day] = care.open_episodes
        s["awaiting_review"][day] = care.awaiting_review
        s["staff_in_post"][day] = len(people)
        places = staffing.places
        arrays = workforce.state.arrays
        s["utilisation_pct"][day] = 100.0 * int(arrays.people[BUSY, staffing.slots].sum()) / places if places else np.nan
        if people:
            s["burnout_mean"][day] = float(np.add.reduce(arrays.burnout[staffing.slots])) / len(people)
        else:
            s["burnout_mean"][day] = np.nan
        s["trust_mean"][day] = workforce.mean_trust_cached
        if day >= self.warmup_days:
            self.wte_days += staffing.wte

    # --- end of run ---------------------------------------------------------------------
    def metrics(self, scenario, care, workforce) -> dict[str, float]:
        days = self.total_days - self.warmup_days
        pop = self.population
        per_1000_year = 1000.0 * 365.0 / days
        out: dict[str, float] = {}
        admissions = self.admissions_by_group.sum()
        out["admissions_per_1000"] = admissions / pop.size * per_1000_year
        out["crises_per_1000"] = self.crises_by_group.sum() / pop.size * per_1000_year
        out["bed_days_per_1000"] = self.bed_days / pop.size * per_1000_year
        for g, name in enumerate(GROUPS):
            if pop.group_size[g]:
                out[f"admissions_per_1000.{name}"] = self.admissions_by_group[g] / pop.group_size[g] * per_1000_year
                out[f"crises_per_1000.{name}"] = self.crises_by_group[g] / pop.group_size[g] * per_1000_year
        quintile_size = np.bincount(pop.quintile - 1, minlength=5)
        for q in range(5):
            if quintile_size[q]:
                out[f"admissions_per_1000.q{q + 1}"] = self.admissions_by_quintile[q] / quintile_size[q] * per_1000_year
                out[f"crises_per_1000.q{q + 1}"] = self.crises_by_quintile[q] / quintile_size[q] * per_1000_year
        if quintile_size[0] and quintile_size[4]:
            out["deprivation_gap_admissions_per_1000"] = out["admissions_per_1000.q1"] - out["admissions_per_1000.q5"]

        c = care.totals
        out.update(_episode_metrics(c.episodes, pop))
        if c.plans_completed:
            out["repeat_assessments_per_plan"] = c.repeat_assessments / c.plans_completed
            out["joint_plans_pct"] = 100.0 * c.joint_plans / c.plans_completed
        if c.continuity_opportunities:
            out["continuity_of_care_pct"] = 100.0 * c.continuity_kept / c.continuity_opportunities
        out["unmet_actions_per_1000"] = (c.actions_lost + c.actions_unmet) / pop.size * per_1000_year  # lost includes abandoned

        w = workforce.totals
        if w.open_place_days:
            out["staff_utilisation_pct"] = 100.0 * w.busy_place_days / w.open_place_days
        if w.filled_post_days:
            out["staff_burnout_mean"] = w.burnout_sum / w.filled_post_days
            out["staff_turnover_pct"] = 100.0 * w.leavers / (w.filled_post_days / days) * 365.0 / days
        out["vacancy_days"] = w.vacant_post_days * 365.0 / days
        out["coordination_time_pct"] = 100.0 * workforce.coordination_share
        out["trust_mean"] = workforce.mean_trust()
        out["staff_wte"] = self.wte_days / days
        costs = scenario.costs
        staff_cost = w.staff_cost * 365.0 / days
        acute = (admissions * costs.admission + self.bed_days * costs.bed_day
                 + self.crises_by_group.sum() * costs.crisis) * 365.0 / days
        out["staff_cost_per_resident"] = staff_cost / pop.size
        out["cost_per_resident"] = (staff_cost + acute) / pop.size
        return out

    def daily_frame(self) -> pd.DataFrame:
        """Long frame: day (0 = first measured day; negative = warm-up), metric, value."""
        return daily_frame(self.series, self.total_days, self.warmup_days)


def _by_group(by_cell: np.ndarray) -> np.ndarray:
    return by_cell.reshape(len(GROUPS), 5).sum(axis=1).astype(float)


def _by_quintile(by_cell: np.ndarray) -> np.ndarray:
    return by_cell.reshape(len(GROUPS), 5).sum(axis=0).astype(float)


def daily_frame(series: dict[str, np.ndarray], total_days: int, warmup_days: int) -> pd.DataFrame:
    """A run's daily series (:attr:`Recorder.series`) as the long frame of :meth:`Recorder.daily_frame`."""
    days = np.arange(total_days) - warmup_days
    frames = [pd.DataFrame({"day": days, "metric": name, "value": values}) for name, values in series.items()]
    return pd.concat(frames, ignore_index=True)


def _episode_metrics(episodes, pop) -> dict[str, float]:
    """Time to action and signs acted on before a crisis: overall, by group and by quintile
    (``episodes``: :class:`int_sim.care.EpisodeTable`)."""
    if not len(episodes):
        return {}
    resident = episodes.resident
    acted = ~np.isnan(episodes.first_action_day)
    # an episode nobody acted on counts as longer than any wait
    wait = np.where(acted, episodes.first_action_day - episodes.opened, np.inf)
    acted_first = acted & ~episodes.crisis_before_action
    crisis_first = episodes.crisis_before_action
    subsets = {"": np.ones(len(episodes), dtype=bool)}
    group, quintile = pop.group[resident], pop.quintile[resident]
    subsets.update({f".{name}": group == g for g, name in enumerate(GROUPS)})
    subsets.update({f".q{q}": quintile == q for q in range(1, 6)})
    out = {}
    for suffix, mask in subsets.items():
        n = int(mask.sum())
        if n and np.isfinite(wait[mask]).sum() > n / 2:  # with half or more never acted on, the median is unknown
            out[f"days_to_action_median{suffix}"] = float(np.median(wait[mask]))
        decided = int(acted_first[mask].sum() + crisis_first[mask].sum())
        if decided:
            out[f"signs_acted_before_crisis_pct{suffix}"] = 100.0 * acted_first[mask].sum() / decided
    return out


def paired_with_counterfactual(metrics: dict[str, float], counterfactual: dict[str, float]) -> dict[str, float]:
    """Add the metrics defined against the no-INT counterfactual run on the same random numbers."""
    out = dict(metrics)
    for key in metrics:
        if key == "admissions_per_1000" or key.startswith("admissions_per_1000."):
            if key in counterfactual:
                avoided = key.replace("admissions_per_1000", "admissions_avoided_per_1000")
                out[avoided] = counterfactual[key] - metrics[key]
    out["net_cost_per_resident"] = metrics["cost_per_resident"] - counterfactual["cost_per_resident"]
    return out

"""Reports of a results store: figures (PNG and SVG) and a Markdown summary that embeds them.

``int-sim report STORE --out DIR`` calls :func:`write_report`. For every sweep in the store (or
the one named) the report gives

* provenance: the int-sim version that wrote the sweep and the one writing the report, the seed,
  the replications planned and stored, every configuration's scenario hash, the store's path
  and the date, and a visible note that the defaults are illustrative;
* a summary table: per configuration its factor values and the mean with a 95% t-interval
  (:func:`int_sim.experiment.t_interval`, over replications) of each HEADLINE metric;
* figures of the key metrics (:data:`KEY_METRICS`): a heatmap per metric for a two-factor grid,
  a line chart with interval bands per factor for a one-factor design or a one-at-a-time design,
  and for every sweep a Pareto front of total cost against admissions avoided;
* sensitivity indices, when the store has a ``sensitivity_indices`` table (written by
  ``int-sim sensitivity``, read through :func:`int_sim.sensitivity.load_indices`): a tornado
  chart per method and metric with the indices' confidence intervals.

Reading: the store is opened read-only once, everything needed is read in that one connection
(a consistent snapshot) and the file is closed again before any figure is drawn, so a sweep that
is writing to the store is held up for a moment only; while the sweep holds the file for a
commit, the store's own connect waits and retries. A report of an unfinished sweep covers the
replications stored so far and says so.

Writing: every file goes to a temporary name in DIR and is renamed into place, so an
interrupted report leaves complete files (old or new), never half of one. ``report.md`` is
written last: it never refers to a figure that is not there. Factors that take one value in a
sweep (e.g. a fixed horizon) are listed once, not treated as dimensions of the design.

Admissions avoided per GBP 1,000 of staff cost is derived per replication as
``admissions_avoided_per_1000 / staff_cost_per_resident`` (admissions avoided for 1,000
residents over the staff cost of serving 1,000 residents, in thousands of pounds): the team's
whole staff cost, not the extra cost over the no-INT services, which the store does not hold.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from . import __version__, plots
from .experiment import t_interval
from .files import save_figure, write_atomically
from .metrics import HEADLINE, METRICS, Metric
from .store import Store, StoreError

AVOIDED_PER_STAFF_COST = "admissions_avoided_per_gbp1000_staff_cost"
DERIVED = {
    AVOIDED_PER_STAFF_COST: Metric(
        "Admissions avoided per staff cost", "per GBP 1,000 of team staff cost",
        "Admissions avoided per 1,000 residents per year over the team's staff cost for 1,000 residents "
        "per year (GBP thousands), per replication.", "higher"),
}
"""Metrics the report derives from stored ones, declared like :data:`int_sim.metrics.METRICS`."""

KEY_METRICS = ["admissions_avoided_per_1000", "days_to_action_median", "staff_burnout_mean", "cost_per_resident",
               AVOIDED_PER_STAFF_COST]
"""The metrics drawn as heatmaps and line charts."""

PARETO = ("cost_per_resident", "admissions_avoided_per_1000")
"""(cost, lower is better; benefit, higher is better) of the Pareto front."""

SENSITIVITY_TABLE = "sensitivity_indices"

SHOWN_INDICES = ["mu_star", "sigma", "ST", "S1"]
"""Indices drawn, in this order (the first ranks the parameters): Morris mu* and sigma, Sobol
total and first order. Others (Morris' signed mu) stay in the store."""

ILLUSTRATIVE_NOTE = ("**Defaults are illustrative.** Every default parameter of int-sim is illustrative, not "
                     "calibrated to any one place; `docs/parameters.md` gives each default and its source. Read "
                     "these results as a comparison of team configurations under stated assumptions, not as a "
                     "forecast.")


class ReportError(ValueError):
    """The output folder cannot be used; the message names it."""


def metric_info(metric: str) -> Metric | None:
    return METRICS.get(metric) or DERIVED.get(metric)


def metric_label(metric: str) -> str:
    """``Label (unit)`` for axes; the metric's name if it is not declared."""
    info = metric_info(metric)
    return f"{info.label} ({info.unit})" if info else metric


def factor_label(key: str) -> str:
    """A factor's axis label: its dotted key with the scenario field's unit, when it has one."""
    from .scenario import field_info
    try:
        info = field_info(key)
    except Exception:  # noqa: BLE001 - a linked factor's label is no scenario key
        info = None
    extra = getattr(info, "json_schema_extra", None)
    unit = extra.get("unit") if isinstance(extra, dict) else None
    return f"{key} ({unit})" if unit and unit != "level" else key


def _choice_order(key: str) -> list | None:
    """The declared order of a factor's choices (e.g. MDT none < monthly < fortnightly < weekly)."""
    from .scenario import field_info
    try:
        info = field_info(key)
    except Exception:  # noqa: BLE001 - not a scenario key
        return None
    choices = getattr(getattr(info, "annotation", None), "__args__", None)
    return list(choices) if choices and all(isinstance(c, str) for c in choices) else None


def _in_level_order(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows sorted by the factor's declared choice order, where it has one (plots keep row order)."""
    order = _choice_order(key)
    if not order or not frame[key].map(lambda v: v in order).all():
        return frame
    return frame.assign(_rank=frame[key].map(order.index)).sort_values("_rank", kind="stable").drop(columns="_rank")


# --- reading the store ---------------------------------------------------------------------------

@dataclass
class Snapshot:
    """What a report needs from a store, read in one read-only connection."""

    path: Path
    sweeps: pd.DataFrame            # sweep, spec_yaml, seed, replications, int_sim_version, created
    configurations: pd.DataFrame    # sweep, configuration_id, scenario_hash, factors (dict)
    results: pd.DataFrame           # sweep, configuration_id, replication, metric, value
    done: dict[str, int] = field(default_factory=dict)
    """Replications stored per sweep (from the ``done`` table)."""
    base_scenarios: dict[tuple[str, int], str] = field(default_factory=dict)
    """Scenario YAML of configurations that change no factor (a one-at-a-time design's base)."""
    indices: pd.DataFrame | None = None
    indices_note: str = ""


def read_store(path: str | Path, sweep: str | None = None) -> Snapshot:
    """Read sweeps, configurations and results (of ``sweep`` only, if given); StoreError on a bad store.

    The sensitivity indices come from :func:`int_sim.sensitivity.load_indices`, imported only
    when the store has their table; a missing module or function leaves them out with a note.
    """
    store = Store(path)
    where = "" if sweep is None else " WHERE sweep = ?"
    params = [] if sweep is None else [sweep]
    # One connection for everything: a consistent snapshot, and the file is free again at once.
    # (Store._open waits while a sweep holds the file for a commit, and checks the schema.)
    with store._open(read_only=True) as con:
        names = [row[0] for row in con.execute("SELECT sweep FROM sweeps ORDER BY created, sweep").fetchall()]
        if sweep is not None and sweep not in names:
            raise StoreError(f"{store.path}: no sweep '{sweep}'; stored: {', '.join(names) or '(none)'}")
        sweeps = con.execute(f"SELECT * FROM sweeps{where} ORDER BY created, sweep", params).df()
        configurations = con.execute(
            f"SELECT sweep, configuration_id, scenario_hash, factors_json FROM configurations{where} "
            "ORDER BY sweep, configuration_id", params).df()
        results = con.execute(f"SELECT sweep, configuration_id, replication, metric, value FROM results{where} "
                              "ORDER BY sweep, configuration_id, replication, metric", params).df()
        done = dict(con.execute(f"SELECT sweep, count(*) FROM done{where} GROUP BY sweep", params).fetchall())
        bases = con.execute(f"SELECT sweep, configuration_id, scenario_yaml FROM configurations "
                            f"WHERE factors_json = '{{}}'{where.replace(' WHERE', ' AND')}", params).fetchall()
        has_indices = bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                       [SENSITIVITY_TABLE]).fetchone()[0])
    configurations["factors"] = [json.loads(text) for text in configurations.pop("factors_json")]
    snapshot = Snapshot(store.path, sweeps, configurations, results, {k: int(v) for k, v in done.items()},
                        {(s, int(cid)): text for s, cid, text in bases})
    if has_indices:
        snapshot.indices, snapshot.indices_note = _load_indices(store.path, sweep)
    return snapshot


def _load_indices(path: Path, sweep: str | None) -> tuple[pd.DataFrame | None, str]:
    try:
        from .sensitivity import load_indices
    except ImportError:
        return None, "the store has sensitivity indices, but this int-sim cannot read them (no int_sim.sensitivity)"
    try:
        indices = load_indices(path)
    except StoreError:
        raise
    except Exception as err:  # noqa: BLE001 - an optional section must not sink the whole report
        return None, f"the sensitivity indices could not be read ({type(err).__name__}: {' '.join(str(err).split())[:200]})"
    if indices is None:
        return None, ""
    if sweep is not None and "sweep" in indices:
        indices = indices[indices["sweep"] == sweep]
    return indices.reset_index(drop=True), ""


# --- summarising ---------------------------------------------------------------------------------

def with_derived(results: pd.DataFrame) -> pd.DataFrame:
    """Add :data:`DERIVED` metrics, computed per replication from the stored ones."""
    keys = ["sweep", "configuration_id", "replication"]
    wide = results[results["metric"].isin(["admissions_avoided_per_1000", "staff_cost_per_resident"])].pivot_table(
        index=keys, columns="metric", values="value", aggfunc="first")
    if not {"admissions_avoided_per_1000", "staff_cost_per_resident"} <= set(wide.columns):
        return results
    cost = wide["staff_cost_per_resident"]
    ratio = (wide["admissions_avoided_per_1000"] / cost.where(cost > 0)).dropna()
    if ratio.empty:
        return results
    derived = ratio.rename("value").reset_index().assign(metric=AVOIDED_PER_STAFF_COST)
    return pd.concat([results, derived[results.columns]], ignore_index=True)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t-interval over replications: ``sweep, configuration_id, metric, mean, ci_low, ci_high, n``."""
    rows = []
    for (sweep, cid, metric), group in results.groupby(["sweep", "configuration_id", "metric"], sort=True):
        mean, low, high = t_interval(group["value"].to_numpy())
        rows.append((sweep, int(cid), metric, mean, low, high, len(group)))
    return pd.DataFrame(rows, columns=["sweep", "configuration_id", "metric", "mean", "ci_low", "ci_high", "n"])


@dataclass
class Design:
    """What a sweep varies: its design name, the factors that vary and those held at one value."""

    name: str
    varying: list[str]
    fixed: dict[str, Any]
    base_id: int | None = None  # one-at-a-time: the configuration with no factor changed


def describe_design(spec_yaml: str, configurations: pd.DataFrame) -> Design:
    """The design from the spec (``design``; a sensitivity spec may have a ``method``) and which
    factors actually vary across the stored configurations."""
    try:
        spec = yaml.safe_load(spec_yaml) or {}
    except yaml.YAMLError:
        spec = {}
    spec = spec if isinstance(spec, dict) else {}
    name = str(spec.get("design") or spec.get("method") or "unknown")
    keys: list[str] = []
    for factors in configurations["factors"]:
        keys += [k for k in factors if k not in keys]
    varying, fixed = [], {}
    for key in keys:
        values = [json.dumps(f.get(key), sort_keys=True) for f in configurations["factors"]]
        if name == "oat" or len(set(values)) > 1:
            varying.append(key)
        else:
            fixed[key] = configurations["factors"].iloc[0].get(key)
    base_id = None
    if name == "oat":
        empty = [int(cid) for cid, f in zip(configurations["configuration_id"], configurations["factors"]) if not f]
        base_id = empty[0] if empty else None
    return Design(name, varying, fixed, base_id)


def _is_full_grid(configurations: pd.DataFrame, keys: list[str]) -> bool:
    cells = {tuple(json.dumps(f.get(k), sort_keys=True) for k in keys) for f in configurations["factors"]}
    sizes = [len({json.dumps(f.get(k), sort_keys=True) for f in configurations["factors"]}) for k in keys]
    return len(cells) == math.prod(sizes) and all(size > 1 for size in sizes)


# --- formatting ----------------------------------------------------------------------------------

def fmt(value: Any) -> str:
    """A number for a table: about three significant figures, thousands separated; '-' if missing."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "-"
        size = abs(value)
        if size >= 100:
            return f"{value:,.0f}"
        if size >= 10:
            return f"{value:.1f}"
        if size >= 1 or size == 0:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def _cell(mean: float, low: float, high: float) -> str:
    if not math.isfinite(mean):
        return "-"
    if math.isfinite(low) and math.isfinite(high):
        return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"
    return fmt(mean)


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    """A Markdown table; cells are escaped so a pipe or newline cannot break it."""
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(_md_escape(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


# --- writing -------------------------------------------------------------------------------------

@dataclass
class Report:
    """What :func:`write_report` wrote: the Markdown file and every figure and table beside it."""

    markdown: Path
    files: list[Path] = field(default_factory=list)
    sweeps: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self, out: Path):
        self.out = out
        self.files: list[Path] = []

    def figure(self, fig: Figure, stem: str, alt: str) -> str:
        """Save ``fig`` as PNG and SVG; the Markdown that embeds the PNG and links the SVG."""
        self.files.extend(save_figure(fig, self.out, stem))
        return f"![{_md_escape(alt)}]({stem}.png)\n\n[SVG]({stem}.svg)"

    def text(self, name: str, text: str) -> Path:
        path = self.out / name
        write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        self.files.append(path)
        return path


def write_report(store_path: str | Path, out: str | Path, sweep: str | None = None,
                 now: datetime | None = None) -> Report:
    """Read the store and write the report's figures, ``summary.csv`` and ``report.md`` into ``out``.

    ``out`` is created if missing (its parent must exist). StoreError on a missing or foreign
    store or an unknown sweep; ReportError if ``out`` cannot be used.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out}: is a file, not a folder")
    if not out.exists() and not out.parent.is_dir():
        raise ReportError(f"--out {out}: folder '{out.parent}' does not exist")
    snapshot = read_store(store_path, sweep)
    if snapshot.sweeps.empty:
        raise StoreError(f"{snapshot.path}: no sweeps stored yet; run `int-sim sweep SPEC --store {snapshot.path}` first")
    out.mkdir(exist_ok=True)
    if not os.access(out, os.W_OK):
        raise ReportError(f"--out {out}: cannot write to the folder")
    now = now or datetime.now(timezone.utc)
    writer = _Writer(out)
    results = with_derived(snapshot.results)
    summary = summarise(results)

    doc = [f"# int-sim report: {snapshot.path.name}", "", f"> {ILLUSTRATIVE_NOTE}", ""]
    doc += _provenance(snapshot, now)
    for row in snapshot.sweeps.itertuples(index=False):
        doc += _sweep_section(writer, snapshot, row, summary[summary["sweep"] == row.sweep])
    tidy = _tidy_summary(snapshot, summary)
    writer.text("summary.csv", tidy.to_csv(index=False))
    doc += ["## Files", "",
            "`summary.csv` holds every metric's mean and 95% t-interval per configuration (one row per "
            "configuration and metric, with its factors and provenance). Each figure is here as PNG and SVG.", ""]
    markdown = writer.text("report.md", "\n".join(doc).rstrip() + "\n")
    return Report(markdown, writer.files, list(snapshot.sweeps["sweep"]))


def _provenance(snapshot: Snapshot, now: datetime) -> list[str]:
    configs = snapshot.configurations.groupby("sweep").size()
    rows = []
    for s in snapshot.sweeps.itertuples(index=False):
        n_configs = int(configs.get(s.sweep, 0))
        planned = n_configs * int(s.replications)
        done = snapshot.done.get(s.sweep, 0)
        rows.append([f"`{s.sweep}`", describe_design(s.spec_yaml, snapshot.configurations[
            snapshot.configurations["sweep"] == s.sweep]).name, s.int_sim_version, str(s.seed), str(s.replications),
                     str(n_configs), f"{done:,} of {planned:,}" + ("" if done >= planned else " (incomplete)"),
                     pd.Timestamp(s.created).strftime("%Y-%m-%d %H:%M UTC")])
    lines = ["## Provenance", "",
             f"- Store: `{snapshot.path.resolve()}`",
             f"- Report written: {now.strftime('%Y-%m-%d %H:%M:%S UTC')} by int-sim {__version__}",
             "- Intervals: 95% t-intervals over replications (`int_sim.experiment.t_interval`); replication *i* "
             "of every configuration uses the same random numbers (common random numbers).",
             "- Every configuration's scenario hash is in its sweep's summary table: the hash of the full "
             "scenario stored in the store, so any row can be re-run.", "",
             markdown_table(["sweep", "design", "int-sim version", "seed", "replications per configuration",
                     "configurations", "replications stored", "created"], rows), ""]
    if any("incomplete" in row[6] for row in rows):
        lines += ["An incomplete sweep is still running or was interrupted: its figures and tables cover the "
                  "replications stored when this report was written (`n` gives how many per configuration).", ""]
    return lines


def _summary_table(configs: pd.DataFrame, design: Design, summary: pd.DataFrame) -> list[str]:
    metrics = [m for m in HEADLINE if m in set(summary["metric"])]
    header = ["id", *design.varying, "n", *[metric_label(m) for m in metrics], "scenario hash"]
    rows = []
    by_key = summary.set_index(["configuration_id", "metric"])
    counts = summary.groupby("configuration_id")["n"].max()
    for c in configs.itertuples(index=False):
        cells = [str(c.configuration_id)]
        cells += [fmt(c.factors.get(key)) if key in c.factors else "(base)" for key in design.varying]
        cells.append(str(int(counts.get(c.configuration_id, 0))))
        for metric in metrics:
            if (c.configuration_id, metric) in by_key.index:
                row = by_key.loc[(c.configuration_id, metric)]
                cells.append(_cell(row["mean"], row["ci_low"], row["ci_high"]))
            else:
                cells.append("-")
        cells.append(f"`{c.scenario_hash}`")
        rows.append(cells)
    return [markdown_table(header, rows), "",
            "Each metric cell: mean [95% t-interval] over the replications stored (`n`); '-' where the metric "
            "is undefined (e.g. a median time to action when most episodes were never acted on).", ""]


def _sweep_section(writer: _Writer, snapshot: Snapshot, sweep_row, summary: pd.DataFrame) -> list[str]:
    name = sweep_row.sweep
    configs = snapshot.configurations[snapshot.configurations["sweep"] == name].reset_index(drop=True)
    design = describe_design(sweep_row.spec_yaml, configs)
    slug = _slug(name)
    varying = ", ".join(f"`{k}`" for k in design.varying) or "nothing"
    lines = [f"## Sweep `{name}`", "",
             f"Design: {design.name}; {len(configs)} configurations varying {varying}; seed {sweep_row.seed}; "
             f"{sweep_row.replications} replications per configuration; written by int-sim {sweep_row.int_sim_version}.",
             ""]
    if design.fixed:
        lines += ["Held at one value: " + "; ".join(f"`{k}` = {fmt(v)}" for k, v in design.fixed.items()) + ".", ""]
    lines += ["### Summary", ""]
    if summary.empty:
        return lines + ["No replications of this sweep are stored yet.", ""]
    lines += _summary_table(configs, design, summary)
    if summary["n"].max() < 2:
        lines += ["With one replication per configuration there are no intervals: run more replications "
                  "(the same sweep resumes) to see the uncertainty.", ""]

    factor_values = summary.merge(configs[["configuration_id", "factors"]], on="configuration_id")
    key_metrics = [m for m in KEY_METRICS if m in set(summary["metric"])]
    grid_keys = design.varying
    if design.name != "oat" and len(grid_keys) == 2 and _is_full_grid(configs, grid_keys):
        x, y = grid_keys[1], grid_keys[0]  # the first factor varies slowest: rows
        lines += ["### Heatmaps", "",
                  "Mean of each key metric over the grid; each cell also gives the 95% t-interval.", ""]
        for metric in key_metrics:
            part = factor_values[factor_values["metric"] == metric]
            grid = part.assign(**{x: [f[x] for f in part["factors"]], y: [f[y] for f in part["factors"]]})
            grid = _in_level_order(_in_level_order(grid, y), x)
            info = metric_info(metric)
            fig = plots.interval_heatmap(
                grid[[x, y, "mean", "ci_low", "ci_high"]], x=x, y=y, xlabel=factor_label(x), ylabel=factor_label(y),
                colorbar_label=metric_label(metric), better=info.better if info else "neither",
                title=f"{name}: {info.label if info else metric}, mean [95% interval]")
            lines += [f"#### {info.label if info else metric}", "",
                      writer.figure(fig, f"{slug}-heatmap-{_slug(metric)}",
                                    f"Heatmap of {metric_label(metric)} over {x} and {y}"), ""]
    elif design.name == "oat" or len(grid_keys) == 1:
        lines += ["### Line charts", "",
                  "Mean of each key metric against the factor's levels; the band is the 95% t-interval."
                  + (" The dashed line marks the base scenario." if design.name == "oat" else ""), ""]
        for key in grid_keys:
            ids = [int(c) for c, f in zip(configs["configuration_id"], configs["factors"]) if key in f]
            part = factor_values[factor_values["configuration_id"].isin(ids)]
            part = part.assign(**{key: [f[key] for f in part["factors"]]})
            reference = None
            if design.base_id is not None:
                base_value = _base_value(snapshot, name, design.base_id, key)
                base = factor_values[factor_values["configuration_id"] == design.base_id]
                if base_value is not None and not base.empty:
                    part = pd.concat([part, base.assign(**{key: base_value})], ignore_index=True)
                    reference = base_value
            part = _in_level_order(part, key)
            fig = plots.factor_lines(part[[key, "metric", "mean", "ci_low", "ci_high"]], key, key_metrics,
                                     labels={m: metric_label(m) for m in key_metrics}, xlabel=factor_label(key),
                                     reference=reference, title=f"{name}: key metrics against {key} (mean, 95% interval)")
            lines += [f"#### {key}", "",
                      writer.figure(fig, f"{slug}-lines-{_slug(key)}", f"Key metrics against {key}"), ""]
    elif len(grid_keys) > 1:
        lines += [f"(No heatmap or line chart: the design varies {len(grid_keys)} factors"
                  + (" but is not a full two-factor grid" if len(grid_keys) == 2 else "")
                  + "; see the summary table, `summary.csv` and the Pareto front.)", ""]

    lines += _pareto(writer, name, slug, configs, summary)
    lines += _sensitivity(writer, snapshot, name, slug)
    return lines


def _base_value(snapshot: Snapshot, sweep: str, base_id: int, key: str) -> Any:
    """The base scenario's value of a dotted factor key (a one-at-a-time design's reference)."""
    text = snapshot.base_scenarios.get((sweep, base_id))
    if text is None:
        return None
    node: Any = yaml.safe_load(text)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if not isinstance(node, (dict, list)) else None


def _pareto(writer: _Writer, name: str, slug: str, configs: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    cost, benefit = PARETO
    wide = {m: summary[summary["metric"] == m].set_index("configuration_id") for m in PARETO}
    if wide[cost].empty or wide[benefit].empty:
        return []
    ids = [int(c) for c in configs["configuration_id"] if c in wide[cost].index and c in wide[benefit].index]
    if not ids:
        return []
    points = pd.DataFrame({
        "label": [f"#{c}" for c in ids],
        "x": wide[cost].loc[ids, "mean"].to_numpy(), "x_low": wide[cost].loc[ids, "ci_low"].to_numpy(),
        "x_high": wide[cost].loc[ids, "ci_high"].to_numpy(),
        "y": wide[benefit].loc[ids, "mean"].to_numpy(), "y_low": wide[benefit].loc[ids, "ci_low"].to_numpy(),
        "y_high": wide[benefit].loc[ids, "ci_high"].to_numpy()})
    front = plots.non_dominated(points["x"], points["y"])
    fig = plots.pareto_front(points, xlabel=f"{metric_label(cost)}; lower is better",
                             ylabel=f"{metric_label(benefit)}; higher is better",
                             title=f"{name}: cost against admissions avoided, per configuration")
    on = ", ".join(f"#{c}" for c, f in zip(ids, front) if f)
    return ["### Cost and admissions avoided (Pareto front)", "",
            writer.figure(fig, f"{slug}-pareto", "Pareto front of cost per resident against admissions avoided"), "",
            f"Non-dominated configurations (no other is both cheaper and avoids more admissions, on the means): "
            f"{on or 'none'}. Points are labelled with their configuration id (see the summary table); the front "
            "uses the means only, so a configuration whose intervals overlap the front's may be no worse.", ""]


def _sensitivity(writer: _Writer, snapshot: Snapshot, name: str, slug: str) -> list[str]:
    if snapshot.indices is None:
        return [f"*Sensitivity indices: {snapshot.indices_note}.*", ""] if snapshot.indices_note else []
    indices = snapshot.indices
    if "sweep" in indices:
        indices = indices[indices["sweep"] == name]
    if indices.empty:
        return []
    lines = ["### Sensitivity indices", "",
             "Each chart ranks the parameters by the first index shown (Morris: mu*, the mean absolute effect; "
             "sigma, the spread of effects, large with interactions or non-linearity. Sobol: ST, total-order "
             "share of variance; S1, first-order). Whiskers are 95% confidence intervals where the method gives "
             "one.", ""]
    group_keys = [k for k in ("method", "metric") if k in indices]
    groups = indices.groupby(group_keys, sort=False) if group_keys else [((), indices)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        labels = dict(zip(group_keys, key))
        method, metric = str(labels.get("method", "sensitivity")), str(labels.get("metric", ""))
        shown = [i for i in SHOWN_INDICES if i in set(part["index"])] or list(dict.fromkeys(part["index"]))
        part = part[part["index"].isin(shown)].assign(
            index=lambda f: pd.Categorical(f["index"], categories=shown, ordered=True)).sort_values("index")
        part = part.assign(index=part["index"].astype(str))
        info = metric_info(metric)
        if set(shown) <= {"S1", "ST", "S2"}:
            xlabel = "share of the variance of the metric (0 to 1)"
        else:
            xlabel = f"effect on the metric across a parameter's range ({info.unit if info else 'metric units'})"
        fig = plots.sensitivity_bars(part, xlabel=xlabel,
                                     title=f"{name}: {method} indices of {info.label if info else metric}")
        lines += [f"#### {method}: {metric_label(metric)}", "",
                  writer.figure(fig, f"{slug}-sensitivity-{_slug(method)}-{_slug(metric)}",
                                f"{method} sensitivity indices of {metric}"), ""]
    return lines


def _tidy_summary(snapshot: Snapshot, summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with each configuration's factors (as JSON), scenario hash and the sweep's provenance."""
    configs = snapshot.configurations.assign(factors=[json.dumps(f) for f in snapshot.configurations["factors"]])
    sweeps = snapshot.sweeps[["sweep", "seed", "replications", "int_sim_version"]]
    return (summary.merge(configs, on=["sweep", "configuration_id"], how="left")
            .merge(sweeps, on="sweep", how="left")
            [["sweep", "configuration_id", "factors", "metric", "mean", "ci_low", "ci_high", "n", "seed",
              "replications", "int_sim_version", "scenario_hash"]])


def study_analysis_command(description: str, default_out: str, load, write) -> None:
    """The command line of a study's analysis script (experiments/*/analyse.py).

    ``STORE [--out DIR] [--sweep NAME]``: ``load(store, sweep)`` reads what the study needs and
    ``write(data, folder)`` writes its figures and summary, returning the summary's path. A
    store that cannot be read ends the script with one ``error:`` line.
    """
    import argparse
    import sys
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("store", help="DuckDB results store written by int-sim sweep")
    parser.add_argument("--out", default=default_out, help=f"folder for the figures and summary.md ({default_out})")
    parser.add_argument("--sweep", default=None, help="the sweep's name in the store (default: the only one)")
    args = parser.parse_args()
    try:
        data = load(args.store, args.sweep)
    except StoreError as err:
        sys.exit(f"error: {err}")
    print(f"wrote {write(data, Path(args.out))}")


def write_summary(folder: Path, lines: list[str]) -> Path:
    """Write a study's ``summary.md`` (whole or not at all) and return its path."""
    report = folder / "summary.md"
    write_atomically(report, lambda tmp: tmp.write_text("\n".join(lines), encoding="utf-8"))
    return report

"""Size and reach: a heatmap of a metric over team size and reach, from a small grid run live
or from a sweep store.

The review found little evidence on the best size and reach of a team; this page lets the user
see what the model's assumptions imply. Live: staff scale with the population (the preset's
staff per resident) and then by the team-size multiplier; the no-INT counterfactual keeps the
preset's staff per resident, so a bigger team is compared with today's services. From a store:
the user uploads the DuckDB file an ``int-sim sweep`` wrote (e.g. experiments/size_and_reach),
picks two of its factors for the axes and holds the others at a level; the store is read
through :func:`int_sim.app.core.read_uploaded_store` (a private temporary copy, vetted, deleted)
so no path the user typed is ever opened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

import pandas as pd
import streamlit as st

from ... import ScenarioError, plots
from ...metrics import HEADLINE, METRICS
from ...report import factor_label, fmt, metric_info, metric_label
from ...store import StoreError
from .. import core, ui

log = logging.getLogger(__name__)

RESULT = "data.explorer"
STORE = "data.explorer.store"
MULTIPLIERS = [0.5, 0.75, 1.0, 1.5, 2.0]
SIZES = [2_000, 5_000, 10_000, 20_000, 50_000, 100_000]
MAX_CELLS = 12
MODES = {"live": "Run a small grid live", "store": "Open a sweep store"}


def render() -> None:
    st.title("Size and reach explorer")
    st.write("How big should a team be, and how many residents should it cover? Run a small grid of team sizes "
             "and populations live, or open the results store of a sweep run with `int-sim sweep` "
             "(for example experiments/size_and_reach), and see a metric as a heatmap.")
    ui.init("explore.mode", "live")
    mode = st.radio("Results from", list(MODES), key="explore.mode", format_func=MODES.get, horizontal=True,
                    help="Live: each cell runs now, so keep the grid small. Store: a sweep's stored results, "
                         "as many cells and replications as the sweep ran, shown at once.")
    if mode == "store":
        store_mode()
    else:
        live_grid()


def live_grid() -> None:
    st.write("Pick a preset, a few team sizes and populations, and a metric. Each cell runs live, so keep the grid "
             "small and the replications few.")
    settings = ui.run_settings()
    # The grid sets the population itself; the run size only sets the horizon here.
    horizon = dataclasses.replace(settings.size, max_size=None)
    presets = list(core.preset_paths())
    if not presets:
        st.error("No presets found in scenarios/.")
        return
    ui.init("explore.base", "baseline" if "baseline" in presets else presets[0])
    cols = st.columns(2)
    base_name = cols[0].selectbox("Preset", presets, key="explore.base",
                                  help="Its team's levers, and its staff per resident at a team-size multiplier of 1.")
    metric_choices = [m for m in HEADLINE if m in METRICS]
    ui.init("explore.metric", "admissions_avoided_per_1000")
    metric = cols[1].selectbox("Metric", metric_choices, key="explore.metric",
                               format_func=lambda m: f"{METRICS[m].label} ({METRICS[m].unit})")
    ui.init("explore.multipliers", [0.5, 1.0, 2.0])
    multipliers = st.multiselect("Team size (multiplier of the preset's staff per resident)", MULTIPLIERS,
                                 key="explore.multipliers", format_func=lambda m: f"x{m:g}")
    ui.init("explore.sizes", [5_000, 10_000, 20_000])
    sizes = st.multiselect("Residents covered", SIZES, key="explore.sizes", format_func=lambda s: f"{s:,}")
    ui.init("explore.reps", 2)
    replications = st.number_input("Replications per cell", min_value=2, max_value=20, step=1, key="explore.reps",
                                   help="Few are enough for a first look; the table below gives each cell's interval.")
    st.caption("This page uses its own replications; the run size in the sidebar sets only the horizon "
               f"({horizon.days or 'as configured'} measured days).")
    if not multipliers or not sizes:
        st.error("Choose at least one team size and one population size.")
        return
    if len(multipliers) * len(sizes) > MAX_CELLS:
        st.error(f"{len(multipliers) * len(sizes)} cells is too many to run live; choose at most {MAX_CELLS}.")
        return
    try:
        base = core.load_preset(base_name)
        grid = core.size_grid(base, sorted(multipliers), sorted(sizes))
        as_run = {name: core.apply_run_size(sc, horizon) for name, sc in grid.items()}
    except ScenarioError as err:
        st.error(str(err))
        return
    cell_settings = dataclasses.replace(settings, replications=int(replications))
    seconds = core.estimate_seconds(as_run.values(), cell_settings.replications, cell_settings.workers)
    ui.time_caption(f"{len(as_run)} cells x {cell_settings.replications} replications", seconds, cell_settings)
    if st.button("Run grid", type="primary", key="btn.explore.run"):
        result = ui.run_comparison(as_run, cell_settings, "Running the grid")
        if result is not None:
            st.session_state[RESULT] = {"signature": ui.signature(as_run, cell_settings), "result": result,
                                        "cells": {core.grid_name(m, s): (m, s, grid[core.grid_name(m, s)].team.staff.total())
                                                  for m in multipliers for s in sizes}}
    stored = st.session_state.get(RESULT)
    if not stored:
        return
    if stored["signature"] != ui.signature(as_run, cell_settings):
        st.warning("The grid has changed since these results were produced. Press Run to update.")
    result = stored["result"]
    summary = result.summary[result.summary["metric"] == metric].copy()
    cells = stored["cells"]
    summary["team size"] = summary["configuration"].map(lambda n: cells[n][0])
    summary["residents"] = summary["configuration"].map(lambda n: cells[n][1])
    summary["staff (WTE)"] = summary["configuration"].map(lambda n: cells[n][2])
    if summary.empty:
        st.write("This metric has no values for these runs (for example, nobody was acted on).")
        return
    info = METRICS[metric]
    st.pyplot(plots.interval_heatmap(summary, x="team size", y="residents",
                                     xlabel="team size (x the preset's staff per resident)", ylabel="residents covered",
                                     colorbar_label=f"{info.label} ({info.unit})", better=info.better,
                                     xfmt=lambda m: f"x{m:g}",
                                     title=f"{info.label}: mean [95% interval] of {result.n_replications} replications"))
    table = pd.DataFrame({
        "Residents": summary["residents"].map(lambda s: f"{s:,}"),
        "Team size": summary["team size"].map(lambda m: f"x{m:g}"),
        "Staff (WTE)": summary["staff (WTE)"].map(core.fmt_number),
        f"{info.label} ({info.unit})": [core.fmt_interval(a, b, c) for a, b, c in
                                        zip(summary["mean"], summary["ci_low"], summary["ci_high"])],
    })
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(core.provenance_line(result.provenance))
    csv = core.results_csv(result.summary, result.differences, result.provenance, run_size=settings.size.key)
    st.download_button("Results (CSV)", csv, file_name="int_sim_size_and_reach.csv", mime="text/csv",
                       key="dl.explore.csv")


# --- a sweep store -----------------------------------------------------------------------------

def open_upload(data: bytes, filename: str) -> dict:
    """What the page keeps of an uploaded store: ``{digest, name, snapshot, sweeps}`` or, for a
    file that cannot be read, ``{digest, name, error}`` (so a bad file is not re-read on every rerun)."""
    name = core.display_name(filename)
    held = {"digest": hashlib.sha256(data).hexdigest(), "name": name, "sweeps": {}}
    try:
        held["snapshot"] = core.read_uploaded_store(data, name)
    except StoreError as err:
        held["error"] = str(err)
    return held


def axis_label(factor: str) -> str:
    """A factor's axis label: its key with the schema's unit, or for a linked factor (one name
    setting several keys, like the size-and-reach study's team_wte) a note that its levels are
    named in the sweep spec."""
    from ...scenario import field_info
    try:
        known = field_info(factor) is not None
    except Exception:  # noqa: BLE001 - any name that is not a scenario key
        known = False
    return factor_label(factor) if known else f"{factor} (levels as named in the sweep spec)"


def store_mode() -> None:
    st.write("Upload the results store (a .duckdb file) that `int-sim sweep` wrote, for example "
             "`int-sim sweep experiments/size_and_reach/spec.yaml --store size_and_reach.duckdb`. Nothing runs: the "
             "page shows the replications the sweep stored.")
    uploaded = st.file_uploader("Results store (DuckDB file written by int-sim sweep)", key="upload.explore.store",
                                max_upload_size=core.MAX_STORE_BYTES // (1024 * 1024),
                                help="The file is copied to a private temporary file, read, and deleted at once; "
                                     "only its tables of results are used.")
    held = st.session_state.get(STORE)
    if uploaded is not None:
        data = uploaded.getvalue()
        if not held or held["digest"] != hashlib.sha256(data).hexdigest():
            with st.spinner("Reading the store"):
                held = open_upload(data, uploaded.name)
            st.session_state[STORE] = held
    if not held:
        return
    if "error" in held:
        st.error(f"This file cannot be opened as a results store: {held['error']}")
        return
    if uploaded is None:
        cols = st.columns([3, 1])
        cols[0].caption(f"Showing '{held['name']}', opened earlier in this session. Upload another store to replace it.")
        if cols[1].button("Close this store", key="btn.explore.close"):
            st.session_state.pop(STORE, None)
            st.rerun()
    try:
        show_store(held)
    except StoreError as err:
        st.error(f"This file cannot be opened as a results store: {err}")
    except Exception as err:  # a store that reads but holds something unexpected: say so, no traceback
        log.exception("showing a sweep store failed")
        st.error(f"'{held['name']}' was read, but its contents could not be shown ({err.__class__.__name__}: "
                 f"{' '.join(str(err).split())[:200]}). Is it a store written by `int-sim sweep`?")


def show_store(held: dict) -> None:
    snapshot = held["snapshot"]
    names = list(snapshot.sweeps["sweep"])
    if not names:
        st.warning(f"'{held['name']}' holds no sweep yet.")
        return
    if len(names) > 1:
        name = ui.select("Sweep", names, "explore.store.sweep", names[0],
                         help=f"'{held['name']}' holds {len(names)} sweeps.")
    else:
        name = names[0]
    if name not in held["sweeps"]:
        held["sweeps"][name] = core.stored_sweep(snapshot, name)  # summarised once per upload
    sweep = held["sweeps"][name]
    st.caption(core.store_provenance_line(sweep) + ".")
    if sweep.design.fixed:
        st.caption("Held at one value in every configuration: "
                   + "; ".join(f"{k} = {fmt(v)}" for k, v in sweep.design.fixed.items()) + ".")
    metrics = core.store_metrics(sweep)
    if not metrics:
        st.warning("No replications of this sweep are stored yet: run the sweep (it resumes) and upload the store again.")
        return
    metric = ui.select("Metric", metrics, "explore.store.metric", "admissions_avoided_per_1000",
                       format_func=metric_label)
    varying = list(sweep.levels)
    if sweep.design.name == "grid" and len(varying) >= 2:
        cells = _heatmap(sweep, metric, varying)
    elif sweep.design.name == "grid" and len(varying) == 1:
        cells = _one_factor(sweep, metric, varying[0])
    else:
        what = {"oat": "a one-at-a-time design", "lhs": "a Latin hypercube"}.get(sweep.design.name,
                                                                                f"a {sweep.design.name} design")
        st.info(f"This sweep is {what} varying {len(varying)} factor(s), not a grid of two factors, so there is no "
                "heatmap; `int-sim report` draws its line charts and Pareto front. Pick a configuration below to see "
                "its detail.")
        cells = ([int(c) for c in sweep.configurations["configuration_id"]], varying)
    if cells is not None:
        _cell_detail(sweep, *cells)


def _heatmap(sweep: core.StoredSweep, metric: str, varying: list[str]):
    """Axes and held levels, the heatmap and its download; returns (cell ids, axis factors) or None."""
    x_default, y_default = core.default_axes(varying)
    cols = st.columns(2)
    x = ui.select("Across (x axis)", varying, "explore.store.x", x_default, container=cols[0],
                  help="A factor of the sweep; team size by default.")
    y_options = [f for f in varying if f != x]
    y = ui.select("Up (y axis)", y_options, "explore.store.y", y_default, container=cols[1],
                  help="Another factor; reach (residents covered) by default.")
    others = [f for f in varying if f not in (x, y)]
    fixed = {}
    if others:
        st.markdown("**The other factors, held at one level**")
        cols = st.columns(min(3, len(others)))
        for i, factor in enumerate(others):
            levels = sweep.levels[factor]
            fixed[factor] = ui.select(factor, levels, f"explore.store.fix.{factor}", levels[0],
                                      container=cols[i % len(cols)], format_func=fmt,
                                      help=f"The heatmap shows the configurations with {factor} at this level.")
    try:
        grid = core.store_grid(sweep, metric, x, y, fixed)
    except ValueError as err:
        st.error(str(err))
        return None
    if grid.empty:
        st.warning("No configuration of the sweep has these levels.")
        return None
    info = metric_info(metric)
    held = "; ".join(f"{k} = {fmt(v)}" for k, v in fixed.items())
    counts = sorted(set(grid["n"]))
    reps = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    if grid["mean"].isna().all():
        st.warning(f"{info.label if info else metric} has no stored value in these cells (for example, nobody was "
                   "acted on). Choose another metric or other levels.")
    else:
        st.pyplot(plots.interval_heatmap(
            grid, x=x, y=y, xlabel=axis_label(x), ylabel=axis_label(y), colorbar_label=metric_label(metric),
            better=info.better if info else "neither",
            title=(f"{sweep.name}: {info.label if info else metric}, mean [95% interval] of {reps} replications"
                   + (f"\nat {held}" if held else ""))))
        if grid["mean"].isna().any():
            st.caption("Blank cells have no stored value of this metric.")
    st.download_button("Heatmap cells (CSV)", core.store_grid_csv(sweep, grid, metric, x, y, fixed),
                       file_name=f"int_sim_{sweep.name}_{metric}.csv", mime="text/csv", key="dl.explore.store.csv",
                       help="Each cell's mean, 95% interval and replications, with the held levels, the scenario "
                            "hash and the sweep's int-sim version, seed and replications.")
    return [int(c) for c in grid["configuration_id"]], [x, y]


def _one_factor(sweep: core.StoredSweep, metric: str, factor: str):
    """A sweep varying one factor: the metric against its levels, with the interval band."""
    ids = [int(c) for c in sweep.configurations["configuration_id"]]
    part = sweep.summary[sweep.summary["metric"] == metric].merge(sweep.configurations, on="configuration_id")
    part = part.assign(**{factor: [f.get(factor) for f in part["factors"]]})
    st.caption("This sweep varies one factor, so the metric is drawn against its levels rather than as a heatmap.")
    st.pyplot(plots.factor_lines(part[[factor, "metric", "mean", "ci_low", "ci_high"]], factor, [metric],
                                 labels={metric: metric_label(metric)}, xlabel=axis_label(factor),
                                 title=f"{sweep.name}: mean and 95% interval against {factor}"))
    return ids, [factor]


def _cell_detail(sweep: core.StoredSweep, cells: list[int], keys: list[str]) -> None:
    """Pick a cell: its factor levels, scenario hash and headline metrics with intervals."""
    st.subheader("One cell in detail")
    cell = ui.select("Cell", cells, "explore.store.cell", cells[0],
                     format_func=lambda c: core.cell_label(sweep, c, keys),
                     help="A configuration of the sweep: its levels, scenario hash and headline metrics.")
    st.dataframe(core.cell_factors(sweep, cell), hide_index=True, width="content")
    scenario_hash = sweep.configurations.set_index("configuration_id").loc[cell, "scenario_hash"]
    st.caption(f"Configuration {cell} of sweep '{sweep.name}'; scenario hash {scenario_hash}.")
    st.dataframe(core.cell_detail(sweep, cell), hide_index=True, width="stretch", height="content")
    st.caption("Each value is a mean with its 95% t-interval over the replications stored; a dash where the metric "
               "has no value (for example a median time to action when nobody was acted on). "
               + core.store_provenance_line(sweep) + ".")

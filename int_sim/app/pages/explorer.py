"""Size and reach: a small grid of team size x population size, run live, as a heatmap.

The review found little evidence on the best size and reach of a team; this page lets the user
see what the model's assumptions imply. Staff scale with the population (the preset's staff per
resident) and then by the team-size multiplier; the no-INT counterfactual keeps the preset's
staff per resident, so a bigger team is compared with today's services.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from ... import ScenarioError, plots
from ...metrics import HEADLINE, METRICS
from .. import core, ui

RESULT = "data.explorer"
MULTIPLIERS = [0.5, 0.75, 1.0, 1.5, 2.0]
SIZES = [2_000, 5_000, 10_000, 20_000, 50_000, 100_000]
MAX_CELLS = 12


def render() -> None:
    st.title("Size and reach explorer")
    st.write("How big should a team be, and how many residents should it cover? Pick a preset, a few team sizes "
             "and populations, and a metric. Each cell runs live, so keep the grid small and the replications few.")
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

"""Shared Streamlit pieces: the note on every page, run settings, lever widgets, cached runs and
the comparison view (table, charts, downloads).

Widget state convention: every value widget's key starts with one of :data:`PERSISTENT_PREFIXES`
and is initialised in ``st.session_state`` before the widget is drawn (never through ``value=``),
so values survive a switch of page (see :func:`keep_widget_state`) and Streamlit never warns
about a value set twice. Buttons, uploaders and download buttons use other prefixes: their
state cannot be set.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from .. import ScenarioError, compare, parse_scenario
from .. import plots
from ..metrics import DAILY_SERIES, HEADLINE, METRICS
from . import core

log = logging.getLogger(__name__)

PERSISTENT_PREFIXES = ("run.", "cmp.", "assess.", "teach.", "explore.")
TEST_FLAG = "int_sim_test_mode"
"""Session-state flag the tests set: every run becomes a tiny run (2,000 residents, 60 days)."""


def keep_widget_state() -> None:
    """Keep value widgets' state when their page is not shown (Streamlit drops it otherwise)."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(PERSISTENT_PREFIXES):
            st.session_state[key] = st.session_state[key]


def illustrative_note() -> None:
    st.info(core.ILLUSTRATIVE_NOTE, icon="ℹ️")


def init(key: str, default: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = default


# --- run settings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSettings:
    size: core.RunSize
    replications: int
    seed: int
    workers: int


def run_settings(default_replications: int = 5) -> RunSettings:
    """The sidebar's run settings, shared by every page."""
    sidebar = st.sidebar
    sidebar.header("Run settings")
    if st.session_state.get(TEST_FLAG):
        size = core.RUN_SIZES["tiny"]
        sidebar.caption("Test mode: every run is tiny (2,000 residents, 60 days).")
    else:
        init("run.size", "quick")
        key = sidebar.radio("Run size", core.USER_RUN_SIZES, key="run.size",
                            format_func=lambda k: core.RUN_SIZES[k].label,
                            help="Quick runs scale the population down to 10,000 residents (staff and GP practices "
                                 "in proportion) and simulate one year; full size runs exactly what you configured.")
        size = core.RUN_SIZES[key]
    init("run.reps", default_replications)
    replications = sidebar.number_input(
        "Replications", min_value=2, max_value=100, step=1, key="run.reps",
        help="Independent runs of each configuration. Means come with 95% t-intervals across replications, and "
             "configurations are compared replication by replication on common random numbers (the same residents "
             "and events), so differences are sharper than the intervals of the means suggest.")
    init("run.seed", 42)
    seed = sidebar.number_input("Random seed", min_value=0, max_value=2**32 - 1, step=1, key="run.seed",
                                help="Same seed, same result, bit for bit.")
    with sidebar.expander("Advanced"):
        cpus = os.cpu_count() or 1
        init("run.workers", 1)
        workers = st.number_input("Parallel processes", min_value=1, max_value=max(1, cpus), step=1, key="run.workers",
                                  help=f"Replications run in this many processes (this machine has {cpus} CPUs). "
                                       "Results do not depend on it.")
    sidebar.caption(size.explanation)
    return RunSettings(size, int(replications), int(seed), int(workers))


def time_caption(what: str, seconds: float, settings: RunSettings) -> None:
    """Say how long a run will take, and how to make a long one shorter."""
    text = f"{what}: about {max(1, round(seconds))} seconds (instant if already run with these settings)."
    if seconds > 30:
        tips = []
        if settings.workers < (os.cpu_count() or 1):
            tips.append("more parallel processes (Run settings, Advanced)")
        if settings.replications > 3:
            tips.append("fewer replications for a first look")
        if settings.size.key == "full":
            tips.append("a quick run")
        if tips:
            text += " To make it faster: " + "; ".join(tips) + "."
    st.caption(text)


# --- levers ------------------------------------------------------------------------------------

def _coerce(spec: core.LeverSpec, value: Any) -> Any:
    if spec.kind == "int":
        return int(value)
    if spec.kind in ("float", "slider"):
        return float(value)
    if spec.kind == "bool":
        return bool(value)
    return value


def lever_widget(spec: core.LeverSpec, key: str, default: Any, container=None) -> Any:
    """Draw one lever, initialised to ``default``; returns its value."""
    box = container if container is not None else st
    default = _coerce(spec, default)
    if spec.kind == "select" and default not in spec.choices:
        default = spec.choices[0]
    init(key, default)
    if spec.kind == "select":
        return box.selectbox(spec.label, spec.choices, key=key, help=spec.help)
    if spec.kind == "bool":
        return box.toggle(spec.label, key=key, help=spec.help)
    if spec.kind == "slider":
        return box.slider(spec.label, min_value=0.0, max_value=1.0, step=0.05, key=key, help=spec.help)
    if spec.kind == "int":
        return box.number_input(spec.label, min_value=int(spec.min), max_value=int(spec.max), step=int(spec.step),
                                key=key, help=spec.help)
    return box.number_input(spec.label, min_value=spec.min, max_value=spec.max, step=spec.step, key=key,
                            help=spec.help)


def lever_panel(scenario, key_prefix: str, *, expanded_first: bool = False) -> dict[str, Any]:
    """Expanders of levers grouped by the checklist's factors; returns {dotted key: value}."""
    values: dict[str, Any] = {}
    for number, (group, keys, shared) in enumerate(core.lever_groups()):
        title = group if group in (core.SIZE_AND_REACH, core.MODEL_ASSUMPTIONS) else f"{number}. {group}"
        with st.expander(title, expanded=expanded_first and number == 0):
            for key in keys:
                spec = core.lever_spec(key)
                values[key] = lever_widget(spec, f"{key_prefix}.{key}", core.get_value(scenario, key))
            if shared:
                names = ", ".join(core.lever_spec(k).label.lower() for k in shared)
                st.caption(f"Also shaped by {names} (set under their own factors).")
            if group == "Good working relationships":
                st.caption("In the model, trust between colleagues grows with contact and decays without it; shared "
                           "vision, leadership, co-location and joint training speed it up.")
    return values


# --- running -----------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=24)
def _compare_cached(yamls: tuple[tuple[str, str], ...], replications: int, seed: int, _workers: int,
                    _progress: Callable[[int, int], None] | None):
    """A comparison, cached on the configurations' full YAML, the replications and the seed
    (the number of workers does not change results, so it is not part of the key)."""
    scenarios = {name: parse_scenario(text, source=name) for name, text in yamls}
    return compare(scenarios, replications=replications, seed=seed, workers=_workers, progress=_progress)


def signature(scenarios: dict, settings: RunSettings) -> tuple:
    return (tuple((n, s.to_yaml()) for n, s in scenarios.items()), settings.replications, settings.seed)


def run_comparison(scenarios: dict, settings: RunSettings, label: str = "Running"):
    """Run (or fetch from the cache) a comparison with a progress bar; None and an error message on failure."""
    yamls, replications, seed = signature(scenarios, settings)
    bar = st.progress(0.0, text=f"{label}: starting ({replications} replications)")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{label}: replication {done} of {total}")

    try:
        result = _compare_cached(yamls, replications, seed, settings.workers, progress)
    except ScenarioError as err:
        bar.empty()
        st.error(str(err))
        return None
    except Exception as err:  # an internal error: say so plainly, log the traceback for developers
        log.exception("comparison failed")
        bar.empty()
        st.error(f"The run failed with an internal error ({err.__class__.__name__}: {err}). "
                 "Please report it with the configurations you used.")
        return None
    bar.progress(1.0, text=f"{label}: done ({replications} replications)")
    return result


# --- showing results ---------------------------------------------------------------------------

def comparison_table(result, *, all_metrics: bool):
    configurations = list(result.scenarios)
    return core.results_table(result.summary, result.differences, configurations, all_metrics=all_metrics)


def show_comparison(result, run_size: core.RunSize, key_prefix: str, *, stale: bool = False) -> None:
    """Results table, charts and downloads of a comparison."""
    configurations = list(result.scenarios)
    if stale:
        st.warning("The settings have changed since these results were produced. Press Run to update them.")
    st.caption(f"{run_size.label}. " + core.provenance_line(result.provenance) +
               ". Differences are paired against the first configuration, "
               f"**{configurations[0]}**, replication by replication.")
    init(f"{key_prefix}.all_metrics", False)
    all_metrics = st.toggle("Show all metrics (by group, by quintile, staff and costs)", key=f"{key_prefix}.all_metrics")
    table = comparison_table(result, all_metrics=all_metrics)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("Each cell is a mean with its 95% interval across replications. 'better' or 'worse' appears only where "
               "the paired difference's interval excludes zero.")

    tabs = st.tabs(["Daily series", "By patient group", "By deprivation quintile", "Differences"])
    with tabs[0]:
        series_key = f"{key_prefix}.series"
        init(series_key, "admissions" if "admissions" in DAILY_SERIES else next(iter(DAILY_SERIES)))
        cols = st.columns([2, 1, 1])
        series = cols[0].selectbox("Series", list(DAILY_SERIES), key=series_key,
                                   format_func=lambda s: DAILY_SERIES[s])
        init(f"{key_prefix}.smooth", 28)
        smooth = cols[1].selectbox("Smoothing", [1, 7, 28], key=f"{key_prefix}.smooth",
                                   format_func=lambda d: "none" if d == 1 else f"{d}-day rolling mean")
        init(f"{key_prefix}.warmup", True)
        warmup = cols[2].toggle("Show warm-up", key=f"{key_prefix}.warmup")
        st.pyplot(plots.daily_series(result.daily, series, order=configurations, smooth_days=smooth,
                                     show_warmup=warmup))
    with tabs[1]:
        st.pyplot(plots.admissions_by_group(result.summary, order=configurations))
    with tabs[2]:
        st.pyplot(plots.admissions_by_quintile(result.summary, order=configurations))
    with tabs[3]:
        if len(configurations) < 2:
            st.write("Differences need at least two configurations.")
        else:
            metric_key = f"{key_prefix}.diff_metric"
            choices = [m for m in HEADLINE if m in set(result.differences["metric"])]
            init(metric_key, choices[0] if choices else None)
            metric = st.selectbox("Metric", choices, key=metric_key,
                                  format_func=lambda m: f"{METRICS[m].label} ({METRICS[m].unit})")
            if metric:
                st.pyplot(plots.differences_forest(result.differences, metric, order=configurations[1:],
                                                   reference=configurations[0]))

    st.markdown("**Downloads**")
    cols = st.columns(1 + len(configurations))
    csv = core.results_csv(result.summary, result.differences, result.provenance, run_size=run_size.key)
    cols[0].download_button("Results (CSV)", csv, file_name="int_sim_results.csv", mime="text/csv",
                            key=f"dl.{key_prefix}.csv",
                            help="Means and paired differences with 95% intervals; every row carries the int-sim "
                                 "version, seed, replications and scenario hash.")
    for col, name in zip(cols[1:], configurations):
        col.download_button(f"{name} as run (YAML)", result.scenarios[name].to_yaml(),
                            file_name=f"{_file_stem(name)}.yaml", mime="application/x-yaml",
                            key=f"dl.{key_prefix}.yaml.{name}",
                            help="The exact scenario that was run (after any quick-run scaling); its hash is "
                                 f"{result.provenance['scenario_hash'][name]}.")


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return stem or "scenario"

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


def select(label: str, options: list, key: str, default: Any, container=None, **kwargs) -> Any:
    """A selectbox whose options depend on data (e.g. an uploaded store): a kept value that is no
    longer among the options goes back to ``default`` before the widget is drawn."""
    box = container if container is not None else st
    if default not in options:
        default = options[0]
    init(key, default)
    if st.session_state[key] not in options:
        st.session_state[key] = default
    return box.selectbox(label, options, key=key, **kwargs)


# --- run settings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSettings:
    """How to run: the size, the replications (a number, or with ``precision`` set, as many as
    that target needs up to ``replications``, the cap), the seed and the parallel processes."""

    size: core.RunSize
    replications: int
    seed: int
    workers: int
    precision: float | None = None
    """Target relative half-width of the 95% intervals (0.05: within 5% of the mean); None for a fixed number."""

    @property
    def to_precision(self) -> bool:
        return self.precision is not None

    def replications_text(self) -> str:
        if self.to_precision:
            return f"up to {self.replications} replications (until within ±{self.precision:.0%})"
        return f"{self.replications} replications"


REPLICATION_MODES = {"number": "a number", "precision": "a target precision"}
PRECISION_CHOICES = (0.02, 0.05, 0.10, 0.20)


def _replications_to_precision(sidebar) -> tuple[int, float] | None:
    """The Compare page's choice of replications by target precision: (cap, target) or None."""
    init("run.reps_mode", "number")
    mode = sidebar.radio("Replications chosen by", list(REPLICATION_MODES), key="run.reps_mode", horizontal=True,
                         format_func=REPLICATION_MODES.get,
                         help="A number: exactly that many replications. To a target precision: replications are "
                              "added until every headline metric's 95% interval is within the target of its mean "
                              "(the method of Hoad, Robinson and Davies 2010, with a look-ahead of five), or the cap "
                              "is reached.")
    if mode != "precision":
        return None
    init("run.precision", 0.05)
    target = sidebar.select_slider("Target precision (95% interval within ± this share of the mean)",
                                   PRECISION_CHOICES, key="run.precision", format_func=lambda p: f"±{p:.0%}")
    init("run.max_reps", 30)
    cap = sidebar.number_input("At most (replications)", min_value=3, max_value=200, step=1, key="run.max_reps",
                               help="The cap: the run stops here even if the precision is not reached, and says so. "
                                    "Metrics near zero (e.g. rare events in a small neighbourhood) may never reach "
                                    "a relative precision.")
    return int(cap), float(target)


def run_settings(default_replications: int = 5, *, allow_precision: bool = False) -> RunSettings:
    """The sidebar's run settings, shared by every page; with ``allow_precision`` the replications
    can also be chosen by a target precision (the Compare page)."""
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
    auto = _replications_to_precision(sidebar) if allow_precision else None
    init("run.reps", default_replications)
    if auto is None:
        replications = sidebar.number_input(
            "Replications", min_value=2, max_value=100, step=1, key="run.reps",
            help="Independent runs of each configuration. Means come with 95% t-intervals across replications, and "
                 "configurations are compared replication by replication on common random numbers (the same "
                 "residents and events), so differences are sharper than the intervals of the means suggest.")
    else:
        replications = auto[0]
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
    return RunSettings(size, int(replications), int(seed), int(workers), None if auto is None else auto[1])


def time_caption(what: str, seconds: float, settings: RunSettings) -> None:
    """Say how long a run will take, and how to make a long one shorter."""
    about = "at most about" if settings.to_precision else "about"
    text = f"{what}: {about} {max(1, round(seconds))} seconds (instant if already run with these settings)."
    if seconds > 30:
        tips = []
        if settings.workers < (os.cpu_count() or 1):
            tips.append("more parallel processes (Run settings, Advanced)")
        if settings.to_precision:
            tips.append("a looser target precision or a lower cap")
        elif settings.replications > 3:
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


def _bound(spec: core.LeverSpec, key: str, default: Any) -> str:
    """Keep a lever's stored value within the schema's range (or its choices) before the widget
    is drawn: Streamlit would raise on a value outside the widget's range. A value can get there
    from an older session or a script driving the app; it is clamped (or reset) and the user told."""
    value = st.session_state[key]
    if spec.kind == "select":
        if value not in spec.choices:
            st.session_state[key] = default
            return f"{spec.label}: '{value}' is not one of {', '.join(map(str, spec.choices))}; reset to '{default}'."
        return ""
    if spec.kind == "bool":
        if not isinstance(value, bool):
            st.session_state[key] = bool(default)
            return f"{spec.label}: '{value}' is not yes or no; reset to {bool(default)}."
        return ""
    low, high = (0.0, 1.0) if spec.kind == "slider" else (spec.min, spec.max)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        st.session_state[key] = default
        return f"{spec.label}: '{value}' is not a number; reset to {default}."
    clamped = number
    if low is not None and number < low:
        clamped = low
    if high is not None and number > high:
        clamped = high
    if clamped == number:
        if type(value) is not type(_coerce(spec, number)):  # e.g. 5.0 for a whole-number widget
            st.session_state[key] = _coerce(spec, number)
        return ""
    clamped = _coerce(spec, clamped)
    st.session_state[key] = clamped
    unit = core.lever_unit(spec.key)

    def num(x: float | None) -> str:
        if x is None:
            return "no limit"
        return f"{int(x):,}" if float(x).is_integer() else f"{x:,.6g}"

    return (f"{spec.label}: {num(number)} is outside the allowed range {num(low)} to {num(high)}"
            f"{f' ({unit})' if unit and unit != '0 to 1' else ''}; set to {num(clamped)}.")


def lever_widget(spec: core.LeverSpec, key: str, default: Any, container=None) -> Any:
    """Draw one lever, initialised to ``default``; returns its value."""
    box = container if container is not None else st
    default = _coerce(spec, default)
    if spec.kind == "select" and default not in spec.choices:
        default = spec.choices[0]
    init(key, default)
    problem = _bound(spec, key, default)
    if problem:
        box.warning(problem)
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
                    _progress: Callable[[int, int], None] | None, precision: float | None = None):
    """A comparison, cached on the configurations' full YAML, the replications (or the cap and
    target precision) and the seed (the number of workers does not change results, so it is not
    part of the key)."""
    scenarios = {name: parse_scenario(text, source=name) for name, text in yamls}
    if precision is not None:
        return compare(scenarios, replications="auto", seed=seed, workers=_workers, progress=_progress,
                       precision=precision, max_replications=replications)
    return compare(scenarios, replications=replications, seed=seed, workers=_workers, progress=_progress)


def signature(scenarios: dict, settings: RunSettings) -> tuple:
    return (tuple((n, s.to_yaml()) for n, s in scenarios.items()), settings.replications, settings.seed,
            settings.precision)


def run_comparison(scenarios: dict, settings: RunSettings, label: str = "Running"):
    """Run (or fetch from the cache) a comparison with a progress bar; None and an error message on failure."""
    yamls, replications, seed, precision = signature(scenarios, settings)
    bar = st.progress(0.0, text=f"{label}: starting ({settings.replications_text()})")

    def progress(done: int, total: int) -> None:
        more = " (more if the precision needs them)" if precision is not None and total < replications else ""
        bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: replication {done} of {total}{more}")

    try:
        result = _compare_cached(yamls, replications, seed, settings.workers, progress, precision)
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
    bar.progress(1.0, text=f"{label}: done ({result.n_replications} replications)")
    return result


# --- showing results ---------------------------------------------------------------------------

def comparison_table(result, *, all_metrics: bool):
    configurations = list(result.scenarios)
    return core.results_table(result.summary, result.differences, configurations, all_metrics=all_metrics)


def show_comparison(result, run_size: core.RunSize, key_prefix: str, *, stale: bool = False,
                    board_report: bool = False) -> None:
    """Results table, charts and downloads of a comparison (with ``board_report``, also the
    HTML report for a board meeting)."""
    configurations = list(result.scenarios)
    if stale:
        st.warning("The settings have changed since these results were produced. Press Run to update them.")
    st.caption(f"{run_size.label}. " + core.provenance_line(result.provenance) +
               ". Differences are paired against the first configuration, "
               f"**{configurations[0]}**, replication by replication.")
    precision_note(result)
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
    if board_report:
        board_report_button(result, run_size, key_prefix)
    cols = st.columns(1 + len(configurations))
    csv = core.results_csv(result.summary, result.differences, result.provenance, run_size=run_size.key)
    cols[0].download_button("Results (CSV)", csv, file_name="int_sim_results.csv", mime="text/csv",
                            key=f"dl.{key_prefix}.csv",
                            help="Means and paired differences with 95% intervals; every row carries the int-sim "
                                 "version, seed, replications and scenario hash.")
    for col, name in zip(cols[1:], configurations):
        col.download_button(f"{name} as run (YAML)",
                            core.yaml_with_provenance(result.scenarios[name], result.provenance), file_name=f"{_file_stem(name)}.yaml", mime="application/x-yaml",
                            key=f"dl.{key_prefix}.yaml.{name}",
                            help="The exact scenario that was run (after any quick-run scaling); its hash is "
                                 f"{result.provenance['scenario_hash'][name]}.")


def precision_note(result) -> None:
    """When the replications were chosen by a target precision: how many, and whether it was reached."""
    info = getattr(result, "precision", None)
    if not info:
        return
    text = core.precision_text(info, result.n_replications)
    if info.get("reached"):
        st.success(text, icon=":material/check_circle:")
    else:
        st.warning(text)


def board_report_button(result, run_size: core.RunSize, key_prefix: str) -> None:
    """Download of the comparison's board report (int_sim.board_report), built when clicked:
    drawing its charts takes a second or two, which every rerun of the page should not pay."""
    def build() -> str:
        from ..board_report import board_report_html, esc
        try:
            return board_report_html(result, run_size=run_size.label)
        except Exception as err:  # the click must give a file, not a broken download
            log.exception("board report failed")
            return (f"<!DOCTYPE html><html><body><p>The report could not be built ({esc(err.__class__.__name__)}: "
                    f"{esc(err)}). Please report it with the configurations you used.</p>"
                    f"<p>{esc(core.provenance_line(result.provenance))}</p></body></html>")

    st.download_button("Board report (HTML)", build, file_name="int_sim_board_report.html", mime="text/html",
                       key=f"dl.{key_prefix}.board", icon=":material/description:",
                       help="A short report to take to a board meeting: the configurations and how they differ, "
                            "the results table with intervals and paired differences, a plain reading of what is "
                            "and is not clearly different, the key charts (embedded, so the one file is complete), "
                            "the note that defaults are illustrative, and provenance (int-sim version, seed, "
                            "replications, scenario hashes and the exact scenarios).")


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return stem or "scenario"

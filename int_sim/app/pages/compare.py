"""Compare: two to four configurations side by side, on common random numbers."""

from __future__ import annotations

import streamlit as st

from ... import ScenarioError
from .. import core, ui

MAX_CONFIGURATIONS = 4
MAX_UPLOADS = 20
DEFAULT_SOURCES = ["baseline", "checklist_full", "small_colocated", "large_virtual"]
UPLOADS = "data.uploads"
RESULT = "data.compare"


def _sources() -> list[str]:
    """Starting points: presets by name, then uploaded scenarios."""
    return [f"preset: {name}" for name in core.preset_paths()] + list(st.session_state.get(UPLOADS, {}))


def _starting_scenario(source: str):
    if source.startswith("preset: "):
        return core.load_preset(source.removeprefix("preset: "))
    return st.session_state[UPLOADS][source]


def _upload_box() -> None:
    with st.expander("Upload a scenario (YAML)"):
        st.write("A scenario file like those in scenarios/ (download one below a configuration to start from). "
                 "It is checked against the schema; once valid it appears as a starting point.")
        # The browser refuses files over 1 MB before sending them; parse_upload then applies the
        # CLI's checks (size, UTF-8, no NUL bytes, no YAML aliases, the schema) to what arrives.
        uploaded = st.file_uploader("Scenario file", type=["yaml", "yml"], key="upload.compare", max_upload_size=1)
        if uploaded is None:
            return
        filename = core.display_name(uploaded.name)
        try:
            scenario = core.parse_upload(uploaded.getvalue(), filename)
        except ScenarioError as err:
            st.error(f"This file is not a valid scenario: {err}")
            return
        uploads = st.session_state.setdefault(UPLOADS, {})
        # One starting point per distinct content: a changed file under the same name gets a new
        # label, so levers drawn from the old content never stand in for the new.
        same = [label for label, sc in uploads.items() if sc.hash() == scenario.hash()]
        if not same and len(uploads) >= MAX_UPLOADS:
            st.error(f"This session already holds {MAX_UPLOADS} uploaded scenarios, the most it keeps. Reload the page "
                     "to start again.")
            return
        label = same[0] if same else core.unique_name(f"uploaded: {filename}", uploads)
        uploads[label] = scenario
        st.success(f"'{filename}' is valid (scenario '{scenario.name}', {scenario.population.size:,} residents). "
                   f"Choose '{label}' as a starting point.")


def _configuration(i: int, taken: list[str]):
    """One configuration's widgets; returns (name, scenario) or (name, None) when invalid."""
    sources = _sources()
    source_key = f"cmp.{i}.source"
    default = f"preset: {DEFAULT_SOURCES[i]}" if f"preset: {DEFAULT_SOURCES[i]}" in sources else sources[0]
    ui.init(source_key, default)
    if st.session_state[source_key] not in sources:
        st.session_state[source_key] = default
    source = st.selectbox("Start from", sources, key=source_key,
                          help="A preset from scenarios/ or a scenario you uploaded. The levers below start at its values.")
    try:
        start = _starting_scenario(source)
    except ScenarioError as err:
        st.error(str(err))
        return None, None
    if start.description:
        st.caption(start.description)
    prefix = f"cmp.{i}.{source}"
    name_key = f"{prefix}.name"
    ui.init(name_key, core.unique_name(start.name, taken))
    name = st.text_input("Name", key=name_key, max_chars=60, help="Shown in tables, charts and downloads.").strip()
    name_problem = ("Give this configuration a name." if not name else
                    f"The name '{name}' is already used by another configuration; names must differ."
                    if name in taken else "")
    if name_problem:
        st.error(name_problem)

    values = ui.lever_panel(start, prefix)
    with st.expander("Other settings (any scenario key)"):
        st.write("One `key = value` per line, for any setting in the scenario schema, e.g. "
                 "`care.referral_loss = 0.1` or `population.deprivation_gradient = 2`. These are applied last.")
        extra_key = f"{prefix}.extra"
        ui.init(extra_key, "")
        extra_text = st.text_area("Settings", key=extra_key, height=100, placeholder="care.intervention_effect = 0.2",
                                  max_chars=5_000)
    try:
        extra = core.parse_extra_overrides(extra_text, source=f"{name or 'this configuration'}: other settings")
        scenario = start.with_overrides({**values, **extra, "name": name or start.name}, source=name or start.name)
    except ScenarioError as err:
        st.error(str(err))
        return name, None
    if name_problem:
        return name, None
    st.download_button("Download this configuration (YAML)", core.yaml_with_provenance(scenario), file_name=f"{ui._file_stem(name)}.yaml",
                       mime="application/x-yaml", key=f"dl.cmp.config.{i}",
                       help="At the size you configured (a quick run scales it when it runs).")
    return name, scenario


def render() -> None:
    st.title("Compare team configurations")
    st.write("Pick two to four configurations, from presets or your own, set the levers of the review's 13-factor "
             "checklist, and run them on the same simulated residents and events. Results show means with 95% "
             "intervals and paired differences against the first configuration.")
    settings = ui.run_settings(allow_precision=True)
    if not core.preset_paths():
        st.error("No presets found in scenarios/: the app needs the project's scenario files.")
        return
    _upload_box()

    ui.init("cmp.n", 2)
    count = st.number_input("Configurations to compare", min_value=2, max_value=MAX_CONFIGURATIONS, step=1, key="cmp.n")
    configurations: dict = {}
    problems = []
    tabs = st.tabs([f"Configuration {i + 1}" for i in range(int(count))])
    for i, tab in enumerate(tabs):
        with tab:
            name, scenario = _configuration(i, list(configurations))
            if scenario is None:
                problems.append(f"Configuration {i + 1}")
            else:
                configurations[name] = scenario

    st.subheader("Run")
    current = None
    if problems:
        st.error(f"Fix the problems in {', '.join(problems)} before running.")
    else:
        as_run = {name: core.apply_run_size(sc, settings.size) for name, sc in configurations.items()}
        current = ui.signature(as_run, settings)
        seconds = core.estimate_seconds(as_run.values(), settings.replications, settings.workers)
        st.caption(settings.size.explanation)
        ui.time_caption(f"{len(as_run)} configurations x {settings.replications_text()}, with their no-INT "
                        "counterfactuals", seconds, settings)
        if st.button("Run comparison", type="primary", key="btn.compare.run"):
            result = ui.run_comparison(as_run, settings, "Comparing")
            if result is not None:
                st.session_state[RESULT] = {"signature": current, "result": result, "run_size": settings.size}
    stored = st.session_state.get(RESULT)
    if stored:
        st.subheader("Results")
        ui.show_comparison(stored["result"], stored["run_size"], "cmp.view", stale=stored["signature"] != current,
                           board_report=True)

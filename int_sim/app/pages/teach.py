"""Teach: guided lessons from scenarios/teaching/*.yaml.

A lesson file is ``{lesson: {title, narrative, try, notice[, levers, series]}, scenario: {...}}``.
The learner reads the narrative, moves the lesson's levers, and runs the lesson's scenario
against their change on common random numbers; the lesson then says what to notice.

Below the lesson, an animated view of a small neighbourhood's team as a network
(:mod:`int_sim.network_view`): two teams side by side (by default a co-located integrated team
and fragmented services), stepped day by day through the model, showing referrals between
professionals and trust forming and breaking as people join and leave.
"""

from __future__ import annotations

import streamlit as st

from ... import ScenarioError, __version__, network_view
from .. import core, ui

RESULT = "data.teach"
NETWORK = "data.teach.network"
NETWORK_SIZES = (3_000, 6_000, 12_000)
NETWORK_HORIZONS = {"one year, a frame a week": (365, 7), "two years, a frame a fortnight": (730, 14)}
NETWORK_DEFAULTS = ("preset: small_colocated", "preset: fragmented")
NETWORK_NOTICE = (
    "**What to notice.** In a co-located team that meets weekly, grey trust edges thicken within weeks across every "
    "organisation, and referrals (black arrows) cross organisational boundaries freely. When the same services work "
    "apart, trust grows only inside each organisation and slowly along the routes referrals take, so the network "
    "stays in islands. When someone leaves, their post goes hollow; whoever fills it starts again at the trust "
    "strangers have, and their edges must be rebuilt. At a short-term funding cliff (lesson 3: pick 'this lesson: "
    "start') posts lose their funding altogether and are drawn as faint dotted circles.")


@st.cache_data(show_spinner=False, max_entries=12)
def _network(scenario_yaml: str, seed: int, every: int) -> tuple[str, list[dict], str]:
    """(animation HTML, per-frame summary, scenario name) of one team, cached on its full YAML."""
    from ... import parse_scenario
    scenario = parse_scenario(scenario_yaml, source="network view")
    history = network_view.record_network(scenario, seed=seed, every=every)
    return network_view.animation_html(history), history.summary_rows(), scenario.name


def _network_sources(lesson, changed) -> dict:
    sources = {f"preset: {name}": None for name in core.preset_paths()}
    sources["this lesson: start"] = lesson.scenario.with_overrides({"name": "lesson start"}, source="lesson start")
    sources["this lesson: your change"] = changed
    return sources


def _network_section(lesson, changed, settings) -> None:
    st.divider()
    st.subheader("Watch a team form: referrals and trust as people join and leave")
    st.write("A small neighbourhood, stepped day by day through the model. Each dot is a post, coloured by role and "
             "grouped by employing organisation; hollow dashed dots are vacant posts. Grey edges are trust between "
             "colleagues above what strangers start with (thicker means more); black arrows are referrals between "
             "professionals since the previous frame. Press play under each animation.")
    sources = _network_sources(lesson, changed)
    cols = st.columns(2)
    chosen = []
    for side, (col, default) in enumerate(zip(cols, NETWORK_DEFAULTS)):
        key = f"teach.network.{side}"
        ui.init(key, default if default in sources else next(iter(sources)))
        if st.session_state[key] not in sources:
            st.session_state[key] = default if default in sources else next(iter(sources))
        chosen.append(col.selectbox("Left team" if side == 0 else "Right team", list(sources), key=key))
    cols = st.columns(2)
    test_mode = st.session_state.get(ui.TEST_FLAG)
    ui.init("teach.network.size", NETWORK_SIZES[1])
    residents = cols[0].select_slider("Residents in the neighbourhood", NETWORK_SIZES, key="teach.network.size",
                                      format_func=lambda n: f"{n:,}",
                                      help="Staff and GP practices are scaled in proportion to the residents, so a "
                                           "small neighbourhood has a small team (a part-time post per thin role).")
    ui.init("teach.network.horizon", next(iter(NETWORK_HORIZONS)))
    horizon = cols[1].selectbox("Period shown", list(NETWORK_HORIZONS), key="teach.network.horizon")
    days, every = NETWORK_HORIZONS[horizon]
    if test_mode:
        residents, days, every = 3_000, 60, 10
        st.caption("Test mode: 3,000 residents, 60 days, a frame every 10 days.")
    teams = []
    for source in chosen:
        try:
            start = sources[source] if sources[source] is not None else core.load_preset(source.removeprefix("preset: "))
            teams.append(network_view.neighbourhood(start, residents, days))
        except ScenarioError as err:
            st.error(str(err))
            return
    signature = (tuple(t.to_yaml() for t in teams), settings.seed, every)
    if st.button("Animate the two teams", key="btn.teach.network",
                 help="Runs each team once (one replication, random seed from the run settings) and draws a frame "
                      f"every {every} days. Takes about ten seconds the first time."):
        try:
            with st.spinner("Simulating and drawing the two teams..."):
                views = [_network(t.to_yaml(), settings.seed, every) for t in teams]
        except Exception as err:  # an internal error: say so plainly, log the traceback for developers
            ui.log.exception("network view failed")
            st.error(f"The network view failed with an internal error ({err.__class__.__name__}: {err}).")
            return
        st.session_state[NETWORK] = {"signature": signature, "views": views, "sources": chosen,
                                     "residents": residents, "days": days, "seed": settings.seed}
    stored = st.session_state.get(NETWORK)
    if not stored:
        return
    if stored["signature"] != signature:
        st.warning("The teams or settings have changed since these animations were drawn. Press the button to redraw.")
    st.markdown(NETWORK_NOTICE)
    cols = st.columns(2)
    for col, source, (html, rows, name) in zip(cols, stored["sources"], stored["views"]):
        with col:
            st.markdown(f"**{source}**")
            st.iframe(html, height="content")  # our own HTML: PNG frames and matplotlib's player
            last = rows[-1]
            trust = last["mean trust"]
            st.caption(f"After {last['day']} days: {last['in post']} in post, {last['vacant']} vacant; mean trust "
                       f"between colleagues {trust:.2f} (0 to 1; strangers start at {rows[0]['mean trust']:.2f}); "
                       f"{sum(r['referrals'] for r in rows):,} referrals, {sum(r['left'] for r in rows)} left and "
                       f"{sum(r['joined'] for r in rows)} joined over the period.")
    st.caption(f"{stored['residents']:,} residents, {stored['days']} days from the team's first day (no warm-up), "
               f"one replication with random seed {stored['seed']} (int-sim {__version__}). Both teams see the "
               "same residents and the same events (common random numbers).")


def render() -> None:
    st.title("Teach: guided lessons")
    st.write("Each lesson sets up a neighbourhood, explains one mechanism, and invites you to move a lever. "
             "Running compares the lesson's starting point with your change, on the same residents and events.")
    settings = ui.run_settings()
    lessons, problems = core.load_lessons()
    for problem in problems:
        st.warning(f"A lesson file could not be read: {problem}")
    if not lessons:
        st.error("No lessons found in scenarios/teaching/.")
        return
    by_key = {lesson.key: lesson for lesson in lessons}
    ui.init("teach.lesson", lessons[0].key)
    if st.session_state["teach.lesson"] not in by_key:
        st.session_state["teach.lesson"] = lessons[0].key
    key = st.selectbox("Lesson", list(by_key), key="teach.lesson",
                       format_func=lambda k: f"{list(by_key).index(k) + 1}. {by_key[k].title}")
    lesson = by_key[key]

    st.header(lesson.title)
    st.markdown(lesson.narrative)
    st.markdown(f"**Try this.** {lesson.try_}")
    values = {}
    if lesson.levers:
        cols = st.columns(min(3, len(lesson.levers)))
        for i, dotted in enumerate(lesson.levers):
            spec = core.lever_spec(dotted)
            values[dotted] = ui.lever_widget(spec, f"teach.{lesson.key}.{dotted}", core.get_value(lesson.scenario, dotted),
                                             container=cols[i % len(cols)])
    try:
        changed = lesson.scenario.with_overrides({**values, "name": "your change"}, source="your change")
    except ScenarioError as err:
        st.error(str(err))
        return
    start = lesson.scenario.with_overrides({"name": "lesson start"}, source="lesson start")
    if changed.model_dump(exclude={"name"}) == start.model_dump(exclude={"name"}):
        st.caption("You have not moved a lever yet: both configurations are the same, so every difference will be zero.")
    as_run = {"lesson start": core.apply_run_size(start, settings.size),
              "your change": core.apply_run_size(changed, settings.size)}
    seconds = core.estimate_seconds(as_run.values(), settings.replications, settings.workers)
    st.caption(settings.size.explanation)
    ui.time_caption("The lesson's start and your change", seconds, settings)
    if st.button("Run the lesson", type="primary", key="btn.teach.run"):
        result = ui.run_comparison(as_run, settings, "Running the lesson")
        if result is not None:
            st.session_state[RESULT] = {"signature": ui.signature(as_run, settings), "result": result,
                                        "run_size": settings.size, "lesson": lesson.key}
    stored = st.session_state.get(RESULT)
    if stored and stored["lesson"] == lesson.key:
        st.markdown(f"**What to notice.** {lesson.notice}")
        series_key = f"teach.view.{lesson.key}.series"
        ui.init(series_key, lesson.series)
        ui.show_comparison(stored["result"], stored["run_size"], f"teach.view.{lesson.key}",
                           stale=stored["signature"] != ui.signature(as_run, settings))
    _network_section(lesson, changed, settings)

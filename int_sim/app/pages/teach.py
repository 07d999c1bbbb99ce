"""Teach: guided lessons from scenarios/teaching/*.yaml.

A lesson file is ``{lesson: {title, narrative, try, notice[, levers, series]}, scenario: {...}}``.
The learner reads the narrative, moves the lesson's levers, and runs the lesson's scenario
against their change on common random numbers; the lesson then says what to notice.
"""

from __future__ import annotations

import streamlit as st

from ... import ScenarioError
from .. import core, ui

RESULT = "data.teach"


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

"""Assess my INT: the review's 13-factor checklist as a questionnaire, and which single
improvement would help most."""

from __future__ import annotations

import streamlit as st

from ... import ScenarioError, plots
from ...metrics import METRICS
from .. import core, ui

RESULT = "data.assess"
BASE_PRESET = "baseline"
RANKED = ("admissions_avoided_per_1000", "days_to_action_median")


def _questions() -> dict[str, str]:
    answers = {}
    for number, q in enumerate(core.QUESTIONS, start=1):
        labels = [o.label for o in q.options]
        key = f"assess.q{number}"
        ui.init(key, labels[q.default])
        keys = sorted({k for o in q.options for k in o.overrides})
        help_ = (q.note + "\n\n" if q.note else "") + "Sets " + ", ".join(f"`{k}`" for k in keys) + \
            ". The last option is the factor at its best."
        answers[q.factor] = st.radio(f"**{number}. {q.factor}.** {q.text}", labels, key=key, horizontal=True,
                                     help=help_)
    return answers


def _neighbourhood(base) -> dict:
    values = {}
    with st.expander("Your neighbourhood: residents, practices and staff (optional)"):
        st.caption(f"Defaults are the '{BASE_PRESET}' preset: a typical team for 50,000 residents. Care navigators "
                   "are set by question 12, in proportion to the residents covered.")
        cols = st.columns(3)
        for i, key in enumerate(core.NEIGHBOURHOOD_KEYS):
            spec = core.lever_spec(key)
            values[key] = ui.lever_widget(spec, f"assess.n.{key}", core.get_value(base, key), container=cols[i % 3])
    return values


def _show(stored) -> None:
    result, improves = stored["result"], stored["improves"]
    st.caption(f"{stored['run_size'].label}. " + core.provenance_line(result.provenance))
    ranking = core.ranking_table(result.differences, improves, RANKED)
    if ranking.empty:
        st.write("All factors are at their best in your answers: there is no single improvement to rank.")
    else:
        top = ranking.iloc[0]["Improvement"]
        diff = result.differences.set_index(["configuration", "metric"])
        row = diff.loc[(top, RANKED[0])] if (top, RANKED[0]) in diff.index else None
        if row is not None:
            unit = METRICS[RANKED[0]].unit
            text = core.fmt_interval(row["mean_diff"], row["ci_low"], row["ci_high"])
            if row["ci_low"] > 0:
                st.success(f"The single improvement that helps most here: **{top}**. It avoids {text} more "
                           f"admissions ({unit}) than your INT as it is (mean, 95% interval).")
            else:
                st.warning(f"The largest gain in admissions avoided comes from **{top}**: {text} ({unit}). Its "
                           "interval includes zero, so at this number of replications it cannot be told apart "
                           "from no change. Add replications, or choose full size, to separate the factors.")
        st.dataframe(ranking, hide_index=True, width="stretch")
        st.caption("Paired differences against your INT as it is, on the same residents and events: mean and 95% "
                   "interval. Admissions avoided: higher is better. Time to action: lower is better.")
        for metric in RANKED:
            st.pyplot(plots.differences_forest(result.differences, metric,
                                               order=[n for n in improves if n != "Your INT"],
                                               reference="your INT", highlight=top))
    csv = core.results_csv(result.summary, result.differences, result.provenance, run_size=stored["run_size"].key)
    st.download_button("Results (CSV)", csv, file_name="int_sim_assessment.csv", mime="text/csv",
                       key="dl.assess.csv")


def render() -> None:
    st.title("Assess my INT")
    st.write("Answer one question for each of the 13 factors of the review's checklist. Your answers become a "
             f"scenario, starting from the '{BASE_PRESET}' preset. Run it to see, for each factor not yet at its "
             "best, what improving that factor alone would change, and which single improvement helps most.")
    settings = ui.run_settings()
    try:
        base = core.load_preset(BASE_PRESET)
    except ScenarioError as err:
        st.error(str(err))
        return
    answers = _questions()
    neighbourhood = _neighbourhood(base)
    try:
        configurations, improves = core.improvement_variants(base, answers, neighbourhood)
    except ScenarioError as err:
        st.error(str(err))
        return
    yours = configurations["Your INT"]
    with st.expander("Your answers as a scenario"):
        st.code(yours.to_yaml(), language="yaml")
        st.download_button("Download (YAML)", core.yaml_with_provenance(yours), file_name="your_int.yaml", mime="application/x-yaml",
                           key="dl.assess.yaml")

    st.subheader("Which single improvement helps most?")
    as_run = {name: core.apply_run_size(sc, settings.size) for name, sc in configurations.items()}
    variants = len(configurations) - 1
    seconds = core.estimate_seconds(as_run.values(), settings.replications, settings.workers)
    st.caption(settings.size.explanation)
    ui.time_caption(f"Your INT plus {variants} variants ({max(0, variants - 1)} single improvements and all factors "
                    f"at their best) x {settings.replications} replications", seconds, settings)
    if variants == 0:
        st.success("Every factor is at its best in your answers: there is nothing to improve in this model.")
    if st.button("Run assessment", type="primary", key="btn.assess.run", disabled=variants == 0):
        result = ui.run_comparison(as_run, settings, "Assessing")
        if result is not None:
            st.session_state[RESULT] = {"signature": ui.signature(as_run, settings), "result": result,
                                        "improves": improves, "run_size": settings.size}
    stored = st.session_state.get(RESULT)
    if stored:
        if stored["signature"] != ui.signature(as_run, settings):
            st.warning("Your answers or settings have changed since these results were produced. Press Run to update.")
        _show(stored)

"""The Streamlit app: every page draws without an exception, widgets change what runs, Run
produces results, and bad input shows an inline message instead of a traceback.

Pages are drawn one at a time through ``AppTest.from_function`` (see int_sim.app.main.main), and
the entry point ``app.py`` once through ``AppTest.from_file``. The session flag
``int_sim_test_mode`` makes every run tiny (2,000 residents, 60 days after a 20-day warm-up), so
each run takes a second or two; two replications are the minimum the app allows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("streamlit")
from app_server import streamlit_server  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from int_sim import ScenarioError, parse_scenario  # noqa: E402
from int_sim.app import core  # noqa: E402
from int_sim.scenario import CHECKLIST  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60


def _draw(page: str) -> None:
    from int_sim.app.main import main
    main(page=page)


def page(name: str) -> AppTest:
    at = AppTest.from_function(_draw, args=(name,), default_timeout=TIMEOUT)
    at.session_state["int_sim_test_mode"] = True
    at.session_state["run.reps"] = 2
    return at.run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


# --- every page draws --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["compare", "about", "assess", "teach", "explorer"])
def test_page_draws_with_the_illustrative_note(name):
    at = page(name)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title, "every page has a title"
    assert any("illustrative, not calibrated" in i.value for i in at.info)


def test_entry_point_draws_the_default_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["int_sim_test_mode"] = True
    at.run()
    no_exception(at)
    assert at.title[0].value == "Compare team configurations"
    assert any("illustrative, not calibrated" in i.value for i in at.info)


# --- Compare -----------------------------------------------------------------------------------

def test_compare_levers_follow_the_schema_and_the_checklist():
    at = page("compare")
    expanders = [e.label for e in at.expander]
    for number, factor in enumerate(CHECKLIST, start=1):
        assert f"{number}. {factor}" in expanders
    mdt = at.selectbox(key="cmp.0.preset: baseline.team.mdt_frequency")
    assert mdt.value == "weekly"
    assert "Ke et al." in mdt.help and "cadence" in mdt.help  # description, unit and source
    assert at.slider(key="cmp.0.preset: baseline.team.leadership").value == pytest.approx(0.5)


def test_compare_run_produces_a_results_table_and_downloads():
    at = page("compare")
    at.number_input(key="cmp.n").set_value(3).run()
    no_exception(at)
    assert len(at.tabs) >= 3
    at.selectbox(key="cmp.1.preset: checklist_full.team.co_location").set_value("none")
    at.button(key="btn.compare.run").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    configurations = ["baseline", "checklist_full", "small_colocated"]
    assert list(table.columns[:2]) == ["Metric", "Unit"]
    for name in configurations:
        assert name in table.columns
    assert "checklist_full − baseline" in table.columns
    assert table["Metric"].iloc[0] == "Emergency admissions"  # headline metrics first
    assert len(at.image) >= 4, "daily series, by group, by quintile and differences charts"
    labels = [b.label for b in at.download_button]
    assert "Results (CSV)" in labels and "baseline as run (YAML)" in labels
    assert "Board report (HTML)" in labels, "a planner can take a report of the comparison to a board"
    result = at.session_state["data.compare"]["result"]
    assert list(result.scenarios) == configurations
    assert result.scenarios["baseline"].population.size == 2000  # the tiny test run
    assert result.scenarios["checklist_full"].team.co_location == "none"  # the widget change was run


def test_compare_replications_to_a_target_precision_say_how_many_and_whether_reached():
    at = page("compare")
    at.radio(key="run.reps_mode").set_value("precision").run()
    no_exception(at)
    assert at.number_input(key="run.max_reps").min == 3
    at.number_input(key="run.max_reps").set_value(4)
    at.select_slider(key="run.precision").set_value(0.02).run()
    assert any("up to 4 replications" in c.value for c in at.caption)
    at.button(key="btn.compare.run").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["data.compare"]["result"]
    assert result.precision is not None and result.precision["target"] == 0.02
    assert 3 <= result.n_replications <= 4
    assert result.provenance["replications"] == result.n_replications
    shown = " ".join(m.value for m in list(at.success) + list(at.warning))
    assert ("within ±2%" in shown) if result.precision["reached"] else ("not reached within the cap of 4" in shown)
    assert "target precision of ±2%" in " ".join(c.value for c in at.caption)  # the provenance line
    at.radio(key="run.reps_mode").set_value("number").run()
    assert any("changed since" in w.value for w in at.warning)


def test_compare_results_go_stale_when_a_lever_moves():
    at = page("compare")
    at.button(key="btn.compare.run").click().run()
    assert not at.warning
    at.slider(key="cmp.0.preset: baseline.team.leadership").set_value(0.9).run()
    no_exception(at)
    assert any("changed since" in w.value for w in at.warning)


def test_compare_bad_upload_shows_an_error_not_a_traceback():
    at = page("compare")
    bad = b"team:\n  mdt_frequency: daily\n"
    at.file_uploader(key="upload.compare").set_value(("bad.yaml", bad, "application/x-yaml")).run()
    no_exception(at)
    messages = [e.value for e in at.error]
    assert any("team.mdt_frequency" in m and "daily" in m for m in messages), messages


def test_compare_malformed_upload_shows_an_error():
    at = page("compare")
    at.file_uploader(key="upload.compare").set_value(("broken.yaml", b"team: [unclosed\n", "text/yaml")).run()
    no_exception(at)
    assert any("malformed YAML" in e.value for e in at.error)


def test_compare_valid_upload_becomes_a_starting_point():
    at = page("compare")
    text = (ROOT / "scenarios" / "small_colocated.yaml").read_bytes().replace(b"name: small_colocated", b"name: mine")
    at.file_uploader(key="upload.compare").set_value(("mine.yaml", text, "application/x-yaml")).run()
    no_exception(at)
    assert at.success
    at.selectbox(key="cmp.0.source").set_value("uploaded: mine.yaml").run()
    no_exception(at)
    assert at.text_input(key="cmp.0.uploaded: mine.yaml.name").value == "mine"


def test_compare_bad_other_setting_shows_an_error_and_blocks_the_run():
    at = page("compare")
    at.text_area(key="cmp.0.preset: baseline.extra").set_value("team.mdt_minutes = 9999").run()
    no_exception(at)
    messages = [e.value for e in at.error]
    assert any("team.mdt_minutes" in m and "9999" in m for m in messages), messages
    assert "btn.compare.run" not in [b.key for b in at.button]


def test_compare_unknown_setting_and_duplicate_names_show_errors():
    at = page("compare")
    at.text_area(key="cmp.0.preset: baseline.extra").set_value("team.no_such_lever = 1").run()
    no_exception(at)
    assert any("no_such_lever" in e.value for e in at.error)
    at.text_area(key="cmp.0.preset: baseline.extra").set_value("").run()
    at.text_input(key="cmp.1.preset: checklist_full.name").set_value("baseline").run()
    no_exception(at)
    assert any("already used" in e.value for e in at.error)


# --- Assess ------------------------------------------------------------------------------------

def test_assess_has_one_question_per_factor_and_ranks_improvements():
    at = page("assess")
    assert len(at.radio) == len(CHECKLIST) == 13
    # Put every factor at its best except two: two single improvements plus "all at best".
    for number, question in enumerate(core.QUESTIONS, start=1):
        at.radio(key=f"assess.q{number}").set_value(question.options[-1].label)
    at.radio(key="assess.q10").set_value("No regular MDT")
    at.radio(key="assess.q13").set_value("No")
    at.run()
    no_exception(at)
    at.button(key="btn.assess.run").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    ranking = at.dataframe[0].value
    assert set(ranking["Improvement"]) == {"10. Multidisciplinary teams", "13. Compatible IT systems and data sharing"}
    assert any("Admissions avoided" in c for c in ranking.columns)
    assert any("Time to action" in c for c in ranking.columns)
    result = at.session_state["data.assess"]["result"]
    assert list(result.scenarios) == ["Your INT", "10. Multidisciplinary teams",
                                      "13. Compatible IT systems and data sharing", "All factors at their best"]
    assert result.scenarios["Your INT"].team.mdt_frequency == "none"
    assert result.scenarios["10. Multidisciplinary teams"].team.mdt_frequency == "weekly"


def test_assess_all_best_has_nothing_to_run():
    at = page("assess")
    for number, question in enumerate(core.QUESTIONS, start=1):
        at.radio(key=f"assess.q{number}").set_value(question.options[-1].label)
    at.run()
    no_exception(at)
    assert at.button(key="btn.assess.run").disabled


# --- Teach -------------------------------------------------------------------------------------

def test_teach_lesson_runs_the_learners_change():
    at = page("teach")
    assert len(at.selectbox(key="teach.lesson").options) >= 3
    at.selectbox(key="teach.lesson").set_value("02_time_to_meet").run()
    no_exception(at)
    assert at.header[0].value == "Time to meet"
    at.selectbox(key="teach.02_time_to_meet.team.mdt_frequency").set_value("weekly").run()
    at.button(key="btn.teach.run").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert "your change − lesson start" in table.columns
    assert "What to notice" in texts(at)
    result = at.session_state["data.teach"]["result"]
    assert result.scenarios["your change"].team.mdt_frequency == "weekly"
    assert result.scenarios["lesson start"].team.mdt_frequency == "monthly"


def test_teach_network_animation_draws_two_teams():
    at = page("teach")
    assert at.selectbox(key="teach.network.0").value == "preset: small_colocated"
    assert at.selectbox(key="teach.network.1").value == "preset: fragmented"
    at.button(key="btn.teach.network").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    stored = at.session_state["data.teach.network"]
    assert stored["sources"] == ["preset: small_colocated", "preset: fragmented"]
    for html, rows, _name in stored["views"]:
        assert "data:image/png;base64," in html and "anim" in html
        assert [r["day"] for r in rows] == [0, 10, 20, 30, 40, 50, 60]  # test mode: 60 days, a frame every 10
        assert all(0 <= r["mean trust"] <= 1 for r in rows)
    assert "What to notice" in texts(at)
    together, apart = (rows[-1]["mean trust"] for _, rows, _ in stored["views"])
    assert together > apart, "the co-located integrated team builds more trust than fragmented services"
    at.selectbox(key="teach.network.1").set_value("this lesson: your change").run()
    no_exception(at)
    assert any("changed since" in w.value for w in at.warning)


# --- Size and reach ----------------------------------------------------------------------------

def test_explorer_runs_a_small_grid():
    at = page("explorer")
    at.multiselect(key="explore.sizes").set_value([2_000])
    at.multiselect(key="explore.multipliers").set_value([0.5, 1.0])
    at.run()
    at.button(key="btn.explore.run").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table["Team size"]) == ["x0.5", "x1"]
    assert at.image, "the heatmap is drawn"


def test_explorer_empty_grid_shows_an_error():
    at = page("explorer")
    at.multiselect(key="explore.sizes").set_value([]).run()
    no_exception(at)
    assert any("at least one" in e.value for e in at.error)


# --- helpers without Streamlit -----------------------------------------------------------------

def test_only_presets_by_name_can_be_loaded():
    assert set(core.preset_paths()) >= {"baseline", "fragmented", "checklist_full"}
    for name in ["../pyproject", "/etc/passwd", "teaching/01_records_that_flow", "baseline.yaml"]:
        with pytest.raises(ScenarioError):
            core.load_preset(name)


def test_upload_rejects_binary_and_huge_files():
    with pytest.raises(ScenarioError, match="UTF-8"):
        core.parse_upload(b"\xff\xfe\x00", "x.yaml")
    with pytest.raises(ScenarioError, match="too large"):
        core.parse_upload(b"#" * (core.MAX_UPLOAD_BYTES + 1), "x.yaml")


def test_quick_run_scales_staff_and_practices_in_proportion():
    base = core.load_preset("baseline")
    quick = core.apply_run_size(base, core.RUN_SIZES["quick"])
    factor = 10_000 / base.population.size
    assert quick.population.size == 10_000
    assert quick.simulation.days == 365
    assert quick.team.staff.total() == pytest.approx(base.team.staff.total() * factor, rel=1e-3)
    assert quick.population.gp_practices == max(1, round(base.population.gp_practices * factor))
    assert quick.team.mdt_frequency == base.team.mdt_frequency
    small = base.with_overrides({"population.size": 5_000})
    assert core.apply_run_size(small, core.RUN_SIZES["quick"]).population.size == 5_000  # never scaled up
    assert core.apply_run_size(base, core.RUN_SIZES["full"]) == base


def test_results_csv_carries_provenance():
    summary = pd.DataFrame({"configuration": ["a", "b"], "metric": ["admissions_per_1000"] * 2,
                            "mean": [1.0, 2.0], "ci_low": [0.5, 1.5], "ci_high": [1.5, 2.5], "n": [2, 2]})
    differences = pd.DataFrame({"configuration": ["b"], "metric": ["admissions_per_1000"], "mean_diff": [1.0],
                                "ci_low": [0.2], "ci_high": [1.8], "n": [2]})
    provenance = {"int_sim_version": "9.9", "seed": 7, "replications": 2, "scenario_hash": {"a": "h1", "b": "h2"}}
    frame = pd.read_csv(__import__("io").StringIO(core.results_csv(summary, differences, provenance, run_size="quick")))
    assert {"int_sim_version", "seed", "replications", "scenario_hash"} <= set(frame.columns)
    assert list(frame["scenario_hash"]) == ["h1", "h2", "h2"]
    assert set(frame["seed"]) == {7} and set(frame["kind"]) == {"mean", "difference"}
    assert frame.loc[frame["kind"] == "difference", "reference"].item() == "a"


def test_downloaded_yaml_carries_provenance_and_reloads_to_the_same_hash():
    scenario = core.load_preset("baseline")
    provenance = {"int_sim_version": "9.9", "seed": 7, "replications": 3, "scenario_hash": {}}
    text = core.yaml_with_provenance(scenario, provenance)
    assert text.startswith("# Written by int-sim ") and f"scenario hash {scenario.hash()}" in text
    assert "seed 7 and 3 replications" in text
    assert parse_scenario(text, source="download").hash() == scenario.hash()


def test_every_answer_makes_a_valid_scenario_and_best_answers_match_checklist_full():
    base = core.load_preset("baseline")
    for q in core.QUESTIONS:
        for option in q.options:
            core.assessment_scenario(base, {q.factor: option.label}, {})  # validates
    best = core.assessment_scenario(base, {q.factor: q.options[-1].label for q in core.QUESTIONS}, {})
    full = core.load_preset("checklist_full")
    for key in ["team.co_location", "team.mdt_frequency", "team.gp_in_mdt", "team.pooled_budget",
                "team.joint_training", "team.information_sharing", "team.staff.care_navigator"]:
        assert core.get_value(best, key) == core.get_value(full, key), key


def test_lesson_files_are_valid_and_their_scenarios_parse_alone():
    lessons, problems = core.load_lessons()
    assert not problems
    assert len(lessons) >= 3
    for path in sorted((ROOT / "scenarios" / "teaching").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        assert set(data) == {"lesson", "scenario"}
        parse_scenario(yaml.safe_dump(data["scenario"]), source=str(path))
    for lesson in lessons:
        assert lesson.levers and all(core.get_value(lesson.scenario, k) is not None for k in lesson.levers)


def test_bad_lesson_files_are_rejected():
    good = (ROOT / "scenarios" / "teaching" / "01_records_that_flow.yaml").read_text()
    with pytest.raises(ScenarioError, match="two top-level keys"):
        core.parse_lesson("title: x\n", source="t.yaml")
    data = yaml.safe_load(good)
    data["scenario"]["team"]["co_location"] = "sometimes"
    with pytest.raises(ScenarioError, match="team.co_location"):
        core.parse_lesson(yaml.safe_dump(data), source="t.yaml")
    data = yaml.safe_load(good)
    del data["lesson"]["notice"]
    with pytest.raises(ScenarioError, match="lesson.notice"):
        core.parse_lesson(yaml.safe_dump(data), source="t.yaml")


def test_the_model_does_not_import_streamlit():
    import subprocess
    import sys
    code = ("import sys, int_sim, int_sim.plots, int_sim.board_report, int_sim.network_view; "
            "from int_sim import compare; print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compare_changed_upload_under_the_same_name_is_a_new_starting_point():
    at = page("compare")
    path = ROOT / "scenarios" / "small_colocated.yaml"
    first = path.read_bytes()
    second = first.replace(b"co_location: full", b"co_location: none")
    at.file_uploader(key="upload.compare").set_value(("mine.yaml", first, "application/x-yaml")).run()
    at.file_uploader(key="upload.compare").set_value(("mine.yaml", second, "application/x-yaml")).run()
    no_exception(at)
    options = at.selectbox(key="cmp.0.source").options
    assert "uploaded: mine.yaml" in options and "uploaded: mine.yaml (2)" in options
    at.selectbox(key="cmp.0.source").set_value("uploaded: mine.yaml (2)").run()
    assert at.selectbox(key="cmp.0.uploaded: mine.yaml (2).team.co_location").value == "none"


def test_plots_label_axes_with_units_and_use_the_colour_blind_safe_palette():
    from matplotlib.figure import Figure

    from int_sim import plots
    days = list(range(-5, 10))
    daily = pd.DataFrame([(c, r, d, "admissions", float(d % 3 + r)) for c in ["a", "b"] for r in range(3) for d in days],
                         columns=["configuration", "replication", "day", "metric", "value"])
    fig = plots.daily_series(daily, "admissions", smooth_days=7)
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert "admissions per day" in ax.get_ylabel() and "day" in ax.get_xlabel()
    assert [line.get_color() for line in ax.get_lines()][:2] == [plots.PALETTE[0], plots.PALETTE[1]]
    groups = [f"admissions_per_1000.{g}" for g in __import__("int_sim.scenario", fromlist=["GROUPS"]).GROUPS]
    summary = pd.DataFrame([(c, m, 10.0, 8.0, 12.0, 3) for c in ["a", "b"] for m in groups],
                           columns=["configuration", "metric", "mean", "ci_low", "ci_high", "n"])
    ax = plots.admissions_by_group(summary).axes[0]
    assert "per 1,000" in ax.get_ylabel() and ax.get_xlabel() == "patient group"
    differences = pd.DataFrame({"configuration": ["b"], "metric": ["admissions_avoided_per_1000"], "mean_diff": [1.0],
                                "ci_low": [0.5], "ci_high": [1.5], "n": [3]})
    ax = plots.differences_forest(differences, "admissions_avoided_per_1000", reference="a").axes[0]
    assert "per 1,000 residents per year" in ax.get_xlabel() and "higher is better" in ax.get_xlabel()
    grid = pd.DataFrame({"x": [0.5, 1.0, 0.5, 1.0], "y": [1000, 1000, 2000, 2000], "mean": [1.0, 2.0, 3.0, np.nan],
                         "ci_low": [0.5, 1.5, 2.5, np.nan], "ci_high": [1.5, 2.5, 3.5, np.nan]})
    ax = plots.interval_heatmap(grid, x="x", y="y", xlabel="team size", ylabel="residents",
                                xfmt=lambda m: f"x{m:g}").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2,000", "1,000"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x0.5", "x1"]
    assert "1\n[0.5, 1.5]" in [t.get_text() for t in ax.texts]  # each cell: mean and interval


def test_the_real_server_starts_and_draws_every_page_without_an_exception():
    """Start `streamlit run app.py` headless, fetch it over HTTP, and run every page through the
    server's websocket protocol (what a browser does), checking for exception elements."""
    import asyncio
    import urllib.request

    websockets = pytest.importorskip("websockets")
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    with streamlit_server(timeout=30) as base:
        with urllib.request.urlopen(f"{base}/", timeout=5) as reply:
            assert reply.status == 200 and b"<html" in reply.read().lower()

        async def draw(url_path: str) -> dict:
            found = {"exceptions": [], "titles": []}
            async with websockets.connect(f"{base.replace('http', 'ws', 1)}/_stcore/stream", subprotocols=["streamlit"],
                                          max_size=None) as ws:
                message = BackMsg()
                message.rerun_script.query_string = ""
                message.rerun_script.page_name = url_path
                await ws.send(message.SerializeToString())
                while True:
                    forward = ForwardMsg()
                    forward.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=30))
                    kind = forward.WhichOneof("type")
                    if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                        element = forward.delta.new_element
                        if element.WhichOneof("type") == "exception":
                            found["exceptions"].append(element.exception.message)
                        elif element.WhichOneof("type") == "heading" and element.heading.tag == "h1":
                            found["titles"].append(element.heading.body)
                    elif kind == "script_finished":
                        return found

        expected = {"": "Compare team configurations", "assess": "Assess my INT", "teach": "Teach: guided lessons",
                    "explorer": "Size and reach explorer", "about": "About the model"}
        for url_path, title in expected.items():
            found = asyncio.run(draw(url_path))
            assert not found["exceptions"], (url_path, found["exceptions"])
            assert found["titles"] == [title], (url_path, found["titles"])


# --- reliability (issue 7, item 6): uploads, paths and bounds -----------------------------------

def _upload(at: AppTest, name: str, data: bytes) -> list[str]:
    at.file_uploader(key="upload.compare").set_value((name, data, "application/x-yaml")).run()
    no_exception(at)
    assert not at.success, "nothing invalid becomes a starting point"
    assert not any(o.startswith("uploaded:") for o in at.selectbox(key="cmp.0.source").options)
    return [e.value for e in at.error]


def test_app_rejects_oversized_upload():
    messages = _upload(page("compare"), "big.yaml", b"name: big\n" + b"#" * core.MAX_UPLOAD_BYTES)
    assert any("too large" in m and f"{core.MAX_UPLOAD_BYTES:,}" in m for m in messages), messages


def test_app_rejects_upload_that_is_not_utf8_text():
    messages = _upload(page("compare"), "latin1.yaml", "name: café\n".encode("latin-1"))
    assert any("not a UTF-8 text file" in m for m in messages), messages


def test_app_rejects_upload_with_nul_bytes():
    messages = _upload(page("compare"), "nul.yaml", b"name: x\x00\n")
    assert any("NUL bytes" in m for m in messages), messages


def test_app_rejects_yaml_alias_bomb_upload():
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = ("name: bomb\ndescription: x\npopulation:\n  size: 1000\n" + "\n".join(lines) + "\n").encode()
    messages = _upload(page("compare"), "bomb.yaml", bomb)
    assert any("bomb.yaml" in m for m in messages), messages


def test_app_rejects_deeply_nested_and_empty_uploads():
    messages = _upload(page("compare"), "deep.yaml", b"team: " + b"[" * 5_000 + b"]" * 5_000 + b"\n")
    assert any("deep.yaml" in m for m in messages), messages
    messages = _upload(page("compare"), "empty.yaml", b"")
    assert any("empty.yaml" in m and "empty" in m for m in messages), messages


def test_app_rejects_upload_too_big_for_the_machine():
    text = b"name: huge\npopulation:\n  size: 2000000\nsimulation:\n  days: 3650\n  warmup_days: 3650\n"
    messages = _upload(page("compare"), "huge.yaml", text)
    assert any("resident-days" in m for m in messages), messages


def test_app_rejects_markup_in_an_uploaded_file_name():
    at = page("compare")
    text = (ROOT / "scenarios" / "small_colocated.yaml").read_bytes()
    at.file_uploader(key="upload.compare").set_value(("../../etc/[x](javascript:y)`*.yaml", text, "text/yaml")).run()
    no_exception(at)
    options = [o for o in at.selectbox(key="cmp.0.source").options if o.startswith("uploaded:")]
    assert len(options) == 1
    assert "/" not in options[0] and "[" not in options[0] and "`" not in options[0] and "*" not in options[0]


def _project_copy(tmp_path, monkeypatch):
    """A scenarios/ folder in tmp_path (the real one is shared and never touched), a secret file
    outside it, and the app pointed at the copy."""
    folder = tmp_path / "scenarios"
    (folder / "teaching").mkdir(parents=True)
    for name in ["baseline", "checklist_full", "small_colocated", "fragmented"]:
        (folder / f"{name}.yaml").write_bytes((ROOT / "scenarios" / f"{name}.yaml").read_bytes())
    lesson = (ROOT / "scenarios" / "teaching" / "01_records_that_flow.yaml").read_text()
    (folder / "teaching" / "01_records_that_flow.yaml").write_text(lesson)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("name: SECRET_PRESET\n")
    data = yaml.safe_load(lesson)
    data["lesson"]["title"] = "SECRET_LESSON"
    (outside / "lesson.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setattr(core, "SCENARIO_DIR", folder)
    monkeypatch.setattr(core, "TEACHING_DIR", folder / "teaching")
    return folder, outside


def test_app_rejects_preset_linked_outside_scenarios(tmp_path, monkeypatch):
    folder, outside = _project_copy(tmp_path, monkeypatch)
    (folder / "evil.yaml").symlink_to(outside / "secret.yaml")
    (folder / "escape.yaml").symlink_to(folder / ".." / "outside" / "secret.yaml")
    assert "evil" not in core.preset_paths() and "escape" not in core.preset_paths()
    assert "baseline" in core.preset_paths()
    for name in ["evil", "escape", "../outside/secret", str(outside / "secret")]:
        with pytest.raises(ScenarioError):
            core.load_preset(name)
    at = page("compare")
    assert "preset: evil" not in at.selectbox(key="cmp.0.source").options
    assert "SECRET_PRESET" not in texts(at)


def test_app_rejects_lesson_linked_outside_scenarios(tmp_path, monkeypatch):
    folder, outside = _project_copy(tmp_path, monkeypatch)
    (folder / "teaching" / "02_outside.yaml").symlink_to(outside / "lesson.yaml")
    lessons, problems = core.load_lessons()
    assert [lesson.key for lesson in lessons] == ["01_records_that_flow"]
    assert any("02_outside.yaml" in p and "refused" in p for p in problems), problems
    at = page("teach")
    no_exception(at)
    assert at.selectbox(key="teach.lesson").options == ["1. Records that flow"] or \
        len(at.selectbox(key="teach.lesson").options) == 1
    assert any("refused" in w.value for w in at.warning)
    assert "SECRET_LESSON" not in texts(at) + " ".join(h.value for h in at.header)


def test_app_bounds_levers_to_the_schema_ranges():
    at = page("compare")
    checked = 0
    for widget in list(at.number_input) + list(at.slider):
        key = widget.key or ""
        if not key.startswith("cmp.0.preset: baseline."):
            continue
        dotted = key.removeprefix("cmp.0.preset: baseline.")
        spec = core.lever_spec(dotted)
        low, high = core._limits(__import__("int_sim.scenario", fromlist=["field_info"]).field_info(dotted))
        assert widget.min == pytest.approx(low) and widget.max == pytest.approx(high), dotted
        assert widget.min is not None and widget.max is not None, f"{dotted} has no bound"
        assert spec.min is not None and spec.max is not None
        checked += 1
    assert checked >= 12, "every numeric lever of the first configuration was checked"


def test_app_bounds_out_of_range_lever_values_with_a_message():
    at = AppTest.from_function(_draw, args=("compare",), default_timeout=TIMEOUT)
    at.session_state["int_sim_test_mode"] = True
    at.session_state["cmp.0.preset: baseline.team.mdt_minutes"] = 10_000.0
    at.session_state["cmp.0.preset: baseline.team.leadership"] = 7.0
    at.session_state["cmp.0.preset: baseline.population.size"] = 10**12
    at.session_state["cmp.0.preset: baseline.team.mdt_frequency"] = "hourly"
    at.session_state["cmp.0.preset: baseline.care.intervention_effect"] = float("nan")
    at.run()
    no_exception(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "Protected MDT time: 10,000 is outside the allowed range 0 to 480" in warnings
    assert "Leadership: 7 is outside the allowed range 0 to 1" in warnings
    assert "2,000,000" in warnings and "'hourly' is not one of" in warnings and "not a number" in warnings
    assert at.number_input(key="cmp.0.preset: baseline.team.mdt_minutes").value == 480
    assert at.slider(key="cmp.0.preset: baseline.team.leadership").value == 1.0
    assert at.number_input(key="cmp.0.preset: baseline.population.size").value == 2_000_000
    assert at.selectbox(key="cmp.0.preset: baseline.team.mdt_frequency").value == "weekly"


def test_app_bounds_extreme_values_in_other_settings_are_refused():
    at = page("compare")
    for text, field in [("population.size = 1000000000", "population.size"),
                        ("simulation.days = 36500", "simulation.days"),
                        ("team.leadership = .inf", "team.leadership"),
                        ("team.staff.gp = -1", "team.staff.gp"),
                        ("care.intervention_effect = 1e308", "care.intervention_effect")]:
        at.text_area(key="cmp.0.preset: baseline.extra").set_value(text).run()
        no_exception(at)
        messages = [e.value for e in at.error]
        assert any(field in m for m in messages), (text, messages)
        assert "btn.compare.run" not in [b.key for b in at.button], text


def test_app_bounds_the_explorer_grid_and_its_replications():
    at = page("explorer")
    at.multiselect(key="explore.sizes").set_value([2_000, 5_000, 10_000, 20_000, 50_000, 100_000])
    at.multiselect(key="explore.multipliers").set_value([0.5, 0.75, 1.0, 1.5, 2.0]).run()
    no_exception(at)
    assert any("30 cells is too many" in e.value for e in at.error)
    assert "btn.explore.run" not in [b.key for b in at.button]
    reps = at.number_input(key="explore.reps")
    assert (reps.min, reps.max) == (2, 20)


# --- Size and reach: a sweep store (issue 5, item 2) ---------------------------------------------

@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory) -> bytes:
    """The bytes of a real store: a tiny 2 x 2 x 2 grid (a linked team size, the population and
    co-location; 2,000 or 2,500 residents, 60 days) with 2 replications, run by int_sim.sweep."""
    from int_sim.store import Store
    from int_sim.sweep import load_sweep, run_sweep
    folder = tmp_path_factory.mktemp("store")
    spec = {"name": "tiny", "base": "scenarios/baseline.yaml", "design": "grid",
            "factors": {"team_size": {"small": {"team.staff.gp": 2}, "large": {"team.staff.gp": 6}},
                        "population.size": [2000, 2500], "team.co_location": ["none", "full"],
                        "simulation.days": [60], "simulation.warmup_days": [20]},
            "replications": 2, "seed": 11}
    (folder / "tiny.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    run_sweep(load_sweep(folder / "tiny.yaml"), Store(folder / "tiny.duckdb", create=True), workers=1)
    return (folder / "tiny.duckdb").read_bytes()


def _changed_store(data: bytes, tmp_path: Path, *statements: str) -> bytes:
    """A copy of the store's bytes after running SQL statements on it."""
    import duckdb
    path = tmp_path / "changed.duckdb"
    path.write_bytes(data)
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path.read_bytes()


def test_store_grid_holds_the_other_factors_at_their_levels(sweep_store):
    from int_sim.experiment import t_interval
    snapshot = core.read_uploaded_store(sweep_store, "tiny.duckdb")
    sweep = core.stored_sweep(snapshot, "tiny")
    assert sweep.levels == {"team_size": ["small", "large"], "population.size": [2000, 2500],
                            "team.co_location": ["none", "full"]}
    assert sweep.design.fixed == {"simulation.days": 60, "simulation.warmup_days": 20}
    assert core.default_axes(sweep.design.varying) == ("team_size", "population.size")
    grid = core.store_grid(sweep, "admissions_per_1000", "team_size", "population.size", {"team.co_location": "full"})
    assert list(grid.columns) == ["team_size", "population.size", "configuration_id", "scenario_hash", "mean",
                                  "ci_low", "ci_high", "n"]
    assert list(grid["configuration_id"]) == [1, 3, 5, 7]  # design order: co-location full only
    assert list(grid["team_size"]) == ["small", "small", "large", "large"]
    assert list(grid["population.size"]) == [2000, 2500, 2000, 2500]
    assert set(grid["n"]) == {2}
    # Each cell is the t-interval of that configuration's stored values, computed independently here.
    values = snapshot.results
    for row in grid.itertuples(index=False):
        stored = values[(values["configuration_id"] == row.configuration_id) & (values["metric"] == "admissions_per_1000")]
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx(t_interval(stored["value"].to_numpy()))
    hashes = snapshot.configurations.set_index("configuration_id")["scenario_hash"]
    assert list(grid["scenario_hash"]) == [hashes[c] for c in [1, 3, 5, 7]]
    other = core.store_grid(sweep, "admissions_per_1000", "team.co_location", "team_size", {"population.size": 2500})
    assert list(other["configuration_id"]) == [2, 3, 6, 7]
    with pytest.raises(ValueError, match="two different factors"):
        core.store_grid(sweep, "admissions_per_1000", "team_size", "team_size", {})
    with pytest.raises(ValueError, match="team.co_location"):
        core.store_grid(sweep, "admissions_per_1000", "team_size", "population.size", {})
    empty = core.store_grid(sweep, "no_such_metric", "team_size", "population.size", {"team.co_location": "none"})
    assert empty["mean"].isna().all() and set(empty["n"]) == {0}
    csv = pd.read_csv(__import__("io").StringIO(
        core.store_grid_csv(sweep, grid, "admissions_per_1000", "team_size", "population.size",
                            {"team.co_location": "full"})))
    assert set(csv["team.co_location"]) == {"full"} and set(csv["seed"]) == {11} and set(csv["replications"]) == {2}
    assert {"int_sim_version", "scenario_hash", "ci_low", "ci_high"} <= set(csv.columns)


def test_store_cell_detail_gives_headline_metrics_with_intervals(sweep_store):
    from int_sim.report import AVOIDED_PER_STAFF_COST
    sweep = core.stored_sweep(core.read_uploaded_store(sweep_store, "tiny.duckdb"), "tiny")
    detail = core.cell_detail(sweep, 5)
    from int_sim.metrics import HEADLINE, METRICS
    assert list(detail.columns) == ["Metric", "Unit", "Mean (95% interval)", "Replications"]
    assert list(detail["Metric"])[: len(HEADLINE)] == [METRICS[m].label for m in HEADLINE]
    assert detail["Metric"].iloc[-1] == "Admissions avoided per staff cost"  # derived, like the report's
    row = sweep.summary[(sweep.summary["configuration_id"] == 5) & (sweep.summary["metric"] == "admissions_per_1000")]
    assert detail["Mean (95% interval)"].iloc[0] == core.fmt_interval(*row[["mean", "ci_low", "ci_high"]].iloc[0])
    assert set(detail["Replications"]) <= {0, 1, 2} and (detail["Replications"] == 2).sum() >= 10
    assert AVOIDED_PER_STAFF_COST in set(sweep.summary["metric"])
    factors = core.cell_factors(sweep, 5)
    assert list(factors["Factor"][:3]) == ["team_size", "population.size", "team.co_location"]
    assert list(factors["Level"][:3]) == ["large", "2,000", "full"]
    assert core.cell_label(sweep, 5, ["team_size", "population.size"]) == "#5: team_size = large, population.size = 2,000"
    line = core.store_provenance_line(sweep)
    assert "seed 11" in line and "2 replications per configuration" in line and "all 16 replications stored" in line


def test_store_default_axes_are_team_size_across_and_reach_up():
    assert core.default_axes(["reach", "team_wte", "team.co_location"]) == ("team_wte", "reach")  # size_and_reach
    assert core.default_axes(["team.co_location", "population.size", "team_size"]) == ("team_size", "population.size")
    assert core.default_axes(["team.mdt_frequency", "team.co_location"]) == ("team.co_location", "team.mdt_frequency")
    with pytest.raises(ValueError):
        core.default_axes(["population.size"])


def test_store_upload_is_read_from_a_private_copy_and_deleted(sweep_store, tmp_path, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    snapshot = core.read_uploaded_store(sweep_store, "../../etc/passwd")
    assert snapshot.path == Path("passwd")  # the name is a label; no path the user gave is opened
    assert list(snapshot.sweeps["sweep"]) == ["tiny"] and len(snapshot.configurations) == 8
    assert list(tmp_path.iterdir()) == [], "the temporary copy is deleted"
    with pytest.raises(Exception):
        core.read_uploaded_store(b"not a store", "x.duckdb")
    assert list(tmp_path.iterdir()) == [], "deleted after a failure too"


def test_store_upload_problems_are_store_errors_naming_the_upload(sweep_store, tmp_path):
    from int_sim.store import StoreError
    cases = {
        "empty": (b"", "empty file"),
        "text": (b"name: not a store\n" * 50, "not an int-sim store"),
        "truncated": (sweep_store[: len(sweep_store) // 2], "damaged"),
        "version": (_changed_store(sweep_store, tmp_path, "UPDATE meta SET value = '999' WHERE key = 'schema_version'"),
                    "schema version 999"),
        "other": (_changed_store(sweep_store, tmp_path, "DROP TABLE meta"), "not an int-sim store"),
    }
    for label, (data, expected) in cases.items():
        with pytest.raises(StoreError) as err:
            core.read_uploaded_store(data, f"{label}.duckdb")
        message = str(err.value)
        assert message.startswith(f"{label}.duckdb: ") and expected in message, (label, message)
        assert "int-sim-store-" not in message, "the temporary file's path is not shown"


def test_store_upload_that_would_read_other_files_is_refused(sweep_store, tmp_path):
    """A DuckDB file can hold a view that reads any file when selected; issue 7 forbids reading a
    file outside scenarios/ through the app, so such a store is refused before it is read."""
    from int_sim.store import StoreError
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET_CONTENT")
    evil = _changed_store(
        sweep_store, tmp_path, "ALTER TABLE sweeps RENAME TO real_sweeps",
        "CREATE VIEW sweeps AS SELECT content AS sweep, spec_yaml, seed, replications, int_sim_version, created "
        f"FROM real_sweeps, read_text('{secret}')")
    with pytest.raises(StoreError, match="refused") as err:
        core.read_uploaded_store(evil, "evil.duckdb")
    assert "SECRET_CONTENT" not in str(err.value)


def test_explorer_opens_a_sweep_store_and_shows_a_cell(sweep_store):
    at = page("explorer")
    at.radio(key="explore.mode").set_value("store").run()
    no_exception(at)
    assert not at.error and "btn.explore.run" not in [b.key for b in at.button]
    at.file_uploader(key="upload.explore.store").set_value(("tiny.duckdb", sweep_store, "application/octet-stream"))
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="explore.store.metric").value == "admissions_avoided_per_1000"
    assert at.selectbox(key="explore.store.x").value == "team_size"
    assert at.selectbox(key="explore.store.y").value == "population.size"
    assert at.selectbox(key="explore.store.fix.team.co_location").options == ["none", "full"]
    assert len(at.image) == 1, "the heatmap"
    captions = " ".join(c.value for c in at.caption)
    assert "int-sim" in captions and "seed 11" in captions and "2 replications per configuration" in captions
    assert at.selectbox(key="explore.store.cell").options == [
        "#0: team_size = small, population.size = 2,000", "#2: team_size = small, population.size = 2,500",
        "#4: team_size = large, population.size = 2,000", "#6: team_size = large, population.size = 2,500"]
    assert "Heatmap cells (CSV)" in [b.label for b in at.download_button]
    # Hold co-location at "full": the cells become the other half of the grid; pick one.
    at.selectbox(key="explore.store.fix.team.co_location").set_value("full").run()
    no_exception(at)
    assert at.selectbox(key="explore.store.cell").options[0].startswith("#1: ")
    at.selectbox(key="explore.store.cell").set_value(7).run()
    no_exception(at)
    factors, metrics = at.dataframe[0].value, at.dataframe[1].value
    assert list(factors["Level"][:3]) == ["large", "2,500", "full"]
    assert metrics["Metric"].iloc[0] == "Emergency admissions" and metrics["Replications"].iloc[0] == 2
    scenario_hash = core.read_uploaded_store(sweep_store, "t").configurations.set_index("configuration_id").loc[
        7, "scenario_hash"]
    assert any(f"scenario hash {scenario_hash}" in c.value for c in at.caption)
    # Other axes and another metric.
    at.selectbox(key="explore.store.x").set_value("team.co_location").run()
    at.selectbox(key="explore.store.metric").set_value("staff_burnout_mean").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="explore.store.fix.team_size").value == "small"
    assert len(at.image) == 1


def _written_store(path: Path, sweeps: dict[str, tuple[str, list[dict]]]) -> bytes:
    """A store written through int_sim.store without running the model: per sweep a design name
    and each configuration's factors; two replications of made-up values per configuration."""
    from int_sim import __version__
    from int_sim.store import Store
    store = Store(path, create=True)
    for name, (design, points) in sweeps.items():
        spec = yaml.safe_dump({"name": name, "design": design, "factors": {}, "replications": 2, "seed": 5})
        store.register(name, spec, 5, 2, __version__, [(i, f"name: {name}#{i}\n", f"hash{i}", f) for i, f in enumerate(points)])
        for replication in range(2):
            for i in range(len(points)):
                store.record(name, i, replication, {"admissions_per_1000": 80.0 + i + replication,
                                                    "admissions_avoided_per_1000": 2.0 * i - replication})
    return path.read_bytes()


def test_explorer_store_of_other_designs_and_several_sweeps(tmp_path):
    data = _written_store(tmp_path / "two.duckdb", {
        "one_factor": ("grid", [{"team.mdt_frequency": v} for v in ["monthly", "fortnightly", "weekly"]]),
        "oat": ("oat", [{}, {"team.leadership": 0.2}, {"team.leadership": 0.9}, {"team.co_location": "full"}])})
    at = page("explorer")
    at.radio(key="explore.mode").set_value("store").run()
    at.file_uploader(key="upload.explore.store").set_value(("two.duckdb", data, "application/octet-stream")).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="explore.store.sweep").options == ["one_factor", "oat"]
    assert len(at.image) == 1, "one factor: the metric against its levels"
    assert [o.split(":")[0] for o in at.selectbox(key="explore.store.cell").options] == ["#0", "#1", "#2"]
    at.selectbox(key="explore.store.sweep").set_value("oat").run()
    no_exception(at)
    assert not at.error and not at.image
    assert any("one-at-a-time" in i.value and "no heatmap" in i.value for i in at.info)
    at.selectbox(key="explore.store.cell").set_value(2).run()
    no_exception(at)
    assert "0.9" in list(at.dataframe[0].value["Level"])
    detail = at.dataframe[1].value.set_index("Metric")
    assert detail.loc["Emergency admissions", "Mean (95% interval)"] == core.fmt_interval(82.5, *__import__(
        "int_sim.experiment", fromlist=["t_interval"]).t_interval(np.array([82.0, 83.0]))[1:])


@pytest.mark.parametrize("kind", ["text", "truncated", "version", "no meta"])
def test_explorer_bad_store_shows_an_error_not_a_traceback(kind, sweep_store, tmp_path):
    data = {"text": b"this is not a DuckDB file\n" * 20,
            "truncated": sweep_store[:4096],
            "version": _changed_store(sweep_store, tmp_path, "UPDATE meta SET value = '2' WHERE key = 'schema_version'"),
            "no meta": _changed_store(sweep_store, tmp_path, "DROP TABLE meta")}[kind]
    at = page("explorer")
    at.radio(key="explore.mode").set_value("store").run()
    at.file_uploader(key="upload.explore.store").set_value(("bad.duckdb", data, "application/octet-stream")).run()
    no_exception(at)
    messages = [e.value for e in at.error]
    expected = {"text": "not an int-sim store", "truncated": "damaged", "version": "schema version 2",
                "no meta": "not an int-sim store"}[kind]
    assert len(messages) == 1 and "bad.duckdb" in messages[0] and expected in messages[0], messages
    assert not at.image


# --- charts: whiskers of quantities that cannot be negative -------------------------------------

def _whisker_ends(ax) -> list[tuple[float, float]]:
    """(low, high) of every vertical error bar drawn on ``ax``."""
    from matplotlib.container import ErrorbarContainer
    ends = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            for collection in container.lines[2]:
                ends += [(min(s[0][1], s[1][1]), max(s[0][1], s[1][1])) for s in collection.get_segments()]
    return ends


def test_bar_whiskers_stop_at_zero_only_where_the_quantity_cannot_be_negative():
    from int_sim import plots
    from int_sim.scenario import GROUPS
    assert not plots.can_be_negative("admissions_per_1000.frail_severe")
    assert not plots.can_be_negative("crises_per_1000") and not plots.can_be_negative("cost_per_resident")
    assert plots.can_be_negative("admissions_avoided_per_1000")
    assert plots.can_be_negative("admissions_avoided_per_1000.q1") and plots.can_be_negative("net_cost_per_resident")
    assert plots.can_be_negative("deprivation_gap_admissions_per_1000")
    assert plots.can_be_negative("admissions_avoided_per_gbp1000_staff_cost")  # derived, not declared: not cut

    # Two replications of a rare event: mean 1.5 with a t-interval reaching far below zero.
    groups = [f"admissions_per_1000.{g}" for g in GROUPS]
    summary = pd.DataFrame([(c, m, 1.5, -7.5, 10.5, 2) for c in ["a", "b"] for m in groups],
                           columns=["configuration", "metric", "mean", "ci_low", "ci_high", "n"])
    ends = _whisker_ends(plots.admissions_by_group(summary).axes[0])
    assert len(ends) == 2 * len(GROUPS)
    assert all(low == pytest.approx(0.0) and high == pytest.approx(10.5) for low, high in ends), ends
    quintiles = pd.DataFrame([(c, f"admissions_per_1000.q{q}", 1.5, -7.5, 10.5, 2) for c in ["a", "b"] for q in range(1, 6)],
                             columns=["configuration", "metric", "mean", "ci_low", "ci_high", "n"])
    assert min(low for low, _ in _whisker_ends(plots.admissions_by_quintile(quintiles).axes[0])) == pytest.approx(0.0)
    # A difference can be negative: its whisker is drawn as computed.
    avoided = pd.DataFrame({"configuration": ["a"], "metric": ["admissions_avoided_per_1000"], "mean": [1.5],
                            "ci_low": [-7.5], "ci_high": [10.5], "n": [2]})
    ends = _whisker_ends(plots.interval_bars(avoided, ["admissions_avoided_per_1000"], ["avoided"]).axes[0])
    assert ends == [(pytest.approx(-7.5), pytest.approx(10.5))]
    # The same in the interval bands of the sweep reports' line charts.
    lines = pd.DataFrame({"f": [1, 2, 1, 2], "metric": ["cost_per_resident"] * 2 + ["admissions_avoided_per_1000"] * 2,
                          "mean": [1.0, 2.0, 1.0, 2.0], "ci_low": [-3.0, 1.0, -3.0, 1.0], "ci_high": [5.0, 3.0, 5.0, 3.0]})
    fig = plots.factor_lines(lines, "f", ["cost_per_resident", "admissions_avoided_per_1000"],
                             labels={"cost_per_resident": "cost", "admissions_avoided_per_1000": "avoided"})
    bottoms = [min(v[1] for v in ax.collections[0].get_paths()[0].vertices) for ax in fig.axes[:2]]
    assert bottoms == [pytest.approx(0.0), pytest.approx(-3.0)]


def test_explorer_store_with_unexpected_contents_shows_an_error(tmp_path):
    data = _written_store(tmp_path / "odd.duckdb", {"odd": ("grid", [["not", "a", "mapping"], ["of", "factors"]])})
    at = page("explorer")
    at.radio(key="explore.mode").set_value("store").run()
    at.file_uploader(key="upload.explore.store").set_value(("odd.duckdb", data, "application/octet-stream")).run()
    no_exception(at)
    assert any("odd.duckdb" in e.value and "not a mapping" in e.value for e in at.error), [e.value for e in at.error]

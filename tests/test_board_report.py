"""The board report (int_sim.board_report): a self-contained HTML file of a comparison.

One tiny comparison (2,000 residents, 60 measured days, two replications) is run once for the
module; the tests read the HTML it produces.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import pandas as pd
import pytest

from int_sim import compare
from int_sim.app import core
from int_sim.board_report import board_report_html, changed_settings, reading

HOSTILE = "<script>alert('x')</script> & co"


@pytest.fixture(scope="module")
def result():
    tiny = core.RUN_SIZES["tiny"]
    baseline = core.apply_run_size(core.load_preset("baseline"), tiny)
    scenarios = {
        "baseline": baseline,
        "fragmented": core.apply_run_size(core.load_preset("fragmented"), tiny),
        HOSTILE: baseline.with_overrides({"name": HOSTILE, "team.co_location": "full"}),
    }
    return compare(scenarios, replications=2, seed=7)


@pytest.fixture(scope="module")
def page(result):
    return board_report_html(result, run_size="Tiny (test)",
                             generated=datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc))


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.images: list[dict] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def parsed(page: str) -> _Collect:
    collector = _Collect()
    collector.feed(page)
    return collector


def test_report_names_the_configurations_and_their_changed_levers(page):
    text = " ".join(parsed(page).text)
    assert "What was compared" in text and "How the configurations differ" in text
    assert "MDT meetings (team.mdt_frequency)" in text  # baseline weekly vs fragmented none
    assert "Co-location (team.co_location)" in text
    assert "Residents covered" not in text, "unchanged settings are not listed"


def test_changed_settings_lists_only_differences(result):
    changed = changed_settings(result.scenarios)
    keys = set(changed["key"])
    assert {"team.mdt_frequency", "team.co_location"} <= keys
    assert "population.size" not in keys and "name" not in keys and "description" not in keys
    row = changed.set_index("key").loc["team.co_location"]
    assert (row["baseline"], row["fragmented"], row[HOSTILE]) == ("partial", "none", "full")
    same = changed_settings({"a": result.scenarios["baseline"], "b": result.scenarios["baseline"]})
    assert same.empty


def test_report_has_the_headline_table_with_intervals_and_paired_differences(page, result):
    text = " ".join(parsed(page).text)
    assert "Headline results" in text
    assert "fragmented − baseline" in text
    assert "Emergency admissions" in text and "per 1,000 residents per year" in text
    mean = result.summary.set_index(["configuration", "metric"]).loc[("baseline", "admissions_per_1000")]
    assert core.fmt_interval(mean["mean"], mean["ci_low"], mean["ci_high"]) in text


def test_report_reads_the_differences_in_plain_words(page, result):
    assert "What is and is not clearly different" in page
    entries = reading(result.differences, list(result.scenarios))
    assert [e["configuration"] for e in entries] == ["fragmented", HOSTILE]
    for entry in entries:
        assert entry["reference"] == "baseline"
        total = len(entry["better"]) + len(entry["worse"]) + len(entry["different"]) + len(entry["unclear"])
        assert total > 0
    # a made-up difference whose interval excludes zero is read as better or worse
    differences = pd.DataFrame({"configuration": ["b", "b"], "metric": ["admissions_per_1000", "crises_per_1000"],
                                "mean_diff": [-5.0, 1.0], "ci_low": [-8.0, -1.0], "ci_high": [-2.0, 3.0], "n": [5, 5]})
    (entry,) = reading(differences, ["a", "b"])
    assert entry["better"] == ["Emergency admissions: lower, by a paired difference of −5.00 (−8.00 to −2.00) "
                               "per 1,000 residents per year (mean, 95% interval)"]
    assert entry["unclear"] == ["Crisis presentations"] and not entry["worse"]


def test_report_carries_the_illustrative_note_and_provenance(page, result):
    text = " ".join(parsed(page).text)
    assert core.ILLUSTRATIVE_NOTE in text
    prov = result.provenance
    assert f"int-sim {prov['int_sim_version']}" in text
    assert "Seed" in text and str(prov["seed"]) in text
    assert "Replications" in text
    for name, digest in prov["scenario_hash"].items():
        assert digest in text
        assert len(digest) == 12
    assert "Tiny (test)" in text
    assert "02 January 2026" in text
    assert f"--reps {result.n_replications} --seed {result.seed}" in text
    assert "mdt_frequency: weekly" in text, "the exact scenarios are embedded for re-running"


def test_report_embeds_its_charts_as_png_data_uris(page):
    images = parsed(page).images
    assert len(images) >= 4, "differences, by group, by quintile and the daily series"
    for image in images:
        src = image["src"]
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
        assert image.get("alt")
    # nothing is fetched from elsewhere: no external source, link or script
    assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", page)
    assert "<script" not in page.replace("&lt;script", "")


def test_report_escapes_names_from_users(page):
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "script" not in parsed(page).tags


def test_report_without_figures_is_small_and_still_complete(result):
    page = board_report_html(result, figures=False)
    assert "data:image/png" not in page
    assert "Provenance" in page and "Headline results" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_report_of_replications_chosen_by_precision_says_so():
    tiny = core.RUN_SIZES["tiny"]
    scenarios = {name: core.apply_run_size(core.load_preset(name), tiny) for name in ["baseline", "fragmented"]}
    result = compare(scenarios, replications="auto", precision=0.01, max_replications=3, seed=2)
    page = board_report_html(result, figures=False)
    text = " ".join(parsed(page).text)
    assert "Replications chosen by precision" in text
    assert "target precision of ±1%" in text
    assert f"{result.n_replications} replications" in text

"""``int-sim report``: figures and a Markdown summary of a results store.

Stores are made with tiny sweeps (2,000 residents, 60 measured days after 20 of warm-up, two
replications) through the sweep API, so the whole module runs in well under a minute. The claims:

* a two-factor grid gives a heatmap per key metric and a Pareto front, as non-empty PNG and SVG
  files that report.md embeds, with provenance (int-sim version, seed, replications, every
  scenario hash, the store's path, the date) and the note that defaults are illustrative;
* the summary numbers are the t-intervals of the stored values, and the Pareto front's
  non-dominated configurations are the ones no other beats on both means;
* a one-factor sweep gives a line chart, not a heatmap;
* stored sensitivity indices give a chart per method and metric; without them there is no section;
* a missing, foreign or non-store file, an unknown sweep or an unusable --out exits 2 with one line;
* the report works while another process (or this one) holds the store open for reading;
* an interrupted report leaves no temporary or half-written file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from typer.testing import CliRunner

from int_sim import __version__
from int_sim.cli import app
from int_sim.experiment import t_interval
from int_sim.plots import non_dominated
from int_sim.report import KEY_METRICS
from int_sim.store import Store
from int_sim.sweep import load_sweep, run_sweep

TINY = {"simulation.days": [60], "simulation.warmup_days": [20]}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_spec(folder: Path, name: str, factors: dict, replications: int = 2) -> Path:
    spec = {"name": name, "base": "scenarios/baseline.yaml", "design": "grid", "factors": {**factors, **TINY},
            "replications": replications, "seed": 11}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A store holding a 2x2 grid (``grid``) and a one-factor sweep (``one``)."""
    folder = tmp_path_factory.mktemp("report_store")
    path = folder / "results.duckdb"
    grid = write_spec(folder, "grid", {"population.size": [2000, 2500], "team.co_location": ["none", "full"]})
    one = write_spec(folder, "one", {"team.staff.care_navigator": [0, 3, 6], "population.size": [2000]})
    for spec in (grid, one):
        run_sweep(load_sweep(spec), Store(path, create=True), workers=1)
    return path


@pytest.fixture(scope="module")
def report_dir(store, tmp_path_factory) -> Path:
    """The report of the whole store (both sweeps)."""
    out = tmp_path_factory.mktemp("report") / "report"
    result = invoke("report", store, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "wrote" in result.stderr
    return out


def _check_files(out: Path, stems: list[str]) -> str:
    text = (out / "report.md").read_text(encoding="utf-8")
    for stem in stems:
        png, svg = out / f"{stem}.png", out / f"{stem}.svg"
        assert png.stat().st_size > 1000 and png.read_bytes()[:8] == PNG_MAGIC, png
        assert svg.stat().st_size > 1000 and b"<svg" in svg.read_bytes()[:2000], svg
        assert f"]({stem}.png)" in text and f"({stem}.svg)" in text, stem
    # Every figure the report refers to exists; no temporary file is left behind.
    for name in set(re.findall(r"\]\(([^)]+\.(?:png|svg))\)", text)):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    return text


def test_grid_report_has_heatmaps_pareto_and_provenance(store, report_dir):
    stems = [f"grid-heatmap-{m}" for m in KEY_METRICS] + ["grid-pareto"]
    text = _check_files(report_dir, stems)
    assert text.index("## Sweep `grid`") < text.index("## Sweep `one`")
    # Provenance: versions, seed, replications, every scenario hash, the store and the date.
    assert "illustrative" in text.lower() and "docs/parameters.md" in text
    assert f"int-sim {__version__}" in text
    assert str(store.resolve()) in text
    assert time.strftime("%Y-%m-%d", time.gmtime()) in text
    with duckdb.connect(str(store), read_only=True) as con:
        hashes = [row[0] for row in con.execute(
            "SELECT scenario_hash FROM configurations WHERE sweep = 'grid' ORDER BY configuration_id").fetchall()]
    assert len(hashes) == 4 and all(f"`{h}`" in text for h in hashes)
    assert "| `grid` | grid | " + __version__ + " | 11 | 2 | 4 | 8 of 8 |" in text
    assert "| `one` | grid | " + __version__ + " | 11 | 2 | 3 | 6 of 6 |" in text
    # Factors held at one value are listed, not treated as dimensions of the grid.
    assert "`simulation.days` = 60" in text
    assert "Admissions avoided (per 1,000 residents per year)" in text  # a HEADLINE column with its unit


def test_summary_is_the_t_interval_of_stored_values(store, report_dir):
    summary = pd.read_csv(report_dir / "summary.csv")
    assert set(summary["sweep"]) == {"grid", "one"}
    summary = summary[summary["sweep"] == "grid"]
    assert {"factors", "scenario_hash", "seed", "int_sim_version"} <= set(summary.columns)
    values = Store(store).results("grid")
    part = values[(values.configuration_id == 3) & (values.metric == "cost_per_resident")]["value"].to_numpy()
    row = summary[(summary.configuration_id == 3) & (summary.metric == "cost_per_resident")].iloc[0]
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx(t_interval(part))
    assert row["n"] == 2
    assert json.loads(row["factors"])["team.co_location"] == "full"
    # The derived metric is admissions avoided over staff cost (thousands of GBP per 1,000 residents).
    wide = values[values.configuration_id == 1].pivot(index="replication", columns="metric", values="value")
    ratio = (wide["admissions_avoided_per_1000"] / wide["staff_cost_per_resident"]).to_numpy()
    derived = summary[(summary.configuration_id == 1)
                      & (summary.metric == "admissions_avoided_per_gbp1000_staff_cost")].iloc[0]
    assert derived["mean"] == pytest.approx(ratio.mean())


def test_pareto_front_lists_the_non_dominated_configurations(report_dir):
    summary = pd.read_csv(report_dir / "summary.csv")
    summary = summary[summary["sweep"] == "grid"]
    cost = summary[summary.metric == "cost_per_resident"].set_index("configuration_id")["mean"]
    avoided = summary[summary.metric == "admissions_avoided_per_1000"].set_index("configuration_id")["mean"]
    ids = list(cost.index)
    front = non_dominated(cost[ids], avoided[ids])
    expected = ", ".join(f"#{c}" for c, f in zip(ids, front) if f)
    text = (report_dir / "report.md").read_text()
    assert expected and f"on the means): {expected}." in text[text.index("## Sweep `grid`"):text.index("## Sweep `one`")]


def test_non_dominated():
    cost = [1.0, 2.0, 3.0, 2.0, np.nan, 1.0]
    benefit = [1.0, 3.0, 2.0, 3.0, 9.0, 0.5]
    # 0 and 1 (and its twin 3) are on the front; 2 is beaten by 1; 4 has no cost; 5 is beaten by 0.
    assert non_dominated(cost, benefit).tolist() == [True, True, False, True, False, False]


def test_one_factor_sweep_gives_a_line_chart(report_dir):
    stem = "one-lines-team.staff.care_navigator"
    text = _check_files(report_dir, [stem, "one-pareto"])
    assert not [p for p in report_dir.iterdir() if p.name.startswith("one-heatmap")]
    section = text[text.index("## Sweep `one`"):]
    assert "Line charts" in section and "95% t-interval" in section
    assert "`population.size` = 2,000" in section


def test_sensitivity_indices(store, tmp_path):
    """Stored indices give a tornado chart per method and metric, in their own sweep's section only."""
    from int_sim import sensitivity
    if not hasattr(sensitivity, "load_indices"):
        pytest.skip("int_sim.sensitivity.load_indices does not exist yet")
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("""CREATE TABLE IF NOT EXISTS sensitivity_indices (sweep VARCHAR NOT NULL, method VARCHAR NOT NULL,
            metric VARCHAR NOT NULL, parameter VARCHAR NOT NULL, index VARCHAR NOT NULL, value DOUBLE, conf DOUBLE,
            PRIMARY KEY (sweep, method, metric, parameter, index))""")
        con.executemany("INSERT INTO sensitivity_indices VALUES (?, ?, ?, ?, ?, ?, ?)", [
            ("one", "morris", "cost_per_resident", "team.staff.care_navigator", "mu_star", 120.0, 30.0),
            ("one", "morris", "cost_per_resident", "team.staff.care_navigator", "sigma", 20.0, None),
            ("one", "morris", "cost_per_resident", "team.leadership", "mu_star", 10.0, 5.0),
            ("one", "morris", "cost_per_resident", "team.leadership", "sigma", 2.0, None),
            ("grid", "morris", "cost_per_resident", "team.leadership", "mu_star", 2.0, None)])
    out = tmp_path / "one"
    result = invoke("report", copy, "--out", out, "--sweep", "one")
    assert result.exit_code == 0, result.stderr
    text = _check_files(out, ["one-sensitivity-morris-cost_per_resident", "one-pareto"])
    assert "Sensitivity indices" in text and "## Sweep `grid`" not in text
    assert not [p for p in out.iterdir() if p.name.startswith("grid")]  # --sweep: that sweep only
    assert set(pd.read_csv(out / "summary.csv")["sweep"]) == {"one"}


def test_no_sensitivity_section_without_indices(report_dir):
    assert "Sensitivity" not in (report_dir / "report.md").read_text()
    assert not [p for p in report_dir.iterdir() if "sensitivity" in p.name]


def _one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bad_input_exits_2_with_one_line(store, tmp_path):
    out = tmp_path / "out"
    _one_line_error(invoke("report", tmp_path / "missing.duckdb", "--out", out), "missing.duckdb", "no such store")
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    _one_line_error(invoke("report", text, "--out", out), "notes.duckdb", "not an int-sim store")
    foreign = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    _one_line_error(invoke("report", foreign, "--out", out), "foreign.duckdb", "not an int-sim store")
    _one_line_error(invoke("report", store, "--out", out, "--sweep", "nope"), "no sweep 'nope'", "grid")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    _one_line_error(invoke("report", store, "--out", a_file), "--out", "is a file")
    _one_line_error(invoke("report", store, "--out", tmp_path / "no" / "such" / "dir"), "--out", "does not exist")
    empty = tmp_path / "empty.duckdb"
    Store(empty, create=True)
    _one_line_error(invoke("report", empty, "--out", out), "no sweeps")
    assert not out.exists()  # nothing was written for bad input


def test_report_while_another_process_reads_the_store(store, tmp_path):
    """DuckDB lets several processes read a file at once; the report only reads."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
                               f"con = duckdb.connect({str(store)!r}, read_only=True)\n"
                               "con.execute('SELECT count(*) FROM results').fetchone()\n"
                               "print('open', flush=True)\n"
                               "sys.stdin.readline()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        # And a reader in this very process, too.
        with duckdb.connect(str(store), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM done").fetchone()[0] == 4 * 2 + 3 * 2
            result = invoke("report", store, "--out", tmp_path / "r", "--sweep", "one")
            assert result.exit_code == 0, result.stderr
        assert holder.poll() is None  # the other reader still holds the file
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    _check_files(tmp_path / "r", ["one-pareto"])


def test_interrupted_report_leaves_no_partial_file(store, tmp_path, monkeypatch):
    out = tmp_path / "r"
    real = Figure.savefig
    calls = {"n": 0}

    def failing(self, fname, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            Path(fname).write_bytes(b"half a fig")  # a partial write, then the interruption
            raise KeyboardInterrupt
        return real(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", failing)
    result = invoke("report", store, "--out", out, "--sweep", "grid")
    assert result.exit_code == 130
    assert result.stderr.startswith("interrupted: ") and len(result.stderr.strip().splitlines()) == 1
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and all(n.endswith((".png", ".svg")) for n in names)  # the two complete files only
    assert not (out / "report.md").exists()
    for path in out.iterdir():
        assert path.stat().st_size > 1000


def test_sweep_registered_but_nothing_stored_yet(tmp_path):
    """A sweep that has just started: the report says so instead of failing."""
    from int_sim.sweep import prepare
    spec = write_spec(tmp_path, "starting", {"population.size": [2000, 2500]})
    path = tmp_path / "starting.duckdb"
    prepare(load_sweep(spec), Store(path, create=True))
    result = invoke("report", path, "--out", tmp_path / "r")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "r" / "report.md").read_text()
    assert "0 of 4 (incomplete)" in text and "No replications of this sweep are stored yet." in text


def test_report_while_a_writer_commits(store, tmp_path):
    """A sweep writes by opening the file for each commit; the report waits out those moments,
    and the writer carries on between the report's reads."""
    copy = tmp_path / "busy.duckdb"
    copy.write_bytes(store.read_bytes())
    # The writer does what Store.record does (open the file, commit one replication, close it,
    # retrying while a reader holds the file), with only duckdb imported so that it starts fast.
    script = f"""
import duckdb, select, sys, time
r = 0
while True:
    try:
        con = duckdb.connect({str(copy)!r})
    except duckdb.IOException:
        time.sleep(0.02)
        continue
    con.execute("INSERT INTO results VALUES ('other', 0, ?, 'x', 1.0)", [r])
    con.execute("INSERT INTO done VALUES ('other', 0, ?)", [r])
    con.close()
    if r == 0:
        print("writing", flush=True)
    r += 1
    if select.select([sys.stdin], [], [], 0.05)[0]:
        break
print(r, flush=True)
"""
    writer = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        result = invoke("report", copy, "--out", tmp_path / "r", "--sweep", "one")
        assert result.exit_code == 0, result.stderr
        assert writer.poll() is None  # still writing after the report finished
    finally:
        writer.stdin.write("stop\n")
        writer.stdin.close()
        assert writer.wait(timeout=60) == 0
    assert int(writer.stdout.readline()) > 0
    _check_files(tmp_path / "r", ["one-lines-team.staff.care_navigator", "one-pareto"])


def test_levels_keep_their_declared_order():
    from int_sim.report import _in_level_order
    frame = pd.DataFrame({"team.mdt_frequency": ["weekly", "none", "monthly"], "mean": [3.0, 1.0, 2.0]})
    assert list(_in_level_order(frame, "team.mdt_frequency")["mean"]) == [1.0, 2.0, 3.0]
    other = pd.DataFrame({"size": ["large", "small"], "mean": [1.0, 2.0]})  # a linked factor: design order
    assert list(_in_level_order(other, "size")["size"]) == ["large", "small"]

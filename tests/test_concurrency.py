"""Two sweeps on one store at once, and reading a store while a sweep writes it.

The behaviour chosen (issue 7, item 4) is cooperation, not refusal: the store is opened for each
commit and closed again, and each replication is one transaction that first checks the ``done``
table, so any number of ``int-sim sweep`` processes can write one store. Two runs of the same
sweep both finish; each replication is stored exactly once (whichever run commits it first; the
other's identical result is dropped), and the store equals an uninterrupted single run. Different
sweeps in one store each get their own rows. (The cost: two runs of the same sweep may compute a
replication twice.) A store being created by two processes at once is created once.

Readers (``int-sim report``, ``int-sim export``, :class:`int_sim.store.Store`) open the file
read-only between the writer's commits, so they always see whole replications.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
from pandas.testing import assert_frame_equal
from test_sweep import invoke, reference, stored, write_spec  # noqa: F401 - reference is a fixture

from int_sim.store import APPLICATION, SCHEMA_VERSION, Store
from int_sim.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def start_sweep(spec: Path, store: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "int_sim", "sweep", str(spec), "--store", str(store), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def finish(process: subprocess.Popen) -> str:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


SMALL = {"population.size": [300, 400], "team.co_location": ["none", "full"], "simulation.days": [30],
         "simulation.warmup_days": [0]}


def test_two_sweeps_started_at_once_on_a_new_store_cooperate(tmp_path):
    spec = write_spec(tmp_path, name="small", replications=2, factors=SMALL)
    other_spec = write_spec(tmp_path, name="other", replications=2, factors={**SMALL, "team.co_location": ["partial"]})
    store = tmp_path / "shared.duckdb"
    # The same sweep twice at once, both racing to create the store.
    processes = [start_sweep(spec, store, "--workers", "1"), start_sweep(spec, store, "--workers", "1")]
    # Another sweep into the same store from this process, while they start up and write.
    run_sweep(load_sweep(other_spec), Store(store, create=True), workers=1)
    messages = [finish(p) for p in processes]
    for message in messages:
        assert message.startswith("sweep small: ") and str(store) in message, message

    results, done = stored(store), stored(store, "done")
    assert not done.duplicated(["sweep", "configuration_id", "replication"]).any()
    # Each sweep's rows are exactly what it stores alone.
    for name, path in (("small", spec), ("other", other_spec)):
        alone = tmp_path / f"{name}_alone.duckdb"
        run_sweep(load_sweep(path), Store(alone, create=True), workers=1)
        assert_frame_equal(results[results.sweep == name].reset_index(drop=True), stored(alone))
        assert_frame_equal(done[done.sweep == name].reset_index(drop=True), stored(alone, "done"))
    with duckdb.connect(str(store), read_only=True) as con:
        assert sorted(con.execute("SELECT sweep FROM sweeps").fetchall()) == [("other",), ("small",)]
        assert dict(con.execute("SELECT key, value FROM meta").fetchall()) == {
            "schema_version": SCHEMA_VERSION, "application": APPLICATION}


def snapshot(store: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """results and done read in ONE read-only connection (one consistent state), or None while
    the writer holds the file."""
    try:
        with duckdb.connect(str(store), read_only=True) as con:
            results = con.execute("SELECT * FROM results ORDER BY sweep, configuration_id, replication, metric").df()
            done = con.execute("SELECT * FROM done ORDER BY sweep, configuration_id, replication").df()
            return results, done
    except duckdb.Error:
        return None


def test_reports_and_reads_while_a_sweep_writes_see_whole_replications(reference, tmp_path):
    _, store_ref = reference
    ref = stored(store_ref)
    rows_per_replication = ref.groupby(["configuration_id", "replication"]).size()
    spec = write_spec(tmp_path, replications=3)
    store = tmp_path / "busy.duckdb"
    process = start_sweep(spec, store, "--workers", "1")
    snapshots, reports, exports = 0, 0, 0
    deadline = time.monotonic() + 240
    try:
        while process.poll() is None and time.monotonic() < deadline:
            state = snapshot(store)
            if state is None:
                time.sleep(0.05)
                continue
            results, done = state
            snapshots += 1
            marked = set(zip(done.configuration_id, done.replication))
            counts = results.groupby(["configuration_id", "replication"]).size()
            assert set(counts.index) == marked
            assert (counts == rows_per_replication[counts.index]).all(), "a partial replication was visible"
            if marked and exports == 0:
                # Through the library and the CLI, while the sweep is still writing.
                running = process.poll() is None
                frame = Store(store).export_frame("tiny")
                per = frame.groupby(["configuration_id", "replication"]).size()
                assert (per == rows_per_replication[per.index]).all()
                result = invoke("export", store, "--out", tmp_path / "export.csv")
                assert result.exit_code == 0, result.stderr
                exports += running
                running = process.poll() is None
                out = tmp_path / "report"
                result = invoke("report", store, "--out", out)
                assert result.exit_code == 0, result.stderr
                assert (out / "report.md").is_file()
                reports += running
            time.sleep(0.05)
        finish(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert snapshots > 0 and reports == 1 and exports == 1, (snapshots, reports, exports)
    assert_frame_equal(stored(store), ref)


def test_store_left_without_tables_is_initialised_once(tmp_path):
    """A DuckDB file with no tables (a sweep killed while creating its store) becomes a store; a
    second Store on the same file (a sweep that lost the race to create it) changes nothing."""
    path = tmp_path / "fresh.duckdb"
    duckdb.connect(str(path)).close()
    Store(path, create=True)
    Store(path, create=True)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM done").fetchone()[0] == 0

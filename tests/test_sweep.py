"""Sweeps and the results store: designs, resuming, crash safety, executors, bad specs.

Scenarios are tiny (2,000 residents, 60 measured days after 20 of warm-up) so a replication takes
a fraction of a second; what is tested is the sweep machinery, not the model. The claims:

* a grid sweep stores one row per (configuration, replication, metric), and the stored values
  are exactly what the model gives for that configuration and replication;
* running a finished sweep again stores nothing new;
* a sweep killed with SIGKILL half way and run again ends with exactly the rows of an
  uninterrupted run (no partial replication, nothing stored twice);
* the values do not depend on the number of workers or on the executor (local pool or Dask);
* bad specs and stores exit 2 with one line naming the file and field.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from int_sim.cli import app
from int_sim.store import SCHEMA_VERSION, Store
from int_sim.sweep import load_sweep, run_sweep, run_task

ROOT = Path(__file__).resolve().parents[1]
TINY = {"simulation.days": [60], "simulation.warmup_days": [20]}


def write_spec(folder: Path, name: str = "tiny", replications: int = 2, **changes) -> Path:
    spec = {"name": name, "base": "scenarios/baseline.yaml", "design": "grid",
            "factors": {"population.size": [2000, 2500], "team.co_location": ["none", "full"], **TINY},
            "replications": replications, "seed": 11}
    spec.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def stored(path: Path, table: str = "results") -> pd.DataFrame:
    keys = {"results": "configuration_id, replication, metric", "done": "configuration_id, replication"}[table]
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY sweep, {keys}").df()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """An uninterrupted serial run of the standard tiny grid: (spec, store)."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_spec(folder, replications=3)
    store = folder / "reference.duckdb"
    run_sweep(load_sweep(spec), Store(store, create=True), workers=1)
    return spec, store


def test_grid_sweep_writes_expected_rows(reference):
    spec, store = reference
    sweep = load_sweep(spec)
    assert [c.factors for c in sweep.configurations][:2] == [
        {"population.size": 2000, "team.co_location": "none", "simulation.days": 60, "simulation.warmup_days": 20},
        {"population.size": 2000, "team.co_location": "full", "simulation.days": 60, "simulation.warmup_days": 20}]
    results = stored(store)
    done = stored(store, "done")
    assert len(done) == 4 * 3 and not done.duplicated().any()
    counts = results.groupby(["configuration_id", "replication"]).size()
    assert len(counts) == 12 and counts.min() > 10  # an undefined metric (e.g. no signs seen) has no row
    # The stored values are the model's values for that configuration and replication.
    config = sweep.configurations[3]
    expected = run_task(config.scenario, 11, 2)
    got = results[(results.configuration_id == 3) & (results.replication == 2)]
    assert dict(zip(got.metric, got.value)) == expected
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == SCHEMA_VERSION
        configs = con.execute("SELECT configuration_id, scenario_yaml, scenario_hash FROM configurations "
                              "ORDER BY configuration_id").fetchall()
    assert [c[0] for c in configs] == [0, 1, 2, 3]
    assert yaml.safe_load(configs[3][1])["team"]["co_location"] == "full"
    assert configs[3][2] == config.scenario.hash()


def test_finished_sweep_rerun_is_a_no_op(reference, tmp_path):
    spec, store = reference
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store.read_bytes())
    before = stored(copy)
    result = invoke("sweep", spec, "--store", copy, "--workers", 1)
    assert result.exit_code == 0, result.stderr
    assert "already complete" in result.stderr
    assert_frame_equal(stored(copy), before)


def test_sigkill_half_way_then_resume_matches_uninterrupted(reference, tmp_path):
    spec_ref, store_ref = reference
    spec = write_spec(tmp_path, replications=3)
    store = tmp_path / "killed.duckdb"
    process = subprocess.Popen([sys.executable, "-m", "int_sim", "sweep", str(spec), "--store", str(store),
                                "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    done = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with duckdb.connect(str(store), read_only=True) as con:
                    done = con.execute("SELECT count(*) FROM done").fetchone()[0]
            except duckdb.Error:  # not created yet, or the sweep holds it for a commit
                pass
            if done >= 3:
                break
            time.sleep(0.02)
        assert process.poll() is None, "the sweep finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert 3 <= done < 12
    partial = stored(store)
    assert 0 < len(partial) < len(stored(store_ref))
    # Whole replications only: every replication marked done has its rows, and no others.
    marked = set(map(tuple, stored(store, "done")[["configuration_id", "replication"]].to_numpy()))
    assert set(map(tuple, partial[["configuration_id", "replication"]].drop_duplicates().to_numpy())) == marked
    result = invoke("sweep", spec, "--store", store, "--workers", 2)
    assert result.exit_code == 0, result.stderr
    assert_frame_equal(stored(store), stored(store_ref))
    assert_frame_equal(stored(store, "done"), stored(store_ref, "done"))


def test_workers_do_not_change_results(reference, tmp_path):
    spec, store_ref = reference
    store = tmp_path / "two.duckdb"
    outcome = run_sweep(load_sweep(spec), Store(store, create=True), workers=2)
    assert outcome.ran == 12
    assert_frame_equal(stored(store), stored(store_ref))


def test_dask_local_cluster_matches_local_pool(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    spec, store_ref = reference
    store = tmp_path / "dask.duckdb"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        outcome = run_sweep(load_sweep(spec), Store(store, create=True), scheduler=cluster.scheduler_address)
        # an automatic sweep takes its rounds through the cluster too, and chooses as the pool does
        auto_spec = write_spec(tmp_path, name="auto", **AUTO)
        run_sweep(load_sweep(auto_spec), Store(tmp_path / "auto_dask.duckdb", create=True),
                  scheduler=cluster.scheduler_address)
    assert outcome.ran == 12
    assert_frame_equal(stored(store), stored(store_ref))
    run_sweep(load_sweep(auto_spec), Store(tmp_path / "auto_pool.duckdb", create=True), workers=2)
    assert_frame_equal(stored(tmp_path / "auto_dask.duckdb"), stored(tmp_path / "auto_pool.duckdb"))


def test_export_joins_factors_and_provenance(reference, tmp_path):
    _, store = reference
    out = tmp_path / "results.parquet"
    result = invoke("export", store, "--out", out)
    assert result.exit_code == 0, result.stderr
    table = pd.read_parquet(out)
    assert list(table.columns) == ["sweep", "configuration_id", "replication", "metric", "value", "population.size",
                                   "team.co_location", "simulation.days", "simulation.warmup_days",
                                   "int_sim_version", "seed", "replications", "scenario_hash"]
    assert len(table) == len(stored(store))
    assert set(table["team.co_location"]) == {"none", "full"} and set(table.seed) == {11}


def test_changed_spec_under_same_name_is_refused(reference, tmp_path):
    _, store = reference
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store.read_bytes())
    changed = write_spec(tmp_path, replications=3, seed=12)
    result = invoke("sweep", changed, "--store", copy)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "different spec" in result.stderr


def test_lhs_design_is_seeded_and_rounds_whole_numbers(tmp_path):
    spec = write_spec(tmp_path, design="lhs", samples=5,
                      factors={"population.size": {"low": 2000, "high": 3000},
                               "team.it_interoperability": {"low": 0.1, "high": 0.9}})
    first, again = load_sweep(spec), load_sweep(spec)
    points = [c.factors for c in first.configurations]
    assert points == [c.factors for c in again.configurations] and len(points) == 5
    assert all(isinstance(p["population.size"], int) and 2000 <= p["population.size"] <= 3000 for p in points)
    assert len({p["team.it_interoperability"] for p in points}) == 5


def test_oat_and_linked_levels(tmp_path):
    spec = write_spec(tmp_path, design="oat", factors={
        "team.co_location": ["partial", "none", "full"],  # the baseline's own value (partial) is the base
        "team_size": {"small": {"team.staff.gp": 2, "team.staff.care_navigator": 1},
                      "large": {"team.staff.gp": 8, "team.staff.care_navigator": 6}}})
    sweep = load_sweep(spec)
    assert [c.factors for c in sweep.configurations] == [
        {}, {"team.co_location": "none"}, {"team.co_location": "full"}, {"team_size": "small"}, {"team_size": "large"}]
    large = sweep.configurations[4].scenario
    assert (large.team.staff.gp, large.team.staff.care_navigator, large.team.co_location) == (8, 6, "partial")
    assert sweep.configurations[0].scenario.model_dump(exclude={"name"}) == sweep.base.model_dump(exclude={"name"})


def test_team_size_study_holds_the_counterfactual_fixed():
    sweep = load_sweep(ROOT / "experiments" / "team_size_at_fixed_reach" / "spec.yaml")
    base = sweep.base.team.staff
    assert [c.factors["team_size_multiplier"] for c in sweep.configurations] == [0.5, 0.75, 1.0, 1.5, 2.0]
    for config in sweep.configurations:
        scenario, multiplier = config.scenario, config.factors["team_size_multiplier"]
        assert scenario.counterfactual.staff == base
        assert scenario.population.size == sweep.base.population.size
        for role, wte in base.model_dump().items():
            assert getattr(scenario.team.staff, role) == pytest.approx(wte * multiplier)


BAD_SPECS = [
    ({"colour": "red"}, "colour: unknown key"),
    ({"factors": {"team.co_location": ["none", "sideways"]}}, "team.co_location: 'sideways' is not allowed"),
    ({"factors": {"team.no_such_lever": [1]}}, "team.no_such_lever: unknown key"),
    ({"design": "factorial"}, "design: 'factorial' is not allowed"),
    ({"design": "lhs"}, "needs {low: , high: }"),
    ({"replications": 0}, "replications"),
    ({"design": "lhs", "samples": 3, "factors": {"team.staff.gp": {"low": 5, "high": 1}}}, "low (5) is more than high"),
    ({"factors": {"a": {"x": {"team.staff.gp": 1}}, "b": {"y": {"team.staff.gp": 2}}}}, "which factor a also sets"),
]


@pytest.mark.parametrize(("change", "expected"), BAD_SPECS)
def test_bad_spec_exits_2_with_one_line(tmp_path, change, expected):
    spec = write_spec(tmp_path, **change)
    result = invoke("sweep", spec, "--store", tmp_path / "s.duckdb")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"error: {spec}: ") and result.stderr.count("\n") == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_not_a_store_is_refused(tmp_path):
    spec = write_spec(tmp_path)
    text_file = tmp_path / "notes.duckdb"
    text_file.write_text("not a database\n")
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
        con.execute("INSERT INTO meta VALUES ('application', 'int-sim results store'), ('schema_version', '999')")
    for path, expected in ((text_file, "not an int-sim store"), (other, "schema version 999")):
        result = invoke("sweep", spec, "--store", path)
        assert result.exit_code == 2 and expected in result.stderr and result.stderr.count("\n") == 1


# --- how many replications -----------------------------------------------------------------------

def test_more_replications_extend_a_stored_sweep(reference, tmp_path):
    spec_ref, store_ref = reference
    store = tmp_path / "grown.duckdb"
    assert invoke("sweep", write_spec(tmp_path, replications=2), "--store", store, "--workers", 1).exit_code == 0
    result = invoke("sweep", write_spec(tmp_path, replications=2), "--store", store, "--workers", 1, "--reps", 3)
    assert result.exit_code == 0, result.stderr
    assert "ran 4 replications (8 were already stored)" in result.stderr
    assert_frame_equal(stored(store), stored(store_ref))
    assert_frame_equal(stored(store, "done"), stored(store_ref, "done"))
    assert Store(store).sweeps().replications.tolist() == [3]


AUTO = {"replications": "auto", "precision": 0.2, "max_replications": 9,
        "precision_metrics": ["crises_per_1000", "admissions_per_1000"]}


def test_automatic_sweep_runs_each_configuration_to_its_precision(tmp_path):
    from int_sim.precision import decide
    spec = write_spec(tmp_path, name="auto", **AUTO)
    serial, parallel = tmp_path / "serial.duckdb", tmp_path / "parallel.duckdb"
    outcome = run_sweep(load_sweep(spec), Store(serial, create=True), workers=1)
    assert invoke("sweep", spec, "--store", parallel, "--workers", 2).exit_code == 0
    assert_frame_equal(stored(serial), stored(parallel))  # the choice does not depend on the workers
    rule = load_sweep(spec).spec.rule
    results = stored(serial)
    done = stored(serial, "done")
    for cid, decision in outcome.precision.items():
        reps = sorted(done[done.configuration_id == cid].replication)
        assert reps == list(range(decision.replications))  # exactly the chosen number, from 0
        mine = results[(results.configuration_id == cid) & results.metric.isin(rule.metrics)]
        series = {m: list(zip(g.replication, g.value)) for m, g in mine.groupby("metric")}
        assert decide(series, len(reps), rule) == decision  # the stored values justify the choice
        assert decision.reached or decision.replications == 9
    rerun = invoke("sweep", spec, "--store", serial)
    assert rerun.exit_code == 0 and "already complete" in rerun.stderr


@pytest.mark.parametrize(("change", "expected"), [
    ({"replications": "lots"}, "replications: 'lots' is not allowed; give a whole number from 1 to 10,000, or auto"),
    ({"replications": 3, "precision": 0.1}, "precision: only used with replications: auto"),
    ({**AUTO, "precision_metrics": ["joy"]}, "'joy' is not a metric int-sim reports"),
    ({**AUTO, "max_replications": 2}, "max_replications"),
])
def test_bad_replication_settings_exit_2(tmp_path, change, expected):
    spec = write_spec(tmp_path, **change)
    result = invoke("sweep", spec, "--store", tmp_path / "s.duckdb")
    assert result.exit_code == 2, result.stderr
    assert expected in result.stderr and result.stderr.count("\n") == 1


def test_ctrl_c_just_after_a_commit_stays_a_ctrl_c():
    """A Ctrl-C landing as DuckDB finishes a commit leaves nothing to roll back; the interrupt must
    still reach the command (exit 130), not turn into DuckDB's 'no transaction is active' error."""
    from int_sim.store import _transaction

    class Connection:
        def begin(self):
            pass

        def commit(self):
            raise KeyboardInterrupt  # the commit went through; the signal arrived on the way out

        def rollback(self):
            raise duckdb.TransactionException("cannot rollback - no transaction is active")

    with pytest.raises(KeyboardInterrupt):
        with _transaction(Connection()):
            pass

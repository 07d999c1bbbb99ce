"""Interrupted sweeps resume to exactly the store an uninterrupted run writes.

The claims (issue 7, item 3):

* a local sweep (process pool) stopped with SIGKILL or SIGINT at random points (seeded, so every
  run stops at the same points) and then resumed ends with the same rows, value for value, as
  an uninterrupted run;
* at every stop, the store holds whole replications only: each replication marked done has all
  its rows, with exactly the values of the uninterrupted run, and no row belongs to a
  replication not marked done;
* SIGINT (Ctrl-C) exits 130 with one line saying how much is stored and how to resume;
* the same holds for a sweep on a Dask cluster (a LocalCluster on loopback);
* a Dask worker killed mid-sweep is survived: the sweep completes with the same values;
* no pool worker outlives a sweep killed with SIGKILL.

The helpers come from test_sweep.py; the sweep is test_sweep's tiny grid (4 configurations of a
2,000-2,500-resident scenario) with a longer horizon and 4 replications, so that a replication
takes long enough (about a quarter of a second) for a stop to land while the sweep still runs.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from test_sweep import invoke, stored, write_spec

from int_sim.store import Store
from int_sim.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
REPLICATIONS = 4
TOTAL = 4 * REPLICATIONS
"""Replications in the sweep (4 configurations)."""


def write_interrupted_spec(folder: Path) -> Path:
    """test_sweep's tiny grid, three times the residents, over 270 days instead of 80: the stops
    need work left to stop (with 2,000 residents a run once finished between the last look at
    the store and the signal)."""
    factors = {"population.size": [6000, 7500], "team.co_location": ["none", "full"],
               "simulation.days": [240], "simulation.warmup_days": [30]}
    return write_spec(folder, replications=REPLICATIONS, factors=factors)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """An uninterrupted serial run of the sweep: (spec, store)."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_interrupted_spec(folder)
    store = folder / "reference.duckdb"
    run_sweep(load_sweep(spec), Store(store, create=True), workers=1)
    return spec, store


def _as_from_a_terminal() -> None:
    """Deliver Ctrl-C to the child, as a terminal does. A shell starts background jobs with SIGINT
    ignored, and a child inherits that (Python then never installs its KeyboardInterrupt
    handler), so a suite run in the background would otherwise test nothing about SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_sweep(spec: Path, store: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "int_sim", "sweep", str(spec), "--store", str(store), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=_as_from_a_terminal)


def done_count(store: Path) -> int:
    """Replications marked done, or -1 while the file is missing or held by the writer."""
    try:
        with duckdb.connect(str(store), read_only=True) as con:
            return con.execute("SELECT count(*) FROM done").fetchone()[0]
    except duckdb.Error:
        return -1


def stop_at(process: subprocess.Popen, store: Path, threshold: int, signum: int, delay: float) -> int:
    """Send ``signum`` once ``threshold`` replications are stored (then ``delay`` s more); returns the
    count seen when the signal was sent. The sweep must still be running then. (``threshold`` is
    above what earlier runs stored, so the signal lands in this run's sweep, not its start-up.)"""
    deadline = time.monotonic() + 180
    seen = -1
    while time.monotonic() < deadline and process.poll() is None:
        seen = max(seen, done_count(store))
        if seen >= threshold:
            break
        time.sleep(0.05)  # not faster: each look holds the file, which the sweep must wait for
    time.sleep(delay)
    assert process.poll() is None, f"the sweep ended (exit {process.returncode}) before it could be stopped"
    process.send_signal(signum)
    return seen


def assert_whole_replications(store: Path, store_ref: Path) -> set[tuple[int, int]]:
    """Every stored replication is complete and equal to the reference; returns those stored."""
    results, done = stored(store), stored(store, "done")
    marked = {tuple(map(int, row)) for row in done[["configuration_id", "replication"]].to_numpy()}
    assert len(marked) == len(done), "a replication is marked done twice"
    with_rows = {tuple(map(int, row)) for row in results[["configuration_id", "replication"]].drop_duplicates().to_numpy()}
    assert with_rows == marked, "rows of a replication not marked done, or a done replication without rows"
    ref = stored(store_ref)
    keys = pd.MultiIndex.from_frame(ref[["configuration_id", "replication"]])
    expected = ref[keys.isin(list(marked))].reset_index(drop=True)
    assert_frame_equal(results.reset_index(drop=True), expected)
    return marked


def assert_equals_reference(store: Path, store_ref: Path) -> None:
    assert_frame_equal(stored(store), stored(store_ref))
    assert_frame_equal(stored(store, "done"), stored(store_ref, "done"))
    with duckdb.connect(str(store), read_only=True) as con, duckdb.connect(str(store_ref), read_only=True) as ref:
        query = "SELECT sweep, configuration_id, scenario_hash, factors_json FROM configurations ORDER BY 1, 2"
        assert con.execute(query).fetchall() == ref.execute(query).fetchall()


def children(pid: int) -> set[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found |= {int(c) for c in path.read_text().split()}
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def assert_no_orphans(workers: set[int]) -> None:
    """The pool's workers die with their parent instead of waiting for tasks forever."""
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = {pid for pid in workers if alive(pid)}
    for pid in left:  # clean up before failing, so the test run does not hang on them
        os.kill(pid, signal.SIGKILL)
    assert not left, f"worker processes {sorted(left)} outlived their killed sweep"


def interrupt(process: subprocess.Popen, store: Path, store_ref: Path, more: int, signum: int,
              delay: float) -> set[tuple[int, int]]:
    """Stop ``process`` with ``signum`` once it has stored ``more`` replications beyond those already
    in ``store``; check its exit and that the store holds whole replications only."""
    threshold = max(done_count(store), 0) + more
    seen = stop_at(process, store, threshold, signum, delay)
    workers = children(process.pid)
    process.wait(timeout=120)
    assert_no_orphans(workers)
    err = process.stderr.read()
    process.stderr.close()
    if signum == signal.SIGINT:
        assert process.returncode == 130, err
        lines = err.strip().splitlines()
        assert lines[-1].startswith("interrupted: ") and "run the same command again to resume" in lines[-1], err
    else:
        assert process.returncode == -signal.SIGKILL
    assert "Traceback" not in err and "internal error" not in err, err
    marked = assert_whole_replications(store, store_ref)
    assert len(marked) >= seen >= threshold, "replications seen stored before the signal were lost"
    return marked


# --- a local sweep ------------------------------------------------------------------------------

STOPS = random.Random(2026)
# (signal, replications this run stores before it, extra delay in seconds)
LOCAL_STOPS = [(signal.SIGKILL, STOPS.randint(1, 3), STOPS.uniform(0, 0.05)),
               (signal.SIGINT, STOPS.randint(1, 2), STOPS.uniform(0, 0.05))]


def test_local_sweep_stopped_at_random_points_resumes_to_the_uninterrupted_store(reference, tmp_path):
    spec_ref, store_ref = reference
    spec = write_interrupted_spec(tmp_path)
    store = tmp_path / "interrupted.duckdb"
    progress = []
    for signum, more, delay in LOCAL_STOPS:
        marked = interrupt(start_sweep(spec, store, "--workers", "2"), store, store_ref, more, signum, delay)
        progress.append(len(marked))
    assert 0 < progress[0] < progress[1] < TOTAL  # each run stored some, and some were left
    result = invoke("sweep", spec, "--store", store, "--workers", 2)
    assert result.exit_code == 0, result.stderr
    assert f"({progress[-1]} were already stored)" in result.stderr
    assert_equals_reference(store, store_ref)


# --- a Dask sweep --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local:
        yield local


DASK_STOPS = [(signal.SIGKILL, STOPS.randint(1, 2), STOPS.uniform(0, 0.05)),
              (signal.SIGINT, 1, STOPS.uniform(0, 0.05))]  # leaves work for a worker to die in


def test_dask_sweep_stopped_at_random_points_resumes_to_the_uninterrupted_store(reference, tmp_path, cluster):
    """Stopped twice (SIGKILL, SIGINT); the resumed run loses a worker (SIGKILL) mid-way and still
    completes with the uninterrupted values: the scheduler reruns the dead worker's task."""
    distributed = pytest.importorskip("distributed")
    _, store_ref = reference
    spec = write_interrupted_spec(tmp_path)
    store = tmp_path / "dask.duckdb"
    address = cluster.scheduler_address
    for signum, more, delay in DASK_STOPS:
        interrupt(start_sweep(spec, store, "--scheduler", address), store, store_ref, more, signum, delay)

    with distributed.Client(address, set_as_default=False) as client:
        pids = client.run(os.getpid)
        killed: list[str] = []
        stop = threading.Event()
        stale = {key for keys in client.processing().values() for key in keys}  # left by the killed clients

        def kill_a_busy_worker() -> None:
            """SIGKILL the first worker seen holding one of this run's tasks."""
            while not stop.is_set():
                for worker, keys in client.processing().items():
                    if worker in pids and any(str(key).startswith("int-sim-") and key not in stale for key in keys):
                        os.kill(pids[worker], signal.SIGKILL)
                        killed.append(worker)
                        return
                time.sleep(0.01)

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        try:
            outcome = run_sweep(load_sweep(spec), Store(store), scheduler=address)
        finally:
            stop.set()
            killer.join(timeout=30)
        assert killed, "no worker was killed while it held a task"
        assert 0 < outcome.ran < TOTAL and outcome.already_done + outcome.ran == TOTAL
    assert_equals_reference(store, store_ref)


def test_run_killed_with_sigkill_leaves_no_worker_behind():
    """`int-sim run --workers 2` (the replication pool of run and compare) dies whole, like a sweep."""
    process = subprocess.Popen([sys.executable, "-m", "int_sim", "run", "scenarios/baseline.yaml", "--reps", "6",
                                "--workers", "2", "--set", "population.size=3000", "--set", "simulation.days=120"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(children(process.pid)) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        workers = children(process.pid)
        assert len(workers) >= 2, "the pool did not start"
    finally:
        process.kill()
        process.wait()
    assert_no_orphans(workers)


# --- a Ctrl-C that DuckDB reports as its own error ----------------------------------------------

@pytest.mark.parametrize("error", [duckdb.InterruptException("Query interrupted"), RuntimeError("Query interrupted")],
                         ids=["InterruptException", "RuntimeError"])
@pytest.mark.parametrize("held", [False, True], ids=["own connection", "held session"])
def test_a_ctrl_c_during_a_query_stays_a_ctrl_c(tmp_path, monkeypatch, error, held):
    """DuckDB raises its own error when Ctrl-C lands inside a query; the store raises it as the
    KeyboardInterrupt it was, so the CLI exits 130 with its resume line, not as an internal error."""
    store = Store(tmp_path / "store.duckdb", create=True)

    class Interrupted:
        """A connection (or a schema check) whose query is interrupted."""

        def __call__(self, *args, **kwargs):
            raise error

        execute = __call__

    if held:  # a connection held across calls (Store.session) does not go through _connect
        monkeypatch.setattr(store, "_held", Interrupted())
    else:
        monkeypatch.setattr(Store, "_check", Interrupted())
    with pytest.raises(KeyboardInterrupt):
        store.done("any")

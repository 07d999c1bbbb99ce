"""The results store: one DuckDB file holding sweeps, their configurations and their results.

Why this shape (DESIGN.md, "Sweep specs and the store" and "Scale"):

* one row per stored value, ``results(sweep, configuration_id, replication, metric, value)``,
  with the scenario YAML of every configuration beside it, so any value can be re-run;
* each replication's rows and its ``done`` row go in ONE transaction, committed as the
  replication finishes: a crash leaves whole replications or nothing, an interrupted sweep
  resumes from ``done``, and the primary keys make storing a replication twice impossible;
* only the parent process of a sweep writes; workers never touch the file;
* the writer opens the file for each commit and closes it again (DuckDB lets one process hold a
  file at a time), so another process can read the store while a sweep runs, e.g. to export or
  to watch progress. Both sides retry briefly while the other holds the lock.

The schema version is recorded in ``meta``; a file with another version, or a file that is not
an int-sim store, is refused with a :class:`StoreError` naming the file. So is a damaged file
(truncated, corrupted blocks), whether DuckDB notices on opening it or only when a query reads
the bad part; every message says what to do (docs/reliability.md lists them).

Several sweeps may write one store at once (two runs of the same sweep, or different sweeps):
``record`` checks ``done`` in the transaction that writes, so each replication is stored once,
and tables are created only in a file that has none, so two processes creating a store at the
same moment create it once. A file left with no tables by a sweep killed while creating it is
initialised by the next one.

``sensitivity_indices`` (written by :mod:`int_sim.sensitivity`) was added without a version bump
because it is purely additive: new files get it at creation, a version-1 file written before it
existed gets it on the first write of indices, and readers treat its absence as "no indices".
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd
import yaml

SCHEMA_VERSION = "1"
"""Version of the tables below; bump it (and say how to migrate) when they change."""

APPLICATION = "int-sim results store"

LOCK_WAIT_SECONDS = 60.0
"""How long to wait for another process that holds the file before giving up."""

_SCHEMA = [
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE sweeps (sweep VARCHAR PRIMARY KEY, spec_yaml VARCHAR NOT NULL, seed BIGINT NOT NULL,
       replications INTEGER NOT NULL, int_sim_version VARCHAR NOT NULL, created TIMESTAMP NOT NULL)""",
    """CREATE TABLE configurations (sweep VARCHAR NOT NULL, configuration_id INTEGER NOT NULL,
       scenario_yaml VARCHAR NOT NULL, scenario_hash VARCHAR NOT NULL, factors_json VARCHAR NOT NULL,
       PRIMARY KEY (sweep, configuration_id))""",
    """CREATE TABLE results (sweep VARCHAR NOT NULL, configuration_id INTEGER NOT NULL, replication INTEGER NOT NULL,
       metric VARCHAR NOT NULL, value DOUBLE NOT NULL, PRIMARY KEY (sweep, configuration_id, replication, metric))""",
    """CREATE TABLE done (sweep VARCHAR NOT NULL, configuration_id INTEGER NOT NULL, replication INTEGER NOT NULL,
       PRIMARY KEY (sweep, configuration_id, replication))""",
]


_INDICES_TABLE = """CREATE TABLE IF NOT EXISTS sensitivity_indices (sweep VARCHAR NOT NULL, method VARCHAR NOT NULL,
       metric VARCHAR NOT NULL, parameter VARCHAR NOT NULL, index VARCHAR NOT NULL, value DOUBLE, conf DOUBLE,
       PRIMARY KEY (sweep, method, metric, parameter, index))"""
"""Sensitivity indices of a sweep: one row per (metric, parameter, index). ``conf`` is the half-width
of the index's 95% confidence interval where the method gives one, else NULL."""

INDEX_COLUMNS = ["sweep", "method", "metric", "parameter", "index", "value", "conf"]

_SCHEMA.append(_INDICES_TABLE)  # created with every new file, like the tables above


REPLICATION_KEYS = ("replications", "precision", "max_replications", "precision_metrics")
"""Spec keys that say how many replications to run, not what is run."""


def _identity(spec_yaml: str) -> object:
    """A spec without its replication settings: what must match to add to a stored sweep."""
    try:
        data = yaml.safe_load(spec_yaml)
    except yaml.YAMLError:
        return spec_yaml
    if isinstance(data, dict):
        for key in REPLICATION_KEYS:
            data.pop(key, None)
    return data


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed at the end, rolled back on any exception, Ctrl-C included.

    A Ctrl-C can land just after the commit, when there is nothing left to roll back (the work is
    stored); the interrupt then goes on as it is, rather than as DuckDB's "no transaction" error.
    """
    con.begin()
    try:
        yield
        con.commit()
    except BaseException:
        try:
            con.rollback()
        except duckdb.TransactionException:
            pass
        raise


@contextmanager
def _ctrl_c_stays_ctrl_c() -> Iterator[None]:
    """DuckDB turns a Ctrl-C that lands during a query into an error of its own ("Query
    interrupted", as an InterruptException or a plain RuntimeError); it is raised again as the
    KeyboardInterrupt it was, so that callers stop as on any other Ctrl-C."""
    try:
        yield
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except RuntimeError as err:
        if "interrupted" in str(err).lower():
            raise KeyboardInterrupt from None
        raise


class StoreError(ValueError):
    """The store file cannot be used: not a store, another schema version, a conflicting sweep."""


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting while another process holds it; StoreError if it is not DuckDB."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            # A store needs no other file: with external access off, a view planted in a store
            # (DuckDB files can hold one that reads any file on the machine) cannot read anything.
            # (Set on the connection, not in connect's config, which would refuse to open a file
            # that this process already has open with the default configuration.)
            con.execute("SET enable_external_access = false")
            return con
        except duckdb.InterruptException:
            raise
        except duckdb.IOException as err:
            text = str(err)
            if "lock" in text.lower() and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            if "lock" in text.lower():
                raise StoreError(f"{path}: another process has held the store for {LOCK_WAIT_SECONDS:.0f} s; "
                                 "is a sweep still writing to it?") from None
            raise _unreadable(path, text) from None
        except duckdb.Error as err:
            raise _unreadable(path, str(err)) from None


def _unreadable(path: Path, text: str) -> StoreError:
    """DuckDB could not open the file: say what it is and what to do."""
    try:
        size = path.stat().st_size
    except OSError:
        size = None
    if size == 0:
        return StoreError(f"{path}: an empty file (0 bytes), not an int-sim store; delete it, or give a new file "
                          "name and int-sim will create the store")
    if _is_damage(text):
        return _damaged(path, text)
    return StoreError(f"{path}: not an int-sim store (DuckDB cannot open it: {_first_line(text)}); give a store "
                      "written by `int-sim sweep`, or a new file name to create one")


_DAMAGE = ("could not read enough bytes", "corrupt", "checksum", "invalid block", "serialization error",
           "read past end")
"""Words of DuckDB errors that mean a file it recognised cannot be read to the end."""


def _is_damage(text: str) -> bool:
    text = text.lower()
    return any(marker in text for marker in _DAMAGE)


def _damaged(path: Path, text: str) -> StoreError:
    return StoreError(f"{path}: the store file is damaged (truncated or corrupted; DuckDB: {_first_line(text)[:160]}); "
                      "move it aside and run the sweep again into a new store file, or restore a copy")


def _first_line(text: str) -> str:
    return " ".join(text.split())[:300]


class Store:
    """A results store file. Methods open the file, do one job in one transaction, and close it."""

    def __init__(self, path: str | Path, *, create: bool = False):
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a store file; give a file such as "
                             f"{self.path / 'results.duckdb'}")
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no such store file; `int-sim sweep SPEC.yaml --store FILE` writes one")
            if not self.path.parent.is_dir():
                raise StoreError(f"{self.path}: folder '{self.path.parent}' does not exist")
        if create:
            with self._open(read_only=False, check=False) as con:
                # Tables are created only in a DuckDB file that has none: a new file, or one left
                # by a sweep killed while creating it. Another sweep started at the same moment
                # may have created them while this one waited for the lock; then there is nothing
                # to do (and _check below vets what is there).
                tables = con.execute("SELECT count(*) FROM duckdb_tables() "
                                     "WHERE database_name = current_database()").fetchone()[0]
                if not tables:
                    con.begin()
                    for statement in _SCHEMA:
                        con.execute(statement)
                    con.executemany("INSERT INTO meta VALUES (?, ?)",
                                    [("schema_version", SCHEMA_VERSION), ("application", APPLICATION)])
                    con.commit()
        with self._open(read_only=True):
            pass  # checks the schema version now, before any simulation runs

    _held: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def session(self) -> Iterator[None]:
        """Hold the file open for writing across several calls (e.g. every replication that
        finished at once), saving an open and close per replication; still one transaction each."""
        if self._held is not None:
            yield
            return
        with self._open(read_only=False) as con:
            self._held = con
            try:
                yield
            finally:
                self._held = None

    @contextmanager
    def _open(self, read_only: bool, check: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        with _ctrl_c_stays_ctrl_c():
            if self._held is not None:
                yield self._held
                return
            con = _connect(self.path, read_only)
            try:
                if check:
                    self._check(con)
                yield con
            except duckdb.InterruptException:
                raise
            except duckdb.Error as err:
                # A file DuckDB opens but cannot read to the end (truncated, overwritten, bad blocks).
                if _is_damage(str(err)) or isinstance(err, duckdb.InternalException):
                    raise _damaged(self.path, str(err)) from None
                raise
            finally:
                con.close()

    def _check(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
        except duckdb.CatalogException:
            raise StoreError(f"{self.path}: a DuckDB file but not an int-sim store (it has no meta table); give a "
                             "store written by `int-sim sweep`, or a new file name to create one") from None
        except duckdb.InterruptException:
            raise
        except duckdb.Error as err:
            if _is_damage(str(err)) or isinstance(err, duckdb.InternalException):
                raise _damaged(self.path, str(err)) from None
            raise StoreError(f"{self.path}: a DuckDB file but not an int-sim store (its meta table cannot be read: "
                             f"{_first_line(str(err))[:160]})") from None
        if rows.get("application") != APPLICATION:
            raise StoreError(f"{self.path}: a DuckDB file but not an int-sim store (meta.application is "
                             f"{rows.get('application')!r}); give a store written by `int-sim sweep`, or a new "
                             "file name to create one")
        version = rows.get("schema_version")
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema version {version}, but this int-sim reads version "
                             f"{SCHEMA_VERSION}; use a new store file or the int-sim version that wrote it")

    # --- sweeps ------------------------------------------------------------------------------
    def register(self, sweep: str, spec_yaml: str, seed: int, replications: int, version: str,
                 configurations: list[tuple[int, str, str, dict]]) -> bool:
        """Record a sweep and its configurations; True if new, False if already recorded identically.

        ``configurations`` holds ``(configuration_id, scenario_yaml, scenario_hash, factors)``.
        A sweep of the same name with another spec, other configurations or another int-sim
        version is refused: its stored results would not be comparable with new ones. The
        replication settings (:data:`REPLICATION_KEYS`) are not part of the comparison: more
        replications of the same sweep add to it, and ``sweeps.replications`` records the latest
        number asked for (an automatic sweep's cap).
        """
        with self._open(read_only=False) as con:
            con.begin()
            old = con.execute("SELECT spec_yaml, seed, replications, int_sim_version FROM sweeps WHERE sweep = ?",
                              [sweep]).fetchone()
            if old is None:
                con.execute("INSERT INTO sweeps VALUES (?, ?, ?, ?, ?, ?)",
                            [sweep, spec_yaml, seed, replications, version,
                             datetime.now(timezone.utc).replace(tzinfo=None)])
                con.executemany("INSERT INTO configurations VALUES (?, ?, ?, ?, ?)",
                                [(sweep, cid, text, digest, json.dumps(factors))
                                 for cid, text, digest, factors in configurations])
                con.commit()
                return True
            con.rollback()
            if _identity(old[0]) != _identity(spec_yaml):
                raise StoreError(f"{self.path}: sweep '{sweep}' is already stored with a different spec; "
                                 "give the new spec another name, or use another store file")
            if old[3] != version:
                raise StoreError(f"{self.path}: sweep '{sweep}' was stored by int-sim {old[3]}, this is {version}; "
                                 "give the sweep another name, or use another store file")
            stored = con.execute("SELECT configuration_id, scenario_hash FROM configurations WHERE sweep = ? "
                                 "ORDER BY configuration_id", [sweep]).fetchall()
            if [tuple(row) for row in stored] != [(cid, digest) for cid, _, digest, _ in configurations]:
                raise StoreError(f"{self.path}: sweep '{sweep}' is already stored with different configurations "
                                 "(the base scenario file or int-sim's scenario defaults have changed); give the sweep another name, "
                                 "or use another store file")
            if old[2] != replications:
                con.execute("UPDATE sweeps SET replications = ? WHERE sweep = ?", [replications, sweep])
            return False

    def done(self, sweep: str) -> set[tuple[int, int]]:
        """The (configuration_id, replication) pairs already stored for ``sweep``."""
        with self._open(read_only=True) as con:
            rows = con.execute("SELECT configuration_id, replication FROM done WHERE sweep = ?", [sweep]).fetchall()
        return {(int(c), int(r)) for c, r in rows}

    def record(self, sweep: str, configuration_id: int, replication: int, metrics: dict[str, float]) -> bool:
        """Store one replication's values and mark it done, in one transaction.

        Values that are missing or not finite (an undefined metric) are not stored. Returns False,
        storing nothing, if the replication was already stored (e.g. by a concurrent run).
        """
        rows = [(sweep, configuration_id, replication, metric, float(value))
                for metric, value in metrics.items() if value is not None and math.isfinite(float(value))]
        with self._open(read_only=False) as con, _transaction(con):
            if con.execute("SELECT 1 FROM done WHERE sweep = ? AND configuration_id = ? AND replication = ?",
                           [sweep, configuration_id, replication]).fetchone():
                return False
            if rows:
                frame = pd.DataFrame(rows, columns=["sweep", "configuration_id", "replication", "metric", "value"])
                con.register("incoming", frame)
                con.execute("INSERT INTO results SELECT sweep, configuration_id::INTEGER, replication::INTEGER, "
                            "metric, value FROM incoming")
                con.unregister("incoming")
            con.execute("INSERT INTO done VALUES (?, ?, ?)", [sweep, configuration_id, replication])
        return True

    # --- sensitivity indices -----------------------------------------------------------------
    def write_indices(self, sweep: str, method: str, indices: pd.DataFrame) -> None:
        """Replace the stored indices of (``sweep``, ``method``) by ``indices``, in one transaction.

        ``indices`` has the columns ``metric, parameter, index, value, conf``; a value or interval
        that is missing or not finite is stored as NULL.
        """
        def number(value) -> float | None:
            return None if value is None or not math.isfinite(float(value)) else float(value)

        rows = [(sweep, method, str(r.metric), str(r.parameter), str(r.index), number(r.value), number(r.conf))
                for r in indices.itertuples(index=False)]
        with self._open(read_only=False) as con:
            con.execute(_INDICES_TABLE)  # a version-1 file from before the table existed
            with _transaction(con):
                con.execute("DELETE FROM sensitivity_indices WHERE sweep = ? AND method = ?", [sweep, method])
                if rows:
                    con.executemany("INSERT INTO sensitivity_indices VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def indices(self, sweep: str | None = None) -> pd.DataFrame:
        """Stored sensitivity indices (columns :data:`INDEX_COLUMNS`), sorted; empty if none."""
        with self._open(read_only=True) as con:
            exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'sensitivity_indices' "
                                 "AND database_name = current_database()").fetchone()[0]
            if not exists:
                return pd.DataFrame({column: pd.Series(dtype="float64" if column in ("value", "conf") else "object")
                                     for column in INDEX_COLUMNS})
            where, params = ("", []) if sweep is None else ("WHERE sweep = ?", [sweep])
            return con.execute(f"SELECT {', '.join(INDEX_COLUMNS)} FROM sensitivity_indices {where} "
                               "ORDER BY sweep, method, metric, parameter, index", params).df()

    # --- reading -----------------------------------------------------------------------------
    def sweeps(self) -> pd.DataFrame:
        with self._open(read_only=True) as con:
            return con.execute("SELECT * FROM sweeps ORDER BY created, sweep").df()

    def results(self, sweep: str | None = None) -> pd.DataFrame:
        """Stored values, sorted: ``sweep, configuration_id, replication, metric, value``."""
        query = "SELECT * FROM results {} ORDER BY sweep, configuration_id, replication, metric"
        with self._open(read_only=True) as con:
            if sweep is None:
                return con.execute(query.format("")).df()
            return con.execute(query.format("WHERE sweep = ?"), [sweep]).df()

    def export_frame(self, sweep: str | None = None) -> pd.DataFrame:
        """Results joined with each configuration's factors (one column per factor key) and provenance.

        Columns: ``sweep, configuration_id, replication, metric, value``, the factor keys in the
        order the specs give them, then ``int_sim_version, seed, replications, scenario_hash``.
        """
        where = "" if sweep is None else "WHERE r.sweep = ?"
        params = [] if sweep is None else [sweep]
        with self._open(read_only=True) as con:
            if sweep is not None and not con.execute("SELECT 1 FROM sweeps WHERE sweep = ?", [sweep]).fetchone():
                names = [row[0] for row in con.execute("SELECT sweep FROM sweeps ORDER BY sweep").fetchall()]
                raise StoreError(f"{self.path}: no sweep '{sweep}'; stored: {', '.join(names) or '(none)'}")
            frame = con.execute(f"""
                SELECT r.sweep, r.configuration_id, r.replication, r.metric, r.value, c.factors_json,
                       s.int_sim_version, s.seed, s.replications, c.scenario_hash
                FROM results r
                JOIN configurations c USING (sweep, configuration_id)
                JOIN sweeps s USING (sweep)
                {where}
                ORDER BY r.sweep, r.configuration_id, r.replication, r.metric""", params).df()
            configs = con.execute(f"SELECT sweep, configuration_id, factors_json FROM configurations "
                                  f"{where.replace('r.', '')} ORDER BY sweep, configuration_id", params).fetchall()
        # Factor columns in spec order, first seen first (json keeps the spec's key order).
        factor_names: list[str] = []
        for _, _, text in configs:
            factor_names += [key for key in json.loads(text) if key not in factor_names]
        parsed = {text: json.loads(text) for text in frame["factors_json"].unique()}
        factors = pd.DataFrame([parsed[text] for text in frame["factors_json"]], columns=factor_names,
                               index=frame.index)
        head = frame[["sweep", "configuration_id", "replication", "metric", "value"]]
        tail = frame[["int_sim_version", "seed", "replications", "scenario_hash"]]
        return pd.concat([head, factors, tail], axis=1)

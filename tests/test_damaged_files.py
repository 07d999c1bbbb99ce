"""Damaged and wrong files: one clear line saying what is wrong and what to do.

The claim (issue 7, item 5): a truncated or corrupted DuckDB store, a DuckDB file that is not an
int-sim store, a store of another schema version, an empty file, a folder, and unreadable,
binary or empty scenario and sweep spec files are each refused through the command line with
exit code 2 and ONE line ``error: <file>: <what is wrong>; <what to do>``, never a traceback or
an "internal error" (exit 1). A damaged store is never modified by the refusal.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from int_sim.cli import app
from int_sim.store import APPLICATION, Store
from int_sim.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
SPEC = {"name": "tiny", "design": "grid", "factors": {"population.size": [300, 400]},
        "fixed": {"simulation.days": 30, "simulation.warmup_days": 0}, "replications": 1, "seed": 5}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_one_clear_line(result, path, *fragments) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    line = result.stderr
    assert line.startswith(f"error: {path}: ") and line.count("\n") == 1, line
    assert "Traceback" not in line and "internal error" not in line
    for fragment in fragments:
        assert fragment in line, line
    return line


@pytest.fixture(scope="module")
def good_store(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("good")
    spec = folder / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    store = folder / "good.duckdb"
    run_sweep(load_sweep(spec), Store(store, create=True), workers=1)
    return spec, store


def _truncated(good: bytes) -> bytes:
    return good[: len(good) // 2]


def _garbled(good: bytes) -> bytes:
    data = bytearray(good)
    rng = random.Random(1)
    start = len(data) // 3
    for offset in range(start, min(len(data), start + 200_000)):
        data[offset] = rng.randrange(256)
    return bytes(data)


def _duckdb(path: Path, statements: list[str]) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


WHAT_TO_DO_NEW = "new file name"
DAMAGED_STORES = {
    # name: (how to make it from the good store's bytes, fragments the message must contain)
    "truncated": (_truncated, ["damaged (truncated or corrupted", "move it aside", "new store file"]),
    "header_only": (lambda good: good[:100], ["damaged (truncated or corrupted", "new store file"]),
    "garbled": (_garbled, ["damaged (truncated or corrupted", "checksum", "restore a copy"]),
    "empty": (lambda good: b"", ["an empty file (0 bytes)", "delete it"]),
    "random_bytes": (lambda good: random.Random(2).randbytes(50_000), ["not an int-sim store", WHAT_TO_DO_NEW]),
    "text": (lambda good: b"sweep,configuration_id\ntiny,0\n", ["not an int-sim store", WHAT_TO_DO_NEW]),
    "foreign_duckdb": ([ "CREATE TABLE results (x INTEGER)"], ["not an int-sim store (it has no meta table)", WHAT_TO_DO_NEW]),
    "foreign_meta": (["CREATE TABLE meta (key VARCHAR, value VARCHAR)",
                      "INSERT INTO meta VALUES ('application', 'someone else')"],
                     ["not an int-sim store (meta.application is 'someone else')", WHAT_TO_DO_NEW]),
    "schema_version_2": (["CREATE TABLE meta (key VARCHAR, value VARCHAR)",
                          f"INSERT INTO meta VALUES ('application', '{APPLICATION}'), ('schema_version', '2')"],
                         ["store schema version 2, but this int-sim reads version 1",
                          "use a new store file or the int-sim version that wrote it"]),
}


def make_store(name: str, folder: Path, good: Path) -> Path:
    maker, _ = DAMAGED_STORES[name]
    path = folder / f"{name}.duckdb"
    if callable(maker):
        path.write_bytes(maker(good.read_bytes()))
    else:
        _duckdb(path, maker)
    return path


COMMANDS = {
    "sweep": lambda spec, store, tmp: ("sweep", spec, "--store", store, "--workers", 1),
    "export": lambda spec, store, tmp: ("export", store, "--out", tmp / "out.csv"),
    "report": lambda spec, store, tmp: ("report", store, "--out", tmp / "report"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", list(DAMAGED_STORES))
def test_damaged_or_foreign_store_is_one_clear_line(good_store, tmp_path, name, command):
    spec, good = good_store
    store = make_store(name, tmp_path, good)
    before = store.read_bytes()
    result = invoke(*COMMANDS[command](spec, store, tmp_path))
    assert_one_clear_line(result, store, *DAMAGED_STORES[name][1])
    assert store.read_bytes() == before, "the refused store was modified"
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "report" / "report.md").exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_folder_as_the_store(good_store, tmp_path, command):
    spec, _ = good_store
    folder = tmp_path / "results.duckdb"
    folder.mkdir()
    assert_one_clear_line(invoke(*COMMANDS[command](spec, folder, tmp_path)), folder, "is a folder, not a store file",
                          "give a file such as")


@pytest.mark.parametrize("command", ["export", "report"])
def test_a_missing_store_says_how_to_make_one(good_store, tmp_path, command):
    spec, _ = good_store
    missing = tmp_path / "nope.duckdb"
    assert_one_clear_line(invoke(*COMMANDS[command](spec, missing, tmp_path)), missing, "no such store file",
                          "int-sim sweep")
    assert not missing.exists()


def test_the_good_store_still_reads(good_store, tmp_path):
    """The control: the same commands on the undamaged store succeed."""
    spec, good = good_store
    for command in COMMANDS:
        result = invoke(*COMMANDS[command](spec, good, tmp_path))
        assert result.exit_code == 0, (command, result.stderr)


# --- scenario and spec files ---------------------------------------------------------------------

SCENARIO_FILES = {
    # name: (content, or None for a folder; fragments)
    "binary": (bytes(range(256)) * 8, ["not a text file", "a scenario is a YAML text file"]),
    "png": (b"\x89PNG\r\n\x1a\n" + bytes(64), ["not a text file"]),
    "nul_bytes": (b"name: a\x00b\n", ["not a text file (it contains NUL bytes)"]),
    "empty": (b"", ["the scenario is empty", "write at least one key"]),
    "whitespace": (b"\n\n   \n", ["the scenario is empty"]),
    "folder": (None, ["is a directory, not a scenario file", "give a .yaml file"]),
    "json_array": (b"[1, 2, 3]", ["must be a mapping"]),
    "truncated_mid_value": (b"population:\n  size: 4000\nteam:\n  mdt_frequency:", ["team.mdt_frequency: None is not allowed",
                                                                                    "one of none, monthly"]),
}


def bad_file(path: Path, content: bytes | None) -> Path:
    """Write ``content`` at ``path``, or make a folder there when it is None."""
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("name", list(SCENARIO_FILES))
def test_bad_scenario_file_is_one_clear_line(tmp_path, name, command):
    content, fragments = SCENARIO_FILES[name]
    path = bad_file(tmp_path / f"{name}.yaml", content)
    assert_one_clear_line(invoke(command, path, "--reps", 1) if command == "run" else invoke(command, path),
                          path, *fragments)


def test_missing_scenario_file_in_compare(tmp_path):
    assert_one_clear_line(invoke("compare", ROOT / "scenarios" / "baseline.yaml", tmp_path / "gone.yaml"),
                          tmp_path / "gone.yaml", "no such scenario file")


SPEC_FILES = {
    "binary": (bytes(range(256)) * 8, ["not a text file", "a sweep spec is a YAML text file"]),
    "empty": (b"", ["the sweep spec is empty", "it needs name, design, factors, replications and seed"]),
    "folder": (None, ["is a directory, not a sweep spec file"]),
    "self_referring_alias": (b"name: x\nfactors: &f {a: *f}\n", ["a YAML alias (*name) refers to itself"]),
}


@pytest.mark.parametrize("name", list(SPEC_FILES))
def test_bad_sweep_spec_is_one_clear_line(tmp_path, name):
    content, fragments = SPEC_FILES[name]
    path = bad_file(tmp_path / f"{name}.yaml", content)
    store = tmp_path / "s.duckdb"
    assert_one_clear_line(invoke("sweep", path, "--store", store), path, *fragments)
    assert not store.exists(), "a store was created for a spec that was refused"


def test_unreadable_scenario_file(tmp_path, monkeypatch):
    """Permission denied (simulated: the tests may run as root, who can read anything)."""
    path = tmp_path / "secret.yaml"
    path.write_text("name: x\n")
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    assert_one_clear_line(invoke("validate", path), path, "permission denied", "make the file readable")


def test_a_store_with_a_view_reading_other_files_cannot_read_them(tmp_path):
    """A DuckDB file can define a view over any file on the machine; the store never follows it."""
    from int_sim.store import Store
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    path = tmp_path / "planted.duckdb"
    Store(path, create=True)
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE VIEW results_extra AS SELECT * FROM read_csv('{secret}')")
    store = Store(path)
    with store._open(read_only=True) as con:
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute("SELECT * FROM results_extra").fetchall()
    assert store.results().empty  # the store itself still reads

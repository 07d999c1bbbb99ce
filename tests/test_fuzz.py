"""Hostile input through the real command line: the YAML loader and --set, fuzzed.

The claim (issue 7, item 2): random bytes, huge and tiny numbers, NaN and infinity, deep
nesting, alias bombs, very long strings and wrong types in a scenario file or a ``--set`` end
in exit code 2 with ONE line ``error: ...`` on stderr naming the file or the --set, never a
traceback, an internal error or a hang; sizes beyond the machine (10^9 residents, a 100-year
horizon) are refused up front, naming the limit, before any simulation starts.

Most cases go through Typer's CliRunner, which calls the same ``app`` object as the installed
command (exit code, stdout and stderr are the command's own). A few go through a real
``python -m int_sim`` subprocess with a timeout, which also catches a hang or an interpreter
traceback printed outside the command. Hypothesis is derandomized so every run fuzzes the same
inputs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from int_sim.cli import app
from int_sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
SUBPROCESS_TIMEOUT = 120
"""Seconds a refused input may take through a real process (start-up included) before it counts as a hang."""


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_bad_input(result, starts: str | None = None) -> str:
    """Exit 2, nothing on stdout, one line 'error: ...' on stderr, no traceback; returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if starts is not None:
        assert result.stderr.startswith(f"error: {starts}"), result.stderr
    return result.stderr


def assert_ok_or_bad_input(result, starts: str) -> None:
    if result.exit_code == 0:
        assert result.stdout.startswith("ok: ") and result.stderr == ""
    else:
        assert_bad_input(result, starts)


# --- fuzzed scenario files -----------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_as_a_scenario_file(tmp_path, data):
    path = tmp_path / "random.yaml"
    path.write_bytes(data)
    assert_ok_or_bad_input(invoke("validate", path), str(path))


SCHEMA_KEYS = ["name", "population", "size", "team", "staff", "gp", "mdt_frequency", "simulation", "days",
               "counterfactual", "groups", "general", "admission_rate", "deprivation_mix", "q1", "care", "roles"]

HOSTILE_SCALARS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**9, 10**18, -1, 0, 2**63, 1e308, -1e308, 5e-324, 1e-300, float("nan"), float("inf"),
                     float("-inf"), True, False, None, "", "NaN", ".inf", "1e9", "0x1F", "x" * 100_000,
                     "\u202e\u0000\ufeff", "weekly"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=200),
)


def _trees():
    keys = st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(max_size=30))
    return st.recursive(HOSTILE_SCALARS, lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)), max_leaves=25)


@FUZZ
@given(tree=st.dictionaries(st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(max_size=20)), _trees(), max_size=5))
def test_random_yaml_structures_as_a_scenario_file(tmp_path, tree):
    path = tmp_path / "tree.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    assert_ok_or_bad_input(invoke("validate", path), str(path))


@FUZZ
@given(section=st.sampled_from(["population", "team", "team.staff", "care", "simulation", "population.groups.general"]),
       key=st.one_of(st.sampled_from(["size", "gp", "days", "mdt_frequency", "admission_rate", "co_location",
                                      "warmup_days", "it_interoperability", "gp_in_mdt"]), st.text(max_size=12)),
       value=HOSTILE_SCALARS)
def test_hostile_values_under_real_keys_in_a_file(tmp_path, section, key, value):
    node: dict = {key: value}
    for part in reversed(section.split(".")):
        node = {part: node}
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(node, allow_unicode=True), encoding="utf-8")
    assert_ok_or_bad_input(invoke("validate", path), str(path))


# --- fuzzed --set -------------------------------------------------------------------------------

SET_KEYS = st.one_of(
    st.sampled_from(["population.size", "team.staff.gp", "team.mdt_frequency", "simulation.days", "name",
                     "team.gp_in_mdt", "counterfactual.staff", "counterfactual.staff.gp", "team", "", ".", "a..b",
                     "population.groups.general.admission_rate", "population.deprivation_mix.q1", "team.staff.gp.x"]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00="), max_size=40))
SET_VALUES = st.one_of(
    st.sampled_from(["1e9", "1000000000", "99999999999999999999", "9" * 5000, "-1", "0", "nan", ".nan", ".inf",
                     "-.inf", "1e308", "1e-320", "[" * 1000, "{a: " * 1000, "&a [*a]", "!!python/object/apply:os.system ['true']",
                     "x" * 100_000, "true", "null", "~", "[1, 2]", "{gp: 3}", "'", "\"", "=", "weekly"]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60))


@FUZZ
@given(key=SET_KEYS, value=SET_VALUES)
def test_fuzzed_set(key, value):
    assert_ok_or_bad_input(invoke("validate", BASELINE, "--set", f"{key}={value}"), "--set ")


@settings(FUZZ, max_examples=25)
@given(pairs=st.lists(st.tuples(SET_KEYS, SET_VALUES), min_size=2, max_size=5))
def test_several_fuzzed_sets_at_once(pairs):
    args = [arg for key, value in pairs for arg in ("--set", f"{key}={value}")]
    result = invoke("validate", BASELINE, *args)
    if result.exit_code != 0:
        line = assert_bad_input(result)
        assert line.startswith(("error: --set ", f"error: {BASELINE} with --set: ")), line


# --- specific hostile inputs ---------------------------------------------------------------------

def _alias_bomb() -> str:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
              f"*a{i - 1}, *a{i - 1}]" for i in range(1, 10)]
    return "population:\n  " + "\n  ".join(lines) + "\n"


HOSTILE_FILES = [
    ("deep_lists", "x: " + "[" * 100_000, "nested too deeply"),
    ("deep_maps", "x: " + "{a: " * 50_000, "nested too deeply"),
    ("alias_bomb", _alias_bomb(), "the YAML expands to more than 100,000 values"),
    ("self_reference", "team:\n  staff: &s {gp: *s}\n", "a YAML alias (*name) refers to itself"),
    ("huge_integer", "population:\n  size: " + "9" * 5000 + "\n", "more than 4,300 digits"),
    ("long_string", "name: " + "x" * 900_000 + "\n", "name: 'xxx"),
    ("too_big", "# " + "x" * 1_100_000 + "\n", "more than 1,000,000 bytes"),
    ("nul_bytes", "name: a\x00b\n", "not a text file"),
    ("not_utf8", "name: caf\xe9\n".encode("latin-1"), "not a text file"),
    ("python_object", "name: !!python/object/apply:os.system ['echo hacked']\n", "malformed YAML"),
    ("a_list", "- 1\n- 2\n", "must be a mapping"),
    ("a_scalar", "42\n", "must be a mapping"),
    ("empty", "", "the scenario is empty"),
    ("only_comments", "# nothing here\n", "the scenario is empty"),
    ("tab_indent", "population:\n\tsize: 3\n", "malformed YAML"),
    ("nan", "team:\n  staff:\n    gp: .nan\n", "team.staff.gp: nan"),
    ("inf", "costs:\n  bed_day: .inf\n", "costs.bed_day: inf"),
    ("tiny", "team:\n  it_interoperability: -1e-320\n", "team.it_interoperability"),
    ("wrong_type", "team:\n  mdt_frequency: [weekly]\n", "team.mdt_frequency"),
    ("bool_as_number", "population:\n  size: true\n", "population.size"),
    ("section_as_value", "team: 3\n", "team"),
]


@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE_FILES, ids=[c[0] for c in HOSTILE_FILES])
def test_hostile_scenario_file_is_one_clear_line(tmp_path, name, content, expected):
    path = tmp_path / f"{name}.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    line = assert_bad_input(invoke("validate", path), f"{path}: ")
    assert expected in line
    assert len(line) < 1000, "the message quotes a bad value in full"


def test_yaml_aliases_within_bounds_are_accepted(tmp_path):
    """Aliases are legitimate YAML (PyYAML writes them for a repeated list); only bombs are refused."""
    path = tmp_path / "shared.yaml"
    path.write_text("population:\n  groups:\n    frail_mild: &rates {admission_rate: 0.3, crisis_rate: 0.5}\n"
                    "    frail_moderate: *rates\n")
    result = invoke("validate", path)
    assert result.exit_code == 0, result.stderr


def test_a_device_that_never_ends_is_refused(tmp_path):
    assert "more than 1,000,000 bytes" in assert_bad_input(invoke("validate", "/dev/zero"), "/dev/zero: ")


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail if any simulation starts: refused sizes must be refused before running anything."""
    def refuse(*args, **kwargs):
        raise AssertionError("a simulation started for an input that should have been refused")
    monkeypatch.setattr("int_sim.experiment.NeighbourhoodModel", refuse)
    monkeypatch.setattr("int_sim.experiment.simulate_replication", refuse)


TOO_BIG = [
    (["--set", "population.size=1000000000"], "population.size: 1000000000 is not allowed; expected a whole number from 100 to 2,000,000"),
    (["--set", "population.size=1e9"], "population.size: '1e9' is not allowed; expected a whole number from 100 to 2,000,000"),
    (["--set", "simulation.days=36500"], "simulation.days: 36500 is not allowed; expected a whole number from 30 to 3,650"),
    (["--set", "simulation.warmup_days=36500"], "simulation.warmup_days: 36500 is not allowed"),
    (["--set", "population.size=2000000", "--set", "simulation.days=3650", "--set", "simulation.warmup_days=3650"],
     "resident-days is more than the 7,300,000,000 this machine can run"),
    (["--set", "team.staff.gp=1000000"], "team.staff.gp: 1000000 is not allowed; expected a number from 0 to 500"),
    (["--reps", "100000000000000000000"], "--reps 100000000000000000000: at most 10,000 replications"),
    (["--seed", str(2**64)], f"--seed {2**64}: must be from 0 to 9,223,372,036,854,775,807"),
]


@pytest.mark.parametrize(("args", "expected"), TOO_BIG, ids=[" ".join(a)[:40] for a, _ in TOO_BIG])
def test_sizes_beyond_the_machine_are_refused_up_front(no_simulation, args, expected):
    line = assert_bad_input(invoke("run", BASELINE, *args, "--reps", "1") if "--reps" not in args
                            else invoke("run", BASELINE, *args))
    assert expected in line, line


def test_too_big_in_a_file_names_the_file_and_the_limit(no_simulation, tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("population:\n  size: 1000000000\nsimulation:\n  days: 36500\n")
    line = assert_bad_input(invoke("run", path, "--reps", "1"), f"{path}: ")
    assert "2,000,000" in line or "3,650" in line
    assert "(and 1 more problem)" in line


def test_a_sweep_beyond_the_machine_is_refused_up_front(no_simulation, tmp_path):
    """10 x 10 x 10 configurations x 10,000 replications = 10^7 replications: refused before any
    configuration is validated or a store created, naming the limit."""
    spec = tmp_path / "huge.yaml"
    levels = list(range(1, 11))
    spec.write_text(yaml.safe_dump({"name": "huge", "design": "grid", "replications": 10_000, "seed": 1, "factors": {
        "team.staff.gp": levels, "team.staff.therapist": levels, "team.staff.community_nurse": levels}}))
    store = tmp_path / "huge.duckdb"
    line = assert_bad_input(invoke("sweep", spec, "--store", store), f"{spec}: ")
    assert "1,000 configurations x 10,000 replications = 10,000,000 replications, more than the 1,000,000" in line
    assert not store.exists()


def test_largest_allowed_size_is_accepted():
    """The limit is the documented one, not lower: the largest run allowed still validates."""
    largest = Scenario().with_overrides({"population.size": 2_000_000, "simulation.days": 3650,
                                         "simulation.warmup_days": 0})
    assert largest.population.size == 2_000_000
    result = invoke("validate", BASELINE, "--set", "population.size=2000000", "--set", "simulation.days=3650",
                    "--set", "simulation.warmup_days=0")
    assert result.exit_code == 0 and result.stdout.startswith("ok: ")


# --- the real process ---------------------------------------------------------------------------

REAL = [
    ("alias_bomb", _alias_bomb().encode(), ["validate"], "expands to more than 100,000 values"),
]


@pytest.mark.parametrize(("name", "content", "command", "expected"), REAL, ids=[r[0] for r in REAL])
def test_real_process_exits_2_with_one_line_and_no_traceback(tmp_path, name, content, command, expected):
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    args = [sys.executable, "-m", "int_sim", command[0], str(path), *command[1:], "--set", "name=x\u00e9"]
    done = subprocess.run(args, capture_output=True, timeout=SUBPROCESS_TIMEOUT, cwd=ROOT, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {path}: ")
    assert "Traceback" not in done.stderr and expected in done.stderr

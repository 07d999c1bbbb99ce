"""The ``int-sim`` command: the DESIGN.md contract for output, provenance, exit codes and files.

Runs are kept small (2,000 residents, 60 measured days after 20 days of warm-up, 1 to 3
replications) so the whole file takes seconds; what is tested is the command, not the model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import int_sim
from int_sim import load_scenario
from int_sim.cli import app
from int_sim.metrics import HEADLINE, METRICS

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
FRAGMENTED = str(ROOT / "scenarios" / "fragmented.yaml")
SMALL_OVERRIDES = {"population.size": 2000, "simulation.days": 60, "simulation.warmup_days": 20}
SMALL = [arg for key, value in SMALL_OVERRIDES.items() for arg in ("--set", f"{key}={value}")]
INTERVAL_KEYS = {"mean", "ci_low", "ci_high"}
LONG_COLUMNS = ["configuration", "replication", "metric", "value",
                "int_sim_version", "seed", "replications", "scenario_hash"]


def invoke(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def strict_json(text: str) -> dict:
    """Parse JSON, refusing NaN and Infinity (which json.loads accepts by default)."""
    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant} in output")
    return json.loads(text, parse_constant=refuse)


def run_json(*extra, reps=2, seed=1) -> tuple[str, dict]:
    result = invoke("run", BASELINE, "--reps", reps, "--seed", seed, "--json", *SMALL, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout, strict_json(result.stdout)


@pytest.fixture(scope="module")
def baseline_run() -> tuple[str, dict]:
    return run_json()


def small_scenario(path: str):
    return load_scenario(path).with_overrides(SMALL_OVERRIDES)


# --- run --json ------------------------------------------------------------------------------------

def test_run_json_has_the_design_keys_and_provenance(baseline_run):
    _, obj = baseline_run
    assert list(obj) == ["scenario", "replications", "seed", "int_sim_version", "scenario_hash", "metrics"]
    assert obj["scenario"] == "baseline"
    assert obj["replications"] == 2
    assert obj["seed"] == 1
    assert obj["int_sim_version"] == int_sim.__version__
    # The hash is of the scenario actually run, with the --set changes applied.
    assert obj["scenario_hash"] == small_scenario(BASELINE).hash()
    assert obj["scenario_hash"] != load_scenario(BASELINE).hash()
    metrics = obj["metrics"]
    assert set(metrics) <= set(METRICS)
    for metric in ("admissions_per_1000", "admissions_avoided_per_1000", "cost_per_resident"):
        assert metric in metrics
    for metric, values in metrics.items():
        assert set(values) == INTERVAL_KEYS, metric
        assert values["mean"] is not None, metric
        if values["ci_low"] is None:  # the metric was defined in one replication only
            assert values["ci_high"] is None, metric
        else:
            assert values["ci_low"] <= values["mean"] <= values["ci_high"], metric


def test_run_json_lists_headline_metrics_first(baseline_run):
    _, obj = baseline_run
    names = list(obj["metrics"])
    headline = [m for m in names if m in HEADLINE]
    assert names[: len(headline)] == headline
    assert headline == [m for m in HEADLINE if m in names]


def test_run_json_rounds_to_six_significant_digits(baseline_run):
    _, obj = baseline_run
    for values in obj["metrics"].values():
        for value in values.values():
            assert value is None or float(f"{value:.6g}") == value


def test_same_command_twice_gives_identical_bytes(baseline_run):
    again, _ = run_json()
    assert again == baseline_run[0]


def test_different_seed_gives_different_values(baseline_run):
    _, first = baseline_run
    _, other = run_json(seed=2)
    assert other["seed"] == 2
    means = {m: v["mean"] for m, v in first["metrics"].items()}
    other_means = {m: v["mean"] for m, v in other["metrics"].items()}
    assert means != other_means
    assert means["admissions_per_1000"] != other_means["admissions_per_1000"]


def test_single_replication_intervals_are_null_not_nan():
    text, obj = run_json(reps=1)
    assert "NaN" not in text
    assert obj["replications"] == 1
    for metric, values in obj["metrics"].items():
        assert values["mean"] is not None, metric
        assert values["ci_low"] is None and values["ci_high"] is None, metric


def test_workers_do_not_change_the_result(baseline_run):
    parallel, _ = run_json("--workers", 2)
    assert parallel == baseline_run[0]


# --- compare ---------------------------------------------------------------------------------------

def test_compare_same_scenario_twice_gives_zero_differences():
    result = invoke("compare", BASELINE, BASELINE, "--reps", 2, "--seed", 3, "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    obj = strict_json(result.stdout)
    assert list(obj) == ["configurations", "replications", "seed", "int_sim_version", "scenario_hash",
                         "metrics", "differences"]
    assert obj["configurations"] == ["baseline", "baseline#2"]
    assert obj["replications"] == 2 and obj["seed"] == 3
    assert obj["int_sim_version"] == int_sim.__version__
    assert obj["scenario_hash"] == {"baseline": small_scenario(BASELINE).hash(),
                                    "baseline#2": small_scenario(BASELINE).hash()}
    assert list(obj["metrics"]) == ["baseline", "baseline#2"]
    assert obj["metrics"]["baseline"] == obj["metrics"]["baseline#2"]
    assert list(obj["differences"]) == ["baseline#2"]
    differences = obj["differences"]["baseline#2"]
    assert set(differences) == set(obj["metrics"]["baseline"])
    for metric, values in differences.items():
        assert values["mean"] == 0.0, metric
        # Zero spread gives a zero-width interval; a metric defined in one replication has none.
        assert (values["ci_low"], values["ci_high"]) in {(0.0, 0.0), (None, None)}, metric
    assert sum(v["ci_low"] == 0.0 for v in differences.values()) > len(differences) / 2


def test_compare_differences_are_against_the_first_configuration():
    result = invoke("compare", FRAGMENTED, BASELINE, "--reps", 2, "--json", *SMALL)
    assert result.exit_code == 0, result.stderr
    obj = strict_json(result.stdout)
    assert obj["configurations"] == ["fragmented", "baseline"]
    assert list(obj["differences"]) == ["baseline"]
    base, frag = obj["metrics"]["baseline"], obj["metrics"]["fragmented"]
    # Metrics present in every replication: the mean paired difference is the difference of means.
    for metric in ("admissions_per_1000", "cost_per_resident", "staff_cost_per_resident", "trust_mean"):
        expected = base[metric]["mean"] - frag[metric]["mean"]
        assert obj["differences"]["baseline"][metric]["mean"] == pytest.approx(expected, rel=1e-4, abs=1e-4)
    # The fragmented scenario is its own counterfactual: nothing avoided, no net cost.
    assert frag["admissions_avoided_per_1000"]["mean"] == 0.0
    assert frag["net_cost_per_resident"]["mean"] == 0.0
    # The baseline has an MDT and the fragmented services do not.
    assert obj["differences"]["baseline"]["joint_plans_pct"]["mean"] > 0


def test_compare_applies_set_to_every_scenario():
    result = invoke("compare", FRAGMENTED, BASELINE, "--reps", 1, "--json", *SMALL)
    obj = strict_json(result.stdout)
    assert obj["scenario_hash"] == {"fragmented": small_scenario(FRAGMENTED).hash(),
                                    "baseline": small_scenario(BASELINE).hash()}


# --- tables ----------------------------------------------------------------------------------------

def test_run_table_shows_headline_first_and_the_illustrative_note():
    result = invoke("run", BASELINE, "--reps", 2, *SMALL)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.index(METRICS["admissions_per_1000"].label) < out.index(METRICS["bed_days_per_1000"].label)
    assert METRICS["admissions_per_1000"].unit in out
    assert "95% interval" in out
    assert "illustrative" in out and "docs/parameters.md" in out
    assert small_scenario(BASELINE).hash() in out


def test_compare_table_shows_each_configuration_and_the_paired_difference():
    result = invoke("compare", FRAGMENTED, BASELINE, "--reps", 2, *SMALL)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "fragmented" in out and "baseline - fragmented" in out
    assert METRICS["admissions_avoided_per_1000"].label in out
    assert "illustrative" in out


# --- --out -----------------------------------------------------------------------------------------

def check_long_table(frame: pd.DataFrame, obj: dict, configuration: str = "baseline") -> None:
    assert list(frame.columns) == LONG_COLUMNS
    assert set(frame["configuration"]) == {configuration}
    assert sorted(frame["replication"].unique()) == [0, 1]
    assert set(frame["metric"]) == set(obj["metrics"])
    assert set(frame["int_sim_version"]) == {int_sim.__version__}
    assert set(frame["seed"]) == {1}
    assert set(frame["replications"]) == {2}
    assert set(frame["scenario_hash"]) == {obj["scenario_hash"]}
    means = frame.groupby("metric")["value"].mean()
    for metric, values in obj["metrics"].items():
        assert means[metric] == pytest.approx(values["mean"], rel=1e-5, abs=1e-6), metric


@pytest.mark.parametrize("suffix, read", [(".csv", pd.read_csv), (".parquet", pd.read_parquet)])
def test_out_writes_the_long_table_with_provenance(tmp_path, baseline_run, suffix, read):
    out = tmp_path / f"results{suffix}"
    stdout, obj = run_json("--out", out)
    assert stdout == baseline_run[0]  # --out does not change what --json prints
    check_long_table(read(out), obj)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


def test_out_json_is_the_json_object_plus_replication_records(tmp_path, baseline_run):
    out = tmp_path / "results.json"
    _, obj = run_json("--out", out)
    written = strict_json(out.read_text(encoding="utf-8"))
    records = written.pop("replications_data")
    assert written == obj
    check_long_table(pd.DataFrame.from_records(records), obj)


def test_compare_out_has_one_hash_per_configuration(tmp_path):
    out = tmp_path / "compare.csv"
    result = invoke("compare", FRAGMENTED, BASELINE, "--reps", 2, "--json", "--out", out, *SMALL)
    assert result.exit_code == 0, result.stderr
    obj = strict_json(result.stdout)
    frame = pd.read_csv(out)
    assert list(frame.columns) == LONG_COLUMNS
    hashes = frame.groupby("configuration")["scenario_hash"].unique()
    assert {name: list(h) for name, h in hashes.items()} == {n: [h] for n, h in obj["scenario_hash"].items()}


def test_interrupted_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    out = tmp_path / "results.csv"
    out.write_text("previous results\n")

    def half_then_interrupt(self, path, *args, **kwargs):
        Path(path).write_text("configuration,replication\nbaseline,")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_interrupt)
    result = invoke("run", BASELINE, "--reps", 1, "--out", out, *SMALL)
    assert result.exit_code == 130
    assert out.read_text() == "previous results\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


# --- exit codes and messages -----------------------------------------------------------------------

def assert_bad_input(result, *needles: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("overrides, needles", [
    (["team.mdt_frequency=wekly"], ["--set team.mdt_frequency=wekly", "team.mdt_frequency", "wekly"]),
    (["team.gp_in_mdt=maybe"], ["team.gp_in_mdt", "maybe"]),
    (["population.size=abc"], ["population.size", "abc"]),
    (["population.size=-5000"], ["population.size", "-5000"]),
    (["team.colour=red"], ["team.colour", "unknown key"]),
    (["population.size"], ["population.size", "key=value"]),
    (["simulation.days=60", "team.leadership=2"], ["--set team.leadership=2", "team.leadership"]),
])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_set_is_one_line_naming_the_field(command, overrides, needles):
    args = [arg for text in overrides for arg in ("--set", text)]
    assert_bad_input(invoke(command, BASELINE, *args), *needles)


def test_bad_set_in_compare_is_one_line_naming_the_field():
    assert_bad_input(invoke("compare", BASELINE, FRAGMENTED, "--set", "team.gp_in_mdt=maybe"), "team.gp_in_mdt")


@pytest.mark.parametrize("text, needles", [
    ("name: broken\nteam: [unclosed\n", ["malformed YAML", "line"]),
    ("name: broken\nteam:\n  colour: red\n", ["team.colour", "unknown key"]),
    ("name: broken\npopulation:\n  size: -10\n", ["population.size", "-10"]),
    ("name: broken\nteam:\n  mdt_frequency: wekly\n", ["team.mdt_frequency", "wekly"]),
    ("- just\n- a list\n", ["mapping"]),
])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_scenario_file_is_one_line_naming_file_and_field(tmp_path, command, text, needles):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert_bad_input(invoke(command, path), str(path), *needles)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_file_is_bad_input(tmp_path, command):
    missing = tmp_path / "nowhere.yaml"
    assert_bad_input(invoke(command, missing), str(missing))


def test_missing_file_in_compare_is_bad_input(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    assert_bad_input(invoke("compare", BASELINE, missing), str(missing))


@pytest.mark.parametrize("args, needles", [
    (["--reps", "0"], ["--reps"]),
    (["--seed", "-1"], ["--seed"]),
    (["--workers", "-2"], ["--workers"]),
    (["--out", "results.txt"], ["--out", ".txt"]),
    (["--out", "results"], ["--out"]),
    (["--out", "no/such/folder/results.csv"], ["--out", "does not exist"]),
])
def test_bad_options_are_bad_input_and_write_nothing(tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    assert_bad_input(invoke("run", BASELINE, *args, *SMALL), *needles)
    assert list(tmp_path.iterdir()) == []


def test_compare_needs_two_scenarios():
    assert_bad_input(invoke("compare", BASELINE, *SMALL), "two")


def test_internal_error_is_one_line_without_traceback(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("int_sim.cli.run_experiment", boom)
    result = invoke("run", BASELINE, "--reps", 1, *SMALL, env={"INT_SIM_DEBUG": None})
    assert result.exit_code == 1
    assert result.stderr == "internal error: RuntimeError: boom\n"

    debug = invoke("run", BASELINE, "--reps", 1, *SMALL, env={"INT_SIM_DEBUG": "1"})
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr
    assert debug.stderr.splitlines()[-1] == "internal error: RuntimeError: boom"


def test_ctrl_c_exits_130_with_one_line_and_no_output_file(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("int_sim.cli.compare_configurations", interrupted)
    out = tmp_path / "results.parquet"
    result = invoke("compare", BASELINE, FRAGMENTED, "--reps", 1, "--out", out, *SMALL)
    assert result.exit_code == 130
    assert len(result.stderr.splitlines()) == 1 and "interrupted" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


# --- validate --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_validate_accepts_every_shipped_scenario(path):
    result = invoke("validate", path)
    assert result.exit_code == 0, result.stderr
    scenario = load_scenario(path)
    assert result.stdout == (f"ok: {path} ({scenario.name}): {scenario.population.size:,} residents, "
                             f"{scenario.team.staff.total():g} staff WTE, MDT {scenario.team.mdt_frequency}\n")


def test_shipped_scenarios_exist():
    assert len(SCENARIO_FILES) >= 2
    assert ROOT / "scenarios" / "baseline.yaml" in SCENARIO_FILES


def test_validate_reports_set_changes():
    result = invoke("validate", BASELINE, "--set", "population.size=30000", "--set", "team.mdt_frequency=monthly")
    assert result.exit_code == 0, result.stderr
    assert "30,000 residents" in result.stdout and "MDT monthly" in result.stdout


@pytest.mark.parametrize("frequency", ["none", "monthly", "fortnightly", "weekly"])
def test_validate_accepts_every_documented_mdt_frequency(frequency):
    result = invoke("validate", BASELINE, "--set", f"team.mdt_frequency={frequency}")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith(f"MDT {frequency}")


# --- the installed entry points --------------------------------------------------------------------

def test_python_dash_m_matches_the_command(baseline_run):
    proc = subprocess.run([sys.executable, "-m", "int_sim", "run", BASELINE, "--reps", "2", "--seed", "1",
                           "--json", *SMALL], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == baseline_run[0]
    assert proc.stderr == ""  # piped: no progress bar


def test_python_dash_m_bad_input_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "int_sim", "validate", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")


def test_ctrl_c_while_the_command_loads_exits_130_without_a_traceback(monkeypatch, capsys):
    """The libraries take a moment to load before the command's own Ctrl-C handling exists."""
    import types

    from int_sim import launch

    class Loading(types.ModuleType):
        def __getattr__(self, name):
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "int_sim.cli", Loading("int_sim.cli"))
    with pytest.raises(SystemExit) as stopped:
        launch.main()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "interrupted: stopped while starting; nothing was written\n"


def test_importing_the_package_loads_no_heavy_library():
    code = "import sys, int_sim; print(sorted(m for m in ('pandas', 'mesa', 'simpy', 'typer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"

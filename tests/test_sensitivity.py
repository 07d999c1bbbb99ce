"""Sensitivity analysis (Morris, Sobol): indices stored with intervals, resumable, sensible ranks.

Scenarios are tiny (2,000 residents, 60 measured days after 20 of warm-up, set through the spec's
``fixed``) and designs small (a few trajectories, one replication), so what is tested is the
machinery and one claim about the model that cannot fail for a working analysis:

* under common random numbers a unit cost (``costs.crisis``) cannot change how many residents are
  admitted, so its Morris effect on admissions is exactly zero, while the base admission rate of
  the largest patient group (``population.groups.general.admission_rate``, 0.02 to 0.10 a year)
  must move admissions; the first must rank below the second. (Levers of the team, such as the
  effect of a completed plan, barely show in 60 days for 2,000 residents, so they would make a
  flaky pair.) For the total cost, dearer crises must mean a higher cost.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from int_sim.cli import app
from int_sim.sensitivity import compute_indices, load_analysis, load_indices
from int_sim.store import INDEX_COLUMNS, Store

TINY = {"population.size": 2000, "simulation.days": 60, "simulation.warmup_days": 20}
METRICS = ["admissions_per_1000", "cost_per_resident", "days_to_action_median", "admissions_avoided_per_1000"]


def write_spec(folder: Path, name: str = "tiny", **changes) -> Path:
    spec = {"name": name, "base": "scenarios/baseline.yaml",
            "factors": {"population.groups.general.admission_rate": {"low": 0.02, "high": 0.10},
                        "costs.crisis": {"low": 100, "high": 1000},
                        "team.co_location": ["none", "partial", "full"]},
            "samples": 4, "replications": 1, "seed": 7, "metrics": METRICS, "fixed": TINY}
    spec.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def table(path: Path, name: str) -> pd.DataFrame:
    order = {"results": "configuration_id, replication, metric", "done": "configuration_id, replication",
             "sensitivity_indices": "metric, parameter, index"}[name]
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * FROM {name} ORDER BY sweep, {order}").df()


@pytest.fixture(scope="module")
def morris(tmp_path_factory) -> tuple[Path, Path, object]:
    """A tiny Morris run through the command: (spec, store, result)."""
    folder = tmp_path_factory.mktemp("morris")
    spec, store = write_spec(folder), folder / "morris.duckdb"
    result = invoke("sensitivity", spec, "--method", "morris", "--store", store, "--workers", 2, "--json")
    assert result.exit_code == 0, result.stderr
    return spec, store, result


def test_morris_stores_finite_indices_with_intervals(morris):
    spec, store, result = morris
    indices = load_indices(store)
    assert list(indices.columns) == INDEX_COLUMNS
    assert set(indices.sweep) == {"tiny.morris"} and set(indices.method) == {"morris"}
    analysed = [m for m in METRICS if m in set(indices.metric)]
    assert {"admissions_per_1000", "cost_per_resident"} <= set(analysed)
    assert len(indices) == len(analysed) * 3 * 3  # metrics x parameters x (mu_star, sigma, mu)
    mu_star = indices[indices["index"] == "mu_star"]
    assert np.isfinite(mu_star.value).all() and (mu_star.value >= 0).all()
    assert np.isfinite(mu_star.conf).all() and (mu_star.conf >= 0).all()
    assert np.isfinite(indices[indices["index"] == "sigma"].value).all()
    # Every configuration ran its replication and is stored: 4 trajectories x (3 factors + 1).
    assert len(table(store, "done")) == 16 and set(table(store, "results").sweep) == {"tiny.morris"}
    # The printed JSON is the stored indices, parameters by importance.
    obj = json.loads(result.stdout)
    assert obj["sweep"] == "tiny.morris" and obj["configurations"] == 16 and obj["seed"] == 7
    for metric, entries in obj["metrics"].items():
        values = [e["mu_star"] for e in entries]
        assert values == sorted(values, reverse=True)
        stored = mu_star[mu_star.metric == metric].set_index("parameter").value
        assert all(math.isclose(e["mu_star"], stored[e["parameter"]], rel_tol=1e-5, abs_tol=1e-9) for e in entries)


def test_a_unit_cost_ranks_below_the_base_rate_for_admissions(morris):
    _, store, _ = morris
    mu_star = load_indices(store).query("index == 'mu_star'").set_index(["metric", "parameter"]).value
    admissions = mu_star.loc["admissions_per_1000"]
    assert admissions["costs.crisis"] == 0  # common random numbers: the same admissions, exactly
    assert admissions["population.groups.general.admission_rate"] > admissions["costs.crisis"]
    ranked = load_indices(store).query("metric == 'admissions_per_1000' and index == 'mu_star'").parameter.tolist()
    assert ranked.index("population.groups.general.admission_rate") < ranked.index("costs.crisis")
    mu = load_indices(store).query("index == 'mu'").set_index(["metric", "parameter"]).value
    assert mu.loc[("cost_per_resident", "costs.crisis")] > 0


def test_rerun_is_a_no_op_and_gives_the_same_indices(morris, tmp_path):
    spec, store, _ = morris
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store.read_bytes())
    before = {name: table(copy, name) for name in ("results", "done", "sensitivity_indices")}
    result = invoke("sensitivity", spec, "--method", "morris", "--store", copy, "--workers", 1)
    assert result.exit_code == 0, result.stderr
    assert "already complete" in result.stderr and "mu*" in result.stdout
    for name, frame in before.items():
        assert_frame_equal(table(copy, name), frame)


def test_the_design_is_seeded_and_validated(tmp_path):
    spec = write_spec(tmp_path)
    first, again = load_analysis(spec, "morris"), load_analysis(spec, "morris")
    assert [c.factors for c in first.sweep.configurations] == [c.factors for c in again.sweep.configurations]
    for config in first.sweep.configurations:
        assert config.scenario.population.size == 2000 and config.scenario.simulation.days == 60
        assert config.factors["team.co_location"] in {"none", "partial", "full"}
        assert 0.02 <= config.factors["population.groups.general.admission_rate"] <= 0.10
    sobol = load_analysis(write_spec(tmp_path, samples=8), "sobol")
    assert len(sobol.sweep.configurations) == 8 * (3 + 2) and sobol.name == "tiny.sobol"
    whole = load_analysis(write_spec(tmp_path, factors={"team.staff.care_navigator": {"low": 0, "high": 7},
                                                        "population.gp_practices": {"low": 2, "high": 9}}), "morris")
    assert all(isinstance(c.factors["population.gp_practices"], int) for c in whole.sweep.configurations)


def test_a_metric_missing_in_some_configurations_is_analysed_on_the_rest(morris):
    spec, store, _ = morris
    analysis = load_analysis(spec, "morris")
    results = Store(store).results("tiny.morris")
    metric = "cost_per_resident"
    # Configuration 5 (the second trajectory) lost its value: three trajectories remain.
    holed = results[~((results.metric == metric) & (results.configuration_id == 5))]
    indices, notes = compute_indices(analysis, holed)
    assert any(metric in note and "use the other 3" in note for note in notes)
    rows = indices[(indices.metric == metric) & (indices["index"] == "mu_star")]
    assert len(rows) == 3 and np.isfinite(rows.value).all() and np.isfinite(rows.conf).all()
    # Missing everywhere but one trajectory: no indices for it, a warning, and the rest analysed.
    gone = results[~((results.metric == metric) & (results.configuration_id >= 4))]
    indices, notes = compute_indices(analysis, gone)
    assert metric not in set(indices.metric) and "admissions_per_1000" in set(indices.metric)
    assert any(metric in note and "no indices" in note for note in notes)


def test_sobol_run_stores_first_and_total_order(tmp_path):
    spec = write_spec(tmp_path, name="tiny_sobol", samples=4, metrics=["cost_per_resident", "admissions_per_1000"],
                      factors={"costs.crisis": {"low": 100, "high": 1000},
                               "care.intervention_effect": {"low": 0.0, "high": 0.6}})
    store = tmp_path / "sobol.duckdb"
    result = invoke("sensitivity", spec, "--method", "sobol", "--store", store, "--workers", 2)
    assert result.exit_code == 0, result.stderr
    indices = load_indices(store)
    cost = indices[indices.metric == "cost_per_resident"]
    assert set(cost["index"]) == {"S1", "ST"} and np.isfinite(cost.value).all() and np.isfinite(cost.conf).all()
    assert cost.iloc[0].parameter == "costs.crisis"  # ranked first by its total-order index
    assert len(table(store, "done")) == 4 * (2 + 2)


def test_store_without_the_indices_table_reads_as_empty_and_gains_it(tmp_path):
    path = tmp_path / "old.duckdb"
    Store(path, create=True)
    with duckdb.connect(str(path)) as con:  # a version-1 store written before the table existed
        con.execute("DROP TABLE sensitivity_indices")
    empty = load_indices(path)
    assert list(empty.columns) == INDEX_COLUMNS and empty.empty
    frame = pd.DataFrame({"metric": ["m"], "parameter": ["p"], "index": ["mu_star"], "value": [1.5], "conf": [0.5]})
    Store(path).write_indices("s.morris", "morris", frame)
    assert load_indices(path).to_dict("records") == [
        {"sweep": "s.morris", "method": "morris", "metric": "m", "parameter": "p", "index": "mu_star",
         "value": 1.5, "conf": 0.5}]


BAD = [
    (["--method", "fisher"], {}, "--method fisher: unknown method"),
    ([], {}, "--method: missing"),
    (["--method", "sobol"], {"samples": 6}, "samples: Sobol needs a power of two"),
    (["--method", "sobol"], {"design": "morris"}, "design: the spec is written for morris"),
    (["--method", "morris"], {"factors": {"costs.crisis": {"low": 5, "high": 1}}}, "low (5) is more than high"),
    (["--method", "morris"], {"factors": {"team.gp_in_mdt": {"low": 0, "high": 1}}}, "[false, true]"),
    (["--method", "morris"], {"factors": {"team.no_such_lever": {"low": 0, "high": 1}}}, "team.no_such_lever"),
    (["--method", "morris"], {"factors": {"team.leadership": {"low": 0, "high": 2}}}, "team.leadership"),
    (["--method", "morris"], {"metrics": ["happiness"]}, "'happiness' is not a metric"),
    (["--method", "morris"], {"colour": "red"}, "colour: unknown key"),
    (["--method", "morris"], {"fixed": {"costs.crisis": 5}}, "fixed.costs.crisis: also a factor"),
]


@pytest.mark.parametrize(("args", "change", "expected"), BAD)
def test_bad_spec_or_method_exits_2_with_one_line(tmp_path, args, change, expected):
    spec = write_spec(tmp_path, **change)
    result = invoke("sensitivity", spec, "--store", tmp_path / "s.duckdb", *args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "s.duckdb").exists() or not Store(tmp_path / "s.duckdb").done("tiny.morris")


@pytest.mark.parametrize("name", ["spec.yaml", "spec_quick.yaml"])
def test_factor_ranking_specs_cover_the_checklist(name):
    from int_sim.scenario import CHECKLIST
    root = Path(__file__).resolve().parents[1] / "experiments" / "factor_ranking"
    analysis = load_analysis(root / name, "morris")
    levers = {key for keys in CHECKLIST.values() for key in keys} - {"team.staff"}  # whole team: funding_level
    assert levers <= set(analysis.spec.factors)
    assert len(analysis.sweep.configurations) == analysis.samples * (len(analysis.spec.factors) + 1)
    for config in analysis.sweep.configurations:  # the no-INT comparison is the same everywhere
        assert config.scenario.counterfactual.staff == analysis.sweep.configurations[0].scenario.counterfactual.staff
        assert config.scenario.population.size == {"spec.yaml": 20000, "spec_quick.yaml": 5000}[name]

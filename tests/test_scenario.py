"""Scenario schema: validation messages name file, field, value and what is allowed."""

from pathlib import Path

import pytest
import yaml

from int_sim import Scenario, ScenarioError, load_scenario, parse_scenario
from int_sim.scenario import CHECKLIST, FRAGMENTED_TEAM, allowed_text, counterfactual, field_info, is_counterfactual

PRESETS = sorted(Path("scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_presets_load_and_start_with_a_comment(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert path.read_text().startswith("#"), "each preset starts with a comment saying what it represents"


def test_fragmented_preset_is_its_own_counterfactual_and_the_others_are_not():
    assert is_counterfactual(load_scenario("scenarios/fragmented.yaml"))
    for name in ("baseline", "checklist_full", "small_colocated", "large_virtual"):
        assert not is_counterfactual(load_scenario(f"scenarios/{name}.yaml")), name


@pytest.mark.parametrize("key, value, fragment", [
    ("population.size", -5, "population.size: -5 is not allowed; expected a whole number from 100 to 2,000,000"),
    ("population.size", "abc", "population.size: 'abc'"),
    ("population.size", 3.5, "population.size: 3.5"),
    ("team.mdt_frequency", "wekly", "team.mdt_frequency: 'wekly' is not allowed; expected one of none, monthly, fortnightly, weekly"),
    ("team.gp_in_mdt", "maybe", "team.gp_in_mdt: 'maybe' is not allowed; expected true or false"),
    ("team.it_interoperability", 1.5, "team.it_interoperability: 1.5 is not allowed; expected a number from 0 to 1"),
    ("team.staff.gp", float("nan"), "team.staff.gp: nan"),
    ("team.staff.gp", float("inf"), "team.staff.gp: inf"),
    ("population.groups.general.admission_rate", -0.1, "population.groups.general.admission_rate: -0.1"),
    ("team.foo", 1, "team.foo: unknown key; allowed here: staff,"),
    ("population.groups.frail", 1, "population.groups.frail: unknown key; allowed here: frail_mild"),
    ("team", 3, "team: is a section, not a value"),
])
def test_bad_override_names_source_field_value_and_range(key, value, fragment):
    with pytest.raises(ScenarioError) as err:
        Scenario().with_overrides({key: value}, source="my.yaml")
    message = str(err.value)
    assert message.startswith("my.yaml: ")
    assert fragment in message
    assert "\n" not in message
    assert err.value.field == key


def test_unknown_key_in_a_file_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("population:\n  sizee: 4000\n")
    with pytest.raises(ScenarioError, match=r"typo.yaml: population.sizee: unknown key"):
        load_scenario(path)


@pytest.mark.parametrize("text, fragment", [
    ("population: [", "malformed YAML at line 1"),
    ("- 1\n- 2\n", "must be a mapping"),
    ("population:\n  age_65_to_79_share: 0.7\n  age_80_plus_share: 0.5\n", "must not exceed 1"),
    ("population:\n  size: 2000000\nsimulation:\n  days: 3650\n  warmup_days: 3650\n", "resident-days is more than"),
])
def test_bad_files_are_refused_with_one_line(text, fragment):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="f.yaml")
    assert fragment in str(err.value)
    assert str(err.value).startswith("f.yaml: ")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


def test_overrides_return_a_new_validated_scenario_and_leave_the_original_alone():
    base = Scenario()
    weekly = base.with_overrides({"team.mdt_frequency": "monthly", "population.groups.general.admission_rate": 0.1})
    assert weekly.team.mdt_frequency == "monthly"
    assert weekly.population.groups.general.admission_rate == 0.1
    assert base.team.mdt_frequency == "weekly"
    with pytest.raises(Exception):
        base.team.mdt_frequency = "none"  # frozen


def test_yaml_round_trip_is_exact():
    scenario = load_scenario("scenarios/checklist_full.yaml")
    again = parse_scenario(scenario.to_yaml())
    assert again == scenario
    assert again.hash() == scenario.hash()
    assert scenario.hash() != Scenario().hash()


def test_every_field_documents_unit_range_and_source():
    def walk(model, prefix=""):
        for name, info in model.model_fields.items():
            annotation = info.annotation
            options = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
            sub = next((a for a in options if hasattr(a, "model_fields")), None)
            if sub is not None:
                yield from walk(sub, f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}", info

    fields = [(k, i) for k, i in walk(Scenario) if k not in ("name", "description")]
    assert len(fields) > 80
    for key, info in fields:
        extra = info.json_schema_extra or {}
        assert info.description, key
        assert extra.get("unit") and extra.get("source"), key
        assert allowed_text(key), key


def test_checklist_covers_thirteen_factors_with_real_keys():
    assert len(CHECKLIST) == 13
    for keys in CHECKLIST.values():
        for key in keys:
            assert field_info(key) is not None, key


def test_counterfactual_switches_integration_off_and_keeps_residents_and_staff():
    base = load_scenario("scenarios/baseline.yaml")
    cf = counterfactual(base)
    assert cf.population == base.population
    assert cf.team.staff.community_nurse == base.team.staff.community_nurse
    assert cf.team.staff.care_navigator == 0
    for key, value in FRAGMENTED_TEAM.items():
        node = cf
        for part in key.split("."):
            node = getattr(node, part)
        assert node == value, key
    held = base.with_overrides({"counterfactual.staff.community_nurse": 5})
    assert counterfactual(held).team.staff.community_nurse == 5


def test_yaml_numbers_that_are_strings_in_yaml_are_refused():
    data = yaml.safe_load("population:\n  size: 1e9\n")
    with pytest.raises(ScenarioError, match="population.size"):
        Scenario.from_dict(data, source="x.yaml")


def test_parameters_doc_is_generated_from_the_schema():
    """docs/parameters.md changes only through `python -m int_sim.parameters_doc`."""
    from int_sim.parameters_doc import parameters_markdown

    committed = Path("docs/parameters.md").read_text(encoding="utf-8")
    assert committed == parameters_markdown(), "run: python -m int_sim.parameters_doc > docs/parameters.md"
    assert "illustrative" in committed

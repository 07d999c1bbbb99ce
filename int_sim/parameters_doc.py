"""Generate docs/parameters.md from the scenario schema, so the documentation cannot drift.

Run ``python -m int_sim.parameters_doc > docs/parameters.md`` after changing a default; a test
fails while the committed file differs from what this prints.
"""

from __future__ import annotations

from typing import Any, Iterator

from pydantic import BaseModel

from .scenario import GROUPS, Scenario, allowed_text

HEADER = """# Parameters: every default, its unit, range and source

Generated from `int_sim/scenario.py` by `python -m int_sim.parameters_doc`; do not edit by hand.

**All defaults are illustrative.** They are set from published figures where there are any
(see ../shared/EVIDENCE.md) and otherwise from stated assumptions, so that the model behaves
plausibly; they are not calibrated to any one place. Enter your own base rates and staffing, and
use the sensitivity analysis to see which assumptions drive an answer. The mechanisms that use
each parameter are described in docs/ODD.md, which also lists the fixed coefficients inside
formulas (section 11) that are not yet scenario parameters.

## Base rates by patient group

Base rates are the rates under today's services without an INT: the no-INT counterfactual
reproduces them exactly in expectation (docs/ODD.md, calibration). Defaults:

| group | admissions per resident-year | crises per resident-year | deteriorations per resident-year | basis |
|---|---|---|---|---|
"""

GROUP_BASIS = {
    "frail_mild": "fit over-65s about 0.11 admissions a year x hazard ratio 1.93 (Clegg et al., Age Ageing 2016)",
    "frail_moderate": "0.11 x hazard ratio 3.04 (Clegg et al. 2016)",
    "frail_severe": "0.11 x hazard ratio 4.73 (Clegg et al. 2016)",
    "severe_mental_illness": "assumption: about twice the multimorbidity rate; crisis rate high (crisis team contacts)",
    "multimorbidity": "assumption: about twice the general rate",
    "anxiety_isolation": "assumption: slightly above general; crisis presentations high",
    "general": "derived so that the overall rate is about 90 per 1,000 a year (EVIDENCE.md: 90-95)",
}


def _leaves(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        options = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        section = next((a for a in options if issubclass(a, BaseModel)), None)
        if section is not None and info.default is None:
            yield f"{prefix}{name}", info  # an optional section, empty by default
        elif section is not None:
            if prefix == "population." and name == "groups":
                continue  # the group table above
            yield from _leaves(section, f"{prefix}{name}.")
        elif prefix:
            yield f"{prefix}{name}", info


def _default(scenario: Scenario, dotted: str) -> Any:
    node: Any = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    if node is None:
        return "empty"
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def parameters_markdown() -> str:
    default = Scenario()
    lines = [HEADER.rstrip("\n")]
    for group in GROUPS:
        rates = getattr(default.population.groups, group)
        lines.append(f"| {group} | {rates.admission_rate:g} | {rates.crisis_rate:g} | {rates.deterioration_rate:g} "
                     f"| {GROUP_BASIS[group]} |")
    lines.append("")
    lines.append("Each group's three rates accept " + allowed_text("population.groups.general.admission_rate")
                 + " (admissions), " + allowed_text("population.groups.general.crisis_rate") + " (crises) and "
                 + allowed_text("population.groups.general.deterioration_rate") + " (deteriorations).")
    section = None
    for dotted, info in _leaves(Scenario):
        top = dotted.split(".")[0]
        if top != section:
            section = top
            model = Scenario.model_fields[top].annotation
            lines += ["", f"## `{top}`: {(model.__doc__ or '').strip().splitlines()[0]}", "",
                      "| key | default | allowed | description | source |", "|---|---|---|---|---|"]
        extra = info.json_schema_extra or {}
        description = (info.description or "").replace("|", "/")
        lines.append(f"| `{dotted}` | {_default(default, dotted)} | {allowed_text(dotted)} | {description} "
                     f"| {extra.get('source', '')} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(parameters_markdown(), end="")

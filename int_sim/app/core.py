"""What the app's pages need that does not touch Streamlit.

Presets and lessons are read only from the project's ``scenarios/`` folder, by name: the app
never opens a path a user typed, and a file in that folder that resolves elsewhere (a symbolic
link out of it) is neither listed nor read (:func:`inside_folder`). Uploads are checked like the
CLI's files (:func:`parse_upload`: size, encoding, NUL bytes, then the same YAML parser, which
refuses aliases and deep nesting, and the same schema). Widget ranges, help text, units and sources all come from the
scenario schema (:func:`int_sim.scenario.field_info`), so the app cannot drift from the model.
Every scenario the app runs goes through :meth:`Scenario.with_overrides` or
:func:`parse_scenario`, so it is validated exactly like a file. An uploaded sweep store is
written to a private temporary file, vetted so that reading it cannot reach any other file (a
DuckDB view can call ``read_text``), read with :func:`int_sim.report.read_store` and deleted
(:func:`read_uploaded_store`); the explorer's grid and cell tables are built from that snapshot
by :func:`stored_sweep`, :func:`store_grid` and :func:`cell_detail`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import yaml

from ..metrics import HEADLINE, METRICS
from .. import scenario as _scenario_module
from ..scenario import (CHECKLIST, ROLES, Scenario, ScenarioError, allowed_text, field_info,
                        load_scenario, parse_override)

_safe_yaml = getattr(_scenario_module, "safe_yaml", yaml.safe_load)
"""The scenario loader's YAML parser (safe types, no aliases) when it has one."""

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIO_DIR = PROJECT_ROOT / "scenarios"
TEACHING_DIR = SCENARIO_DIR / "teaching"
MAX_UPLOAD_BYTES = 200_000
"""A scenario is a few kilobytes; anything much larger is not one."""

ILLUSTRATIVE_NOTE = ("Defaults are illustrative, not calibrated to any place. Every default and its source "
                     "is listed in docs/parameters.md; treat results as a way to think through trade-offs, "
                     "not as forecasts.")


# --- presets -----------------------------------------------------------------------------------

def inside_folder(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a regular file that really lies in ``folder`` once every symbolic link
    and ``..`` is resolved (so a link in scenarios/ to /etc/passwd does not count)."""
    try:
        resolved = Path(path).resolve(strict=True)
        return resolved.is_file() and resolved.is_relative_to(Path(folder).resolve(strict=True))
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return False


def preset_paths() -> dict[str, Path]:
    """Preset name (file stem) -> path, for the YAML files directly in ``scenarios/`` (and only
    those that resolve inside it)."""
    if not SCENARIO_DIR.is_dir():
        return {}
    return {path.stem: path for path in sorted(SCENARIO_DIR.glob("*.yaml")) if inside_folder(path, SCENARIO_DIR)}


def read_project_text(path: Path, folder: Path, *, source: str) -> str:
    """Text of a file the app ships (a lesson), read only if it lies inside ``folder``, with the
    limits of an upload (size, UTF-8, no NUL bytes)."""
    if not inside_folder(path, folder):
        raise ScenarioError(f"{source}: refused: it is not a file inside {folder.name}/ (a link out of the folder?)",
                            source=source)
    with Path(path).open("rb") as handle:
        raw = handle.read(MAX_UPLOAD_BYTES + 1)
    return _checked_text(raw, source)


def display_name(filename: str) -> str:
    """An uploaded file's name as shown in the app: its last path part, printable characters
    only, at most 80 of them (the name comes from the user's browser)."""
    name = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in "`*[]<>|$")
    return (name[:77] + "...") if len(name) > 80 else (name or "upload")


def _checked_text(raw: bytes, source: str) -> str:
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ScenarioError(f"{source}: {len(raw):,} bytes or more is too large for a scenario file "
                            f"(at most {MAX_UPLOAD_BYTES:,}); a scenario is a few kilobytes of YAML", source=source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{source}: not a UTF-8 text file (byte {err.start} is not UTF-8); a scenario is YAML text",
                            source=source) from None
    if "\x00" in text:
        raise ScenarioError(f"{source}: not a text file (it contains NUL bytes); a scenario is YAML text",
                            source=source)
    return text


def load_preset(name: str) -> Scenario:
    """Load a preset by name; only names listed by :func:`preset_paths` are accepted."""
    paths = preset_paths()
    if name not in paths:
        raise ScenarioError(f"unknown preset '{name}'; choose one of {', '.join(paths) or '(none found)'}")
    return load_scenario(paths[name])


def parse_upload(data: bytes, filename: str) -> Scenario:
    """Validate an uploaded YAML scenario like the CLI's :func:`int_sim.load_scenario`: size,
    UTF-8, no NUL bytes, then the same parser and schema. ScenarioError (one line) on any problem."""
    filename = display_name(filename)
    text = _checked_text(bytes(data), filename)
    from .. import parse_scenario  # the public API
    return parse_scenario(text, source=filename)


# --- run sizes ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSize:
    """How big a run is: a population cap (staff scaled in proportion) and a horizon."""

    key: str
    label: str
    max_size: int | None
    days: int | None
    warmup_days: int | None
    explanation: str


RUN_SIZES: dict[str, RunSize] = {
    "quick": RunSize(
        "quick", "Quick (10,000 residents, 1 year)", 10_000, 365, None,
        "Quick run: a population above 10,000 is scaled down to 10,000 residents, with every role's staff and the "
        "number of GP practices scaled in the same proportion, and 365 measured days after the warm-up. Rates per "
        "1,000 residents stay comparable, but effects of team size itself (links between colleagues, cover for "
        "absence) are those of the smaller team. Choose full size for figures you intend to quote."),
    "full": RunSize(
        "full", "Full size (as configured)", None, None, None,
        "Full size: each configuration runs exactly as configured. A 50,000-resident year takes several seconds "
        "per replication and configuration."),
    "tiny": RunSize(
        "tiny", "Tiny (2,000 residents, 60 days; for checking the app)", 2_000, 60, 20,
        "Tiny run for checking that the app works: 2,000 residents, 60 measured days after a 20-day warm-up. "
        "Results are too noisy to interpret."),
}
USER_RUN_SIZES = ("quick", "full")


def scale_to_size(scenario: Scenario, size: int) -> Scenario:
    """The scenario with ``size`` residents and staff and GP practices scaled in proportion."""
    factor = size / scenario.population.size
    overrides: dict[str, Any] = {
        "population.size": int(size),
        "population.gp_practices": max(1, int(round(scenario.population.gp_practices * factor))),
    }
    for role in ROLES:
        overrides[f"team.staff.{role}"] = round(getattr(scenario.team.staff, role) * factor, 3)
    if scenario.counterfactual.staff is not None:
        for role in ROLES:
            overrides[f"counterfactual.staff.{role}"] = round(getattr(scenario.counterfactual.staff, role) * factor, 3)
    return scenario.with_overrides(overrides, source=f"{scenario.name} (scaled to {size:,} residents)")


def apply_run_size(scenario: Scenario, run_size: RunSize) -> Scenario:
    """The scenario as it will be run under ``run_size`` (itself for a full-size run)."""
    if run_size.max_size is not None and scenario.population.size > run_size.max_size:
        scenario = scale_to_size(scenario, run_size.max_size)
    horizon: dict[str, Any] = {}
    if run_size.days is not None:
        horizon["simulation.days"] = run_size.days
    if run_size.warmup_days is not None:
        horizon["simulation.warmup_days"] = run_size.warmup_days
    return scenario.with_overrides(horizon, source=scenario.name) if horizon else scenario


SECONDS_PER_RUN = 0.08
SECONDS_PER_RESIDENT_DAY = 1.15e-8
"""Rough cost of one model run: a fixed part (the team, its trust and the daily bookkeeping) and a
part per resident-day (benchmarks/README.md, 3 Dec 2026: about 0.15 s for 10,000 residents,
0.34 s for 50,000 and 6.7 s for 1,000,000 over 545 days, on one core)."""


def estimate_seconds(scenarios: Iterable[Scenario], replications: int, workers: int = 1) -> float:
    """Rough wall time of a comparison: each configuration plus each distinct no-INT
    counterfactual (configurations that share one share its run, as in :func:`int_sim.compare`)."""
    from ..scenario import counterfactual
    runs: dict[str, Scenario] = {}
    for sc in scenarios:
        reference = counterfactual(sc)
        runs.setdefault(reference.hash(), reference)
        if reference.model_dump(exclude={"name"}) != sc.model_dump(exclude={"name"}):
            runs.setdefault(sc.hash(), sc)
    seconds = sum(SECONDS_PER_RUN + SECONDS_PER_RESIDENT_DAY * sc.population.size
                  * (sc.simulation.days + sc.simulation.warmup_days) for sc in runs.values())
    return seconds * replications / max(1, min(workers, replications))


# --- levers ------------------------------------------------------------------------------------

SIZE_AND_REACH = "Size and reach"
"""Not one of the checklist's factors, but the review's open question: how big, how wide."""

LEVER_LABELS = {
    "population.size": "Residents covered",
    "population.gp_practices": "GP practices",
    "team.shared_vision": "Shared vision",
    "team.leadership": "Leadership",
    "team.co_location": "Co-location",
    "team.joint_training": "Joint training and shared learning",
    "team.role_clarity": "Role clarity",
    "team.patient_involvement": "Patient and public involvement",
    "team.gp_in_mdt": "GP attends the MDT",
    "team.funding_level": "Share of posts funded",
    "team.funding_stability": "Funding",
    "team.pooled_budget": "Pooled budget",
    "team.mdt_frequency": "MDT meetings",
    "team.mdt_minutes": "Protected MDT time",
    "team.mdt_attendance": "MDT attendance",
    "team.it_interoperability": "Shared records (IT interoperability)",
    "team.information_sharing": "Information-sharing agreement",
    "care.intervention_effect": "Effect of a completed joint plan",
    "workforce.stranger_trust": "Starting trust between colleagues",
}
for _role in ROLES:
    LEVER_LABELS[f"team.staff.{_role}"] = {
        "gp": "GPs", "community_nurse": "Community nurses", "therapist": "Therapists",
        "social_worker": "Social workers", "mental_health": "Mental health practitioners",
        "social_prescriber": "Social prescribers", "housing_officer": "Housing officers",
        "care_navigator": "Care navigators",
    }[_role] + " (WTE)"


@dataclass(frozen=True)
class LeverSpec:
    """How to show one scenario field as a widget, read from the schema."""

    key: str
    label: str
    kind: str  # "select", "bool", "slider", "int", "float"
    help: str
    choices: tuple = ()
    min: float | None = None
    max: float | None = None
    step: float | None = None


def _limits(info) -> tuple[float | None, float | None]:
    low = high = None
    for meta in info.metadata:
        for name in ("ge", "gt"):
            if getattr(meta, name, None) is not None:
                low = getattr(meta, name)
        for name in ("le", "lt"):
            if getattr(meta, name, None) is not None:
                high = getattr(meta, name)
    return low, high


def help_text(key: str) -> str:
    """The schema's description, unit, allowed values and source of a field, for a tooltip."""
    info = field_info(key)
    if info is None:
        return ""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    parts = [info.description or ""]
    if extra.get("unit"):
        parts.append(f"Unit: {extra['unit']}.")
    allowed = allowed_text(key)
    if allowed:
        parts.append(f"Allowed: {allowed}.")
    if extra.get("source"):
        parts.append(f"Source: {extra['source']}.")
    parts.append(f"Scenario key: `{key}`.")
    return "\n\n".join(p for p in parts if p)


def lever_unit(key: str) -> str:
    """The schema's unit of a field ('' if it has none)."""
    info = field_info(key)
    extra = info.json_schema_extra if info is not None and isinstance(info.json_schema_extra, dict) else {}
    return str(extra.get("unit", ""))


def lever_spec(key: str) -> LeverSpec:
    """Widget specification of a leaf field of the scenario."""
    info = field_info(key)
    if info is None:
        raise KeyError(f"{key} is not a scenario field")
    label = LEVER_LABELS.get(key, key.rsplit(".", 1)[-1].replace("_", " ").capitalize())
    help_ = help_text(key)
    annotation = info.annotation
    choices = getattr(annotation, "__args__", None)
    if choices and all(isinstance(c, str) for c in choices):
        return LeverSpec(key, label, "select", help_, tuple(dict.fromkeys(choices)))
    if annotation is bool:
        return LeverSpec(key, label, "bool", help_)
    low, high = _limits(info)
    if annotation is int:
        span = (high or 0) - (low or 0)
        step = 1000 if span >= 100_000 else 1
        return LeverSpec(key, label, "int", help_, min=low, max=high, step=step)
    if low == 0 and high == 1:
        return LeverSpec(key, label, "slider", help_, min=0.0, max=1.0, step=0.05)
    step = 15.0 if key.endswith("minutes") else 0.5 if key.startswith(("team.staff.", "counterfactual.staff.")) else 0.05
    return LeverSpec(key, label, "float", help_, min=float(low) if low is not None else None,
                     max=float(high) if high is not None else None, step=step)


def _leaves(key: str) -> list[str]:
    """A dotted key, or the leaf keys under it if it names a section (``team.staff``)."""
    if key == "team.staff":
        return [f"team.staff.{role}" for role in ROLES]
    return [key]


EXTRA_LEVERS = {"Good working relationships": ["workforce.stranger_trust"]}
"""Levers shown under a factor beyond CHECKLIST's keys (relationships also emerge from other factors)."""

MODEL_ASSUMPTIONS = "Care model (assumption)"
ASSUMPTION_LEVERS = ["care.intervention_effect"]


def lever_groups() -> list[tuple[str, list[str], list[str]]]:
    """(group, keys shown under it, keys it shares with another factor), in checklist order.

    Each key gets one widget, under the most specific factor that names it (the one naming the
    fewest keys), so co-location sits under "Co-located teams" and is listed as shared under
    "Good working relationships". Roles named by a factor of their own (GPs, care navigators)
    are shown there rather than under capacity. The first group is size and reach, the last the
    main assumption about what care achieves.
    """
    specific = {k for keys in CHECKLIST.values() for k in keys if k.startswith("team.staff.")}
    named: dict[str, list[str]] = {}
    for factor, keys in CHECKLIST.items():
        leaves = []
        for key in keys:
            leaves += [leaf for leaf in _leaves(key) if not (key == "team.staff" and leaf in specific)]
        named[factor] = [leaf for leaf in dict.fromkeys(leaves + EXTRA_LEVERS.get(factor, []))
                         if field_info(leaf) is not None]
    home: dict[str, str] = {}
    for factor, leaves in named.items():
        for leaf in leaves:
            if leaf not in home or len(leaves) < len(named[home[leaf]]):
                home[leaf] = factor
    groups = [(SIZE_AND_REACH, ["population.size", "population.gp_practices"], [])]
    for factor, leaves in named.items():
        groups.append((factor, [k for k in leaves if home[k] == factor], [k for k in leaves if home[k] != factor]))
    groups.append((MODEL_ASSUMPTIONS, [k for k in ASSUMPTION_LEVERS if field_info(k) is not None], []))
    return groups


def get_value(scenario: Scenario, key: str) -> Any:
    """The value of a dotted key in a scenario."""
    node: Any = scenario
    for part in key.split("."):
        node = getattr(node, part)
    return node


def parse_extra_overrides(text: str, *, source: str) -> dict[str, Any]:
    """``key = value`` lines (blank lines and ``#`` comments ignored) into overrides; ScenarioError on bad lines."""
    overrides: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        key, value = parse_override(stripped, source=f"{source}, line {number}")
        if field_info(key) is None:
            raise ScenarioError(f"{source}, line {number}: '{key}' is not a scenario setting "
                                f"(use dotted keys such as care.intervention_effect)", field=key, source=source)
        overrides[key] = value
    return overrides


# --- results -----------------------------------------------------------------------------------

def _decimals(size: float) -> int:
    """Decimals that give about three significant figures for numbers of this size."""
    return 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def fmt_number(value: Any, decimals: int | None = None) -> str:
    """A readable number: about three significant figures, thousands separated, dash for missing."""
    value = _finite(value)
    if value is None:
        return "–"
    if decimals is None:
        decimals = _decimals(abs(value))
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0:
        text = text[1:]  # no "minus zero"
    return text.replace("-", "−")


def fmt_interval(mean: Any, low: Any, high: Any) -> str:
    """``mean (low to high)`` with one precision for all three (set by the largest), or the mean
    alone when the interval is undefined."""
    values = [_finite(v) for v in (mean, low, high)]
    if values[0] is None:
        return "–"
    if values[1] is None or values[2] is None:
        return fmt_number(values[0])
    decimals = _decimals(max(abs(v) for v in values))
    mean_, low_, high_ = (fmt_number(v, decimals) for v in values)
    return f"{mean_} ({low_} to {high_})"


def verdict(metric: str, low: float, high: float) -> str:
    """Plain-words reading of a paired difference's interval."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    better = METRICS[metric].better if metric in METRICS else "neither"
    if low <= 0 <= high:
        return "no clear difference"
    direction = "higher" if low > 0 else "lower"
    if better == "neither":
        return direction
    return "better" if direction == better else "worse"


def ordered_metrics(present: Iterable[str], *, all_metrics: bool = False) -> list[str]:
    """Headline metrics first, then (if asked) the rest in declaration order, then unknown names."""
    present = list(dict.fromkeys(present))
    head = [m for m in HEADLINE if m in present]
    if not all_metrics:
        return head
    rest = [m for m in METRICS if m in present and m not in head]
    unknown = sorted(m for m in present if m not in METRICS)
    return head + rest + unknown


def results_table(summary: pd.DataFrame, differences: pd.DataFrame, configurations: list[str], *,
                  all_metrics: bool = False) -> pd.DataFrame:
    """One row per metric: label, unit, each configuration's mean (95% interval), and each
    later configuration's paired difference against the first with a plain-words verdict."""
    first = configurations[0]
    metrics = ordered_metrics(summary["metric"], all_metrics=all_metrics)
    means = summary.set_index(["configuration", "metric"])
    diffs = differences.set_index(["configuration", "metric"]) if not differences.empty else None
    rows = []
    for metric in metrics:
        info = METRICS.get(metric)
        row = {"Metric": info.label if info else metric, "Unit": info.unit if info else ""}
        for name in configurations:
            if (name, metric) in means.index:
                r = means.loc[(name, metric)]
                row[name] = fmt_interval(r["mean"], r["ci_low"], r["ci_high"])
            else:
                row[name] = "–"
        for name in configurations[1:]:
            column = f"{name} − {first}"
            if diffs is not None and (name, metric) in diffs.index:
                r = diffs.loc[(name, metric)]
                text = fmt_interval(r["mean_diff"], r["ci_low"], r["ci_high"])
                word = verdict(metric, float(r["ci_low"]), float(r["ci_high"]))
                row[column] = f"{text} {word}".strip()
            else:
                row[column] = "–"
        rows.append(row)
    return pd.DataFrame(rows)


def results_csv(summary: pd.DataFrame, differences: pd.DataFrame, provenance: dict, *, run_size: str) -> str:
    """Tidy CSV of means and paired differences, every row with its provenance.

    Columns: kind (mean or difference), configuration, reference, metric, label, unit, mean,
    ci_low, ci_high, n, int_sim_version, seed, replications, precision (the target when the
    replications were chosen by one, else empty), scenario_hash, run_size.
    """
    configurations = list(provenance["scenario_hash"])
    first = configurations[0] if configurations else ""
    a = summary.assign(kind="mean", reference="")
    b = differences.rename(columns={"mean_diff": "mean"}).assign(kind="difference", reference=first)
    frame = pd.concat([a, b], ignore_index=True)
    frame["label"] = frame["metric"].map(lambda m: METRICS[m].label if m in METRICS else m)
    frame["unit"] = frame["metric"].map(lambda m: METRICS[m].unit if m in METRICS else "")
    frame = frame.assign(int_sim_version=provenance["int_sim_version"], seed=provenance["seed"],
                         replications=provenance["replications"], precision=provenance.get("precision"),
                         scenario_hash=frame["configuration"].map(provenance["scenario_hash"]),
                         run_size=run_size)
    columns = ["kind", "configuration", "reference", "metric", "label", "unit", "mean", "ci_low", "ci_high", "n",
               "int_sim_version", "seed", "replications", "precision", "scenario_hash", "run_size"]
    return frame[columns].to_csv(index=False)


def provenance_line(provenance: dict) -> str:
    hashes = ", ".join(f"{name}: {h}" for name, h in provenance["scenario_hash"].items())
    target = provenance.get("precision")
    chosen = f" (chosen for a target precision of ±{target:.0%})" if isinstance(target, (int, float)) else ""
    return (f"int-sim {provenance['int_sim_version']}, seed {provenance['seed']}, "
            f"{provenance['replications']} replications{chosen}; scenario hashes {hashes}")


def yaml_with_provenance(scenario: Scenario, provenance: dict | None = None) -> str:
    """A scenario's YAML for download, headed by comments naming the int-sim version and the
    scenario's hash (and, for a scenario as run, the seed and replications). Comments do not
    change what the file loads as, so its hash is the same when it is read back."""
    from .. import __version__
    lines = [f"# Written by int-sim {__version__}; scenario hash {scenario.hash()}."]
    if provenance is not None:
        lines.append(f"# Run with seed {provenance['seed']} and {provenance['replications']} replications "
                     f"(int-sim {provenance['int_sim_version']}).")
    return "\n".join(lines) + "\n" + scenario.to_yaml()


def precision_text(info: dict, replications: int) -> str:
    """Plain words for the outcome of replications chosen by a target precision
    (``ComparisonResult.precision``: target, reached, precise_from, max_replications, worst metric)."""
    target = float(info.get("target", float("nan")))
    worst = str(info.get("worst_metric") or "")
    metric = worst.rsplit("/", 1)[-1]
    where = worst.rsplit("/", 1)[0] if "/" in worst else ""
    label = METRICS[metric].label if metric in METRICS else metric
    label = f"{label} ({where})" if where else label
    width = info.get("worst_relative_half_width")
    width_text = f"±{width:.1%}" if isinstance(width, (int, float)) and math.isfinite(width) else "undefined"
    if info.get("reached"):
        precise_from = info.get("precise_from")
        held = (f": precise from {precise_from}, confirmed over the next {replications - precise_from}"
                if isinstance(precise_from, int) and precise_from < replications else "")
        return (f"Replications chosen by precision: {replications}{held}. Every headline metric's 95% interval is "
                f"within ±{target:.0%} of its mean (the widest, {label}, is {width_text}).")
    return (f"The target precision of ±{target:.0%} was not reached within the cap of "
            f"{info.get('max_replications', replications)} replications: the widest interval, {label}, is "
            f"{width_text} of its mean. Results use the {replications} replications run; raise the cap, loosen the "
            "target, or run full size (a metric near zero may never reach a relative precision).")


def unique_name(name: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    if name not in taken:
        return name
    k = 2
    while f"{name} ({k})" in taken:
        k += 1
    return f"{name} ({k})"


# --- the checklist as a questionnaire ----------------------------------------------------------

@dataclass(frozen=True)
class Option:
    label: str
    overrides: dict


@dataclass(frozen=True)
class Question:
    """One question per checklist factor; options from worst to best, the last is 'at its best'."""

    factor: str
    text: str
    options: tuple[Option, ...]
    default: int
    note: str = ""
    per_50k: tuple[str, ...] = ()
    """Keys whose values are headcounts per 50,000 residents, scaled to the neighbourhood's size."""


def _three(key: str, low: float, mid: float, high: float, labels=("No", "Partly", "Yes")) -> tuple[Option, ...]:
    return (Option(labels[0], {key: low}), Option(labels[1], {key: mid}), Option(labels[2], {key: high}))


QUESTIONS: tuple[Question, ...] = (
    Question("Clear vision and purpose",
             "Is there a clear vision of what integration is for, co-developed with and communicated to all partners?",
             _three("team.shared_vision", 0.2, 0.5, 0.9), 1),
    Question("Strong leadership",
             "Is leadership flexible, innovative, enabling and supportive?",
             _three("team.leadership", 0.2, 0.5, 0.9), 1),
    Question("Good working relationships",
             "Do professionals across organisations already trust and respect each other, in relationships that last?",
             _three("workforce.stranger_trust", 0.15, 0.3, 0.6), 1,
             note="In the model, trust also grows with contact, which vision, leadership, co-location and joint "
                  "training speed up; this answer sets the trust colleagues start with "
                  "(workforce.stranger_trust)."),
    Question("Clear professional identities and boundaries",
             "Are roles, responsibilities and decision-making authority clear between professionals?",
             _three("team.role_clarity", 0.2, 0.5, 0.9), 1),
    Question("Involving service users, patients and the public",
             "Are residents involved in designing and delivering services and in decisions about their care?",
             _three("team.patient_involvement", 0.1, 0.4, 0.8), 1),
    Question("Involving primary care and GPs",
             "Does a GP attend the MDT meetings?",
             (Option("No", {"team.gp_in_mdt": False}), Option("Yes", {"team.gp_in_mdt": True})), 1),
    Question("Adequate and sustained resources and capacity",
             "Are the team's posts funded and filled (staff capacity, capability, retention)?",
             _three("team.funding_level", 0.7, 0.85, 1.0,
                    labels=("No (about 70% of posts funded)", "Partly (about 85%)", "Yes (all posts)")), 2),
    Question("Sustained funding and suitable financial mechanisms",
             "Is the team's funding recurrent, and is there a pooled budget across organisations?",
             (Option("Short-term funding", {"team.funding_stability": "short_term", "team.pooled_budget": False}),
              Option("Recurrent, separate budgets", {"team.funding_stability": "recurrent", "team.pooled_budget": False}),
              Option("Recurrent, pooled budget", {"team.funding_stability": "recurrent", "team.pooled_budget": True})), 1),
    Question("Professional development and shared learning",
             "Do staff from different organisations train and learn together, with time set aside for it?",
             (Option("No", {"team.joint_training": False}), Option("Yes", {"team.joint_training": True})), 0),
    Question("Multidisciplinary teams",
             "How often does the MDT meet, with protected time and consistent attendance?",
             (Option("No regular MDT", {"team.mdt_frequency": "none"}),
              Option("Monthly, patchy attendance", {"team.mdt_frequency": "monthly", "team.mdt_minutes": 60,
                                                    "team.mdt_attendance": 0.5}),
              Option("Fortnightly, mostly attended", {"team.mdt_frequency": "fortnightly", "team.mdt_minutes": 90,
                                                      "team.mdt_attendance": 0.75}),
              Option("Weekly, protected time, consistent attendance",
                     {"team.mdt_frequency": "weekly", "team.mdt_minutes": 120, "team.mdt_attendance": 0.95})), 2),
    Question("Co-located teams",
             "Does the team work from one place?",
             (Option("No", {"team.co_location": "none"}), Option("Partly (some days, some roles)", {"team.co_location": "partial"}),
              Option("Yes, fully", {"team.co_location": "full"})), 1),
    Question("Appointed care navigators and case managers",
             "Are there care navigators or case managers who attend the MDT and follow plans through?",
             (Option("No", {"team.staff.care_navigator": 0}),
              Option("Some (about 1.5 WTE per 50,000 residents)", {"team.staff.care_navigator": 1.5}),
              Option("Yes (about 4 WTE per 50,000 residents)", {"team.staff.care_navigator": 4})), 1,
             per_50k=("team.staff.care_navigator",)),
    Question("Compatible IT systems and data sharing",
             "Do records flow between the partners' IT systems, under an information-sharing agreement?",
             (Option("No", {"team.it_interoperability": 0.0, "team.information_sharing": False}),
              Option("Partly (some shared records, agreement in place)",
                     {"team.it_interoperability": 0.4, "team.information_sharing": True}),
              Option("Yes (one shared record)", {"team.it_interoperability": 0.9, "team.information_sharing": True})), 1),
)
assert [q.factor for q in QUESTIONS] == list(CHECKLIST), "one question per checklist factor, in checklist order"

NEIGHBOURHOOD_KEYS = ["population.size", "population.gp_practices"] + [
    f"team.staff.{role}" for role in ROLES if role != "care_navigator"]
"""What the assessment asks about the neighbourhood itself (care navigators come from factor 12)."""


def answer_overrides(answers: dict[str, str], population_size: int) -> dict[str, Any]:
    """Overrides for questionnaire answers (factor -> option label); unanswered factors use their default."""
    overrides: dict[str, Any] = {}
    for q in QUESTIONS:
        labels = [o.label for o in q.options]
        label = answers.get(q.factor, labels[q.default])
        option = q.options[labels.index(label)] if label in labels else q.options[q.default]
        for key, value in option.overrides.items():
            if key in q.per_50k:
                value = round(value * population_size / 50_000, 2)
            overrides[key] = value
    return overrides


def assessment_scenario(base: Scenario, answers: dict[str, str], neighbourhood: dict[str, Any],
                        name: str = "Your INT") -> Scenario:
    """The scenario the answers describe: ``base`` plus neighbourhood values plus answers."""
    size = int(neighbourhood.get("population.size", base.population.size))
    overrides = {"name": name, "description": "Built from the checklist questionnaire.", **neighbourhood,
                 **answer_overrides(answers, size)}
    return base.with_overrides(overrides, source="your answers")


def best_answer(question: Question) -> str:
    return question.options[-1].label


def improvement_variants(base: Scenario, answers: dict[str, str], neighbourhood: dict[str, Any],
                         ) -> tuple[dict[str, Scenario], dict[str, str]]:
    """Your INT, one variant per factor not yet at its best, and all factors at their best.

    Returns the configurations (yours first) and a map from configuration name to the factor it
    improves (empty for yours; "all" for all at best).
    """
    configurations = {"Your INT": assessment_scenario(base, answers, neighbourhood)}
    improves: dict[str, str] = {"Your INT": ""}
    current = {q.factor: answers.get(q.factor, q.options[q.default].label) for q in QUESTIONS}
    for number, q in enumerate(QUESTIONS, start=1):
        if current[q.factor] == best_answer(q):
            continue
        name = f"{number}. {q.factor}"
        configurations[name] = assessment_scenario(base, {**current, q.factor: best_answer(q)}, neighbourhood, name=name)
        improves[name] = q.factor
    if len(configurations) > 2:
        best = {q.factor: best_answer(q) for q in QUESTIONS}
        configurations["All factors at their best"] = assessment_scenario(base, best, neighbourhood,
                                                                          name="All factors at their best")
        improves["All factors at their best"] = "all"
    return configurations, improves


def ranking_table(differences: pd.DataFrame, improves: dict[str, str],
                  metrics: tuple[str, ...] = ("admissions_avoided_per_1000", "days_to_action_median")) -> pd.DataFrame:
    """One row per single-factor improvement, best first by gain in admissions avoided."""
    rows = []
    table = differences.set_index(["configuration", "metric"])
    for name, factor in improves.items():
        if not factor or factor == "all":
            continue
        row: dict[str, Any] = {"Improvement": name}
        for metric in metrics:
            if (name, metric) in table.index:
                r = table.loc[(name, metric)]
                row[f"_{metric}"] = float(r["mean_diff"])
                row[f"{METRICS[metric].label} ({METRICS[metric].unit}), change"] = (
                    f"{fmt_interval(r['mean_diff'], r['ci_low'], r['ci_high'])} "
                    f"{verdict(metric, float(r['ci_low']), float(r['ci_high']))}").strip()
            else:
                row[f"_{metric}"] = float("nan")
                row[f"{METRICS[metric].label} ({METRICS[metric].unit}), change"] = "–"
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    key = f"_{metrics[0]}"
    frame = frame.sort_values(key, ascending=METRICS[metrics[0]].better == "lower", na_position="last")
    return frame.drop(columns=[c for c in frame.columns if c.startswith("_")]).reset_index(drop=True)


# --- lessons -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lesson:
    """A guided lesson: text plus a valid scenario and the levers the learner is invited to move."""

    key: str
    title: str
    narrative: str
    try_: str
    notice: str
    scenario: Scenario
    levers: tuple[str, ...] = field(default_factory=tuple)
    series: str = "awaiting_review"


LESSON_TEXT_KEYS = ("title", "narrative", "try", "notice")


def parse_lesson(text: str, *, source: str, key: str = "lesson") -> Lesson:
    """Validate a lesson file ``{lesson: {title, narrative, try, notice[, levers, series]}, scenario: {...}}``."""
    try:
        data = _safe_yaml(text)
    except yaml.YAMLError as err:
        raise ScenarioError(f"{source}: malformed YAML ({getattr(err, 'problem', None) or err})", source=source) from None
    except (RecursionError, ValueError):
        raise ScenarioError(f"{source}: YAML nested too deeply or with an unreadable value", source=source) from None
    if not isinstance(data, dict) or set(data) - {"lesson", "scenario"} or "lesson" not in data or "scenario" not in data:
        raise ScenarioError(f"{source}: a lesson file has exactly two top-level keys, lesson and scenario", source=source)
    lesson = data["lesson"]
    if not isinstance(lesson, dict):
        raise ScenarioError(f"{source}: lesson must be a mapping with {', '.join(LESSON_TEXT_KEYS)}", source=source)
    missing = [k for k in LESSON_TEXT_KEYS if not isinstance(lesson.get(k), str) or not lesson.get(k).strip()]
    if missing:
        raise ScenarioError(f"{source}: lesson.{missing[0]} is missing or not text", field=f"lesson.{missing[0]}", source=source)
    unknown = set(lesson) - set(LESSON_TEXT_KEYS) - {"levers", "series"}
    if unknown:
        raise ScenarioError(f"{source}: lesson.{sorted(unknown)[0]}: unknown key; allowed: "
                            f"{', '.join(LESSON_TEXT_KEYS)}, levers, series", source=source)
    levers = lesson.get("levers", []) or []
    if not isinstance(levers, list) or not all(isinstance(k, str) for k in levers):
        raise ScenarioError(f"{source}: lesson.levers must be a list of scenario keys", source=source)
    for lever in levers:
        if field_info(lever) is None or lever.count(".") < 1:
            raise ScenarioError(f"{source}: lesson.levers: '{lever}' is not a scenario setting", source=source)
    from ..metrics import DAILY_SERIES
    series = lesson.get("series", "awaiting_review")
    if series not in DAILY_SERIES:
        raise ScenarioError(f"{source}: lesson.series: '{series}' is not one of {', '.join(DAILY_SERIES)}", source=source)
    scenario = Scenario.from_dict(data["scenario"], source=f"{source} (scenario)")
    return Lesson(key=key, title=lesson["title"].strip(), narrative=lesson["narrative"].strip(),
                  try_=lesson["try"].strip(), notice=lesson["notice"].strip(), scenario=scenario,
                  levers=tuple(levers), series=series)


def load_lessons() -> tuple[list[Lesson], list[str]]:
    """All lessons in ``scenarios/teaching/``, sorted by file name, and messages for any invalid file."""
    lessons, problems = [], []
    if not TEACHING_DIR.is_dir():
        return lessons, problems
    for path in sorted(TEACHING_DIR.glob("*.yaml")):
        source = f"scenarios/teaching/{path.name}"
        try:
            lessons.append(parse_lesson(read_project_text(path, TEACHING_DIR, source=source), source=source,
                                        key=path.stem))
        except ScenarioError as err:
            problems.append(str(err))
        except OSError as err:
            problems.append(f"{source}: cannot be read ({err.strerror or err.__class__.__name__})")
    return lessons, problems


# --- size and reach grid -----------------------------------------------------------------------

def grid_name(multiplier: float, size: int) -> str:
    """Configuration name of one cell of the size-and-reach grid."""
    return f"staff x{multiplier:g}, {size:,} residents"


def size_grid(base: Scenario, multipliers: list[float], sizes: list[int]) -> dict[str, Scenario]:
    """One configuration per (team-size multiplier, population size).

    Staff scale with population (the base's staff per resident) and then by the multiplier; GP
    practices scale with population. The no-INT counterfactual keeps the base's staff per
    resident, so a bigger team is compared with today's services, not with itself.
    """
    out: dict[str, Scenario] = {}
    for size in sizes:
        at_size = scale_to_size(base, size)
        today = {f"counterfactual.staff.{role}": getattr(at_size.team.staff, role) for role in ROLES}
        for multiplier in multipliers:
            overrides = {f"team.staff.{role}": round(getattr(at_size.team.staff, role) * multiplier, 3) for role in ROLES}
            name = grid_name(multiplier, size)
            out[name] = at_size.with_overrides({**today, **overrides, "name": name}, source=name)
    return out


# --- sweep stores (the explorer's second mode) -------------------------------------------------

MAX_STORE_BYTES = 200 * 1024 * 1024
"""Largest store the app opens (Streamlit's own upload limit is the same by default)."""
MAX_STORE_VALUES = 2_000_000
"""Stored values the app summarises at most; a larger store is for ``int-sim report``."""
STORE_TABLES = ("meta", "sweeps", "configurations", "results", "done", "sensitivity_indices")
"""Every table :func:`int_sim.report.read_store` reads."""


def read_uploaded_store(data: bytes, filename: str):
    """Read an uploaded results store (:class:`int_sim.report.Snapshot`); StoreError if it is not one.

    The bytes go to a new file in a private temporary folder (mode 0700, made here, so no path
    the user gave is ever opened), are vetted (:func:`_vet_store_file`), read with
    :func:`int_sim.report.read_store` and deleted whatever happens. Messages name the upload, not
    the temporary file, and the snapshot's ``path`` is the upload's name.
    """
    import os
    import tempfile

    from ..report import read_store
    from ..store import StoreError
    name = display_name(filename)
    data = bytes(data)
    if not data:
        raise StoreError(f"{name}: an empty file (0 bytes), not an int-sim store; upload the .duckdb file "
                         "written by `int-sim sweep`")
    if len(data) > MAX_STORE_BYTES:
        raise StoreError(f"{name}: {len(data):,} bytes is too large to open in the app (at most "
                         f"{MAX_STORE_BYTES:,}); use `int-sim report` on the command line")
    with tempfile.TemporaryDirectory(prefix="int-sim-store-") as folder:
        path = Path(folder) / "store.duckdb"

        def named(text: str) -> str:
            return " ".join(text.replace(str(path), name).replace(str(folder), "(upload)").split())

        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        try:
            _vet_store_file(path, name)
            snapshot = read_store(path)
        except StoreError as err:
            raise StoreError(named(str(err))) from None
        except Exception as err:  # noqa: BLE001 - whatever DuckDB raises, the user sees one line
            raise StoreError(named(f"{name}: cannot be read as an int-sim store ({type(err).__name__}: "
                                   f"{str(err)[:200]})")) from None
    snapshot.path = Path(name)
    return snapshot


def _vet_store_file(path: Path, name: str) -> None:
    """Refuse a DuckDB file whose reading would reach outside it, before the store reads it.

    A DuckDB file can hold views (and generated columns) that call ``read_text('/etc/passwd')``
    when selected; issue 7 says no file outside scenarios/ is read through the app. So every
    table the store reads is read here first with DuckDB's file access switched off, and a file
    with views (a store has none) is refused. What DuckDB cannot open at all is left to the store
    itself, which says what the file is (empty, damaged, not DuckDB) in its own words.
    """
    import duckdb

    from ..store import Store, StoreError
    config = {"enable_external_access": False, "autoload_known_extensions": False,
              "autoinstall_known_extensions": False}
    duckdb.connect(":memory:", config=config).close()  # the settings themselves are valid
    try:
        con = duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error:
        Store(path)  # cannot connect either, so runs no query: raises the store's own message
        raise StoreError(f"{name}: DuckDB cannot open this file; it is not an int-sim store") from None
    try:
        views = con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal "
                            "AND database_name = current_database()").fetchone()[0]
        if views:
            raise StoreError(f"{name}: refused: the file defines views, which an int-sim store never has; "
                             "upload the .duckdb file written by `int-sim sweep`")
        for table in STORE_TABLES:
            try:
                if table == "results":
                    values = con.execute("SELECT count(*) FROM results").fetchone()[0]
                    if values > MAX_STORE_VALUES:
                        raise StoreError(f"{name}: {values:,} stored values are too many to open in the app "
                                         f"(at most {MAX_STORE_VALUES:,}); use `int-sim report` on the command line")
                con.execute(f'SELECT * FROM "{table}"').fetchall()
            except StoreError:
                raise
            except duckdb.Error as err:
                if isinstance(err, duckdb.PermissionException) or "disabled by configuration" in str(err):
                    raise StoreError(f"{name}: refused: reading table {table} would read other files; an int-sim "
                                     "store holds only its own data") from None
                # a missing table or a damaged file: the store's own check says which
    finally:
        con.close()


@dataclass(frozen=True)
class StoredSweep:
    """One sweep of a store as the explorer shows it."""

    name: str
    design: Any
    """:class:`int_sim.report.Design`: the design's name, the factors that vary, those held at one value."""
    configurations: pd.DataFrame
    """``configuration_id, scenario_hash, factors`` (a dict per configuration), in design order."""
    summary: pd.DataFrame
    """``configuration_id, metric, mean, ci_low, ci_high, n`` over the stored replications,
    including :data:`int_sim.report.DERIVED` metrics."""
    levels: dict[str, list]
    """Each varying factor's levels in design order (first appearance by configuration id)."""
    provenance: dict
    """``int_sim_version, seed, replications`` (planned), ``stored`` (replications done), ``created``."""


def level_key(value: Any) -> str:
    """A factor level as comparable text (JSON), so 1, 1.0 and true stay apart as they do in the store."""
    return json.dumps(value, sort_keys=True)


def stored_sweep(snapshot, sweep: str) -> StoredSweep:
    """One sweep of a :class:`int_sim.report.Snapshot`: its design, levels, summary and provenance."""
    from ..report import describe_design, summarise, with_derived
    rows = snapshot.sweeps[snapshot.sweeps["sweep"] == sweep]
    if rows.empty:
        raise KeyError(sweep)
    row = rows.iloc[0]
    configurations = (snapshot.configurations[snapshot.configurations["sweep"] == sweep]
                      .sort_values("configuration_id").reset_index(drop=True))
    if not all(isinstance(f, dict) for f in configurations["factors"]):
        from ..store import StoreError
        raise StoreError(f"{snapshot.path}: sweep '{sweep}' has configurations whose factors are not a mapping of "
                         "factor to level; it was not written by `int-sim sweep`")
    design = describe_design(row["spec_yaml"], configurations)
    levels: dict[str, list] = {}
    for key in design.varying:
        seen: dict[str, Any] = {}
        for factors in configurations["factors"]:
            if key in factors:
                seen.setdefault(level_key(factors[key]), factors[key])
        levels[key] = list(seen.values())
    results = snapshot.results[snapshot.results["sweep"] == sweep]
    summary = summarise(with_derived(results)) if not results.empty else pd.DataFrame(
        columns=["sweep", "configuration_id", "metric", "mean", "ci_low", "ci_high", "n"])
    provenance = {"int_sim_version": str(row["int_sim_version"]), "seed": int(row["seed"]),
                  "replications": int(row["replications"]), "stored": int(snapshot.done.get(sweep, 0)),
                  "configurations": len(configurations), "created": str(row["created"])[:19]}
    return StoredSweep(sweep, design, configurations[["configuration_id", "scenario_hash", "factors"]],
                       summary.drop(columns=["sweep"]), levels, provenance)


def store_provenance_line(sweep: StoredSweep) -> str:
    """The sweep's provenance in one line, saying when it is unfinished."""
    p = sweep.provenance
    planned = p["replications"] * p["configurations"]
    stored = (f"all {p['stored']:,} replications stored" if p["stored"] >= planned else
              f"{p['stored']:,} of {planned:,} replications stored so far (the sweep is unfinished)")
    return (f"Sweep '{sweep.name}' ({sweep.design.name} design, {p['configurations']} configurations): written by "
            f"int-sim {p['int_sim_version']}, seed {p['seed']}, {p['replications']} replications per configuration; "
            f"{stored}; started {p['created']} UTC")


def store_metrics(sweep: StoredSweep) -> list[str]:
    """Metrics the sweep has values for: headline first, then the derived ones, then the rest."""
    from ..report import DERIVED
    present = set(sweep.summary["metric"])
    order = list(HEADLINE) + list(DERIVED) + list(METRICS)
    return [m for m in dict.fromkeys(order) if m in present] + sorted(present - set(order))


REACH_HINTS = ("population.size", "reach", "population.")
TEAM_SIZE_HINTS = ("team_size", "team_wte", "team size", "team.staff", "staff", "wte")


def default_axes(factors: list[str]) -> tuple[str, str]:
    """(x, y) for the heatmap: team size across, reach (population) up, when the sweep has them;
    otherwise the report's choice (the second factor across, the first up)."""
    if len(factors) < 2:
        raise ValueError("a heatmap needs two factors that vary")

    def find(hints: tuple[str, ...], exclude: str | None) -> str | None:
        for hint in hints:
            for factor in factors:
                if factor != exclude and hint in factor.lower():
                    return factor
        return None

    y = find(REACH_HINTS, None) or factors[0]
    x = find(TEAM_SIZE_HINTS, y) or next(f for f in factors if f != y)
    return x, y


def store_grid(sweep: StoredSweep, metric: str, x: str, y: str, fixed: dict[str, Any]) -> pd.DataFrame:
    """The heatmap's cells: one row per configuration at the ``fixed`` levels of the other factors.

    Columns ``x``, ``y`` (the factors' levels), ``configuration_id``, ``scenario_hash``, ``mean``,
    ``ci_low``, ``ci_high`` and ``n`` (replications stored; 0 and a missing mean where the metric
    has no value yet), in design order. ValueError when the axes are not two different varying
    factors, a varying factor is not fixed, or two configurations fall in one cell (not a grid).
    """
    varying = list(sweep.levels)
    if x == y or x not in varying or y not in varying:
        raise ValueError(f"choose two different factors that vary in the sweep ({', '.join(varying)})")
    missing = [k for k in varying if k not in (x, y) and k not in fixed]
    if missing:
        raise ValueError(f"choose a level of {', '.join(missing)}")
    wanted = {k: level_key(v) for k, v in fixed.items() if k not in (x, y)}
    rows = []
    for c in sweep.configurations.itertuples(index=False):
        f = c.factors
        if x not in f or y not in f or any(level_key(f.get(k)) != v for k, v in wanted.items()):
            continue
        rows.append({x: f[x], y: f[y], "configuration_id": int(c.configuration_id), "scenario_hash": c.scenario_hash})
    grid = pd.DataFrame(rows, columns=[x, y, "configuration_id", "scenario_hash"])
    cells = [(level_key(a), level_key(b)) for a, b in zip(grid[x], grid[y])]
    if len(cells) != len(set(cells)):
        raise ValueError(f"several configurations share a cell of {x} by {y}: the sweep is not a grid of these "
                         "two factors")
    values = sweep.summary[sweep.summary["metric"] == metric][["configuration_id", "mean", "ci_low", "ci_high", "n"]]
    grid = grid.merge(values, on="configuration_id", how="left")
    grid["n"] = grid["n"].fillna(0).astype(int)
    return grid


def cell_label(sweep: StoredSweep, configuration_id: int, keys: Iterable[str]) -> str:
    """``#3: team_size = large, population.size = 2,000`` for the cell picker."""
    from ..report import fmt
    factors = sweep.configurations.set_index("configuration_id").loc[configuration_id, "factors"]
    return f"#{configuration_id}: " + ", ".join(f"{k} = {fmt(factors.get(k))}" for k in keys if k in factors)


def cell_factors(sweep: StoredSweep, configuration_id: int) -> pd.DataFrame:
    """The configuration's factor levels (varying ones first), for the cell's detail."""
    from ..report import fmt
    factors = sweep.configurations.set_index("configuration_id").loc[configuration_id, "factors"]
    keys = [k for k in sweep.design.varying if k in factors] + [k for k in factors if k not in sweep.design.varying]
    return pd.DataFrame({"Factor": keys, "Level": [fmt(factors[k]) for k in keys],
                         "Varies in the sweep": ["yes" if k in sweep.design.varying else "no (held)" for k in keys]})


def cell_detail(sweep: StoredSweep, configuration_id: int, metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """The configuration's metrics (headline and derived by default): mean with 95% interval and
    the replications behind it; a dash where the metric has no value."""
    from ..report import DERIVED, metric_info
    metrics = list(metrics) if metrics is not None else list(HEADLINE) + list(DERIVED)
    part = sweep.summary[sweep.summary["configuration_id"] == configuration_id].set_index("metric")
    rows = []
    for metric in metrics:
        info = metric_info(metric)
        if metric in part.index:
            r = part.loc[metric]
            value, n = fmt_interval(r["mean"], r["ci_low"], r["ci_high"]), int(r["n"])
        else:
            value, n = "–", 0
        rows.append({"Metric": info.label if info else metric, "Unit": info.unit if info else "",
                     "Mean (95% interval)": value, "Replications": n})
    return pd.DataFrame(rows, columns=["Metric", "Unit", "Mean (95% interval)", "Replications"])


def store_grid_csv(sweep: StoredSweep, grid: pd.DataFrame, metric: str, x: str, y: str,
                   fixed: dict[str, Any]) -> str:
    """The heatmap's cells as CSV, each row with the held levels and the sweep's provenance."""
    frame = grid.assign(sweep=sweep.name, metric=metric,
                        **{k: json.dumps(v) if not isinstance(v, (int, float, str)) else v
                           for k, v in fixed.items() if k not in (x, y)})
    p = sweep.provenance
    frame = frame.assign(int_sim_version=p["int_sim_version"], seed=p["seed"], replications=p["replications"])
    first = ["sweep", "configuration_id", x, y] + [k for k in fixed if k not in (x, y)]
    rest = ["metric", "mean", "ci_low", "ci_high", "n", "int_sim_version", "seed", "replications", "scenario_hash"]
    return frame[first + rest].to_csv(index=False)

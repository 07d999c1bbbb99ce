"""A short, self-contained HTML report of a comparison, for a planner to take to a board meeting.

:func:`board_report_html` turns a :class:`int_sim.experiment.ComparisonResult` into one HTML file
that needs nothing else to open: the figures are PNGs embedded as base64 data URIs, the styles
are inline and no script runs. The report holds, in this order:

* a visible note that the defaults are illustrative (the same words as the app);
* the configurations compared, their size, and the settings in which they differ (the changed
  levers), each named by the app's label and its scenario key;
* the headline results table (:func:`int_sim.app.core.results_table`): each configuration's mean
  with its 95% interval and each later configuration's paired difference against the first;
* a plain-language reading: which headline metrics are clearly better or worse than the first
  configuration (the paired interval excludes zero) and which are not clearly different;
* the key charts from :mod:`int_sim.plots` (paired differences, admissions by patient group and
  by deprivation quintile, daily admissions);
* provenance: int-sim version, seed, replications, run size, each configuration's scenario hash,
  the date, and the exact scenarios (YAML) so any figure can be re-run.

Every name and value that came from a user is HTML-escaped. The module does not import
Streamlit: the app's download button calls it, and so can a script.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone
from typing import Any, Iterable

import pandas as pd
from matplotlib.figure import Figure

from . import __version__, plots
from .app import core
from .metrics import HEADLINE, METRICS
from .report import fmt
from .scenario import Scenario

REFERENCE_METRICS = ("admissions_avoided_per_1000", "days_to_action_median", "cost_per_resident")
"""Metrics drawn as paired-difference charts, when present."""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #1a1a1a; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.6em;
     border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
.note { background: #e8f1fa; border-left: 5px solid #0072B2; padding: 0.6em 1em; margin: 1em 0; }
.meta { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.55em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; }
.better { color: #006d50; font-weight: 600; } .worse { color: #b34700; font-weight: 600; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.88em; color: #444; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.8em; }
@media print { .pagebreak { page-break-before: always; } }
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value (quotes too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


# --- pieces that do not depend on HTML ---------------------------------------------------------

def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def changed_settings(scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """The settings in which the configurations differ: one row per dotted key.

    Columns: ``key``, ``setting`` (the app's label of the lever) and one column per configuration
    with its value. The name and description are not settings and are left out.
    """
    flat = {name: _flatten(sc.model_dump(mode="json")) for name, sc in scenarios.items()}
    keys: list[str] = []
    for values in flat.values():
        keys.extend(k for k in values if k not in keys)
    rows = []
    for key in keys:
        if key in ("name", "description"):
            continue
        values = [flat[name].get(key) for name in scenarios]
        if all(v == values[0] for v in values):
            continue
        row = {"key": key, "setting": core.LEVER_LABELS.get(key, key.rsplit(".", 1)[-1].replace("_", " ").capitalize())}
        for name, value in zip(scenarios, values):
            row[name] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=["key", "setting", *scenarios])


def _value_text(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return fmt(value)


def reading(differences: pd.DataFrame, configurations: list[str], metrics: Iterable[str] | None = None
            ) -> list[dict[str, Any]]:
    """Plain-language reading of the paired differences against the first configuration.

    One entry per later configuration: ``configuration``, ``better``, ``worse``, ``different``
    (clearly different where "better" has no meaning) and ``unclear`` (lists of sentences), from
    :func:`int_sim.app.core.verdict` on each headline metric's 95% paired interval.
    """
    first = configurations[0]
    metrics = list(metrics) if metrics is not None else [m for m in HEADLINE]
    table = differences.set_index(["configuration", "metric"]) if not differences.empty else None
    out = []
    for name in configurations[1:]:
        entry: dict[str, Any] = {"configuration": name, "reference": first, "better": [], "worse": [],
                                 "different": [], "unclear": []}
        for metric in metrics:
            if table is None or (name, metric) not in table.index:
                continue
            r = table.loc[(name, metric)]
            low, high, mean = float(r["ci_low"]), float(r["ci_high"]), float(r["mean_diff"])
            word = core.verdict(metric, low, high)
            if not word:
                continue
            info = METRICS[metric]
            size = core.fmt_interval(mean, low, high)
            if word == "no clear difference":
                entry["unclear"].append(info.label)
            else:
                direction = "higher" if low > 0 else "lower"
                sentence = (f"{info.label}: {direction}, by a paired difference of {size} {info.unit} "
                            "(mean, 95% interval)")
                entry["better" if word == "better" else "worse" if word == "worse" else "different"].append(sentence)
        out.append(entry)
    return out


def figure_data_uri(fig: Figure, dpi: int = 110) -> str:
    """A figure as a ``data:image/png;base64,...`` URI (self-contained, no file beside it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def key_figures(result) -> list[tuple[str, Figure]]:
    """(caption, figure) of the charts the report embeds, from :mod:`int_sim.plots`."""
    configurations = list(result.scenarios)
    first = configurations[0]
    figures: list[tuple[str, Figure]] = []
    present = set(result.differences["metric"]) if not result.differences.empty else set()
    for metric in REFERENCE_METRICS:
        if len(configurations) > 1 and metric in present:
            info = METRICS[metric]
            figures.append((f"{info.label} ({info.unit}): each configuration's paired difference against "
                            f"{first}, mean and 95% interval. Where the whisker crosses the dashed line there is no "
                            "clear difference.",
                            plots.differences_forest(result.differences, metric, order=configurations[1:],
                                                     reference=first, figsize=(8, max(2.0, 0.5 * len(configurations) + 1)))))
    figures.append(("Emergency admissions per 1,000 residents per year by patient group: mean and 95% interval.",
                    plots.admissions_by_group(result.summary, order=configurations)))
    figures.append(("Emergency admissions per 1,000 residents per year by deprivation quintile: mean and 95% "
                    "interval.", plots.admissions_by_quintile(result.summary, order=configurations)))
    if not result.daily.empty and "admissions" in set(result.daily["metric"]):
        figures.append(("Emergency admissions per day (28-day rolling mean) over the measured period, mean of the "
                        "replications with a 95% band.",
                        plots.daily_series(result.daily, "admissions", order=configurations, smooth_days=28,
                                           show_warmup=False)))
    return figures


# --- HTML ------------------------------------------------------------------------------------

def _table(frame: pd.DataFrame, *, numeric: Iterable[str] = ()) -> str:
    numeric = set(numeric)
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = "".join(f'<td class="num">{esc(v)}</td>' if c in numeric else f"<td>{esc(v)}</td>"
                        for c, v in row.items())
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _configurations_section(scenarios: dict[str, Scenario]) -> str:
    rows = pd.DataFrame([{
        "Configuration": name,
        "Description": sc.description or "",
        "Residents": fmt(sc.population.size),
        "GP practices": fmt(sc.population.gp_practices),
        "Team (WTE)": fmt(float(sc.team.staff.total())),
        "MDT": sc.team.mdt_frequency,
        "Co-location": sc.team.co_location,
    } for name, sc in scenarios.items()])
    parts = ["<h2>What was compared</h2>", _table(rows, numeric=["Residents", "GP practices", "Team (WTE)"])]
    changed = changed_settings(scenarios)
    parts.append("<h3>How the configurations differ</h3>")
    if changed.empty:
        parts.append("<p>The configurations have identical settings (only their names differ).</p>")
    else:
        shown = changed.assign(setting=[f"{s} ({k})" for s, k in zip(changed["setting"], changed["key"])])
        shown = shown.drop(columns="key").rename(columns={"setting": "Setting (scenario key)"})
        for name in scenarios:
            shown[name] = shown[name].map(_value_text)
        parts.append(f"<p>{len(changed)} setting{'s' if len(changed) != 1 else ''} differ; every other setting is "
                     "the same in all configurations.</p>")
        parts.append(_table(shown))
    return "\n".join(parts)


def _reading_section(differences: pd.DataFrame, configurations: list[str]) -> str:
    parts = ["<h2>What is and is not clearly different</h2>"]
    if len(configurations) < 2:
        parts.append("<p>Only one configuration was run, so there is nothing to compare against.</p>")
        return "\n".join(parts)
    parts.append(f"<p>Each configuration is compared with <strong>{esc(configurations[0])}</strong> replication by "
                 "replication, on the same simulated residents and events. A difference is called clear only when "
                 "its 95% interval excludes zero; otherwise, at this number of replications, the model cannot tell "
                 "the two apart.</p>")
    for entry in reading(differences, configurations):
        items = []
        for kind, css, intro in (("better", "better", "Clearly better"), ("worse", "worse", "Clearly worse"),
                                 ("different", "", "Clearly different")):
            if entry[kind]:
                listed = "".join(f"<li>{esc(s)}</li>" for s in entry[kind])
                items.append(f'<p><span class="{css}">{intro}:</span></p><ul>{listed}</ul>')
        if entry["unclear"]:
            items.append("<p><span>No clear difference:</span> " + esc(", ".join(entry["unclear"])) + ".</p>")
        if not items:
            items.append("<p>No headline metric could be compared.</p>")
        parts.append(f"<h3>{esc(entry['configuration'])} compared with {esc(entry['reference'])}</h3>" + "".join(items))
    return "\n".join(parts)


def provenance_rows(result, run_size: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs of the report's provenance block."""
    prov = result.provenance
    rows = [("int-sim version", str(prov.get("int_sim_version", __version__))),
            ("Seed", str(prov.get("seed", result.seed))),
            ("Replications", str(prov.get("replications", result.n_replications)))]
    info = getattr(result, "precision", None)
    if info:
        rows.append(("Replications chosen by precision", core.precision_text(info, result.n_replications)))
    if run_size:
        rows.append(("Run size", run_size))
    for name, digest in prov.get("scenario_hash", {}).items():
        rows.append((f"Scenario hash: {name}", str(digest)))
    return rows


def board_report_html(result, *, run_size: str | None = None, title: str = "Comparison of team configurations",
                      generated: datetime | None = None, figures: bool = True) -> str:
    """The board report of a comparison as one self-contained HTML document.

    ``result`` is a :class:`int_sim.experiment.ComparisonResult`; ``run_size`` describes how the
    configurations were run (e.g. the app's "Quick (10,000 residents, 1 year)"); ``generated``
    fixes the date shown (now, in UTC, by default); ``figures=False`` leaves out the charts.
    """
    configurations = list(result.scenarios)
    generated = generated or datetime.now(timezone.utc)
    table = core.results_table(result.summary, result.differences, configurations)
    numeric = [c for c in table.columns if c not in ("Metric", "Unit")]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(", ".join(configurations))}. Produced by int-sim '
        f"{esc(result.provenance.get('int_sim_version', __version__))} on "
        f"{esc(generated.strftime('%d %B %Y, %H:%M UTC'))}.</p>",
        f'<div class="note"><strong>{esc(core.ILLUSTRATIVE_NOTE)}</strong></div>',
        _configurations_section(result.scenarios),
        "<h2>Headline results</h2>",
        f"<p>Each cell is a mean with its 95% interval across {esc(result.n_replications)} replications"
        + (f" (as many as a target precision of ±{float(result.precision['target']):.0%} needed, "
           f"{'reached' if result.precision.get('reached') else 'not reached within the cap'})"
           if getattr(result, "precision", None) else "") + ". Columns "
        f"headed “A − {esc(configurations[0])}” are paired differences against the first configuration; "
        "“better” or “worse” appears only where the paired interval excludes zero.</p>",
        _table(table, numeric=numeric),
        _reading_section(result.differences, configurations),
    ]
    if figures:
        parts.append('<h2 class="pagebreak">Charts</h2>')
        for caption, fig in key_figures(result):
            parts.append(f'<figure><img src="{figure_data_uri(fig)}" alt="{esc(caption)}">'
                         f"<figcaption>{esc(caption)}</figcaption></figure>")
    prov_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in provenance_rows(result, run_size))
    yamls = "".join(f"<details><summary>{esc(name)} (hash {esc(result.provenance.get('scenario_hash', {}).get(name, ''))})"
                    f"</summary><pre>{esc(sc.to_yaml())}</pre></details>" for name, sc in result.scenarios.items())
    parts += [
        "<h2>Provenance</h2>",
        f"<p>{esc(core.provenance_line(result.provenance))}.</p>",
        f"<table>{prov_rows}</table>",
        "<p>Anyone with int-sim can re-run these results: save each scenario below as a YAML file and run "
        f"<code>int-sim compare FILE ... --reps {esc(result.n_replications)} --seed {esc(result.seed)}</code> "
        "(the first configuration first). "
        "The same seed gives the same numbers.</p>",
        yamls,
        "</body></html>",
    ]
    return "\n".join(parts)

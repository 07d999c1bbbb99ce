"""Do the same levers matter for frail older people and for people with severe mental illness?

Usage (after ``int-sim sweep experiments/patient_groups/spec.yaml --store patient_groups.duckdb``)::

    .venv/bin/python experiments/patient_groups/analyse.py patient_groups.duckdb --out docs/figures/patient_groups

The sweep is one-at-a-time around the baseline (configuration 0). For each lever change, the
effect on each group is the paired difference (replication by replication, on common random
numbers) in that group's admissions avoided per 1,000 and median time to action, with a 95%
t-interval. Writes a figure (PNG and SVG) and ``summary.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from int_sim.experiment import t_interval
from int_sim.files import save_figure
from int_sim.plots import colour
from int_sim.report import fmt, markdown_table, study_analysis_command, write_summary
from int_sim.store import Store, StoreError

GROUPS = {"frail": ["frail_mild", "frail_moderate", "frail_severe"], "SMI": ["severe_mental_illness"]}
OUTCOMES = {"admissions_avoided_per_1000": "admissions avoided per 1,000 residents a year\n(higher is better)",
            "days_to_action_median": "median days to action (lower is better)"}


def lever_effects(store_path: str, sweep: str | None = None) -> pd.DataFrame:
    """One row per (lever change, group, outcome): paired difference against the baseline."""
    table = Store(store_path).export_frame(sweep)
    if table.empty:
        raise StoreError(f"{store_path}: no results stored yet")
    sweep = sweep or table.sweep.iloc[0]
    table = table[table.sweep == sweep]
    fixed = {"sweep", "configuration_id", "replication", "metric", "value", "int_sim_version", "seed", "replications",
             "scenario_hash"}
    factors = [c for c in table.columns if c not in fixed]
    configs = table.drop_duplicates("configuration_id").set_index("configuration_id")[factors]
    base = configs.loc[0]
    rows = []
    wide = table.pivot_table(index="replication", columns=["configuration_id", "metric"], values="value")
    for cid, values in configs.iterrows():
        changed = [f for f in factors if pd.notna(values[f]) and values[f] != base[f]]
        if cid == 0 or not changed:
            continue
        lever = ", ".join(f"{f}={values[f]}" for f in changed)
        for group_label, groups in GROUPS.items():
            for outcome in OUTCOMES:
                metrics = [f"{outcome}.{g}" for g in groups]
                diffs = []
                for metric in metrics:
                    if (cid, metric) in wide and (0, metric) in wide:
                        diffs.append(wide[(cid, metric)] - wide[(0, metric)])
                if not diffs:
                    continue
                # frail: the mean over its three levels, replication by replication
                diff = pd.concat(diffs, axis=1).mean(axis=1).dropna().to_numpy()
                if diff.size:
                    rows.append((lever, group_label, outcome, *t_interval(diff), diff.size))
    return pd.DataFrame(rows, columns=["lever", "group", "outcome", "mean_diff", "ci_low", "ci_high", "n"])


def figure(effects: pd.DataFrame, outcome: str) -> Figure:
    data = effects[effects.outcome == outcome]
    levers = list(dict.fromkeys(data.lever))
    fig = Figure(figsize=(8, 0.5 * len(levers) + 1.5), layout="constrained")
    ax = fig.subplots()
    for k, group in enumerate(GROUPS):
        part = data[data.group == group].set_index("lever").reindex(levers)
        y = np.arange(len(levers)) + (k - 0.5) * 0.35
        err = np.vstack([part.mean_diff - part.ci_low, part.ci_high - part.mean_diff])
        ax.errorbar(part.mean_diff, y, xerr=np.nan_to_num(err), fmt="o", color=colour(k), label=group, capsize=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(levers)), levers)
    ax.set_xlabel(f"change against the baseline in {OUTCOMES[outcome]}\n(mean and 95% paired interval)")
    ax.legend(title="patient group")
    ax.grid(axis="x", alpha=0.3)
    return fig


def write(effects: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# Patient groups: the same levers for frail older people and for severe mental illness?", "",
             "**Defaults are illustrative**: model responses under the assumptions in docs/parameters.md.", ""]
    for outcome in OUTCOMES:
        save_figure(figure(effects, outcome), folder, outcome)
        alt = OUTCOMES[outcome].replace("\n", " ")
        lines += [f"![{alt}]({outcome}.png)", ""]
    table = effects.assign(interval=[f"[{fmt(lo)}, {fmt(hi)}]" for lo, hi in zip(effects.ci_low, effects.ci_high)])
    table = table[["lever", "group", "outcome", "mean_diff", "interval", "n"]]
    lines += [markdown_table(list(table.columns), [[fmt(v) for v in row] for row in table.itertuples(index=False)]), ""]
    return write_summary(folder, lines)


def main() -> None:
    study_analysis_command(__doc__.splitlines()[0], "patient_groups_report", lever_effects, write)


if __name__ == "__main__":
    main()

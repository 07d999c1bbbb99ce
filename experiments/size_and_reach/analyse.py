"""Analyse the size-and-reach sweep: heatmaps, where more staff stops paying off, best cells.

Usage (after ``int-sim sweep experiments/size_and_reach/spec.yaml --store size_and_reach.duckdb``)::

    .venv/bin/python experiments/size_and_reach/analyse.py size_and_reach.duckdb --out docs/figures/size_and_reach

Every comparison is paired by replication: replication r of every cell saw the same residents and
events (common random numbers), so differences between neighbouring cells are sharper than the
cells' own intervals. Writes PNG and SVG figures and ``summary.md`` into the output folder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from int_sim.experiment import t_interval
from int_sim.files import save_figure
from int_sim.plots import interval_heatmap
from int_sim.report import fmt, markdown_table, study_analysis_command, write_summary
from int_sim.store import Store, StoreError

AVOIDED_PER_100K = "admissions_avoided_per_100k_staff_cost"
AVOIDED_PER_YEAR = "admissions_avoided_per_year"
MAPS = {
    "admissions_avoided_per_1000": ("Admissions avoided per 1,000 residents per year", "higher"),
    AVOIDED_PER_100K: ("Admissions avoided per GBP 100,000 of team staff cost", "higher"),
    "days_to_action_median": ("Time to action, days (median)", "lower"),
    "staff_burnout_mean": ("Staff burnout (0 to 1)", "lower"),
}


def load(store_path: str, sweep: str | None) -> pd.DataFrame:
    """Wide frame: one row per (configuration, replication) with factor columns and metrics."""
    table = Store(store_path).export_frame(sweep)
    if table.empty:
        raise StoreError(f"{store_path}: no results stored yet")
    if sweep is None:
        sweep = table.sweep.iloc[0]
        table = table[table.sweep == sweep]
    keys = ["configuration_id", "replication", "reach", "team_wte", "team.co_location"]
    wide = table.pivot_table(index=keys, columns="metric", values="value").reset_index()
    wide["reach_residents"] = (wide["reach"].str.rstrip("k").astype(float) * 1000).round().astype(int)
    wide[AVOIDED_PER_YEAR] = wide["admissions_avoided_per_1000"] * wide["reach_residents"] / 1000.0
    wide["team_wte"] = wide["team_wte"].astype(float)
    wide[AVOIDED_PER_100K] = wide["admissions_avoided_per_1000"] * 100.0 / wide["staff_cost_per_resident"]
    wide.attrs["provenance"] = table.iloc[0][["int_sim_version", "seed", "replications"]].to_dict()
    return wide


def cells(wide: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = []
    for (coloc, reach, wte), group in wide.groupby(["team.co_location", "reach_residents", "team_wte"]):
        values = group[metric].dropna().to_numpy()
        if values.size:
            rows.append((coloc, reach, wte, *t_interval(values), values.size))
    return pd.DataFrame(rows, columns=["co_location", "reach", "team_wte", "mean", "ci_low", "ci_high", "n"])


def steps(wide: pd.DataFrame, along: str, within: str, metric: str) -> pd.DataFrame:
    """Each step up in ``along`` (team size or reach), for each co-location and level of ``within``:
    the paired difference in ``metric`` by replication, and whether its 95% interval is above 0."""
    rows = []
    for (coloc, level), group in wide.groupby(["team.co_location", within]):
        by_step = group.pivot_table(index="replication", columns=along, values=metric)
        levels = sorted(by_step.columns)
        for low_level, high_level in zip(levels, levels[1:]):
            diff = (by_step[high_level] - by_step[low_level]).dropna().to_numpy()
            mean, low, high = t_interval(diff)
            rows.append((coloc, level, low_level, high_level, mean, low, high, diff.size, bool(low > 0)))
    return pd.DataFrame(rows, columns=["co_location", within, "from", "to", f"extra_{metric}",
                                       "ci_low", "ci_high", "n", "pays_off"])


def saturation(wide: pd.DataFrame) -> pd.DataFrame:
    """For each reach and co-location: does each step up in team size avoid significantly more per 1,000?"""
    return steps(wide, "team_wte", "reach_residents", "admissions_avoided_per_1000")


def reach_saturation(wide: pd.DataFrame) -> pd.DataFrame:
    """For each team size and co-location: does covering more residents avoid more admissions in all?"""
    return steps(wide, "reach_residents", "team_wte", AVOIDED_PER_YEAR)


def best_cells(wide: pd.DataFrame, metric: str = AVOIDED_PER_100K) -> tuple[pd.DataFrame, str]:
    """Cells ranked by mean; the statement says how sure the ranking of the top two is."""
    table = cells(wide, metric).sort_values("mean", ascending=False).reset_index(drop=True)
    if len(table) < 2:
        return table, "too few cells to rank"
    first, second = table.iloc[0], table.iloc[1]

    def series(row):
        mask = ((wide["team.co_location"] == row.co_location) & (wide.reach_residents == row.reach)
                & (wide.team_wte == row.team_wte))
        return wide[mask].set_index("replication")[metric]

    diff = (series(first) - series(second)).dropna().to_numpy()
    mean, low, high = t_interval(diff)
    sure = "with 95% confidence" if low > 0 else "but not with 95% confidence (the paired interval includes 0)"
    statement = (f"Best: {first.team_wte:g} WTE for {first.reach:,.0f} residents, co-location {first.co_location} "
                 f"({first['mean']:.3g} admissions avoided per GBP 100k), ahead of {second.team_wte:g} WTE for "
                 f"{second.reach:,.0f} residents, co-location {second.co_location}, by {mean:.3g} "
                 f"[{low:.3g}, {high:.3g}] {sure}.")
    return table, statement


def _frame_table(frame: pd.DataFrame) -> str:
    return markdown_table(list(frame.columns), [[fmt(v) for v in row] for row in frame.itertuples(index=False)])


def write(wide: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# Size and reach", "",
             "**Defaults are illustrative**: these are the model's responses to team size and reach under "
             "the assumptions in docs/parameters.md, not forecasts for a real place.", "",
             f"Provenance: {wide.attrs.get('provenance')}", ""]
    for coloc in sorted(wide["team.co_location"].unique()):
        lines += [f"## Co-location: {coloc}", ""]
        for metric, (label, better) in MAPS.items():
            grid = cells(wide[wide["team.co_location"] == coloc], metric)
            fig = interval_heatmap(grid.rename(columns={"team_wte": "team size (WTE)", "reach": "residents"}),
                                   x="team size (WTE)", y="residents", colorbar_label=label, better=better,
                                   title=f"{label}; co-location {coloc}; mean [95% interval]")
            png, _ = save_figure(fig, folder, f"{metric}_{coloc}")
            lines += [f"![{label}, co-location {coloc}]({png.name})", ""]
    lines += ["## Where more staff stops paying off", "",
              "Each step up in team size (from/to WTE), paired by replication: extra admissions avoided per 1,000 "
              "residents per year, and whether its 95% interval lies above zero.", "",
              _frame_table(saturation(wide)), "",
              "## Where more reach stops paying off", "",
              "Each step up in reach (from/to residents) for a team of the same size, paired by replication: "
              "extra admissions avoided in all per year (per 1,000 times residents), and whether its 95% "
              "interval lies above zero.", "",
              _frame_table(reach_saturation(wide)), ""]
    ranked, statement = best_cells(wide)
    lines += ["## Best configurations (admissions avoided per GBP 100,000 of staff cost)", "", statement, "",
              _frame_table(ranked.head(8)), ""]
    return write_summary(folder, lines)


def main() -> None:
    study_analysis_command(__doc__.splitlines()[0], "size_and_reach_report", load, write)


if __name__ == "__main__":
    main()

"""Summarise the team-size-at-fixed-reach sweep: mean and 95% t-interval per team size.

Usage (after the sweep, see README.md)::

    .venv/bin/python experiments/team_size_at_fixed_reach/summarise.py team_size.duckdb [--out summary.csv]

Reads the store read-only (it can run while the sweep is still going: the summary then covers the
replications stored so far, and ``n`` says how many).
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from int_sim.experiment import t_interval
from int_sim.store import Store, StoreError

SWEEP = "team_size_at_fixed_reach"
FACTOR = "team_size_multiplier"
METRICS = ["admissions_avoided_per_1000", "admissions_per_1000", "crises_per_1000", "days_to_action_median",
           "staff_utilisation_pct", "staff_burnout_mean", "staff_turnover_pct", "cost_per_resident",
           "net_cost_per_resident"]


def summarise(store_path: str, sweep: str = SWEEP, factor: str = FACTOR) -> pd.DataFrame:
    """One row per (factor level, metric): mean, ci_low, ci_high, n, with provenance columns."""
    table = Store(store_path).export_frame(sweep)
    table = table[table.metric.isin(METRICS)]
    rows = []
    for (level, metric), group in table.groupby([factor, "metric"], sort=True):
        mean, low, high = t_interval(group["value"].to_numpy())
        first = group.iloc[0]
        rows.append((level, metric, mean, low, high, len(group), first.int_sim_version, first.seed,
                     first.scenario_hash))
    return pd.DataFrame(rows, columns=[factor, "metric", "mean", "ci_low", "ci_high", "n", "int_sim_version",
                                       "seed", "scenario_hash"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--out", help="also write the summary to this CSV file")
    args = parser.parse_args()
    try:
        summary = summarise(args.store)
    except StoreError as err:
        sys.exit(f"error: {err}")
    if summary.empty:
        sys.exit(f"error: {args.store}: no results of sweep {SWEEP} yet")
    wide = summary.pivot(index="metric", columns=FACTOR, values="mean").reindex(
        [m for m in METRICS if m in set(summary.metric)])
    with pd.option_context("display.width", 200, "display.float_format", "{:,.3g}".format):
        print(f"Mean over replications by {FACTOR} (n = {summary.n.min()} to {summary.n.max()}):")
        print(wide.to_string())
    if args.out:
        summary.to_csv(args.out, index=False)
        print(f"wrote {args.out} ({len(summary)} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()

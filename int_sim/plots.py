"""Matplotlib figures shared by the app, the CLI's reports and the experiments.

Every function takes the tidy frames of :mod:`int_sim.experiment` (``summary``, ``differences``,
``daily``) and returns a :class:`matplotlib.figure.Figure`. Figures are built with the
object-oriented API, never ``pyplot``, so no global figure state is shared between the app's
sessions (Streamlit runs each session in its own thread) and nothing needs closing.

Conventions: axes carry labels with units (from :data:`int_sim.metrics.METRICS`), every mean
is drawn with its 95% interval, and colours come from the Okabe-Ito palette, which stays
distinguishable under the common forms of colour blindness. Configurations keep the same
colour across all figures of a comparison (the order of first appearance).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from .metrics import DAILY_SERIES, METRICS
from .scenario import GROUPS

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "reddish_purple": "#CC79A7",
    "vermillion": "#D55E00",
    "sky_blue": "#56B4E9",
    "black": "#000000",
    "yellow": "#F0E442",
}
"""Okabe & Ito (2008) colour-blind-safe palette, in the order configurations receive colours
(yellow last: it is hard to see on white)."""

PALETTE = list(OKABE_ITO.values())

DAILY_UNITS = {
    "admissions": "admissions per day",
    "crises": "crisis presentations per day",
    "open_episodes": "residents",
    "awaiting_review": "cases",
    "staff_in_post": "staff (headcount)",
    "utilisation_pct": "% of caseload places in use",
    "burnout_mean": "mean burnout (0 to 1)",
    "trust_mean": "mean trust (0 to 1)",
}
"""Axis labels (with units) of the daily series in :data:`int_sim.metrics.DAILY_SERIES`."""
WARMUP_COLOUR = "#DDDDDD"


def colour(index: int) -> str:
    """Colour of the ``index``-th configuration."""
    return PALETTE[index % len(PALETTE)]


def metric_axis_label(metric: str) -> str:
    """``Label (unit)`` of a metric, or its name if it is not declared."""
    info = METRICS.get(metric)
    return f"{info.label} ({info.unit})" if info else metric


def _configurations(frame: pd.DataFrame, order: Sequence[str] | None) -> list[str]:
    if order is not None:
        present = set(frame["configuration"])
        return [c for c in order if c in present]
    return list(dict.fromkeys(frame["configuration"]))


def _with_configuration(frame: pd.DataFrame, name: str = "scenario") -> pd.DataFrame:
    """Frames of a single experiment have no configuration column; give them one."""
    return frame if "configuration" in frame.columns else frame.assign(configuration=name)


def _half_width(sd: np.ndarray, n: np.ndarray, confidence: float = 0.95) -> np.ndarray:
    """Half-width of a t-interval; NaN where fewer than two values."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan))
        return t * np.asarray(sd, dtype=float) / np.sqrt(n)


def daily_series(daily: pd.DataFrame, series: str, *, order: Sequence[str] | None = None,
                 smooth_days: int = 0, show_warmup: bool = True, figsize=(8, 4)) -> Figure:
    """Mean daily series across replications per configuration, with a 95% band.

    ``daily`` has columns ``[configuration,] replication, day, metric, value``; day 0 is the first
    measured day and negative days are the warm-up. ``smooth_days`` > 1 applies a trailing
    rolling mean to each replication before averaging (daily counts are noisy).
    """
    daily = _with_configuration(daily)
    data = daily[daily["metric"] == series]
    if not show_warmup:
        data = data[data["day"] >= 0]
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    if data.empty:
        ax.text(0.5, 0.5, "no data for this series", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    data = data.sort_values(["configuration", "replication", "day"])
    if smooth_days and smooth_days > 1:
        data = data.assign(value=data.groupby(["configuration", "replication"])["value"]
                           .transform(lambda s: s.rolling(smooth_days, min_periods=1).mean()))
    stats_frame = (data.groupby(["configuration", "day"])["value"]
                   .agg(["mean", "std", "count"]).reset_index())
    stats_frame["half"] = _half_width(stats_frame["std"].to_numpy(), stats_frame["count"].to_numpy())
    for i, name in enumerate(_configurations(data, order)):
        part = stats_frame[stats_frame["configuration"] == name]
        col = colour(i if order is None else list(order).index(name))
        ax.plot(part["day"], part["mean"], color=col, lw=1.6, label=name)
        low, high = part["mean"] - part["half"], part["mean"] + part["half"]
        if np.isfinite(part["half"]).any():
            ax.fill_between(part["day"], low, high, color=col, alpha=0.2, lw=0)
    if show_warmup and (data["day"] < 0).any():
        ax.axvspan(data["day"].min(), 0, color=WARMUP_COLOUR, alpha=0.6, lw=0, zorder=0,
                   label="warm-up (not measured)")
    label = DAILY_UNITS.get(series, series)
    if smooth_days and smooth_days > 1:
        label += f"\n({smooth_days}-day rolling mean)"
    ax.set_ylabel(label)
    ax.set_xlabel("day (0 = first measured day)")
    ax.set_title(f"{DAILY_SERIES.get(series, series)}: mean of replications with 95% interval", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def interval_bars(summary: pd.DataFrame, metrics: Sequence[str], categories: Sequence[str], *,
                  order: Sequence[str] | None = None, xlabel: str = "", ylabel: str | None = None,
                  title: str = "", figsize=(8, 4)) -> Figure:
    """Bars of means with 95% interval whiskers: one group per metric, one bar per configuration.

    ``summary`` has columns ``configuration, metric, mean, ci_low, ci_high``; ``categories`` are
    the tick labels of ``metrics``. A missing value leaves a gap rather than a zero bar.
    """
    summary = _with_configuration(summary)
    data = summary[summary["metric"].isin(metrics)]
    configs = _configurations(data, order)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    if data.empty or not configs:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    x = np.arange(len(metrics))
    width = 0.8 / len(configs)
    for i, name in enumerate(configs):
        part = data[data["configuration"] == name].set_index("metric").reindex(list(metrics))
        mean = part["mean"].to_numpy(dtype=float)
        low = part["ci_low"].to_numpy(dtype=float)
        high = part["ci_high"].to_numpy(dtype=float)
        err = np.vstack([mean - low, high - mean])
        err = np.where(np.isfinite(err), err, 0.0)
        col = colour(i if order is None else list(order).index(name))
        ax.bar(x + (i - (len(configs) - 1) / 2) * width, mean, width, color=col, label=name,
               yerr=err, capsize=2, error_kw={"elinewidth": 0.9, "ecolor": "#333333"})
    ax.set_xticks(x, list(categories))
    if ylabel is None:
        ylabel = metric_axis_label(metrics[0]) if metrics else ""
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def admissions_by_group(summary: pd.DataFrame, *, order: Sequence[str] | None = None, figsize=(8, 4)) -> Figure:
    """Emergency admissions per 1,000 residents per year by patient group, with 95% intervals."""
    metrics = [f"admissions_per_1000.{g}" for g in GROUPS]
    labels = [g.replace("_", " ").replace("severe mental illness", "SMI").replace("anxiety isolation", "anxiety/\nisolation")
              .replace("frail ", "frail\n") for g in GROUPS]
    return interval_bars(summary, metrics, labels, order=order, xlabel="patient group",
                         ylabel="emergency admissions\n(per 1,000 residents of the group per year)",
                         title="Admissions by patient group (mean, 95% interval)", figsize=figsize)


def admissions_by_quintile(summary: pd.DataFrame, *, order: Sequence[str] | None = None, figsize=(8, 4)) -> Figure:
    """Emergency admissions per 1,000 residents per year by IMD quintile, with 95% intervals."""
    metrics = [f"admissions_per_1000.q{q}" for q in range(1, 6)]
    labels = ["1\nmost deprived", "2", "3", "4", "5\nleast deprived"]
    return interval_bars(summary, metrics, labels, order=order, xlabel="deprivation quintile (IMD)",
                         ylabel="emergency admissions\n(per 1,000 residents of the quintile per year)",
                         title="Admissions by deprivation quintile (mean, 95% interval)", figsize=figsize)


def differences_forest(differences: pd.DataFrame, metric: str, *, order: Sequence[str] | None = None,
                       labels: dict[str, str] | None = None, reference: str = "the first configuration",
                       highlight: str | None = None, figsize=None) -> Figure:
    """Paired differences of one metric against the reference, one row per configuration.

    Points are mean differences, whiskers their 95% intervals, the dashed line is no difference.
    ``labels`` renames configurations on the axis; ``highlight`` draws one row in a second colour.
    """
    data = differences[differences["metric"] == metric]
    configs = _configurations(data, order) if not data.empty else []
    height = max(2.0, 0.45 * len(configs) + 1.2)
    fig = Figure(figsize=figsize or (8, height), layout="constrained")
    ax = fig.subplots()
    if not configs:
        ax.text(0.5, 0.5, "no differences to show", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    part = data.set_index("configuration").reindex(configs)
    y = np.arange(len(configs))[::-1]
    mean = part["mean_diff"].to_numpy(dtype=float)
    low, high = part["ci_low"].to_numpy(dtype=float), part["ci_high"].to_numpy(dtype=float)
    err = np.vstack([mean - low, high - mean])
    err = np.where(np.isfinite(err), err, 0.0)
    colours = [OKABE_ITO["vermillion"] if c == highlight else OKABE_ITO["blue"] for c in configs]
    for yi, m, e0, e1, col in zip(y, mean, err[0], err[1], colours):
        ax.errorbar(m, yi, xerr=[[e0], [e1]], fmt="o", color=col, ecolor=col, capsize=3, ms=5)
    ax.axvline(0, color="#555555", ls="--", lw=1)
    names = [labels.get(c, c) if labels else c for c in configs]
    ax.set_yticks(y, names, fontsize=8)
    info = METRICS.get(metric)
    unit = info.unit if info else ""
    better = f"; {info.better} is better" if info and info.better in ("lower", "higher") else ""
    ax.set_xlabel(f"difference ({unit}){better}")
    ax.set_title(f"{info.label if info else metric}: paired difference against {reference}, mean and 95% interval",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _tick(value) -> str:
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)


def heatmap(grid: pd.DataFrame, *, x: str, y: str, value: str = "mean", xlabel: str = "", ylabel: str = "",
            colorbar_label: str = "", title: str = "", fmt: str = "{:.1f}", xfmt=_tick, yfmt=_tick,
            figsize=(7, 4.5)) -> Figure:
    """A labelled heatmap of ``value`` over the ``x`` by ``y`` grid, with each cell's number written in.

    Rows and columns are sorted numerically (largest ``y`` at the top); ``xfmt`` and ``yfmt``
    format the tick labels. Uses the perceptually uniform, colour-blind-safe 'cividis' colour map.
    """
    table = grid.pivot_table(index=y, columns=x, values=value, aggfunc="mean").sort_index(ascending=False)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    if table.empty:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    values = table.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="cividis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [xfmt(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [yfmt(r) for r in table.index])
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=9,
                    color="black" if v > middle else "white")
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if title:
        ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label=colorbar_label or value)
    return fig

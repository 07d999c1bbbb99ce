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

import textwrap
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


SIGNED_METRICS = ("admissions_avoided_per_1000", "net_cost_per_resident", "deprivation_gap_admissions_per_1000")
"""Metrics that are differences (against the no-INT counterfactual, or between quintiles), with
their by-group and by-quintile forms: the only declared metrics whose values can be below zero."""


def can_be_negative(metric: str) -> bool:
    """Whether a metric's values can be below zero. Counts, rates, shares, times, levels and costs
    cannot, so a t-interval reaching below zero is drawn cut at zero (the interval itself, in
    tables, is left as computed); differences and undeclared metrics can, and are never cut."""
    return metric not in METRICS or metric.split(".")[0] in SIGNED_METRICS


def _floored(metric: str, low: np.ndarray) -> np.ndarray:
    """An interval's lower ends as drawn: cut at zero for a metric that cannot be negative."""
    low = np.asarray(low, dtype=float)
    return low if can_be_negative(metric) else np.where(np.isfinite(low), np.maximum(low, 0.0), low)


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


def _nothing_to_show(fig: Figure, ax, message: str) -> Figure:
    """A figure that says in words why it has no chart, rather than empty axes."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


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
        return _nothing_to_show(fig, ax, "no data for this series")
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
        # every daily series is a count, share or level that cannot go below zero
        low, high = np.maximum(part["mean"] - part["half"], 0.0), part["mean"] + part["half"]
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
    the tick labels of ``metrics``. A missing value leaves a gap rather than a zero bar. Whiskers
    of a metric that cannot be negative (:func:`can_be_negative`) stop at zero.
    """
    summary = _with_configuration(summary)
    data = summary[summary["metric"].isin(metrics)]
    configs = _configurations(data, order)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    if data.empty or not configs:
        return _nothing_to_show(fig, ax, "no data")
    x = np.arange(len(metrics))
    width = 0.8 / len(configs)
    for i, name in enumerate(configs):
        part = data[data["configuration"] == name].set_index("metric").reindex(list(metrics))
        mean = part["mean"].to_numpy(dtype=float)
        low = np.array([_floored(m, [v])[0] for m, v in zip(metrics, part["ci_low"].to_numpy(dtype=float))])
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
        return _nothing_to_show(fig, ax, "no differences to show")
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


# --- figures of sweeps (used by :mod:`int_sim.report`) ---------------------------------------

def _level_tick(value) -> str:
    """A factor level as a tick label: like :func:`_tick`, with true/false for switches."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    return _tick(value)


def _interval_text(mean: float, low: float, high: float, fmt: str) -> str:
    text = fmt.format(mean)
    if np.isfinite(low) and np.isfinite(high):
        text += f"\n[{fmt.format(low)}, {fmt.format(high)}]"
    return text


def interval_heatmap(grid: pd.DataFrame, *, x: str, y: str, xlabel: str = "", ylabel: str = "",
                     colorbar_label: str = "", title: str = "", fmt: str = "{:.3g}",
                     better: str = "neither", xfmt=None, yfmt=None, figsize=(7, 4.8)) -> Figure:
    """A heatmap of means over the ``x`` by ``y`` grid, each cell showing its mean and 95% interval.

    ``grid`` has one row per cell with columns ``x``, ``y``, ``mean``, ``ci_low``, ``ci_high``.
    Levels keep their order of first appearance (the design order) unless they are all numbers,
    which are sorted (largest ``y`` at the top). The colour map is the colour-blind-safe 'cividis';
    ``better`` ("lower"/"higher") is written on the colour bar so the reader knows which end is good.
    ``xfmt``/``yfmt`` format the tick labels (default: numbers with thousands separators, switches
    as true/false). Used by the reports, the size-and-reach study and the app's explorer.
    """
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    data = grid.dropna(subset=["mean"])
    if data.empty:
        return _nothing_to_show(fig, ax, "no data")

    def levels(column: str) -> list:
        values = list(dict.fromkeys(grid[column]))
        if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
            values = sorted(values)
        return values

    xs, ys = levels(x), levels(y)[::-1]
    shape = (len(ys), len(xs))
    mean, low, high = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    for xv, yv, m, lo, hi in zip(data[x], data[y], data["mean"], data["ci_low"], data["ci_high"]):
        i, j = ys.index(yv), xs.index(xv)
        mean[i, j], low[i, j], high[i, j] = m, lo, hi
    image = ax.imshow(np.ma.masked_invalid(mean), cmap="cividis", aspect="auto")
    ax.set_xticks(range(len(xs)), [(xfmt or _level_tick)(v) for v in xs])
    ax.set_yticks(range(len(ys)), [(yfmt or _level_tick)(v) for v in ys])
    finite = mean[np.isfinite(mean)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for (i, j), v in np.ndenumerate(mean):
        if np.isfinite(v):
            ax.text(j, i, _interval_text(v, low[i, j], high[i, j], fmt), ha="center", va="center", fontsize=8,
                    color="black" if v > middle else "white")
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if title:
        ax.set_title(title, fontsize=10)
    label = _wrap(colorbar_label or "mean", 45)
    if better in ("lower", "higher"):
        label += f"\n({better} is better)"
    fig.colorbar(image, ax=ax, label=label)
    return fig


def _wrap(text: str, width: int) -> str:
    """Long axis labels over several lines, so they do not run into the next panel."""
    return "\n".join(textwrap.fill(line, width) for line in str(text).split("\n"))


def _is_numeric(values: Sequence) -> bool:
    return bool(len(values)) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                                     for v in values)


def factor_lines(summary: pd.DataFrame, factor: str, metrics: Sequence[str], *, labels: dict[str, str],
                 xlabel: str = "", title: str = "", reference=None, ncols: int = 2, figsize=None) -> Figure:
    """One panel per metric: the mean against one factor's levels, with a 95% interval band.

    ``summary`` has columns ``factor``, ``metric``, ``mean``, ``ci_low``, ``ci_high``; numeric
    levels are placed to scale, others (words, linked levels) evenly in design order. ``labels``
    gives each metric's axis label with its unit; ``reference`` marks the base level (e.g. the
    base scenario of a one-at-a-time design) with a dashed line.
    """
    metrics = [m for m in metrics if m in set(summary["metric"])]
    ncols = max(1, min(ncols, len(metrics)))
    nrows = max(1, -(-len(metrics) // ncols))
    fig = Figure(figsize=figsize or (4.2 * ncols, 3.0 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    if not metrics:  # then there is one panel
        return _nothing_to_show(fig, axes[0], "no data")
    levels = list(dict.fromkeys(summary[factor]))
    numeric = _is_numeric(levels)
    if numeric:
        levels = sorted(levels)
    position = {v: (float(v) if numeric else i) for i, v in enumerate(levels)}
    for ax, metric in zip(axes, metrics):
        part = summary[summary["metric"] == metric].copy()
        part["x"] = part[factor].map(position)
        part = part.sort_values("x")
        col = OKABE_ITO["blue"]
        ax.plot(part["x"], part["mean"], "o-", color=col, lw=1.6, ms=4, label="mean")
        low, high = _floored(metric, part["ci_low"].to_numpy(dtype=float)), part["ci_high"].to_numpy(dtype=float)
        if np.isfinite(low).any():
            ax.fill_between(part["x"], low, high, color=col, alpha=0.2, lw=0, label="95% interval")
        if reference is not None and reference in position:
            ax.axvline(position[reference], color="#555555", ls="--", lw=1, label="base scenario")
        if not numeric:
            ax.set_xticks([position[v] for v in levels], [_level_tick(v) for v in levels])
        ax.set_xlabel(_wrap(xlabel or factor, 50), fontsize=9)
        ax.set_ylabel(_wrap(labels.get(metric, metric), 34), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics):]:
        ax.set_axis_off()
    axes[0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def non_dominated(cost: Sequence[float], benefit: Sequence[float]) -> np.ndarray:
    """Mask of points no other point beats: none has lower-or-equal cost and higher-or-equal benefit
    with at least one strictly better. Points with a missing value are never on the front."""
    cost, benefit = np.asarray(cost, dtype=float), np.asarray(benefit, dtype=float)
    ok = np.isfinite(cost) & np.isfinite(benefit)
    front = np.zeros(cost.size, dtype=bool)
    for i in np.flatnonzero(ok):
        others = ok & (cost <= cost[i]) & (benefit >= benefit[i]) & ((cost < cost[i]) | (benefit > benefit[i]))
        front[i] = not others.any()
    return front


def pareto_front(points: pd.DataFrame, *, xlabel: str, ylabel: str, title: str = "", label_limit: int = 30,
                 figsize=(7, 4.8)) -> Figure:
    """Configurations as points of cost (x, lower is better) against benefit (y, higher is better).

    ``points`` has columns ``label``, ``x``, ``x_low``, ``x_high``, ``y``, ``y_low``, ``y_high``:
    means with 95% intervals drawn as error bars both ways. Non-dominated points (the front,
    :func:`non_dominated` on the means) are drawn in vermillion diamonds joined by a step line;
    the others in blue circles. Points are labelled (only the front's beyond ``label_limit`` points). The front ignores the intervals: a point
    off the front may still be indistinguishable from one on it.
    """
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    data = points.dropna(subset=["x", "y"]).reset_index(drop=True)
    if data.empty:
        return _nothing_to_show(fig, ax, "no configuration has both values")
    front = non_dominated(data["x"], data["y"])

    def errors(column: str) -> np.ndarray:
        mean = data[column].to_numpy(dtype=float)
        err = np.vstack([mean - data[f"{column}_low"].to_numpy(dtype=float),
                         data[f"{column}_high"].to_numpy(dtype=float) - mean])
        return np.where(np.isfinite(err), err, 0.0)

    xerr, yerr = errors("x"), errors("y")
    for mask, style, col, name in ((~front, "o", OKABE_ITO["blue"], "dominated"),
                                   (front, "D", OKABE_ITO["vermillion"], "non-dominated (Pareto front)")):
        if mask.any():
            ax.errorbar(data["x"][mask], data["y"][mask], xerr=xerr[:, mask], yerr=yerr[:, mask], fmt=style,
                        color=col, ecolor=col, elinewidth=0.8, capsize=2, ms=6, label=name, alpha=0.9)
    on = data[front].sort_values("x")
    ax.step(on["x"], on["y"], where="post", color=OKABE_ITO["vermillion"], lw=1, alpha=0.7)
    # Configurations at the same point (e.g. a factor with no effect) share one label; with many
    # points (a Latin hypercube) only the front is labelled, to stay readable.
    spots: dict[tuple[float, float], list[str]] = {}
    for row, is_front in zip(data.itertuples(index=False), front):
        if is_front or len(data) <= label_limit:
            spots.setdefault((float(row.x), float(row.y)), []).append(str(row.label))
    for (px, py), names in spots.items():
        ax.annotate(textwrap.fill(", ".join(names), 24), (px, py), textcoords="offset points", xytext=(5, 4),
                    fontsize=7, color="#222222")
    ax.set_xlabel(_wrap(xlabel, 70))
    ax.set_ylabel(_wrap(ylabel, 45))
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", title="mean and 95% interval", title_fontsize=8)
    return fig


def sensitivity_bars(indices: pd.DataFrame, *, xlabel: str = "sensitivity index", title: str = "",
                     figsize=None) -> Figure:
    """A tornado chart: one row per parameter, one bar per index, whiskers the index's confidence.

    ``indices`` has columns ``parameter``, ``index``, ``value``, ``conf`` (half-width of the
    interval, as SALib reports it; NaN for none). Parameters are sorted by the first index's value,
    largest at the top, so the most influential parameter leads.
    """
    data = indices.dropna(subset=["value"])
    names = list(dict.fromkeys(data["index"]))
    if names:
        first = data[data["index"] == names[0]].groupby("parameter")["value"].mean()
        parameters = list(first.sort_values(ascending=True).index)
        parameters += [p for p in dict.fromkeys(data["parameter"]) if p not in parameters]
    else:
        parameters = []
    height = max(2.4, 0.4 * len(parameters) * max(1, len(names)) ** 0.5 + 1.2)
    fig = Figure(figsize=figsize or (8, height), layout="constrained")
    ax = fig.subplots()
    if data.empty:
        return _nothing_to_show(fig, ax, "no indices")
    y = np.arange(len(parameters))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        part = data[data["index"] == name].groupby("parameter")[["value", "conf"]].mean().reindex(parameters)
        conf, value = part["conf"].to_numpy(dtype=float), part["value"].to_numpy(dtype=float)
        at = y + ((len(names) - 1) / 2 - i) * width  # the first index on top within each parameter
        ax.barh(at, value, width, color=colour(i), label=name)
        has = np.isfinite(conf) & np.isfinite(value)  # no whisker at all where the method gives none
        if has.any():
            ax.errorbar(value[has], at[has], xerr=conf[has], fmt="none", ecolor="#333333", elinewidth=0.9,
                        capsize=2)
    ax.set_yticks(y, parameters, fontsize=8)
    ax.axvline(0, color="#555555", lw=0.8)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", title="index (whisker: confidence)", title_fontsize=8)
    return fig

"""The ``int-sim`` command: run, compare and validate scenarios from a terminal or a script.

A thin layer over the public API (:func:`int_sim.load_scenario`, :func:`int_sim.run_experiment`,
:func:`int_sim.compare`): the command parses arguments, calls the API, and renders what comes
back as a table, one JSON object, or a tidy data file. Nothing here changes what the model does.

The contract (see DESIGN.md, CLI and Provenance):

* exit 0 on success; 2 on bad input, with one line ``error: <message>`` on stderr naming the
  file and field and no traceback; 1 on an internal error, one line
  ``internal error: <type>: <message>`` (the traceback too when ``INT_SIM_DEBUG=1``);
  130 on Ctrl-C, with no half-written output file.
* ``--json`` prints exactly one JSON object; floats are rounded to 6 significant digits and an
  undefined value (the interval of a single replication) is ``null``, so the same command gives
  the same bytes.
* every output carries the int-sim version, the seed, the replication count and the scenario
  hash, so any figure can be re-run.
"""

from __future__ import annotations

import json
import math
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from . import ComparisonResult, ExperimentResult, load_scenario, run_experiment
from . import compare as compare_configurations
from .files import write_atomically
from .metrics import HEADLINE, METRICS
from .scenario import Scenario, ScenarioError, parse_override

OUT_FORMATS = (".csv", ".parquet", ".json")
"""Extensions accepted by ``--out``; the extension chooses the format."""

ILLUSTRATIVE_NOTE = ("Note: all defaults are illustrative, not calibrated to any one place; "
                     "docs/parameters.md gives each default and its source.")

app = typer.Typer(
    name="int-sim",
    help=("Simulate an Integrated Neighbourhood Team: run a scenario, compare team configurations "
          "on the same residents, or check a scenario file.\n\n"
          "Scenarios are YAML files (see scenarios/). Change any value for one run with "
          "--set key=value, for example --set team.mdt_frequency=monthly. "
          "All defaults are illustrative: docs/parameters.md gives each one's source."),
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


class BadInput(Exception):
    """Bad command-line input that is not about the scenario itself (exit code 2)."""


# --- options shared by the commands ------------------------------------------------------------

RepsOption = Annotated[str, typer.Option(
    "--reps", metavar="N|auto",
    help="Replications: independent runs of the same year, averaged; more give narrower intervals. "
         "'auto' adds replications until every headline outcome's 95% interval is within --precision "
         "of its mean (Hoad et al.'s method), up to --max-reps.")]
PrecisionOption = Annotated[Optional[float], typer.Option(
    "--precision", metavar="FRACTION",
    help="With --reps auto: the widest 95% interval accepted, as a fraction of the mean (default 0.05, i.e. 5%).")]
MaxRepsOption = Annotated[Optional[int], typer.Option(
    "--max-reps", metavar="N", help="With --reps auto: stop after N replications even if imprecise (default 50).")]
PrecisionMetricOption = Annotated[Optional[list[str]], typer.Option(
    "--precision-metric", metavar="METRIC",
    help="With --reps auto: watch this outcome instead of the headline ones. Repeatable.")]
SeedOption = Annotated[int, typer.Option(
    "--seed", help="Random seed (0 or more). The same seed gives the same result, bit for bit.")]
SetOption = Annotated[Optional[list[str]], typer.Option(
    "--set", metavar="KEY=VALUE",
    help="Change one scenario value for this run, e.g. --set population.size=30000. Repeatable.")]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print one JSON object on stdout instead of a table (for scripts).")]
OutOption = Annotated[Optional[Path], typer.Option(
    "--out", metavar="FILE",
    help="Also write every replication's values to FILE: .csv, .parquet or .json, chosen by the extension.")]
WorkersOption = Annotated[int, typer.Option(
    "--workers", help="Processes to run replications in parallel (0 = one per CPU). Results do not depend on it.")]


# --- error handling ------------------------------------------------------------------------------

@contextmanager
def _exit_codes() -> Iterator[None]:
    """Map every failure to the contract's exit code and a one-line message on stderr."""
    try:
        yield
        sys.stdout.flush()  # inside, so that a closed pipe is caught here
    except (ScenarioError, BadInput) as err:
        _stderr_line(f"error: {err}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        _stderr_line("interrupted: stopped before finishing; nothing was written")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do on SIGPIPE.
        _silence_stdout()
        raise typer.Exit(141) from None
    except typer.Exit:
        raise
    except Exception as err:  # noqa: BLE001 - the contract: any other failure is an internal error
        if os.environ.get("INT_SIM_DEBUG") == "1":
            traceback.print_exc(file=sys.stderr)
        _stderr_line(f"internal error: {type(err).__name__}: {err}")
        raise typer.Exit(1) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (e.g. under a test runner)
        pass


def _stderr_line(text: str) -> None:
    """One line on stderr, however many lines the message had."""
    sys.stderr.write(" ".join(str(text).split()) + "\n")
    sys.stderr.flush()


# --- inputs --------------------------------------------------------------------------------------

MAX_SEED = 2**63 - 1
"""Largest --seed: it must fit the 64-bit integers of Parquet files and the results store."""
MAX_REPS = 10_000
"""Largest --reps: more would run for days; a typo such as 1000000 is refused at once."""


def _check_numbers(seed: int, workers: int) -> None:
    if seed < 0 or seed > MAX_SEED:
        raise BadInput(f"--seed {seed}: must be from 0 to {MAX_SEED:,}")
    if workers < 0:
        raise BadInput(f"--workers {workers}: must be 0 (one per CPU) or more")


def _replications(reps: str, precision: float | None, max_reps: int | None,
                  metrics: list[str] | None) -> dict[str, Any]:
    """The replication options of run_experiment/compare from --reps, --precision, --max-reps."""
    text = reps.strip().lower()
    if text != "auto":
        try:
            count = int(text)
        except ValueError:
            raise BadInput(f"--reps {reps}: must be a whole number of at least 1, or auto") from None
        if count < 1:
            raise BadInput(f"--reps {reps}: must be at least 1, or auto")
        if count > MAX_REPS:
            raise BadInput(f"--reps {reps}: at most {MAX_REPS:,} replications (or auto)")
        for name, given in (("--precision", precision), ("--max-reps", max_reps), ("--precision-metric", metrics)):
            if given is not None:
                raise BadInput(f"{name}: only applies with --reps auto")
        return {"replications": count}
    from .precision import PrecisionRule
    unknown = [m for m in metrics or [] if m not in METRICS]
    if unknown:
        raise BadInput(f"--precision-metric {unknown[0]}: unknown outcome; e.g. {', '.join(HEADLINE[:3])}")
    try:
        PrecisionRule(**{k: v for k, v in (("target", precision), ("max_replications", max_reps)) if v is not None})
    except ValueError as err:
        option = "--precision" if str(err).startswith("precision") else "--max-reps"
        raise BadInput(f"{option}: {err}") from None
    return {"replications": "auto", "precision": precision, "max_replications": max_reps,
            "precision_metrics": metrics}


def _planned(options: dict[str, Any]) -> int | None:
    """The bar's first total: the fixed count, or the first round of an automatic run."""
    if options["replications"] != "auto":
        return options["replications"]
    from .precision import PrecisionRule
    cap = options["max_replications"]
    return PrecisionRule(**({} if cap is None else {"max_replications": cap})).first_round


def _check_out(out: Path | None) -> None:
    """Refuse a bad --out before any simulation runs, not after minutes of work."""
    if out is None:
        return
    if out.suffix.lower() not in OUT_FORMATS:
        raise BadInput(f"--out {out}: unknown extension '{out.suffix}'; use one of {', '.join(OUT_FORMATS)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(f"--out {out}: folder '{parent}' does not exist")
    if out.is_dir():
        raise BadInput(f"--out {out}: is a folder, not a file")
    if not os.access(parent, os.W_OK):
        raise BadInput(f"--out {out}: cannot write to folder '{parent}'")


def _load(path: str, sets: list[str] | None) -> Scenario:
    """Load a scenario file and apply the --set overrides, validated like the file itself."""
    scenario = load_scenario(path)
    if not sets:
        return scenario
    parsed = [(text, *parse_override(text, source=f"--set {text}")) for text in sets]
    overrides = {key: value for _, key, value in parsed}
    source = f"{path} with --set"
    try:
        # All at once, so that values which only fit together (shares adding up) are accepted.
        return scenario.with_overrides(overrides, source=source)
    except ScenarioError as err:
        # Name the --set that caused it rather than the file, when one key is to blame.
        # (The last --set of a key is the one applied.)
        culprit = next((text for text, key, _ in reversed(parsed)
                        if key == err.field or (err.field or "").startswith(key + ".")), None)
        message = str(err)
        if culprit is None or not message.startswith(source + ": "):
            raise
        raise ScenarioError(f"--set {culprit}: {message[len(source) + 2:]}", field=err.field,
                            source=f"--set {culprit}") from None


def _unique_names(scenarios: list[Scenario]) -> list[str]:
    """Configuration names from the scenarios' names: a repeated name gets #2, #3, ..."""
    names: list[str] = []
    for scenario in scenarios:
        candidate, k = scenario.name, 1
        while candidate in names:
            k += 1
            candidate = f"{scenario.name}#{k}"
        names.append(candidate)
    return names


# --- progress ------------------------------------------------------------------------------------

@contextmanager
def _progress(label: str, total: int | None = None) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar over replications on a terminal's stderr; nothing when stderr is piped.

    Without ``total`` (sweeps) the bar starts at the first report, so replications stored by an
    earlier run neither fill it nor count towards the speed and time remaining."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        started = total is not None

        def update(done: int, total_now: int) -> None:
            nonlocal started
            if not started:
                bar.reset(task, total=total_now, completed=done)
                started = True
            else:
                bar.update(task, completed=done, total=total_now)  # grows with --reps auto

        yield update


# --- rendering -----------------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    """Round to 6 significant digits for stable output; NaN and infinity become None (JSON null)."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.6g}") + 0.0  # + 0.0 turns -0.0 into 0.0


def _ordered(metrics: list[str]) -> list[str]:
    """Headline metrics first, then the rest in declared order, then any undeclared ones."""
    present = set(metrics)
    order = [m for m in HEADLINE if m in present]
    order += [m for m in METRICS if m in present and m not in order]
    order += [m for m in metrics if m not in order]
    return order


def _interval_dict(frame: pd.DataFrame, mean_column: str) -> dict[str, dict[str, float | None]]:
    rows = frame.set_index("metric")
    return {metric: {"mean": _number(rows.at[metric, mean_column]),
                     "ci_low": _number(rows.at[metric, "ci_low"]),
                     "ci_high": _number(rows.at[metric, "ci_high"])}
            for metric in _ordered(list(rows.index))}


def _run_object(result: ExperimentResult) -> dict:
    prov = result.provenance
    return {
        "scenario": result.scenario.name,
        "replications": prov["replications"],
        "seed": prov["seed"],
        "int_sim_version": prov["int_sim_version"],
        "scenario_hash": prov["scenario_hash"][result.scenario.name],
        "metrics": _interval_dict(result.summary, "mean"),
        **_precision_entry(result.precision),
    }


def _compare_object(result: ComparisonResult) -> dict:
    prov = result.provenance
    names = list(result.scenarios)
    return {
        "configurations": names,
        "replications": prov["replications"],
        "seed": prov["seed"],
        "int_sim_version": prov["int_sim_version"],
        "scenario_hash": dict(prov["scenario_hash"]),
        "metrics": {name: _interval_dict(result.summary[result.summary.configuration == name], "mean")
                    for name in names},
        "differences": {name: _interval_dict(result.differences[result.differences.configuration == name], "mean_diff")
                        for name in names[1:]},
        **_precision_entry(result.precision),
    }


def _precision_entry(precision: dict | None) -> dict:
    """``{"precision": {...}}`` when the replications were chosen by a precision, else nothing."""
    if precision is None:
        return {}
    return {"precision": {key: _number(value) if isinstance(value, float) else value
                          for key, value in precision.items()}}


def _replications_text(obj: dict) -> str:
    """'12 replication(s)', with the precision outcome when --reps auto chose the number."""
    text = f"{obj['replications']} replication(s)"
    precision = obj.get("precision")
    if precision:
        target = f"{precision['target']:.0%}" if precision["target"] >= 0.01 else f"{precision['target']:g}"
        if precision["reached"]:
            text += f" (chosen for 95% intervals within {target} of the mean)"
        else:
            width = precision["worst_relative_half_width"]
            widest = "unbounded" if width is None else f"{width:.0%}"
            text += (f" (the cap; {precision['worst_metric']} was still \u00b1{widest}, "
                     f"not within {target})")
    return text


def _dumps(obj: dict) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _fmt(value: Any) -> str:
    """A number for a table: thousands separators for large values, 3 significant digits otherwise."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    value = float(value) + 0.0
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _interval(low: Any, high: Any) -> str:
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "-"
    return f"[{_fmt(low)}, {_fmt(high)}]"


def _metric_cells(metric: str) -> tuple[str, str]:
    info = METRICS.get(metric)
    return (info.label, info.unit) if info else (metric, "")


class _Console(Console):
    """Rich's console, handing a closed pipe to :func:`_exit_codes` (rich itself would exit 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _console() -> Console:
    console = _Console()
    # Piped into a file, keep rows on one line rather than wrapping at 80 columns.
    return console if console.is_terminal else _Console(width=200)


def _print_run_table(obj: dict) -> None:
    console = _console()
    table = Table(title=f"{obj['scenario']}: {_replications_text(obj)}, seed {obj['seed']}",
                  caption=f"int-sim {obj['int_sim_version']}, scenario hash {obj['scenario_hash']}; "
                          "interval: 95% t-interval over replications")
    for name, justify in (("Metric", "left"), ("Unit", "left"), ("Mean", "right"), ("95% interval", "right")):
        table.add_column(name, justify=justify)
    headline = set(HEADLINE)
    previous_headline = True
    for metric, values in obj["metrics"].items():
        if previous_headline and metric not in headline:
            table.add_section()
            previous_headline = False
        table.add_row(*_metric_cells(metric), _fmt(values["mean"]), _interval(values["ci_low"], values["ci_high"]))
    console.print(table)
    console.print(ILLUSTRATIVE_NOTE, soft_wrap=True)


def _print_compare_table(obj: dict) -> None:
    console = _console()
    names = obj["configurations"]
    first = names[0]
    hashes = ", ".join(f"{n} {h}" for n, h in obj["scenario_hash"].items())
    table = Table(title=f"{' vs '.join(names)}: {_replications_text(obj)}, seed {obj['seed']}, "
                        "common random numbers",
                  caption=f"int-sim {obj['int_sim_version']}, scenario hashes: {hashes}; "
                          f"differences are paired by replication, against {first}")
    table.add_column("Metric")
    table.add_column("Unit")
    for name in names:
        table.add_column(f"{name}\nmean", justify="right")
    for name in names[1:]:
        table.add_column(f"{name} - {first}\nmean", justify="right")
        table.add_column("95% interval", justify="right")
    metrics = _ordered(sorted({m for per in obj["metrics"].values() for m in per}))
    headline = set(HEADLINE)
    previous_headline = True
    for metric in metrics:
        if previous_headline and metric not in headline:
            table.add_section()
            previous_headline = False
        cells = list(_metric_cells(metric))
        cells += [_fmt(obj["metrics"][n].get(metric, {}).get("mean")) for n in names]
        for name in names[1:]:
            diff = obj["differences"][name].get(metric)
            cells += [_fmt(diff["mean"]), _interval(diff["ci_low"], diff["ci_high"])] if diff else ["-", "-"]
        table.add_row(*cells)
    console.print(table)
    console.print(ILLUSTRATIVE_NOTE, soft_wrap=True)


# --- output files --------------------------------------------------------------------------------

def _long_table(replications: pd.DataFrame, provenance: dict, configuration: str | None = None) -> pd.DataFrame:
    """The per-replication long table with provenance columns, one row per value."""
    frame = replications if configuration is None else replications.assign(configuration=configuration)
    frame = frame[["configuration", "replication", "metric", "value"]].reset_index(drop=True)
    return frame.assign(int_sim_version=provenance["int_sim_version"], seed=provenance["seed"],
                        replications=provenance["replications"],
                        scenario_hash=frame["configuration"].map(provenance["scenario_hash"]))


def _write_out(path: Path, table: pd.DataFrame, obj: dict) -> None:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            write_atomically(path, lambda tmp: table.to_csv(tmp, index=False))
        elif suffix == ".parquet":
            write_atomically(path, lambda tmp: table.to_parquet(tmp, index=False))
        else:
            data = dict(obj, replications_data=table.to_dict(orient="records"))
            write_atomically(path, lambda tmp: tmp.write_text(_dumps(data), encoding="utf-8"))
    except OSError as err:  # permissions, a full disk: the machine's problem, not int-sim's
        raise BadInput(f"--out {path}: cannot write the file ({err.strerror or err})") from None
    _stderr_line(f"wrote {path} ({len(table)} rows)")


# --- commands ------------------------------------------------------------------------------------

@app.command()
def run(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO", help="Scenario YAML file, e.g. scenarios/baseline.yaml.")],
    reps: RepsOption = "10",
    seed: SeedOption = 0,
    sets: SetOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    workers: WorkersOption = 0,
    precision: PrecisionOption = None,
    max_reps: MaxRepsOption = None,
    precision_metrics: PrecisionMetricOption = None,
) -> None:
    """Run one scenario and report its outcomes with 95% intervals.

    Each replication simulates the scenario's residents and team for the warm-up and the
    measured days; the table shows each outcome's mean over replications and a 95% interval
    (headline outcomes first). "Admissions avoided" and "net cost" are measured against the same
    residents with no integrated team, on the same random numbers.

    Example: int-sim run scenarios/baseline.yaml --reps 20 --set team.mdt_frequency=monthly

    To a precision: int-sim run scenarios/baseline.yaml --reps auto --precision 0.05 --max-reps 40
    """
    with _exit_codes():
        _check_numbers(seed, workers)
        options = _replications(reps, precision, max_reps, precision_metrics)
        _check_out(out)
        sc = _load(scenario, sets)
        with _progress(f"{sc.name}: replications", _planned(options)) as progress:
            result = run_experiment(sc, seed=seed, workers=workers, progress=progress, **options)
        obj = _run_object(result)
        if out is not None:
            _write_out(out, _long_table(result.replications, result.provenance, configuration=sc.name), obj)
        if as_json:
            sys.stdout.write(_dumps(obj))
        else:
            _print_run_table(obj)


@app.command(name="compare")
def compare_command(
    scenarios: Annotated[list[str], typer.Argument(
        metavar="SCENARIO", help="Two or more scenario YAML files; the first is the reference.")],
    reps: RepsOption = "10",
    seed: SeedOption = 0,
    sets: SetOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    workers: WorkersOption = 0,
    precision: PrecisionOption = None,
    max_reps: MaxRepsOption = None,
    precision_metrics: PrecisionMetricOption = None,
) -> None:
    """Compare team configurations on the same residents and events.

    Every configuration is run on common random numbers (replication i sees the same residents
    and the same underlying events in each), so the differences against the FIRST scenario are
    paired and their 95% intervals are narrow. A difference whose interval excludes 0 is one the
    replications support. --set changes apply to every scenario. Configurations are named by the
    scenarios' name fields (a repeated name becomes name#2).

    Example: int-sim compare scenarios/fragmented.yaml scenarios/baseline.yaml --reps 20
    """
    with _exit_codes():
        if len(scenarios) < 2:
            raise BadInput("compare needs at least two scenario files (the first is the reference)")
        _check_numbers(seed, workers)
        options = _replications(reps, precision, max_reps, precision_metrics)
        _check_out(out)
        loaded = [_load(path, sets) for path in scenarios]
        configurations = dict(zip(_unique_names(loaded), loaded))
        with _progress("replications", _planned(options)) as progress:
            result = compare_configurations(configurations, seed=seed, workers=workers, progress=progress,
                                            **options)
        obj = _compare_object(result)
        if out is not None:
            _write_out(out, _long_table(result.replications, result.provenance), obj)
        if as_json:
            sys.stdout.write(_dumps(obj))
        else:
            _print_compare_table(obj)


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO", help="Scenario YAML file to check.")],
    sets: SetOption = None,
) -> None:
    """Check a scenario file (and any --set changes) without running it.

    Prints one line summarising the scenario and exits 0 if it is valid; otherwise prints one
    line naming the file, the field, the bad value and what is allowed, and exits 2.
    """
    with _exit_codes():
        sc = _load(scenario, sets)
        typer.echo(f"ok: {scenario} ({sc.name}): {sc.population.size:,} residents, "
                   f"{sc.team.staff.total():g} staff WTE, MDT {sc.team.mdt_frequency}")


# --- sweeps and the results store ------------------------------------------------------------

EXPORT_FORMATS = (".csv", ".parquet")


@contextmanager
def _sweep_errors() -> Iterator[None]:
    """Bad specs, stores and scheduler addresses are bad input: exit 2 with one line."""
    from .store import StoreError
    from .sweep import SweepError
    try:
        yield
    except (SweepError, StoreError) as err:
        raise BadInput(str(err)) from None


@app.command()
def sweep(
    spec: Annotated[str, typer.Argument(metavar="SPEC.yaml", help="Sweep spec: base scenario, design, factors.")],
    store: Annotated[Path, typer.Option("--store", metavar="FILE.duckdb",
                                        help="DuckDB results store; created if missing, resumed if the sweep is in it.")],
    workers: WorkersOption = 0,
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="Run on an existing Dask distributed cluster, e.g. tcp://host:8786, instead of local processes.")] = None,
    reps: Annotated[Optional[str], typer.Option(
        "--reps", metavar="N|auto",
        help="Replications per configuration, instead of the spec's: a number (more than are stored adds to "
             "the sweep) or auto (until --precision is reached per configuration, up to --max-reps).")] = None,
    precision: PrecisionOption = None,
    max_reps: MaxRepsOption = None,
) -> None:
    """Run a parameter sweep (grid, Latin hypercube or one-at-a-time) into a results store.

    Each replication's values are committed to the store as it finishes, so an interrupted sweep
    (Ctrl-C, a crash) resumes where it stopped when the same command is run again, and a finished
    sweep run again does nothing. Every configuration of replication i uses the same random
    numbers, and the values do not depend on --workers or --scheduler. Running it again with more
    replications adds them; with --reps auto (or replications: auto in the spec) each
    configuration gets replications until its headline outcomes' 95% intervals are within
    --precision of their means.

    Example: int-sim sweep experiments/team_size_at_fixed_reach/spec.yaml --store results.duckdb
    """
    from .store import Store
    from .sweep import load_sweep, run_sweep
    with _exit_codes():
        if workers < 0:
            raise BadInput(f"--workers {workers}: must be 0 (one per CPU) or more")
        with _sweep_errors():
            loaded = _sweep_replications(load_sweep(spec), reps, precision, max_reps)
            results = Store(store, create=True)
            try:
                with _progress(f"{loaded.spec.name}: replications") as progress:
                    outcome = run_sweep(loaded, results, workers=workers, scheduler=scheduler, progress=progress)
            except KeyboardInterrupt:
                stored = len(results.done(loaded.spec.name))
                _stderr_line(f"interrupted: {stored} replications are stored in {store}; "
                             "run the same command again to resume")
                raise typer.Exit(130) from None
        configs = len(loaded.configurations)
        if outcome.precision is not None:
            complete = _precision_summary(outcome.precision, loaded.spec.rule)
        else:
            complete = f"{configs} configurations x {loaded.spec.replications} replications"
        if outcome.ran == 0:
            _stderr_line(f"sweep {outcome.sweep}: already complete in {store} ({complete}); nothing to run")
        else:
            _stderr_line(f"sweep {outcome.sweep}: ran {outcome.ran} replications "
                         f"({outcome.already_done} were already stored); {complete}, in {store}")


def _sweep_replications(loaded, reps: str | None, precision: float | None, max_reps: int | None):
    """The sweep with --reps/--precision/--max-reps in place of the spec's replication settings."""
    from dataclasses import replace
    if reps is None and precision is None and max_reps is None:
        return loaded
    spec = loaded.spec
    options = _replications(reps if reps is not None else str(spec.replications), precision, max_reps, None)
    update: dict[str, Any] = {"replications": options["replications"], "precision": None,
                              "max_replications": None, "precision_metrics": None}
    if options["replications"] == "auto":
        keep = spec.replications == "auto"  # the spec's own precision settings still apply
        update["precision"] = precision if precision is not None else (spec.precision if keep else None)
        update["max_replications"] = max_reps if max_reps is not None else (spec.max_replications if keep else None)
        update["precision_metrics"] = spec.precision_metrics if keep else None
    return replace(loaded, spec=spec.model_copy(update=update))


def _precision_summary(decisions: dict, rule) -> str:
    """One clause on an automatic sweep: replications chosen and where the precision was missed."""
    counts = [d.replications for d in decisions.values()]
    missed = {cid: d for cid, d in decisions.items() if not d.reached}
    spread = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)} to {max(counts)}"
    text = (f"{len(decisions)} configurations, {spread} replications each, chosen for 95% "
            f"intervals within {rule.target:.0%} of the mean")
    if missed:
        cid, worst = max(missed.items(), key=lambda item: item[1].worst_relative_half_width)
        width = worst.worst_relative_half_width
        text += (f"; not reached by {len(missed)} at the cap of {rule.max_replications} (widest: configuration "
                 f"{cid}, {worst.worst}, \u00b1{'unbounded' if width == float('inf') else f'{width:.0%}'})")
    return text


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Factor columns mixing text and numbers (possible across sweeps) become text for Parquet."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column].dropna()}
            if len(kinds) > 1:
                out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


@app.command()
def export(
    store: Annotated[Path, typer.Argument(metavar="STORE", help="DuckDB results store written by `int-sim sweep`.")],
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Output file: .parquet or .csv.")],
    sweep_name: Annotated[Optional[str], typer.Option(
        "--sweep", metavar="NAME", help="Only this sweep (default: every sweep in the store).")] = None,
) -> None:
    """Write a store's results as one tidy table: one row per value, with factors and provenance.

    Columns: sweep, configuration_id, replication, metric, value, one column per factor (its
    dotted scenario key), then int_sim_version, seed, replications and scenario_hash (the hash of
    the configuration's full scenario, stored in the store's configurations table).
    """
    from .store import Store
    with _exit_codes():
        if out.suffix.lower() not in EXPORT_FORMATS:
            raise BadInput(f"--out {out}: unknown extension '{out.suffix}'; use one of {', '.join(EXPORT_FORMATS)}")
        _check_out(out)
        with _sweep_errors():
            table = Store(store).export_frame(sweep_name)
        if out.suffix.lower() == ".parquet":
            table = _arrow_safe(table)
        try:
            if out.suffix.lower() == ".csv":
                write_atomically(out, lambda tmp: table.to_csv(tmp, index=False))
            else:
                write_atomically(out, lambda tmp: table.to_parquet(tmp, index=False))
        except OSError as err:
            raise BadInput(f"--out {out}: cannot write the file ({err.strerror or err})") from None
        _stderr_line(f"wrote {out} ({len(table)} rows)")


@app.command()
def report(
    store: Annotated[Path, typer.Argument(metavar="STORE", help="DuckDB results store written by `int-sim sweep`.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                      help="Folder for report.md, the figures (PNG and SVG) and summary.csv; "
                                           "created if missing.")],
    sweep_name: Annotated[Optional[str], typer.Option(
        "--sweep", metavar="NAME", help="Only this sweep (default: every sweep in the store).")] = None,
) -> None:
    """Write a report of a results store: figures and a Markdown summary (report.md) that embeds them.

    Per sweep: provenance, a table of each configuration's factors and headline outcomes (mean
    and 95% interval), heatmaps for two-factor grids, line charts for one-factor designs, a
    Pareto front of cost against admissions avoided, and sensitivity indices when stored. Reads
    the store read-only, so it can run while a sweep is still writing (covering what is stored).

    Example: int-sim report results.duckdb --out report/
    """
    from .report import ReportError, write_report
    with _exit_codes():
        with _sweep_errors():
            try:
                written = write_report(store, out, sweep_name)
            except OSError as err:  # permissions, a full disk: the machine's problem, not int-sim's
                raise BadInput(f"--out {out}: cannot write the report ({err.strerror or err})") from None
            except ReportError as err:
                raise BadInput(str(err)) from None
            except KeyboardInterrupt:
                _stderr_line(f"interrupted: {out}/report.md was not written or updated; figures already "
                             "written are complete files (each is written whole or not at all)")
                raise typer.Exit(130) from None
        figures = sum(1 for path in written.files if path.suffix == ".png")
        _stderr_line(f"wrote {written.markdown} ({len(written.sweeps)} sweep(s), {figures} figures as PNG and SVG)")


# --- sensitivity analysis ------------------------------------------------------------------------

def _sensitivity_object(result) -> dict:
    """The --json object: provenance, then each metric's parameters by importance."""
    analysis = result.analysis
    spec = analysis.spec
    from . import __version__
    from .sensitivity import IMPORTANCE
    metrics: dict[str, list[dict]] = {}
    for metric, rows in result.indices.groupby("metric", sort=False):
        entries = []
        for parameter, prow in rows.groupby("parameter", sort=False):
            entry: dict[str, Any] = {"parameter": parameter}
            for r in prow.itertuples(index=False):
                entry[r.index] = _number(r.value)
                if r.index == IMPORTANCE[analysis.method] or analysis.method == "sobol":
                    entry[f"{r.index}_conf"] = _number(r.conf)
            entries.append(entry)
        metrics[metric] = entries
    return {"sweep": analysis.name, "method": analysis.method, "samples": analysis.samples,
            "configurations": len(analysis.sweep.configurations), "replications": spec.replications,
            "seed": spec.seed, "int_sim_version": __version__, "factors": list(spec.factors),
            "metrics": metrics, "warnings": list(result.warnings)}


def _print_sensitivity_table(obj: dict) -> None:
    console = _console()
    morris = obj["method"] == "morris"
    table = Table(title=f"{obj['sweep']}: {obj['method']} with {obj['samples']} "
                        f"{'trajectories' if morris else 'base samples'}, {obj['configurations']} configurations x "
                        f"{obj['replications']} replication(s), seed {obj['seed']}",
                  caption=(f"int-sim {obj['int_sim_version']}; parameters by importance within each metric; "
                           + ("mu*: mean absolute change in the metric across a factor's range (metric units), "
                              "sigma: its spread (interactions, non-linearity)" if morris else
                              "S1: first-order share of variance, ST: total share with interactions")
                           + "; \u00b1: half-width of the 95% bootstrap interval"))
    table.add_column("Metric")
    table.add_column("Rank", justify="right")
    table.add_column("Parameter")
    columns = (("mu_star", "mu*"), ("sigma", "sigma"), ("mu", "mu (signed)")) if morris else (("S1", "S1"), ("ST", "ST"))
    for _, title in columns:
        table.add_column(title, justify="right")
    for i, (metric, entries) in enumerate(obj["metrics"].items()):
        if i:
            table.add_section()
        label, unit = _metric_cells(metric)
        for rank, entry in enumerate(entries, start=1):
            cells = []
            for key, _ in columns:
                text = _fmt(entry.get(key))
                if f"{key}_conf" in entry and entry[f"{key}_conf"] is not None and text != "-":
                    text += f" \u00b1 {_fmt(entry[f'{key}_conf'])}"
                cells.append(text)
            name = (f"{label}\n[dim]{unit}[/dim]" if unit else label) if rank == 1 else ""
            table.add_row(name, str(rank), entry["parameter"], *cells)
    console.print(table)
    console.print(ILLUSTRATIVE_NOTE, soft_wrap=True)


@app.command()
def sensitivity(
    spec: Annotated[str, typer.Argument(metavar="SPEC.yaml", help="Sensitivity spec: base scenario, factor ranges, "
                                                                  "samples, replications, seed, metrics.")],
    store: Annotated[Path, typer.Option("--store", metavar="FILE.duckdb",
                                        help="DuckDB results store; created if missing, resumed if the run is in it.")],
    method: Annotated[Optional[str], typer.Option(
        "--method", metavar="morris|sobol",
        help="morris (screening: ranks many factors cheaply) or sobol (shares of variance); required.")] = None,
    workers: WorkersOption = 0,
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="Run on an existing Dask distributed cluster, e.g. tcp://host:8786, instead of local processes.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rank the factors of a spec by their effect on the outcomes (SALib Morris or Sobol).

    The spec is a sweep spec whose factors are ranges {low: , high: } (or ordered levels as a
    list). SALib draws the design with the spec's seed; each point runs as a configuration of a
    sweep named NAME.METHOD in the store (resumable, common random numbers, every replication
    stored); replications are averaged per configuration and the indices, with 95% intervals,
    are stored in the table sensitivity_indices and printed, most important first.

    Example: int-sim sensitivity experiments/factor_ranking/spec.yaml --method morris --store ranking.duckdb
    """
    from .sensitivity import load_analysis, run_sensitivity
    from .store import Store
    with _exit_codes():
        if method is None:
            raise BadInput("--method: missing; use --method morris or --method sobol")
        if workers < 0:
            raise BadInput(f"--workers {workers}: must be 0 (one per CPU) or more")
        with _sweep_errors():
            analysis = load_analysis(spec, method)
            results = Store(store, create=True)
            try:
                with _progress(f"{analysis.name}: replications") as progress:
                    result = run_sensitivity(analysis, results, workers=workers, scheduler=scheduler,
                                             progress=progress)
            except KeyboardInterrupt:
                stored = len(results.done(analysis.name))
                _stderr_line(f"interrupted: {stored} of {len(analysis.sweep.tasks)} replications are stored in "
                             f"{store}; run the same command again to resume")
                raise typer.Exit(130) from None
        outcome = result.outcome
        if outcome.ran == 0:
            _stderr_line(f"sensitivity {analysis.name}: already complete in {store}; indices recomputed")
        else:
            _stderr_line(f"sensitivity {analysis.name}: ran {outcome.ran} replications ({outcome.already_done} were "
                         f"already stored); {len(analysis.sweep.configurations)} configurations x "
                         f"{analysis.spec.replications} replications complete in {store}")
        for note in result.warnings:
            _stderr_line(f"warning: {note}")
        obj = _sensitivity_object(result)
        if as_json:
            sys.stdout.write(_dumps(obj))
        else:
            _print_sensitivity_table(obj)


def main() -> None:
    """Entry point for ``python -m int_sim``."""
    app(prog_name="int-sim")


if __name__ == "__main__":  # pragma: no cover
    main()

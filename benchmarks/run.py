"""Performance benchmarks for int-sim (issue 6): ``python benchmarks/run.py [--quick] [--json]``.

Measures, in one run, on the baseline preset with the full team model:

* ``year_50k_s``: one replication (the configuration AND its no-INT counterfactual, exactly as
  :func:`int_sim.experiment.simulate_replication` runs them) of 50,000 residents over the preset's
  warm-up plus 365 days, median of at least three runs after an untimed warm-up one; ``year_50k_model_only_s`` is the INT model
  alone (construction and run) inside the same replications;
* ``floor_50k_s``: the numpy floor, one vectorised uniform draw and comparison per resident per day
  for the same number of days, and ``ratio_to_floor``;
* ``naive_mesa_50k_s``: one Mesa agent per resident doing one draw per day through
  ``model.agents.shuffle_do``, and ``speedup_vs_naive``;
* ``scaling``: seconds and peak RSS of one replication at 10k, 50k, 200k and 1M residents, each in a
  fresh subprocess (staff scaled with residents so the team's load per resident stays the baseline's);
* sweep throughput with 1 and 2 workers (``run_experiment`` at 10,000 residents, median of three
  alternating sweeps);
* app latency: a two-configuration, ten-replication ``compare(..., workers=2)`` at 50,000 residents.

Every figure is printed next to its target; nothing is asserted. ``--quick`` (meant to take under
three minutes on two idle cores; slower when other work shares the CPUs) skips 1M residents and times fewer days or replications where it says so,
scaling them up linearly. With ``--json`` the human-readable lines go to stderr and the last line
of stdout is one JSON object. Not a project dependency: nothing here is imported by int_sim.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SIZES = (10_000, 50_000, 200_000, 1_000_000)
MILLION = 1_000_000
SEED = 0
CORE_FILES = ("model.py", "population.py", "active_residents.py", "keyed_random.py", "care.py", "workforce.py", "metrics.py",
              "experiment.py", "scenario.py")
"""The files that decide simulation speed; their hash tells whether a change can explain a new figure."""

TARGETS = {
    "year_50k_s": ("<=", 1.0),
    "ratio_to_floor": ("<=", 20.0),
    "speedup_vs_naive": (">=", 20.0),
    "year_1m_s": ("<=", 20.0),
    "year_1m_peak_rss_gb": ("<=", 2.0),
    "scaling_exponent": ("<=", 1.0),
    "sweep_speedup_2_workers": (">=", 1.7),
    "app_compare_s": ("<=", 10.0),
}

_out = sys.stdout


def say(text: str = "") -> None:
    print(text, file=_out, flush=True)


LOAD: dict[str, float] = {}


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def section(key: str, title: str) -> None:
    """Print a section title with the 1-minute load average (other work on the machine inflates wall times)."""
    LOAD[key] = os.getloadavg()[0]
    say(f"\n{title}   [load average {LOAD[key]:.1f} on {cpus()} CPUs]")


# --- scenarios -------------------------------------------------------------------------------
def scenario_at(size: int):
    """The baseline preset at ``size`` residents, staff scaled with residents (same load per WTE)."""
    from int_sim.scenario import ROLES, load_scenario

    base = load_scenario(BASELINE)
    if size == base.population.size:
        return base
    factor = size / base.population.size
    overrides = {"population.size": size}
    overrides.update({f"team.staff.{role}": round(getattr(base.team.staff, role) * factor, 3) for role in ROLES})
    return base.with_overrides(overrides, source=f"benchmark at {size:,} residents")


def total_days(scenario) -> int:
    return scenario.simulation.warmup_days + scenario.simulation.days


# --- measurements ----------------------------------------------------------------------------
def measure_replication(runs: int) -> dict:
    """Median wall time of a full replication, and of the INT and counterfactual models inside it."""
    from int_sim import experiment
    from int_sim.model import NeighbourhoodModel

    scenario = scenario_at(50_000)
    log: list[tuple[bool, float]] = []

    class TimedModel(NeighbourhoodModel):
        def __init__(self, scenario, seeds, normaliser=None, draws=None):
            self._bench_start = time.perf_counter()
            self._bench_int = normaliser is not None
            super().__init__(scenario, seeds, normaliser=normaliser, draws=draws)

        def run_to_end(self):  # what run() and simulate_replication both call
            result = super().run_to_end()
            log.append((self._bench_int, time.perf_counter() - self._bench_start))
            return result

    replication, cpu, int_model, cf_model = [], [], [], []
    with mock.patch.object(experiment, "NeighbourhoodModel", TimedModel):
        # The first replication in a process also loads the model's compiled loops from
        # int_sim/__pycache__ (or compiles them, in a fresh checkout); a sweep pays that once, so
        # it is run first, untimed in the median, and reported on its own.
        start = time.perf_counter()
        experiment.simulate_replication({scenario.name: scenario}, SEED, runs)
        first_run = time.perf_counter() - start
        say(f"  warm-up (replication {runs}, loads the compiled loops; not in the median): {first_run:.2f} s wall")
        for r in range(runs):
            log.clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            experiment.simulate_replication({scenario.name: scenario}, SEED, r)
            replication.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            int_model += [t for is_int, t in log if is_int]
            cf_model += [t for is_int, t in log if not is_int]
            say(f"  replication {r}: {replication[-1]:.2f} s wall, {cpu[-1]:.2f} s CPU"
                + (f" (INT model {int_model[-1]:.2f} s" if int_model else "")
                + (f", counterfactual model {cf_model[-1]:.2f} s)" if cf_model else ")"))
    return {
        "year_50k_s": statistics.median(replication),
        "year_50k_runs_s": replication,
        "year_50k_first_run_s": first_run,
        "year_50k_cpu_s": statistics.median(cpu),
        "year_50k_model_only_s": statistics.median(int_model) if int_model else None,
        "year_50k_counterfactual_model_s": statistics.median(cf_model) if cf_model else None,
        "days": total_days(scenario),
    }


def measure_floor(days: int, residents: int = 50_000, runs: int = 5) -> float:
    """The numpy floor: one uniform draw and one comparison per resident per day."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    p = rng.random(residents) * 2e-3
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        hits = 0
        for _day in range(days):
            hits += int(np.count_nonzero(rng.random(residents) < p))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_naive_mesa(days: int, timed_days: int, residents: int = 50_000) -> dict:
    """One Mesa agent per resident, one draw per day via ``shuffle_do``: what plain Mesa looks like.

    The draw uses the agent's ``self.random`` (the stdlib generator Mesa seeds from ``rng``), the
    cheaper of Mesa's two generators, so the reference is not made slow on purpose.
    """
    import mesa

    class Resident(mesa.Agent):
        def __init__(self, model, p):
            super().__init__(model)
            self.p = p
            self.events = 0

        def step(self):
            if self.random.random() < self.p:
                self.events += 1

    class NaiveModel(mesa.Model):
        def __init__(self, n, seed):
            super().__init__(rng=seed)
            for k in range(n):
                Resident(self, 1e-3 * (1 + k % 3))

        def step(self):
            self.agents.shuffle_do("step")

    start = time.perf_counter()
    model = NaiveModel(residents, SEED)
    build = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(timed_days):
        model.step()
    stepping = time.perf_counter() - start
    per_day = stepping / timed_days
    return {"naive_mesa_50k_s": build + per_day * days, "naive_build_s": build, "naive_per_day_s": per_day,
            "naive_timed_days": timed_days, "naive_extrapolated": timed_days < days}


def child_replication(size: int) -> None:
    """Run in a fresh process: one replication at ``size`` residents; print seconds and peak RSS."""
    from int_sim.experiment import simulate_replication

    scenario = scenario_at(size)
    rss_before = _current_rss_mb()
    start, start_cpu = time.perf_counter(), time.process_time()
    simulate_replication({scenario.name: scenario}, SEED, 0)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    print(json.dumps({"residents": size, "seconds": seconds, "cpu_s": cpu, "peak_rss_mb": peak_mb,
                      "rss_before_run_mb": rss_before, "days": total_days(scenario)}))


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its reaped children (the worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mb_of(pid: int) -> float | None:
    """VmHWM (peak resident set) of a running process, from /proc; None where there is no /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _current_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def measure_scaling(sizes: tuple[int, ...], timeout: float) -> list[dict]:
    rows = []
    for size in sizes:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(size)]
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            peak = _peak_rss_mb_of(child.pid)  # the high-water mark so far, read before the child is stopped
            child.kill()
            child.communicate()
            say(f"  {size:>9,} residents: did not finish within {timeout:.0f} s"
                + (f" (peak RSS so far {peak:.0f} MB)" if peak else ""))
            rows.append({"residents": size, "seconds": None, "peak_rss_mb": None, "error": "timeout",
                         "timeout_s": timeout, "peak_rss_mb_at_timeout": peak})
            continue
        done = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
            say(f"  {size:>9,} residents: failed ({tail[0]})")
            rows.append({"residents": size, "seconds": None, "peak_rss_mb": None, "error": tail[0]})
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["us_per_resident_day"] = row["seconds"] / (size * row["days"]) * 1e6
        rows.append(row)
        say(f"  {size:>9,} residents: {row['seconds']:7.2f} s wall, {row['cpu_s']:7.2f} s CPU, peak RSS {row['peak_rss_mb']:7.0f} MB "
            f"(imports {row['rss_before_run_mb'] or float('nan'):.0f} MB), "
            f"{row['us_per_resident_day']:.3f} us per resident-day")
    return rows


def scaling_exponent(rows: list[dict]) -> float | None:
    """Least-squares slope of log(seconds) on log(residents): 1.0 is linear."""
    points = [(math.log(r["residents"]), math.log(r["seconds"])) for r in rows if r.get("seconds")]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def measure_sweep(replications: int, repeats: int = 3) -> dict:
    """Replications per second with 1 and 2 workers, each the median of ``repeats`` timed sweeps.

    The 1- and 2-worker sweeps alternate, so a change in the host's speed during the section hits
    both alike. One sweep of a few 10,000-resident replications lasts a second or two, and a single
    pair of them swung by +-0.15 in the speed-up from one run to the next; the median of three pairs
    is what a long sweep's throughput looks like. (Fork and the pool take about 20 ms; the children
    inherit the parent's compiled loops, so nothing is compiled again.)"""
    from int_sim.experiment import run_experiment

    scenario = scenario_at(10_000)
    out = {"sweep_residents": 10_000, "sweep_replications": replications, "sweep_repeats": repeats}
    timings: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for repeat in range(repeats):
        for workers in ((1, 2) if repeat % 2 == 0 else (2, 1)):
            start, start_cpu = time.perf_counter(), _cpu_with_children()
            run_experiment(scenario, replications=replications, seed=SEED, workers=workers)
            seconds, cpu = time.perf_counter() - start, _cpu_with_children() - start_cpu
            timings[workers].append((seconds, cpu))
            say(f"  {workers} worker(s): {replications} replications in {seconds:.2f} s "
                f"= {replications / seconds:.2f} replications/s (CPU {cpu:.2f} s, load {os.getloadavg()[0]:.1f})")
    for workers, runs in timings.items():
        seconds = statistics.median(wall for wall, _ in runs)
        out[f"sweep_{workers}_worker_s"] = seconds
        out[f"sweep_{workers}_worker_cpu_s"] = statistics.median(cpu for _, cpu in runs)
        out[f"sweep_{workers}_worker_reps_per_s"] = replications / seconds
    out["sweep_speedup_2_workers"] = out["sweep_2_worker_reps_per_s"] / out["sweep_1_worker_reps_per_s"]
    out["sweep_speedups_by_repeat"] = [one[0] / two[0] for one, two in zip(timings[1], timings[2])]
    return out


def measure_app(replications: int, full_replications: int = 10, workers: int = 2) -> dict:
    """What the app's Compare page does: two configurations on common random numbers."""
    from int_sim.experiment import compare

    base = scenario_at(50_000)
    variant = base.with_overrides({"name": "full co-location", "team.co_location": "full"}, source="benchmark")
    start, start_cpu = time.perf_counter(), _cpu_with_children()
    compare({base.name: base, variant.name: variant}, replications=replications, seed=SEED, workers=workers)
    seconds = time.perf_counter() - start
    cpu = _cpu_with_children() - start_cpu
    # with two workers the wall time goes in rounds of two replications
    rounds_timed = math.ceil(replications / workers)
    rounds_full = math.ceil(full_replications / workers)
    return {"app_compare_s": seconds * rounds_full / rounds_timed, "app_timed_s": seconds, "app_timed_cpu_s": cpu,
            "app_timed_replications": replications, "app_extrapolated": replications < full_replications}


# --- reporting ----------------------------------------------------------------------------
def machine() -> dict:
    import mesa
    import numpy as np
    import simpy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    source, core = hashlib.sha256(), hashlib.sha256()
    for path in sorted((ROOT / "int_sim").rglob("*.py")):
        source.update(path.read_bytes())
        if path.name in CORE_FILES and path.parent.name == "int_sim":
            core.update(path.read_bytes())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "nproc": cpus(),
            "cpu": cpu, "python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__,
            "simpy": simpy.__version__, "git_commit": commit, "int_sim_source_sha256": source.hexdigest()[:12],
            "int_sim_core_sha256": core.hexdigest()[:12]}


def verdict(key: str, value) -> str:
    if key not in TARGETS:
        return ""
    op, target = TARGETS[key]
    if value is None:
        return f"target {op} {target:g}   (not measured)"
    met = value <= target if op == "<=" else value >= target
    return f"target {op} {target:g}   {'met' if met else 'MISSED'}"


def line(label: str, key: str, value, unit: str = "", note: str = "") -> None:
    shown = "n/a" if value is None else f"{value:.3f}{unit}"
    say(f"  {label:<34} {shown:>14}   {verdict(key, value)}{('   ' + note) if note else ''}")


def main(argv: list[str] | None = None) -> int:
    global _out
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip 1M residents; time fewer days and replications")
    parser.add_argument("--json", action="store_true", help="human lines to stderr; last stdout line is JSON")
    parser.add_argument("--runs", type=int, default=3, help="replications timed for year_50k_s (median; >= 3)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    if args.child:
        child_replication(args.child)
        return 0
    if args.json:
        _out = sys.stderr
    quick = args.quick

    info = machine()
    say(f"int-sim benchmarks ({'quick' if quick else 'full'}) {info['date_utc']} UTC: {info['nproc']} CPUs, "
        f"{info['cpu']}; Python {info['python']}, numpy {info['numpy']}, mesa {info['mesa']}; "
        f"int_sim source {info['int_sim_source_sha256']} (model core {info['int_sim_core_sha256']}), "
        f"git {info['git_commit']}")
    result: dict = {"quick": quick, "machine": info}

    section("replication", f"1. One replication of 50,000 residents (baseline preset, INT + counterfactual), {max(3, args.runs)} runs")
    result.update(measure_replication(max(3, args.runs)))
    days = result["days"]

    section("floor_naive", f"2. Floor and naive Mesa, {days} days x 50,000 residents")
    result["floor_50k_s"] = measure_floor(days)
    say(f"  floor: {result['floor_50k_s']:.3f} s (median of 5)")
    result["ratio_to_floor"] = result["year_50k_s"] / result["floor_50k_s"]
    result.update(measure_naive_mesa(days, 30 if quick else days))
    result["speedup_vs_naive"] = result["naive_mesa_50k_s"] / result["year_50k_s"]
    say(f"  naive Mesa: build {result['naive_build_s']:.2f} s + {result['naive_per_day_s'] * 1000:.1f} ms per day "
        f"(timed {result['naive_timed_days']} days) = {result['naive_mesa_50k_s']:.2f} s for {days} days")
    if result["year_50k_model_only_s"]:
        result["speedup_vs_naive_model_only"] = result["naive_mesa_50k_s"] / result["year_50k_model_only_s"]

    sizes = SIZES[:-1] if quick else SIZES
    section("scaling", f"3. Scaling, one replication per size in a fresh process ({', '.join(f'{s:,}' for s in sizes)} residents)")
    rows = measure_scaling(sizes, timeout=1800)
    result["scaling"] = rows
    result["scaling_exponent"] = scaling_exponent(rows)
    million = next((r for r in rows if r["residents"] == MILLION), None)
    result["year_1m_s"] = million["seconds"] if million else None
    result["year_1m_peak_rss_gb"] = (million["peak_rss_mb"] / 1024
                                     if million and million.get("peak_rss_mb") else None)

    reps = 16 if quick else 32
    section("sweep", f"4. Sweep throughput, run_experiment at 10,000 residents, {reps} replications, "
                     "median of 3 sweeps per worker count")
    result.update(measure_sweep(reps))

    app_reps = 2 if quick else 10
    section("app", f"5. App latency, compare() of two configurations at 50,000 residents, workers=2, {app_reps} replications")
    result.update(measure_app(app_reps))
    say(f"  timed {result['app_timed_replications']} replications in {result['app_timed_s']:.2f} s wall "
        f"({result['app_timed_cpu_s']:.2f} s CPU over all processes, load {os.getloadavg()[0]:.1f})")

    say("\nSummary (targets from issue 6; figures are printed, never asserted)")
    line("year_50k_s (median)", "year_50k_s", result["year_50k_s"], " s")
    line("year_50k_model_only_s", "", result["year_50k_model_only_s"], " s", "INT model alone")
    line("floor_50k_s", "", result["floor_50k_s"], " s")
    line("ratio_to_floor", "ratio_to_floor", result["ratio_to_floor"])
    line("naive_mesa_50k_s", "", result["naive_mesa_50k_s"], " s",
         f"extrapolated from {result['naive_timed_days']} of {days} days" if result["naive_extrapolated"] else "")
    line("speedup_vs_naive", "speedup_vs_naive", result["speedup_vs_naive"], "x",
         "naive one-model loop / full two-model replication")
    million = next((r for r in result["scaling"] if r["residents"] == MILLION), None)
    failed = million is not None and million.get("error")
    million_note = "skipped in --quick" if quick else (
        f"did not finish: {million['error']}" + (f" after {million['timeout_s']:.0f} s" if million.get("timeout_s") else "")
        if failed else "")
    line("year_1m_s", "year_1m_s", result["year_1m_s"], " s", million_note)
    peak_so_far = million.get("peak_rss_mb_at_timeout") if failed else None
    line("year_1m_peak_rss_gb", "year_1m_peak_rss_gb", result["year_1m_peak_rss_gb"], " GB",
         million_note + (f" (peak so far {peak_so_far / 1024:.2f} GB)" if peak_so_far else ""))
    line("scaling_exponent", "scaling_exponent", result["scaling_exponent"], "",
         "log-log slope of seconds on residents")
    line("sweep 1 worker", "", result["sweep_1_worker_reps_per_s"], " reps/s")
    line("sweep 2 workers", "", result["sweep_2_worker_reps_per_s"], " reps/s")
    line("sweep_speedup_2_workers", "sweep_speedup_2_workers", result["sweep_speedup_2_workers"], "x")
    line("app_compare_s", "app_compare_s", result["app_compare_s"], " s",
         f"scaled from {result['app_timed_replications']} to 10 replications" if result["app_extrapolated"] else "")
    result["load_average_1min"] = dict(LOAD)
    busy = max(LOAD.values())
    if busy > cpus():  # the benchmark itself accounts for 1 (2 while its workers run)
        say(f"\n  Note: the 1-minute load average reached {busy:.1f} on {cpus()} CPUs; other processes shared the "
            "CPUs, so wall times are inflated (compare the CPU seconds).")
    result["targets"] = {key: f"{op} {value:g}" for key, (op, value) in TARGETS.items()}
    if args.json:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

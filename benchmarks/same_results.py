"""Do two versions of the model give the same results? Bit for bit, over many runs.

Run once per version, each with its own ``int_sim`` first on the path, then compare::

    PYTHONPATH=/path/to/old/checkout python benchmarks/same_results.py old.jsonl
    python benchmarks/same_results.py new.jsonl
    python benchmarks/same_results.py --compare old.jsonl new.jsonl

Each run is one replication (configuration and counterfactual) of a preset scaled to 10,000
residents with staff in proportion. By default that is 20 replications of each of the five
presets. A line holds the metrics and a hash of the daily frame. ``--compare`` prints the runs
that differ and exits 1 if there are any. An optimisation that must not change behaviour should
leave none.

A change meant to keep the model's *law* but not its random numbers (a different way of drawing
the same distributions) is checked with ``--distribution old.jsonl new.jsonl`` instead: for every
preset and headline metric, a paired t statistic over replications (the two versions share each
replication's seeds, so the residents are the same) and the relative difference of the means.
It exits 1 if any |t| exceeds ``--max-t`` (4 by default: with about a hundred comparisons, a
chance exceedance has probability under 1%).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ("baseline", "fragmented", "small_colocated", "large_virtual", "checklist_full")


def record(path: str, presets: list[str], replications: int, size: int, seed: int) -> None:
    sys.path.insert(1, str(ROOT / "tests"))  # after PYTHONPATH, so the version under test is used
    from model_helpers import preset, scaled

    from int_sim.experiment import simulate_replication

    with open(path, "w") as out:
        for name in presets:
            scenario = scaled(preset(name), size)
            for r in range(replications):
                metrics, daily = simulate_replication({name: scenario}, seed, r)[name]
                out.write(json.dumps({"preset": name, "replication": r, "metrics": metrics,
                                      "daily": hashlib.sha1(daily.to_csv().encode()).hexdigest()}) + "\n")
                out.flush()


def compare(old_path: str, new_path: str) -> int:
    def load(path):
        return {(d["preset"], d["replication"]): d for d in map(json.loads, open(path))}

    old, new = load(old_path), load(new_path)
    common = sorted(old.keys() & new.keys())
    differ = [key for key in common if old[key]["metrics"] != new[key]["metrics"] or old[key]["daily"] != new[key]["daily"]]
    for key in differ:
        changed = [m for m in old[key]["metrics"] if old[key]["metrics"][m] != new[key]["metrics"].get(m)]
        print(f"differs: {key[0]} replication {key[1]}: {changed[:8]}{' ...' if len(changed) > 8 else ''}")
    print(f"{len(common) - len(differ)} of {len(common)} runs identical")
    return 1 if differ else 0


def distribution(old_path: str, new_path: str, max_t: float) -> int:
    import numpy as np

    def load(path):
        return {(d["preset"], d["replication"]): d["metrics"] for d in map(json.loads, open(path))}

    old, new = load(old_path), load(new_path)
    common = sorted(old.keys() & new.keys())
    presets = sorted({preset for preset, _ in common})
    rows = []
    for preset in presets:
        keys = [key for key in common if key[0] == preset]
        metrics = [m for m in old[keys[0]] if "." not in m and all(m in old[k] and m in new[k] for k in keys)]
        for metric in metrics:
            a = np.array([old[k][metric] for k in keys], dtype=float)
            b = np.array([new[k][metric] for k in keys], dtype=float)
            ok = np.isfinite(a) & np.isfinite(b)
            a, b = a[ok], b[ok]
            if a.size < 3:
                continue
            d = b - a
            sd = d.std(ddof=1)
            t = 0.0 if sd == 0 and d.mean() == 0 else d.mean() / (sd / np.sqrt(d.size)) if sd > 0 else np.inf
            relative = d.mean() / abs(a.mean()) if a.mean() else np.nan
            rows.append((abs(t), preset, metric, a.mean(), b.mean(), relative, t, d.size))
    rows.sort(reverse=True)
    print(f"{'preset':16s} {'metric':40s} {'old mean':>11s} {'new mean':>11s} {'rel diff':>9s} {'paired t':>9s}  n")
    for _, preset, metric, a_mean, b_mean, relative, t, n in rows:
        flag = "  <-- differs" if abs(t) > max_t else ""
        print(f"{preset:16s} {metric:40s} {a_mean:11.3f} {b_mean:11.3f} {relative:9.2%} {t:9.2f}  {n}{flag}")
    failed = sum(abs(t) > max_t for _, _, _, _, _, _, t, _ in rows)
    print(f"{len(rows) - failed} of {len(rows)} comparisons within |t| <= {max_t}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="output file, or two files with --compare")
    parser.add_argument("--compare", action="store_true", help="compare two output files: identical runs?")
    parser.add_argument("--distribution", action="store_true",
                        help="compare two output files: the same distribution of each metric? (paired t)")
    parser.add_argument("--max-t", type=float, default=4.0, help="largest |paired t| accepted by --distribution")
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.compare or args.distribution:
        if len(args.paths) != 2:
            parser.error("--compare and --distribution need two files")
        return distribution(*args.paths, args.max_t) if args.distribution else compare(*args.paths)
    record(args.paths[0], args.presets.split(","), args.replications, args.size, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

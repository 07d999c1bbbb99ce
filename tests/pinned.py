"""The pinned run: a small replication whose every metric is committed in tests/data/pinned_metrics.json.

Optimisations must not change behaviour; ``tests/test_pinned.py`` fails when any metric moves.
When a change of behaviour is intended, regenerate the file explicitly and say why in the commit::

    .venv/bin/python tests/pinned.py --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from int_sim import load_scenario
from int_sim.experiment import simulate_replication

PINNED = Path(__file__).parent / "data" / "pinned_metrics.json"
ROOT = Path(__file__).resolve().parents[1]


def pinned_metrics() -> dict[str, dict[str, float]]:
    """Metrics of replications 0 and 1 of a 6,000-resident baseline over 120 measured days."""
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    ratio = 6000 / base.population.size
    overrides = {"population.size": 6000, "population.gp_practices": 1, "simulation.days": 120,
                 "simulation.warmup_days": 60}
    overrides.update({f"team.staff.{role}": round(getattr(base.team.staff, role) * ratio, 3)
                      for role in type(base.team.staff).model_fields})
    scenario = base.with_overrides(overrides)
    return {str(r): simulate_replication({"pinned": scenario}, 20261124, r)["pinned"][0] for r in (0, 1)}


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    PINNED.parent.mkdir(exist_ok=True)
    PINNED.write_text(json.dumps(pinned_metrics(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {PINNED}")

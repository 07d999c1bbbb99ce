"""The compiled care steps run the same as their Python source, and stay inside their arrays.

The care steps (:mod:`int_sim.care_steps`, :mod:`int_sim.caseload`, :mod:`int_sim.day_book`)
are compiled by numba, which does not check array bounds: a step that wrote past a table would
corrupt memory rather than fail. With ``NUMBA_DISABLE_JIT=1`` the same functions run as plain
Python, where every index is checked, so a small run of each route (the team's MDTs, and usual
care alone), with staff short enough that actions wait and give up, must give exactly the
compiled run's results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RUN = """
import json, sys
sys.path.insert(0, {tests!r})
from model_helpers import preset, scaled
from int_sim.experiment import simulate_replication
out = {{}}
for name in ("baseline", "fragmented"):
    scenario = scaled(preset(name), 3000, days=200, warmup=40, staff_factor=0.5)
    (metrics, daily), = simulate_replication({{name: scenario}}, 11, 0).values()
    out[name] = {{"metrics": {{k: float(v) for k, v in sorted(metrics.items())}},
                 "daily": daily.value.round(12).tolist()}}
print(json.dumps(out))
"""


def _run(**environment: str) -> dict:
    result = subprocess.run([sys.executable, "-c", RUN.format(tests=str(ROOT / "tests"))], cwd=ROOT,
                            env={**os.environ, **environment}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.filterwarnings("ignore")
def test_compiled_care_steps_match_their_python_source_with_every_index_checked():
    interpreted = _run(NUMBA_DISABLE_JIT="1")  # first: a step past an array fails here at once,
    compiled = _run()  # where the compiled run may corrupt memory and hang until its timeout
    for name in ("baseline", "fragmented"):
        assert compiled[name]["metrics"]["unmet_actions_per_1000"] > 0, "staff were not short enough to wait"
        assert compiled[name] == interpreted[name], name

"""Behaviour is pinned: a small run's metrics equal the committed ones exactly (see tests/pinned.py)."""

import json

from pinned import PINNED, pinned_metrics


def test_a_small_run_reproduces_the_committed_metrics_exactly():
    committed = json.loads(PINNED.read_text())
    now = json.loads(json.dumps(pinned_metrics()))  # the same float round trip as the file
    assert now.keys() == committed.keys()
    for replication in committed:
        assert now[replication].keys() == committed[replication].keys()
        changed = {k: (committed[replication][k], now[replication][k]) for k in committed[replication]
                   if now[replication][k] != committed[replication][k]}
        assert not changed, f"behaviour changed (run tests/pinned.py --update only if intended): {changed}"

"""Parallel audits writing one new history store: every run is stored, none fails on another's lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from launchready.history import HistoryStore

TESTS = Path(__file__).resolve().parents[1]

# What `audit` does with the store after a run (compare, then save), started by all at once.
_CHILD = """
import sys, time
from pathlib import Path
from report_samples import sample_run
from launchready.history import HistoryStore

base, go = Path(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
with HistoryStore(base) as store:
    run = sample_run()
    run = run.model_copy(update={"delta": store.delta(run)})
    print(store.save(run).run_id)
"""


def test_eight_processes_opening_a_fresh_store_together_all_store(tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    time.sleep(1.0)  # let them all reach the start line (a head start, not an assertion)
    go.touch()
    results = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
    ids = sorted(int(out) for out, _ in results)
    assert ids == list(range(1, 9))
    with HistoryStore(tmp_path) as store:
        assert len(store.list_runs(limit=100)) == 8


def test_eight_parallel_audits_in_a_fresh_directory_are_all_stored(tmp_path: Path, udp_dns_responder: Any) -> None:
    # A resolver that answers (NXDOMAIN for everything): offline runs are rightly not stored as
    # history, so the audits must see a working resolver for their runs to count.
    answering, _ = udp_dns_responder({})
    nameserver = str(answering)
    audits = [
        subprocess.Popen(
            [sys.executable, "-m", "launchready", "audit", "shop.test", "--nameserver", nameserver]
            + ["--timeout", "0.2", "-q", "--no-git-history", "-f", "json"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    errors = [audit.communicate(timeout=300)[1] for audit in audits]
    assert all("warning: history not updated" not in err for err in errors), errors
    with HistoryStore(tmp_path) as store:
        assert len(store.list_runs("shop.test", limit=100)) == 8

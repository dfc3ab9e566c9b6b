"""The suite's own parallel running (pytest-xdist): `alone` tests overlap no other test, and tests
serving the monitor on PostgreSQL take turns."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from monitorutil import one_serve_on_pg_at_a_time, pg_schema_url

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"

# Each test notes when it started and ended; the `alone` ones are named so.
_MODULE = """\
import os, time
import pytest

def _note(name):
    with open(os.environ["SPANS"], "a") as spans:
        spans.write(f"{{name}} {{os.environ['PYTEST_XDIST_WORKER']}} {{time.time()}} start\\n")
    time.sleep(0.3)
    with open(os.environ["SPANS"], "a") as spans:
        spans.write(f"{{name}} {{os.environ['PYTEST_XDIST_WORKER']}} {{time.time()}} end\\n")
{tests}
"""


def _suite(directory: Path) -> None:
    for module in range(3):
        tests = []
        for index in range(4):
            alone = (module, index) in {(0, 1), (0, 2), (2, 3)}
            name = f"{'alone' if alone else 'plain'}_{module}_{index}"
            mark = "@pytest.mark.alone\n" if alone else ""
            tests.append(f"\n{mark}def test_{name}():\n    _note({name!r})\n")
        (directory / f"test_m{module}.py").write_text(_MODULE.format(tests="".join(tests)), encoding="utf-8")


def test_alone_tests_overlap_no_other_test(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    _suite(suite)
    spans_file = tmp_path / "spans.txt"
    done = subprocess.run(
        # The suite's conftest.py loaded as a plugin: its hooks are what is tested.
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-o", "addopts="]
        + ["-n", "2", "--dist", "loadfile", "-q", str(suite)],
        cwd=suite,
        env={
            **{key: value for key, value in os.environ.items() if not key.startswith("PYTEST_XDIST")},
            "PYTHONPATH": os.pathsep.join([str(TESTS), str(SRC)]),
            "SPANS": str(spans_file),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    events = sorted(
        (float(at), kind, name, worker)
        for name, worker, at, kind in (line.split() for line in spans_file.read_text().splitlines())
    )
    assert len(events) == 24
    assert len({worker for *_, worker in events}) > 1  # the tests really ran side by side
    running: set[str] = set()
    for _, kind, name, _ in events:
        if kind == "end":
            running.discard(name)
            continue
        if name.startswith("alone"):
            assert not running, f"{name} started while {running} ran"
        assert not any(other.startswith("alone") for other in running), f"{name} started during {running}"
        running.add(name)


def test_serving_on_postgresql_takes_turns() -> None:
    with pg_schema_url():  # skips (or, under CI, fails) without the PostgreSQL server
        pass
    order: list[str] = []

    def second() -> None:
        with one_serve_on_pg_at_a_time():
            order.append("second")

    with one_serve_on_pg_at_a_time():
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive()  # it cannot get the lock the first one holds
        order.append("first")
    waiting.join(60)
    assert order == ["first", "second"]

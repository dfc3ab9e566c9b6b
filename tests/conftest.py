"""Shared fixtures. Keep each fixture in its own clearly named function."""

from __future__ import annotations

import contextlib
import faulthandler
import fcntl
import os
import select
import signal
import socket
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from launchready.core.net import Nameserver
from launchready.lab.ca import LabCA
from launchready.lab.lab import Lab


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: without xdist (-p no:xdist) it is never called
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject's addopts): two workers per CPU, at most eight.

    Most of the suite's wall time is waiting (real servers, child processes, deliberate outages),
    not computing, so more workers than CPUs keeps the CPUs busy. The cap keeps a big machine
    from starting dozens of servers, browsers and labs at once. PYTEST_XDIST_AUTO_NUM_WORKERS
    sets the number instead.
    """
    forced = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if forced:
        return int(forced)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(2 * cpus, 8)


# The test files that take longest, longest first (per-file test time in a parallel run). Under
# pytest-xdist (one file per worker, --no-loadscope-reorder) they are handed out first, so the
# run does not end with one worker still in a long file while the others idle. A file missing
# here only starts later.
_LONGEST_FILES = (
    "tests/test_check_lab.py",
    "tests/test_monitor_serve_e2e.py",
    "tests/test_e2e_cli.py",
    "tests/test_monitor_web.py",
    "tests/test_monitor_probe.py",
    "tests/test_monitor_cluster.py",
    "tests/test_deploy_gate.py",
    "tests/test_monitor_scheduler.py",
    "tests/test_monitor_regions_netns.py",
    "tests/hostile/test_cli_flags.py",
    "tests/hostile/test_regexes.py",
    "tests/test_monitor_lab.py",
    "tests/hostile/test_history_concurrency.py",
    "tests/test_perf_health.py",
    "tests/hostile/test_no_observation.py",
    "tests/test_monitor_alerts.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the longest files first (_LONGEST_FILES); each file's own order is kept."""
    if not hasattr(config, "workerinput"):
        return
    rank = {path: index for index, path in enumerate(_LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "alone: the test judges timings (latency budgets, page loads, growth factors) that other tests' "
        "load would distort: under pytest-xdist no other test runs while it does",
    )


class _TakingTurns:
    """A readers-writer lock between the xdist workers of one run, on two flock()ed files.

    Every test holds the room shared; an ``alone`` test holds it exclusively. To enter, a test
    first passes the gate; an ``alone`` test keeps the gate while it waits for the room to empty
    and while it runs, so tests arriving meanwhile wait instead of starving it.
    """

    def __init__(self, directory: Path) -> None:
        self._gate: IO[bytes] = (directory / "alone-gate.lock").open("ab")
        self._room: IO[bytes] = (directory / "alone-room.lock").open("ab")
        self.holding: str | None = None  # None, "shared" or "alone"

    def enter(self, alone: bool) -> None:
        wanted = "alone" if alone else "shared"
        if self.holding == wanted:
            return
        self.leave()
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        fcntl.flock(self._room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        self.holding = wanted

    def leave(self) -> None:
        if self.holding is None:
            return
        fcntl.flock(self._room, fcntl.LOCK_UN)
        if self.holding == "alone":
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        self.holding = None


_turns: _TakingTurns | None = None

# No test comes near this (the longest take about a minute on a busy two-core machine). A test
# still running then is hung: it fails there, with every thread's stack printed, instead of
# holding the other workers at the turn-taking lock until CI's time runs out.
_HUNG_TEST_S = float(os.environ.get("LAUNCHREADY_TEST_HANG_S", "420"))
# A hung test whose own clean-up hangs too ends its process after this; xdist reports the crash.
_UNWIND_S = 60.0


class HungTestError(Exception):
    """Raised in the test's thread when it runs past _HUNG_TEST_S."""


def _terminal_fd(config: pytest.Config) -> int:
    """The stream pytest's capture replaced (what a dying process wrote to the captured one is lost)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    saved = getattr(getattr(getattr(capture, "_global_capturing", None), "err", None), "targetfd_save", None)
    return saved if isinstance(saved, int) else 2


@contextlib.contextmanager
def _hang_watchdog(config: pytest.Config) -> Iterator[None]:
    terminal = _terminal_fd(config)

    def expired(_signum: int, _frame: object) -> None:
        faulthandler.dump_traceback(file=terminal)
        faulthandler.dump_traceback_later(_UNWIND_S, exit=True, file=terminal)
        raise HungTestError(f"still running after {_HUNG_TEST_S:g} s: hung (every thread's stack is on stderr)")

    # SIGALRM interrupts a blocking call too; its handler runs in the main thread, the test's.
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, _HUNG_TEST_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """Under pytest-xdist, run each ``alone`` test with no other test running (see _TakingTurns).

    Consecutive ``alone`` tests on one worker keep the room between them. A plain run (one
    process) takes no locks.
    """
    global _turns
    workerinput = getattr(item.config, "workerinput", None)
    if workerinput is None or item.config.option.basetemp is None:
        with _hang_watchdog(item.config):
            return (yield)
    if _turns is None:
        # The workers' base temporary directories (popen-gwN) share the run's one.
        _turns = _TakingTurns(Path(item.config.option.basetemp).parent)
    alone = item.get_closest_marker("alone") is not None
    _turns.enter(alone)
    try:
        with _hang_watchdog(item.config):
            return (yield)
    finally:
        if not (alone and nextitem is not None and nextitem.get_closest_marker("alone") is not None):
            _turns.leave()


@pytest.fixture
def lab_ca() -> LabCA:
    """A fresh lab CA (EC P-256, fast to create)."""
    return LabCA.create()


@pytest.fixture
def lab_ca_bundle(lab_ca: LabCA, tmp_path: Path) -> Path:
    """The lab CA certificate written to a file, as --ca-bundle takes it."""
    return lab_ca.write_bundle(tmp_path / "lab-ca.pem")


class _UdpDnsResponder:
    """A tiny authoritative UDP DNS server on 127.0.0.1, in a thread, answering A from a dict."""

    def __init__(self, a_records: dict[str, str]) -> None:
        self._records = {k.lower().rstrip("."): v for k, v in a_records.items()}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.queries: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-dns", daemon=True)
        self._thread.start()

    def _answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
        # "*.zone" keys answer every name under zone, as a DNS wildcard does.
        address = self._records.get(name) or self._records.get("*." + name.partition(".")[2])
        if address is None:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", address))
        # Other types for a known name: NOERROR with no answer (NODATA).
        return reply.to_wire()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._sock], [], [], 0.05)
            if not ready:
                continue
            wire, client = self._sock.recvfrom(4096)
            try:
                self._sock.sendto(self._answer(wire), client)
            except Exception:  # noqa: BLE001 - a malformed query is simply not answered
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def udp_dns_responder() -> Iterator[Callable[[dict[str, str]], tuple[Nameserver, _UdpDnsResponder]]]:
    """Factory: ``udp_dns_responder({"name.test": "127.0.0.1"})`` -> (Nameserver, responder).

    The responder records the questions it got in ``.queries``; all are stopped at teardown.
    """
    started: list[_UdpDnsResponder] = []

    def start(a_records: dict[str, str]) -> tuple[Nameserver, _UdpDnsResponder]:
        responder = _UdpDnsResponder(a_records)
        started.append(responder)
        return Nameserver("127.0.0.1", responder.port), responder

    yield start
    for responder in started:
        responder.stop()


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """The lab with every fault off, one per test module (modules change its state differently)."""
    with Lab() as running:
        yield running

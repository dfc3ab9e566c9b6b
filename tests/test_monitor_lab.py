"""`monitor serve` watching the lab: the monitor's lab faults (a cron job that stops pinging, a
health route that fails now and then) are caught as the flips they declare, and a single failure
does not page when ``failures_before_down = 2``."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from netutil import closed_port
from serveutil import LoopThread, Receiver, Serve, store_rows

from launchready.lab.faults import fault_names, faults, monitor_faults
from launchready.lab.lab import Lab
from launchready.lab.monitor_lab import FLAKY_HEALTH, HEARTBEAT_NAME


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    loop = LoopThread()
    hook = Receiver(loop).start()
    try:
        yield hook
    finally:
        hook.stop()
        loop.close()


def test_monitor_faults_are_lab_switches_but_no_audit_check_faults() -> None:
    names = {f.name for f in monitor_faults()}
    assert names == {"heartbeat-stops", "health-flaky"}
    assert names <= set(fault_names())
    assert not names & {f.name for f in faults()}  # the audit's cross-checks never see them


def test_serve_against_the_lab_sees_every_monitor_fault_and_a_single_failure_does_not_page(
    tmp_path: Path, receiver: Receiver
) -> None:
    port = closed_port()
    switches = [f.name for f in monitor_faults()]
    with Lab(faults=switches, monitor_url=f"http://127.0.0.1:{port}", heartbeat_period=1) as lab:
        config = tmp_path / "launchready.toml"
        config.write_text(
            lab.config_toml()
            + "\n[[monitor.checks]]\n"
            + f'name = "health"\nurl = "https://{lab.hosts.app}/health"\ninterval = 1\ntimeout = 2\n'
            + "failures_before_down = 2\n"
            + f'\n[[monitor.alerts]]\nname = "hook"\nkind = "webhook"\nurl = "{receiver.url()}"\n',
            encoding="utf-8",
        )
        serve = Serve(config, listen=f"127.0.0.1:{port}", args=lab.cli_args()).start()
        try:
            receiver.wait_for("check", "up")  # down, then up again: a flaky route seen as flaky
            receiver.wait_for("heartbeat", "down")  # the job pinged, then stopped
            assert serve.stop(signal.SIGTERM) == 0
        finally:
            serve.ensure_stopped()
    store = tmp_path / ".launchready" / "monitor.sqlite"
    results = store_rows(store, "SELECT at, ok FROM results WHERE check_name = 'health' ORDER BY id")
    # Up to the recovery the monitor waited for: ok, FAIL, ok, ok, FAIL, FAIL, ok.
    assert [bool(ok) for _, ok in results[:7]] == list(FLAKY_HEALTH[:7])
    flips = store_rows(
        store, "SELECT at, old_state, new_state FROM transitions WHERE subject_name = 'health' ORDER BY id"
    )
    # The lone failure (second run) flips nothing; the pair (fifth and sixth) takes it down, the
    # next pass brings it up.
    assert flips[:3] == [
        (results[0][0], "new", "up"),
        (results[5][0], "up", "down"),
        (results[6][0], "down", "up"),
    ]
    downs = [d for d in receiver.alerts("check", "down") if d.payload["name"] == "health"]
    assert downs and downs[0].payload["at"] == receiver.alerts("check", "up")[0].payload["down_since"]
    observed = set(store_rows(store, "SELECT subject_kind, subject_name, new_state FROM transitions"))
    for fault in monitor_faults():
        assert set(fault.flips) <= observed, fault.name
    assert ("heartbeat", HEARTBEAT_NAME, "down") in observed

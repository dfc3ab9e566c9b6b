"""`monitor serve` watching the lab: the monitor's lab faults (a cron job that stops pinging, a
health route that fails now and then) are caught as the flips they declare, and a single failure
does not page when ``failures_before_down = 2``."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from netutil import closed_port
from serveutil import Receiver, Serve, running_receiver, store_rows

from launchready.lab.faults import fault_names, faults, monitor_faults
from launchready.lab.lab import Lab
from launchready.lab.monitor_lab import FLAKY_HEALTH, HEARTBEAT_NAME


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as hook:
        yield hook


def test_monitor_faults_are_lab_switches_but_no_audit_check_faults() -> None:
    names = {f.name for f in monitor_faults()}
    assert names == {"heartbeat-stops", "health-flaky", "new-error-after-deploy"}
    assert names <= set(fault_names())
    assert not names & {f.name for f in faults()}  # the audit's cross-checks never see them


def test_serve_against_the_lab_sees_every_monitor_fault_and_a_single_failure_does_not_page(
    tmp_path: Path, receiver: Receiver
) -> None:
    port = closed_port()
    # Misbehaviour over time, seen by the monitor's checks; new-error-after-deploy needs a deploy
    # and the app's DSN (tests/test_lab_errors.py).
    watched = [f for f in monitor_faults() if f.name in ("heartbeat-stops", "health-flaky")]
    switches = [f.name for f in watched]
    with Lab(faults=switches, monitor_url=f"http://127.0.0.1:{port}", heartbeat_period=1) as lab:
        config = tmp_path / "launchready.toml"
        config.write_text(
            lab.config_toml()
            + "\n[[monitor.checks]]\n"
            # The check zero-config derives for the health route (same name), on a 1 s interval.
            + f'name = "production-health"\nurl = "https://{lab.hosts.app}/health"\ninterval = 1\ntimeout = 2\n'
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
    results = store_rows(store, "SELECT at, ok FROM results WHERE check_name = 'production-health' ORDER BY id")
    # Up to the recovery the monitor waited for: ok, FAIL, ok, ok, FAIL, FAIL, ok.
    assert [bool(ok) for _, ok in results[:7]] == list(FLAKY_HEALTH[:7])
    flips = store_rows(
        store, "SELECT at, old_state, new_state FROM transitions WHERE subject_name = 'production-health' ORDER BY id"
    )
    # The lone failure (second run) flips nothing; the pair (fifth and sixth) takes it down, the
    # next pass brings it up.
    assert flips[:3] == [
        (results[0][0], "new", "up"),
        (results[5][0], "up", "down"),
        (results[6][0], "down", "up"),
    ]
    downs = [d for d in receiver.alerts("check", "down") if d.payload["name"] == "production-health"]
    assert downs and downs[0].payload["at"] == receiver.alerts("check", "up")[0].payload["down_since"]
    observed = set(store_rows(store, "SELECT subject_kind, subject_name, new_state FROM transitions"))
    for fault in watched:
        assert set(fault.flips) <= observed, fault.name
    assert ("heartbeat", HEARTBEAT_NAME, "down") in observed


def test_the_command_lab_up_and_the_demo_offer_watches_the_lab_with_zero_config(tmp_path: Path) -> None:
    import shlex
    import subprocess
    import sys

    from serveutil import wait_until

    from launchready.cli.demo_cmd import monitor_offer
    from launchready.lab.faults import parse_faults
    from launchready.lab.lab import describe, lab_monitor_command

    dsn = "http://0123456789abcdef0123456789abcdef@127.0.0.1:8787/1"
    offer = monitor_offer(tmp_path / "lab", dsn)
    [lab_up, serve_line, deploy_line] = [shlex.split(line) for line in offer if line.startswith("  launchready ")]
    assert lab_up[:3] == ["launchready", "lab", "up"] and serve_line[:3] == ["launchready", "monitor", "serve"]
    assert parse_faults(lab_up[lab_up.index("--faults") + 1]) >= {f.name for f in monitor_faults()}
    assert lab_up[lab_up.index("--error-dsn") + 1] == dsn
    assert "--error-dsn" not in " ".join(monitor_offer(tmp_path / "lab"))
    assert serve_line[serve_line.index("--config") + 1] == str(tmp_path / "lab" / "launchready.toml")
    assert deploy_line == ["launchready", "lab", "deploy", "1.1.0", "--workdir", str(tmp_path / "lab")]

    port = closed_port()
    with Lab(workdir=tmp_path / "lab", monitor_url=f"http://127.0.0.1:{port}", heartbeat_period=2) as lab:
        (lab.workdir / "launchready.toml").write_text(lab.config_toml(), encoding="utf-8")
        command = lab_monitor_command(lab)
        assert f"  {command}" in describe(lab).splitlines()
        argv = shlex.split(command)
        assert argv[argv.index("--listen") + 1] == f"127.0.0.1:{port}"
        process = subprocess.Popen(
            [sys.executable, "-m", "launchready", *argv[1:]], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        lines: list[str] = []
        try:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line.rstrip("\n"))
                if line.startswith("dashboard, pings and API: "):
                    break
            store = lab.workdir / ".launchready" / "monitor.sqlite"
            # The lab's cron job reaches the monitor it was given: its heartbeat comes up.
            wait_until(
                lambda: store_rows(store, "SELECT state FROM heartbeats WHERE name = 'lab-cron'") == [("up",)],
                "the lab-cron heartbeat to be pinged",
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
    assert "no [[monitor.checks]] in the config: watching 7 derived from it:" in lines
    assert any(line.startswith("  production-health: https://app.marketlab.test/health") for line in lines)

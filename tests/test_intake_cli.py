"""`launchready errors ...`, `monitor project add` and `logs ...` run as a user would."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from launchready.cli.errors_cmd import project_app
from launchready.core.net import Nameserver
from launchready.intake.logs import FileFollower
from launchready.intake.routes import intake_routes
from launchready.intake.store import open_store
from launchready.lab.ca import LabCA
from launchready.monitor.store.errors_schema import error_events, error_groups
from tests.cliutil import run_cli
from tests.intakeutil import serve


def _project_cli(args: list[str]) -> str:
    app = typer.Typer()
    app.add_typer(project_app(), name="project")
    result = CliRunner().invoke(app, ["project", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _add_project(store: str, name: str, url: str = "http://127.0.0.1:8787") -> str:
    return _project_cli(["add", name, "--store", store, "--url", url]).split()[-1]


def test_project_add_errors_test_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 'monitor.sqlite'}"
    engine = open_store(store, tmp_path)
    with serve(intake_routes(engine)) as base:
        dsn = _add_project(store, "shop", base)
        assert dsn.startswith("http://") and dsn.endswith("/1") and "@127.0.0.1:" in dsn
        assert dsn in _project_cli(["list", "--store", store, "--url", base])
        code, out, _ = run_cli(["errors", "test", "--dsn", dsn], capsys)
        assert code == 0 and out.startswith("arrived:")
        code, out, _ = run_cli(["errors", "test", "--dsn", dsn, "--store", store], capsys)
        assert code == 0 and out.strip().endswith("is in the store")
        other = f"sqlite:///{tmp_path / 'other.sqlite'}"
        code, out, _ = run_cli(["errors", "test", "--dsn", dsn, "--store", other], capsys)
        assert code == 1 and "not in" in out
        bad_key = dsn.replace("//", "//0000", 1)
        code, out, _ = run_cli(["errors", "test", "--dsn", bad_key], capsys)
        assert code == 1 and "refused with HTTP 403" in out
    code, out, _ = run_cli(["errors", "list", "--format", "json", "--store", store], capsys)
    groups = json.loads(out)
    assert code == 0 and len(groups) == 1 and groups[0]["count"] == 3
    assert groups[0]["title"] == "launchready test event: error reporting works"
    assert {"id", "title", "count", "status", "first_seen", "last_seen"} <= set(groups[0])
    code, out, _ = run_cli(["errors", "resolve", str(groups[0]["id"]), "--store", store], capsys)
    assert code == 0
    code, out, _ = run_cli(["errors", "list", "--store", store], capsys)
    assert " resolved " in out
    engine.dispose()


def test_cli_usage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["errors", "test", "--dsn", "ftp://nope"], capsys)
    assert code == 2 and err.count("\n") == 1 and "http://" in err
    code, _, err = run_cli(["errors", "list", "--store", "mysql://x"], capsys)
    assert code == 2 and "store mysql://x" in err and err.count("\n") == 1
    code, _, err = run_cli(["logs", "cluster", str(tmp_path / "missing.log")], capsys)
    assert code == 2 and "missing.log" in err
    code, _, err = run_cli(["errors", "resolve", "99", "--store", f"sqlite:///{tmp_path / 's.sqlite'}"], capsys)
    assert code == 2 and "no error group 99" in err


def test_logs_cluster_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "user 17 logged in from 10.0.0.1\n"
        "user 4711 logged in from 10.0.0.9\n"
        "payment 88 failed: card declined\n"
        "user 5 logged in from 192.168.1.20\n"
        "payment 91 failed: card declined\n"
    )
    code, out, _ = run_cli(["logs", "cluster", str(log), "--format", "jsonl"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["line"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["template_id"] == rows[1]["template_id"] == rows[3]["template_id"] != rows[2]["template_id"]
    assert rows[2]["template_id"] == rows[4]["template_id"]
    assert rows[0]["template"] == "user <*> logged in from <*>"


def test_logs_tail_turns_error_lines_into_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 'monitor.sqlite'}"
    _add_project(store, "api")
    log = tmp_path / "api.log"
    log.write_text(
        "2026-11-30 10:00:01 INFO request 1 ok\n"
        "2026-11-30 10:00:02 ERROR db timeout after 3000 ms on shard 4\n"
        '{"level": "error", "message": "db timeout after 2500 ms password=hunter2", "logger": "db"}\n'
        "2026-11-30 10:00:04 ERROR db timeout after 12 ms on shard 1\n"
        "2026-11-30 10:00:05 WARNING slow request 9\n"
    )
    code, out, err = run_cli(["logs", "tail", str(log), "--project", "api", "--once", "--store", store], capsys)
    assert code == 0 and "5 lines read, 3 at error level" in out
    engine = open_store(store, tmp_path)
    with engine.connect() as conn:
        groups = conn.execute(select(error_groups)).all()
    # The JSON line has a logger, so it is its own group; the two plain lines share one.
    assert sorted(g._mapping["count"] for g in groups) == [1, 2]
    assert all(g.source == "log" for g in groups)
    assert all("hunter2" not in g.title for g in groups)
    with engine.connect() as conn:
        stored = " ".join(str(e.payload) for e in conn.execute(select(error_events)))
    engine.dispose()
    assert "hunter2" not in stored and "password=[Filtered]" in stored


def test_follower_reads_across_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("old line before we started\n")
    follower = FileFollower([log])
    with log.open("a") as handle:
        handle.write("first\nsecond partial")
    assert [line for _, line in follower.poll()] == ["first"]
    with log.open("a") as handle:
        handle.write(" done\n")
    assert [line for _, line in follower.poll()] == ["second partial done"]
    os.rename(log, tmp_path / "app.log.1")  # logrotate: move away, start a new file
    log.write_text("after rotation\n")
    assert [line for _, line in follower.poll()] == ["after rotation"]
    log.write_text("truncated\n")  # copytruncate: same inode, shorter file
    assert [line for _, line in follower.poll()] == ["truncated"]


def test_logs_tail_reads_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    store = f"sqlite:///{tmp_path / 'monitor.sqlite'}"
    _add_project(store, "api")
    lines = b"ERROR disk full on /dev/sda1\nINFO ok\nERROR disk full on /dev/sdb2\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    code, out, _ = run_cli(["logs", "tail", "-", "--project", "api", "--store", store], capsys)
    assert code == 0 and "3 lines read, 2 at error level, 1 new groups" in out
    code, _, err = run_cli(["logs", "tail", "-", "--project", "nope", "--store", store], capsys)
    assert code == 2 and "no project named 'nope'" in err


def test_errors_test_sends_through_the_audit_network_flags_to_an_https_intake(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lab_ca: LabCA,
    lab_ca_bundle: Path,
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, object]],
) -> None:
    """The DSN names a host only the flags make reachable and a certificate only --ca-bundle trusts."""
    host = "errors.shop.test"
    store = f"sqlite:///{tmp_path / 'monitor.sqlite'}"
    engine = open_store(store, tmp_path)
    tls = lab_ca.issue([host]).write(tmp_path / "certs", "intake")
    nameserver, _ = udp_dns_responder({host: "127.0.0.1"})
    try:
        with serve(intake_routes(engine), tls=tls) as base:
            port = int(base.rsplit(":", 1)[1])
            on_443 = _add_project(store, "shop", f"https://{host}")  # https://KEY@errors.shop.test/1
            on_port = on_443.replace(f"@{host}/", f"@{host}:{port}/")
            ca = ["--ca-bundle", str(lab_ca_bundle), "--timeout", "5"]
            # --connect-to steers host:443 to the intake's port, as the audit would dial it.
            routed = ["--connect-to", f"{host}:443:127.0.0.1:{port}"]
            code, out, _ = run_cli(["errors", "test", "--dsn", on_443, *routed, *ca, "--store", store], capsys)
            assert (code, out.strip().endswith("is in the store")) == (0, True), out
            # --nameserver: the run's DNS answers the DSN's host (a loopback answer, the user's own DSN).
            ns = ["--nameserver", f"{nameserver.host}:{nameserver.port}"]
            code, out, _ = run_cli(["errors", "test", "--dsn", on_port, *ns, *ca], capsys)
            assert (code, out.startswith("arrived:")) == (0, True), out
            # Without --ca-bundle the lab certificate is not trusted: not arrived, one line, exit 1.
            code, out, _ = run_cli(["errors", "test", "--dsn", on_443, *routed, "--timeout", "5"], capsys)
            assert code == 1 and out.startswith(f"not arrived: could not reach {host}") and out.count("\n") == 1, out
            # A bad flag is a usage error naming it.
            code, _, err = run_cli(["errors", "test", "--dsn", on_443, "--connect-to", "nonsense"], capsys)
            assert code == 2 and "--connect-to nonsense" in err and err.count("\n") == 1
        code, out, _ = run_cli(["errors", "list", "--format", "json", "--store", store], capsys)
        assert code == 0 and [g["count"] for g in json.loads(out)] == [2]
    finally:
        engine.dispose()

"""The CLI end to end against the lab: real DNS, TLS, HTTP on loopback; exit codes; bad input."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.cli.demo_cmd import demo_error_dsn
from launchready.intake.projects import list_projects
from launchready.intake.store import open_store
from launchready.lab.lab import Lab

SEVERE = {"blocker", "high", "medium", "low"}


def write_config(lab: Lab, directory: Path, extra: str = "") -> Path:
    path = directory / "launchready.toml"
    path.write_text(lab.config_toml() + extra, encoding="utf-8")
    return path


def audit_json(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict, str]:
    config = write_config(lab, tmp_path)
    code, out, err = run_cli(
        ["audit", "-c", str(config), "--format", "json", "--quiet", *lab.cli_args(), *extra], capsys
    )
    return code, json.loads(out), err


@pytest.mark.alone
def test_clean_lab_ships_with_nothing_above_info(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = audit_json(lab, tmp_path, capsys)
    above_info = [(f["id"], f["target"]) for f in report["findings"] if f["severity"] in SEVERE]
    assert above_info == []
    assert report["not_run"] == []
    assert report["decision"]["verdict"] == "SHIP"
    assert code == 0
    hosts = {h["name"] for h in report["hosts"]}
    assert {
        "marketlab.test",
        "www.marketlab.test",
        "app.marketlab.test",
        "admin.marketlab.test",
        "api.marketlab.test",
    } <= hosts


def test_faulty_lab_pauses_and_exit_code_follows_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Lab(faults=["public-cache-private-page", "no-hsts"]) as lab:
        code, report, _ = audit_json(lab, tmp_path, capsys)
        assert report["decision"]["verdict"] == "PAUSE"
        assert code == 1
        top = report["findings"][0]
        assert top["id"] == "web.private-cache.shared-cacheable" and top["severity"] == "blocker"
        assert "no-store" in top["remediation"]
        ids = {f["id"] for f in report["findings"]}
        assert "web.hsts.missing" in ids
        # Only the HSTS finding (medium) would be left below a blocker threshold: --fail-on high passes it.
        code_high, _, _ = audit_json(lab, tmp_path, capsys, "--only", "web.hsts", "--fail-on", "high")
        assert code_high == 0
        code_medium, _, _ = audit_json(lab, tmp_path, capsys, "--only", "web.hsts", "--fail-on", "medium")
        assert code_medium == 1


def test_history_shows_fixed_new_and_still_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Lab(faults=["no-hsts", "dmarc-missing"]) as lab:
        audit_json(lab, tmp_path, capsys)
    with Lab(faults=["no-hsts", "spf-plus-all"]) as lab:
        _, report, _ = audit_json(lab, tmp_path, capsys)
    history = report["history"]
    assert history["previous_run_id"] is not None
    fixed_ids = {f["id"] if isinstance(f, dict) else f for f in history["fixed"]}
    assert any("email.dmarc.missing" in str(f) for f in fixed_ids)
    changes = {f["id"]: f["change"] for f in report["findings"]}
    assert changes["email.spf.permissive-all"] == "new"
    assert changes["web.hsts.missing"] == "still-open"
    code, out, _ = run_cli(["history", "-c", str(tmp_path / "launchready.toml")], capsys)
    assert code == 0 and out.count("marketlab.test") >= 2


@pytest.mark.parametrize("fmt", ["md", "html", "sarif", "junit", "json", "terminal"])
def test_every_format_writes_a_file(fmt: str, lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(lab, tmp_path)
    output = tmp_path / f"report.{fmt}"
    code, out, err = run_cli(
        ["audit", "-c", str(config), "--format", fmt, "-o", str(output), "--no-history", *lab.cli_args()], capsys
    )
    assert code == 0, err
    text = output.read_text(encoding="utf-8")
    assert "marketlab.test" in text
    assert out == ""  # the report went to the file; progress went to stderr
    assert "report written to" in err


def test_domain_that_does_not_exist_is_a_blocker(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["audit", "no-such-domain.test", "--format", "json", "--quiet", "--no-history", *lab.cli_args()], capsys
    )
    report = json.loads(out)
    assert code == 1
    assert report["findings"][0]["id"] == "dns.apex.nxdomain"
    assert report["decision"]["verdict"] == "PAUSE"
    assert "Traceback" not in err


@pytest.fixture
def silent_nameserver() -> Iterator[int]:
    """A UDP and TCP port that accept DNS queries and never answer."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            # Another test running alongside may hold the TCP side of that port number: try another pair.
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        break
    else:
        pytest.fail("no free UDP and TCP port pair on 127.0.0.1 after 50 tries")
    tcp.listen()
    yield port
    udp.close()
    tcp.close()


def test_nameserver_that_never_answers_stops_the_audit_with_exit_2(
    silent_nameserver: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No resolver answering is the auditor's network, not the product: no report, no false blocker.
    code, out, err = run_cli(
        [
            "audit",
            "example.test",
            "--nameserver",
            f"127.0.0.1:{silent_nameserver}",
            "--timeout",
            "0.5",
            "--format",
            "json",
            "--quiet",
            "--no-history",
        ],
        capsys,
    )
    assert code == 2
    assert out == ""
    assert err.startswith("launchready: error: no DNS resolver reachable (offline? use --nameserver)")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.fixture
def resetting_server() -> Iterator[int]:
    """Accepts TCP connections and resets them at once (SO_LINGER 0)."""
    import struct

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    srv.close()


def test_health_route_on_a_resetting_server_is_a_blocker(
    lab: Lab, resetting_server: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(lab, tmp_path)
    code, out, err = run_cli(
        # --connect-to rules apply in the order given (as curl's): the specific one goes first.
        [
            "audit",
            "-c",
            str(config),
            "--only",
            "app.health",
            "--format",
            "json",
            "--quiet",
            "--no-history",
            "--connect-to",
            f"app.marketlab.test:443:127.0.0.1:{resetting_server}",
            *lab.cli_args(),
        ],
        capsys,
    )
    report = json.loads(out)
    ids = [f["id"] for f in report["findings"]]
    assert ids == ["app.health.unreachable"], (ids, err)
    assert code == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('domain = "marketlab.test"\n[environments.production\nbase_url = "x"\n', "launchready.toml:2: invalid TOML"),
        ('domain = "marketlab.test"\nsubdomain = ["app"]\n', "launchready.toml:2:"),
        ('domain = "marketlab.test"\n\n[budgets]\np95_ms = "fast"\n', "launchready.toml:4:"),
        ('[audit]\nfail_on = "catastrophic"\n', "launchready.toml:2:"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(
    content: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text(content, encoding="utf-8")
    code, out, err = run_cli(["audit", "marketlab.test", "-c", str(config), "--nameserver", "127.0.0.1:9"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert out == ""


@pytest.mark.parametrize(
    "args",
    [
        ["audit"],  # no DOMAIN and no launchready.toml
        ["audit", "not a domain"],
        ["audit", "example.com", "--format", "pdf"],
        ["audit", "example.com", "--fail-on", "catastrophic"],
        ["audit", "example.com", "--connect-to", "nonsense"],
        ["audit", "example.com", "--nameserver", "dns.example"],
        ["audit", "example.com", "--ca-bundle", "/nonexistent/ca.pem"],
        ["explain", "no.such.id"],
        ["lab", "up", "--faults", "not-a-fault"],
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("launchready: error:")


def test_checks_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["checks", "--json"], capsys)
    catalogue = json.loads(out)
    assert code == 0 and len(catalogue) >= 8
    code, out, _ = run_cli(["explain", "email.spf.missing"], capsys)
    assert code == 0
    assert "## Fix" in out and "## Why it matters" in out and "https://" in out
    code, out, _ = run_cli(["explain", "tls.certificate"], capsys)
    assert code == 0 and "tls.certificate.expired" in out


def test_demo_catches_a_blocker_and_writes_html(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["demo", "--quiet"], capsys)
    assert code == 0, err
    # What the event loop logs as an error reaches the user's terminal as a traceback.
    assert not [r.getMessage() for r in caplog.records if r.name == "asyncio" and r.levelname == "ERROR"]
    assert "PAUSE" in out
    assert "web.private-cache.shared-cacheable" in out
    report = tmp_path / "launchready-demo" / "report.html"
    assert report.is_file() and "PAUSE" in report.read_text(encoding="utf-8")
    assert str(report) in out.replace("\n", "")
    # It ends by offering the commands that keep the lab up, watch it with the monitor (the lab's
    # app reporting its errors to a project of the store that monitor uses) and deploy a release.
    offered = [line for line in out.splitlines() if line.startswith("  launchready ")]
    assert [line.split()[:3] for line in offered[-3:]] == [
        ["launchready", "lab", "up"],
        ["launchready", "monitor", "serve"],
        ["launchready", "lab", "deploy"],
    ]
    lab_up = offered[-3].split()
    dsn = lab_up[lab_up.index("--error-dsn") + 1]
    workdir = tmp_path / "launchready-demo" / "lab"
    assert dsn.startswith("http://") and dsn.endswith("@127.0.0.1:8787/1")
    engine = open_store(None, workdir)  # WORKDIR/.launchready/monitor.sqlite: the offered monitor's default
    try:
        with engine.connect() as conn:
            assert [p.dsn("http://127.0.0.1:8787") for p in list_projects(conn)] == [dsn]
    finally:
        engine.dispose()
    assert demo_error_dsn(workdir) == (dsn, None)  # a second demo offers the same project


def test_init_writes_a_starter_that_audit_loads(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "launchready.toml"
    code, _, err = run_cli(["init", "marketlab.test", "-o", str(target), *lab.cli_args()], capsys)
    assert code == 0, err
    text = target.read_text(encoding="utf-8")
    assert 'domain = "marketlab.test"' in text
    for label in ("app", "admin", "api"):
        assert f'"{label}"' in text
    assert "lab" in text  # the DKIM selector discovery found
    code, _, err = run_cli(["init", "marketlab.test", "-o", str(target), *lab.cli_args()], capsys)
    assert code == 2 and "already exists" in err
    code, out, err = run_cli(
        ["audit", "-c", str(target), "--format", "json", "--quiet", "--no-history", *lab.cli_args()], capsys
    )
    assert code == 0, err
    assert json.loads(out)["target"] == "marketlab.test"


@pytest.fixture
def stalling_server() -> Iterator[int]:
    """Answers with headers and part of the body, then goes silent until the client gives up."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"status":')
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    srv.close()


def test_health_route_that_stalls_mid_response_is_a_finding(
    stalling_server: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text(
        'domain = "stall.test"\n[environments.production]\nbase_url = "http://app.stall.test"\n', encoding="utf-8"
    )
    code, out, err = run_cli(
        [
            "audit",
            "-c",
            str(config),
            "--only",
            "app.health",
            "--format",
            "json",
            "--quiet",
            "--no-history",
            "--timeout",
            "1",
            "--nameserver",
            "127.0.0.1:9",
            "--connect-to",
            f"app.stall.test:80:127.0.0.1:{stalling_server}",
        ],
        capsys,
    )
    report = json.loads(out)
    health = [f for f in report["findings"] if f["id"].startswith("app.health.")]
    assert len(health) == 1, (report["findings"], err)
    assert health[0]["severity"] == "blocker"
    assert "Traceback" not in err

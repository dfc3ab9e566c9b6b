"""Hostile command lines: each ends with exit 2 and one line on stderr, never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.rcode
import pytest
from cliutil import run_cli

SECRET_FILE = 'STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc9eC39HqLyjWD"\n'


@pytest.fixture
def silent_nameserver() -> Iterator[str]:
    """A UDP port on 127.0.0.1 that receives DNS queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def root_only_nameserver() -> Iterator[str]:
    """A DNS server on 127.0.0.1 that answers only the root question (REFUSED) and then goes silent.

    The audit's offline check passes (the server answers), and every later query hangs until its
    timeout: an audit that is reliably still running when the test interrupts it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.05)
        while not stop.is_set():
            try:
                wire, client = sock.recvfrom(4096)
                query = dns.message.from_wire(wire)
            except (TimeoutError, dns.exception.DNSException):
                continue
            if query.question and query.question[0].name == dns.name.root:
                reply = dns.message.make_response(query)
                reply.set_rcode(dns.rcode.REFUSED)
                sock.sendto(reply.to_wire(), client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        sock.close()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(SECRET_FILE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_line(code: int, err: str, starts: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"launchready: error: {starts}"), err


def _unwritable(workdir: Path) -> list[tuple[str, str]]:
    (workdir / "a-directory").mkdir()
    return [
        (str(workdir / "missing" / "report.txt"), "No such file or directory"),
        (str(workdir / "a-directory"), "Is a directory"),
        ("/dev/full", "No space left on device"),
    ]


def test_output_that_cannot_be_written_secrets(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for target, reason in _unwritable(workdir):
        for fmt in ("terminal", "json"):
            code, _, err = run_cli(["secrets", "scan", "-f", fmt, "-o", target], capsys)
            _one_line(code, err, f"--output {target}: cannot write: {reason}")


def test_output_that_cannot_be_written_audit_terminal(
    workdir: Path, udp_dns_responder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # A resolver that answers (NXDOMAIN for everything): the audit runs to the end and then
    # meets the unwritable output, rather than stopping early as it must when offline.
    nameserver, _ = udp_dns_responder({})
    base = ["audit", "shop.test", "--nameserver", str(nameserver), "--timeout", "0.2", "--no-history", "-q"]
    for target, reason in _unwritable(workdir):
        for fmt in ("terminal", "json"):
            code, out, err = run_cli([*base, "--no-git-history", "-f", fmt, "-o", target], capsys)
            assert out == ""
            assert err.strip().splitlines()[-1] == f"launchready: error: --output {target}: cannot write: {reason}"
            assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["history", "--limit", "99999999999999999999"], "launchready history: Invalid value for '--limit'"),
        (["history", "--limit", "0"], "launchready history: Invalid value for '--limit'"),
        (["audit", "127.0.0.1"], "DOMAIN '127.0.0.1': an IP address"),
        (["audit", "[::1]"], "DOMAIN '[::1]': an IP address"),
        (["audit", "https://10.0.0.1/admin"], "DOMAIN 'https://10.0.0.1/admin': an IP address"),
        (["audit", ".".join(["a" * 60] * 5) + ".com"], "DOMAIN 'aaaa"),
        (["audit", "1.2.3.4.5"], "DOMAIN '1.2.3.4.5': not a valid domain name"),
        (["audit", "shop.test", "--timeout", "inf"], "--timeout inf: must be a positive number"),
        (["audit", "shop.test", "--timeout", "nan"], "--timeout nan: must be a positive number"),
        (["audit", "shop.test", "--timeout", "1e9"], "--timeout 1000000000.0: must be a positive number"),
        (["audit", "shop.test", "--timeout", "-1"], "--timeout -1.0: must be a positive number"),
        (["audit", "shop.test", "--ca-bundle", "/etc/passwd"], "--ca-bundle /etc/passwd: not a PEM certificate bundle"),
        (["audit", "shop.test", "--ca-bundle", "/dev/null"], "--ca-bundle /dev/null: no such file"),
        (["audit", "shop.test", "--ca-bundle", "/"], "--ca-bundle /: no such file"),
        (["audit", "shop.test", "--connect-to", "::[::1"], "--connect-to ::[::1: unclosed '['"),
        (["audit", "shop.test", "--nameserver", "localhost"], "--nameserver localhost: 'localhost' is not an IP"),
    ],
)
def test_hostile_flags_are_one_line_errors(
    args: list[str], starts: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(args, capsys)
    _one_line(code, err, starts)
    assert out == ""


def test_a_bundle_of_text_is_refused_but_a_real_one_accepted(
    workdir: Path, lab_ca_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from launchready.core.net import NetFlagError, build_net_settings

    fake = workdir / "fake.pem"
    fake.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    with pytest.raises(NetFlagError, match="not a PEM certificate bundle"):
        build_net_settings(None, fake, None, 5.0, environ={})
    assert build_net_settings(None, lab_ca_bundle, None, 5.0, environ={}).ca_bundle == lab_ca_bundle


def test_an_ascii_terminal_gets_escapes_not_a_crash(workdir: Path) -> None:
    """The masked value holds '…', which ASCII cannot encode."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    for fmt in ("terminal", "json", "md"):
        done = subprocess.run(
            [sys.executable, "-m", "launchready", "secrets", "scan", "-f", fmt],
            cwd=workdir,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr  # a secret was found: exit 1, the report printed
        assert b"Traceback" not in done.stderr
        assert b"sk_l\\u2026" in done.stdout or b"sk_live_4eC3" not in done.stdout


@pytest.mark.parametrize("gap", [0.0, 0.05, 0.5])
def test_a_second_ctrl_c_prints_one_line_and_no_traceback(
    tmp_path: Path, root_only_nameserver: str, gap: float
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "launchready", "audit", "shop.test", "--nameserver", root_only_nameserver]
        + ["--timeout", "30", "--no-history", "--no-git-history"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    # Interrupt once the audit is under way (its first progress line), then again `gap` later.
    first_line = process.stderr.readline()
    assert "discovering" in first_line
    process.send_signal(signal.SIGINT)
    time.sleep(gap)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "never retrieved" not in err
    assert err.strip().splitlines()[-1] == "launchready: error: interrupted"
    assert out == ""

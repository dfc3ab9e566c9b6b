"""Control characters from a hostile site are shown in every report, never obeyed by the terminal.

A ``Server`` header, certificate subject, page text or file name may carry ESC sequences that clear
the screen or retitle the window. Each writer makes them visible in one place; these tests feed
them to every writer, and through the real CLI from a loopback server that sends them.
"""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cliutil import run_cli
from report_samples import ALL_FINDINGS, finding, sample_run
from rich.console import Console

from launchready.core.severity import Severity
from launchready.lab.ca import LabCA
from launchready.report.console import print_document
from launchready.report.controls import visible
from launchready.report.html import render_html, write_html
from launchready.report.json_report import render_json
from launchready.report.junit import render_junit
from launchready.report.markdown import render_markdown, write_markdown
from launchready.report.model import Banner, CodeBlock, Column, Document, Paragraph, Section, Span, Table
from launchready.report.sarif import render_sarif
from launchready.report.terminal import render_terminal

# Set the window title, clear the screen, a CSI in its one-byte C1 form, a bell, a backspace.
ATTACK = "nginx/1.25.3 \x1b]0;pwned\x07\x1b[2J\x9b31m\x08end"
SHOWN = "nginx/1.25.3 \u241b]0;pwned\u2407\u241b[2J\\x9b31m\u2408end"

# The bidi formatting characters reorder what follows them on the line ("Trojan Source").
_BIDI = {chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_CONTROLS = ({chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} - {"\n", "\t"}) | _BIDI
RLO = "\u202e"


def _raw_controls(text: str) -> set[str]:
    return {ch for ch in text if ch in _CONTROLS}


def test_visible_replaces_every_control_but_newline_and_tab() -> None:
    assert visible(ATTACK) == SHOWN
    assert visible("a\tb\nc") == "a\tb\nc"
    every = "".join(sorted(_CONTROLS))
    assert _raw_controls(visible(every)) == set()
    assert visible("plain ünïcode ✓") == "plain ünïcode ✓"
    # A right-to-left override would show "invoice.exe" as "invoice\u202egnp.exe" reads: "invoiceexe.png".
    assert visible(f"invoice{RLO}gnp.exe") == "invoice\\u202egnp.exe"
    assert visible("\u2066x\u2069 \u200f") == "\\u2066x\\u2069 \\u200f"
    assert visible("שלום مرحبا") == "שלום مرحبا"  # right-to-left scripts need no control and are untouched


HOSTILE_FINDING = finding(
    "web.headers.version-leak",
    Severity.LOW,
    f"https://app.example.com/\x1b[2J{chr(0x9B)}",
    title=f"Server reveals {ATTACK}",
    evidence=(f"Server: {ATTACK}", "Set-Cookie: sid=1; Path=/\x1b]0;x\x07", "`\x1b[31mcode`"),
    remediation=f"Hide versions `server_tokens off;` {ATTACK}",
)


def _run():  # type: ignore[no-untyped-def]
    return sample_run(findings=(HOSTILE_FINDING, *ALL_FINDINGS))


@pytest.mark.parametrize("verbose", [False, True])
def test_terminal_report_shows_controls(verbose: bool) -> None:
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    render_terminal(_run(), console, verbose=verbose)
    out = console.export_text()
    assert _raw_controls(out) == set()
    # rich itself drops bell and backspace; ESC and the C1 CSI it would pass on are shown.
    assert "\u241b]0;pwned\u241b[2J\\x9b31m" in out


def test_terminal_report_in_colour_sends_only_its_own_styles() -> None:
    console = Console(record=True, width=200, force_terminal=True, color_system="truecolor")
    render_terminal(_run(), console, verbose=True)
    out = console.export_text(styles=True)
    assert "\x1b[" in out  # rich's own colours are still there
    assert "\x1b]0;" not in out and "\x1b[2J" not in out and "\x07" not in out and "\x9b" not in out
    assert "\u241b[2J" in out


def test_file_reports_show_controls() -> None:
    run = _run()
    for name, text in (("markdown", render_markdown(run)), ("html", render_html(run))):
        assert _raw_controls(text) == set(), name
        assert "\u241b]0;pwned\u2407" in text, name
    # Structured formats escape them by their own rules: JSON as \u001b, JUnit drops XML-forbidden ones.
    for name, text in (("json", render_json(run)), ("sarif", render_sarif(run)), ("junit", render_junit(run))):
        assert "\x1b" not in text and "\x07" not in text, name


HOSTILE_DOC = Document(
    title=f"t {ATTACK}",
    heading=f"Heading {ATTACK}",
    meta=(ATTACK,),
    banner=Banner(label="Check", headline="FAILED", text=ATTACK, tone="bad", points=(ATTACK,)),
    sections=(
        Section(
            f"Section {ATTACK}",
            (
                Table((Column("Name"), Column("Value")), ((Span(ATTACK, code=True), ATTACK),)),
                Paragraph(ATTACK, tone="warn"),
                CodeBlock((ATTACK,)),
            ),
            lead=ATTACK,
        ),
    ),
    footer=ATTACK,
)


def test_document_writers_show_controls() -> None:
    console = Console(record=True, width=200, force_terminal=True, color_system="truecolor")
    print_document(HOSTILE_DOC, console)
    styled = console.export_text(styles=True)
    assert "\x1b]0;" not in styled and "\x1b[2J" not in styled and "\x07" not in styled
    assert "\u241b]0;pwned" in styled
    for name, text in (("markdown", write_markdown(HOSTILE_DOC)), ("html", write_html(HOSTILE_DOC))):
        assert _raw_controls(text) == set(), name
        assert "\u241b]0;pwned\u2407" in text, name


_PAGE = b"<html><head><title>Shop</title></head><body>Welcome \x1b[2J back</body></html>"
_HOSTILE_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.25.3 \x1b]0;pwned\x07\x1b[2J " + RLO.encode() + b"gnp.exe\r\n"
    b"Set-Cookie: sid=abc\x1b[31m; Path=/\r\nContent-Type: text/html\r\n"
    + f"Content-Length: {len(_PAGE)}\r\nConnection: close\r\n\r\n".encode()
    + _PAGE
)


@pytest.fixture
def hostile_https(lab_ca: LabCA, tmp_path: Path) -> Iterator[int]:
    """A loopback HTTPS server (lab CA) whose every answer carries ESC sequences in Server and Set-Cookie."""
    cert, key = lab_ca.issue(["shop.test", "app.shop.test"]).write(tmp_path / "tls", "server")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(2)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(_HOSTILE_RESPONSE)
            except OSError:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize("fmt", ["terminal", "md", "html"])
def test_audit_of_a_hostile_server_shows_its_escape_sequences(
    fmt: str,
    hostile_https: int,
    lab_ca_bundle: Path,
    udp_dns_responder,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "launchready.toml"
    config.write_text('domain = "shop.test"\n[environments.production]\nbase_url = "http://app.shop.test"\n')
    nameserver, _ = udp_dns_responder({"shop.test": "127.0.0.1", "app.shop.test": "127.0.0.1"})
    code, out, err = run_cli(
        [
            "audit", "-c", str(config), "--only", "web.headers", "-v", "-q", "--no-history", "--no-git-history",
            "--timeout", "1", "--nameserver", str(nameserver), "--format", fmt,
            "--ca-bundle", str(lab_ca_bundle),
            "--connect-to", f"app.shop.test:443:127.0.0.1:{hostile_https}",
            "--connect-to", f"shop.test:443:127.0.0.1:{hostile_https}",
        ],
        capsys,
    )  # fmt: skip
    assert "Traceback" not in err
    assert "\u241b]0;pwned" in out, (code, out, err)
    assert "\\u202egnp.exe" in out.replace("\\\\", "\\"), out  # the override shown, not obeyed
    assert _raw_controls(out) == set()
    assert _raw_controls(err) == set()


def test_secrets_scan_shows_control_characters_in_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A repository can name a file so that printing the name retitles the window and clears the screen.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app\x1b]0;pwned\x07\x1b[2J.py").write_text('STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc9eC39HqLyjWD"\n')
    for fmt in ("terminal", "md"):
        code, out, err = run_cli(["secrets", "scan", str(tmp_path), "-f", fmt], capsys)
        assert code == 1, (out, err)
        assert "app\u241b]0;pwned\u2407\u241b[2J.py" in out.replace("\\", ""), out
        assert _raw_controls(out) == set() and _raw_controls(err) == set()


class _EscapeBody(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"\x1b]0;pwned\x07\x1b[2Jerror page"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_smoke_report_shows_control_characters_from_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EscapeBody)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        (tmp_path / "flows.yaml").write_text(
            "flows:\n  home:\n    steps:\n      - request: GET /\n        expect: {status: 200}\n", encoding="utf-8"
        )
        (tmp_path / "launchready.toml").write_text(
            'domain = "example.test"\n[environments]\n'
            f'production = {{ base_url = "http://127.0.0.1:{server.server_address[1]}" }}\n'
            '[smoke]\nfiles = ["flows.yaml"]\n',
            encoding="utf-8",
        )
        for fmt in ("terminal", "md"):
            code, out, err = run_cli(["smoke", "-c", str(tmp_path / "launchready.toml"), "-f", fmt, "-q"], capsys)
            assert code == 1, (out, err)
            assert "\u241b]0;pwned\u2407\u241b[2Jerror page" in out.replace("\\", ""), out
            assert _raw_controls(out) == set() and _raw_controls(err) == set()
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_env_check_shows_control_characters_in_env_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Variable names are strict (KEY=VALUE), so the file's name is what reaches the output.
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env.example").write_text("DATABASE_URL=\nPOSTMARK_TOKEN=\n")
    config = tmp_path / "launchready.toml"
    config.write_text('[secrets.env]\nexample = ".env.example"\n')
    good = tmp_path / f"prod\x1b]0;pwned\x07{RLO}vne.env"
    good.write_text("DATABASE_URL=postgres://db/x\n")
    bad = tmp_path / f"bad\x1b[2J{RLO}.env"
    bad.write_text("DATABASE_URL=x\nnot a binding\n")
    for fmt in ("terminal", "md", "json"):
        code, out, err = run_cli(["env", "check", "-c", str(config), "--from", str(good), "-f", fmt], capsys)
        assert code == 1, (out, err)
        assert "POSTMARK_TOKEN" in out
        assert _raw_controls(out) == set() and _raw_controls(err) == set(), fmt
    code, out, err = run_cli(["env", "check", "-c", str(config), "--from", str(good)], capsys)
    assert "prod\u241b]0;pwned\u2407\\u202evne.env" in out
    code, out, err = run_cli(["env", "check", "-c", str(config), "--from", str(bad)], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.strip() == f"launchready: error: {tmp_path}/bad\u241b[2J\\u202e.env:2: expected KEY=VALUE"


def _hostile_mail() -> bytes:
    """A message whose Subject and Message-ID clear the screen and whose link reorders its line."""
    return (
        "From: Shop <hello@shop.test>\r\nTo: m@inbox.test\r\n"
        f"Subject: Verify \x1b]0;pwned\x07\x1b[2J{RLO}liame ruoy\r\n"
        "Message-ID: <m1\x1b]0;pwned\x07\x1b[2J@shop.test>\r\nContent-Type: text/html\r\n\r\n"
        f'<a href="http://localhost:3000/{RLO}reset\x1b[2J">Reset</a>\r\n'
    ).encode()


def test_email_verify_shows_control_characters_from_the_message(
    tmp_path: Path,
    udp_dns_responder,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    nameserver, _ = udp_dns_responder({"shop.test": "127.0.0.1"})
    eml = tmp_path / "hostile.eml"
    eml.write_bytes(_hostile_mail())
    args = ["email", "verify", str(eml), "--nameserver", str(nameserver), "--domain", "shop.test", "--timeout", "2"]
    code, out, err = run_cli(args, capsys)
    assert code == 1 and "Traceback" not in err, err
    assert "http://localhost:3000/\\u202ereset\u241b[2J" in out
    assert _raw_controls(out) == set() and _raw_controls(err) == set()
    code, out, err = run_cli([*args, "--format", "json"], capsys)
    assert code == 1
    assert _raw_controls(out) == set()
    [local] = [f for f in json.loads(out)["findings"] if f["id"] == "email.message.local-link"]
    assert local["evidence"][0].startswith(f"http://localhost:3000/{RLO}reset\x1b[2J")  # the value itself unchanged


@pytest.mark.parametrize("fmt", ["terminal", "json"])
def test_email_receive_shows_control_characters_in_the_subject(
    fmt: str,
    tmp_path: Path,
    udp_dns_responder,  # type: ignore[no-untyped-def]
) -> None:
    nameserver, _ = udp_dns_responder({"shop.test": "127.0.0.1"})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable, "-m", "launchready", "email", "receive", "--listen", f"127.0.0.1:{port}", "--count", "1",
        "--nameserver", str(nameserver), "--domain", "shop.test", "--timeout", "2", "--format", fmt,
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        ready = process.stderr.readline().decode()
        assert ready.startswith(f"listening on 127.0.0.1:{port}"), ready
        with smtplib.SMTP("127.0.0.1", port, local_hostname="relay.shop.test", timeout=30) as client:
            client.sendmail("bounce@shop.test", ["m@inbox.test"], _hostile_mail())
        raw_out, raw_err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out, err = raw_out.decode(), raw_err.decode()
    assert process.returncode == 0 and "Traceback" not in err, err
    assert _raw_controls(out) == set() and _raw_controls(err) == set()
    if fmt == "terminal":
        # The receiver names each message by its Message-ID, which the sender chose.
        assert out.startswith("--- <m1\u241b]0;pwned\u2407\u241b[2J@shop.test>\n"), out
    else:
        assert "\\u202e" in out and json.loads(out)["findings"]


def test_json_outputs_escape_c1_and_bidi_controls() -> None:
    # json.dumps(ensure_ascii=False) writes C1 and bidi characters raw; the JSON writers escape them.
    run = sample_run(findings=(finding("web.headers.version-leak", Severity.LOW, "x", title=f"a{RLO}b\x9b"),))
    for name, text in (("json", render_json(run)), ("sarif", render_sarif(run))):
        assert _raw_controls(text) == set(), name
        assert "\\u202e" in text, name
    assert json.loads(render_json(run))["findings"][0]["title"] == f"a{RLO}b\x9b"  # the value itself unchanged

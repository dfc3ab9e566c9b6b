"""Control characters from a hostile site are shown in every report, never obeyed by the terminal.

A ``Server`` header, certificate subject, page text or file name may carry ESC sequences that clear
the screen or retitle the window. Each writer makes them visible in one place; these tests feed
them to every writer, and through the real CLI from a loopback server that sends them.
"""

from __future__ import annotations

import socket
import ssl
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

_CONTROLS = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} - {"\n", "\t"}


def _raw_controls(text: str) -> set[str]:
    return {ch for ch in text if ch in _CONTROLS}


def test_visible_replaces_every_control_but_newline_and_tab() -> None:
    assert visible(ATTACK) == SHOWN
    assert visible("a\tb\nc") == "a\tb\nc"
    every = "".join(sorted(_CONTROLS))
    assert _raw_controls(visible(every)) == set()
    assert visible("plain ünïcode ✓") == "plain ünïcode ✓"


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
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.25.3 \x1b]0;pwned\x07\x1b[2J\r\n"
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

"""`email verify` and `email receive --imap` with the extra checks, end to end: a real dovecot
(IMAPS, a Junk folder flagged \\Junk), real SpamAssassin, a real HTTPS server for links and a real
DNS server on loopback for DKIM and DMARC."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cliutil import run_cli
from mailzone import UTF8_SUBJECT, SigningKey, ZoneServer, message, rsa_key, shop_zone, sign, utf8_message

from launchready.lab.ca import LabCA
from tests.dovecotutil import JUNK_FOLDER, PASSWORD, USER, Dovecot, running_dovecot
from tests.test_mailtest_spam import require_spamassassin

PROVIDER_AR = (
    "mx.mailtest.test; spf=pass smtp.mailfrom=bounce@shop.test; "
    "dkim=fail (body hash did not verify) header.d=shop.test header.s=k; dmarc=fail header.from=shop.test"
)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return rsa_key(2048)


@pytest.fixture(scope="module")
def zone(key: SigningKey) -> Iterator[ZoneServer]:
    with shop_zone(key, dmarc="v=DMARC1; p=quarantine") as server:
        yield server


@pytest.fixture(scope="module")
def dovecot(key: SigningKey) -> Iterator[Dovecot]:
    with running_dovecot() as server:
        signed = sign(message(to="member+junk-1@mailtest.test"), key, domain="shop.test", selector="k")
        # What a receiving provider does: its own Authentication-Results on top, then file it in Junk.
        server.deliver(JUNK_FOLDER, f"Authentication-Results: {PROVIDER_AR}\r\n".encode() + signed)
        inboxed = sign(message(to="member+inbox-1@mailtest.test"), key, domain="shop.test", selector="k")
        server.deliver("INBOX", b"Authentication-Results: mx.mailtest.test; dkim=pass header.d=shop.test\r\n" + inboxed)
        server.deliver("INBOX", sign(utf8_message(), key, domain="shop.test", selector="k"))
        yield server


def _config(tmp_path: Path, server: Dovecot) -> Path:
    path = tmp_path / "launchready.toml"
    path.write_text(
        'domain = "shop.test"\n\n[smoke.mailbox]\nkind = "imap"\nhost = "127.0.0.1"\n'
        f'port = {server.port}\nusername = "{USER}"\npassword = "${{env:TEST_IMAP_PASSWORD}}"\n'
    )
    return path


ReceiveImap = Callable[..., tuple[int, str, str]]


@pytest.fixture
def receive_imap(
    zone: ZoneServer,
    dovecot: Dovecot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> ReceiveImap:
    """`email receive --imap EXTRA...` against the module's dovecot and zone, with the IMAP password
    in the environment the config names (a test may change or remove it before calling)."""
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)

    def run(*extra: str) -> tuple[int, str, str]:
        args = ["email", "receive", "--imap", "--config", str(_config(tmp_path, dovecot))]
        args += ["--ca-bundle", str(dovecot.ca_bundle), "--nameserver", f"127.0.0.1:{zone.port}", "--no-spamassassin"]
        return run_cli([*args, *extra], capsys)

    return run


def test_message_in_junk_with_the_providers_verdicts_next_to_ours(receive_imap: ReceiveImap) -> None:
    code, out, err = receive_imap("--to", "member+junk-1@mailtest.test", "--wait", "5", "--format", "json")
    assert code == 1, err
    data = json.loads(out)
    assert data["mailbox"] == {
        "folder": JUNK_FOLDER,
        "placement": "junk",
        "junk_found_by": "special-use",
        "searched": ["INBOX", JUNK_FOLDER],
    }
    provider = data["provider_authentication_results"]
    assert provider["authserv_id"] == "mx.mailtest.test"
    assert [(r["method"], r["result"]) for r in provider["results"]] == [
        ("spf", "pass"),
        ("dkim", "fail"),
        ("dmarc", "fail"),
    ]
    # Ours: the signature verifies against the published key; only the provider saw it fail.
    assert [(d["domain"], d["result"]) for d in data["dkim"]] == [("shop.test", "pass")]
    ids = {f["id"] for f in data["findings"]}
    assert {"email.message.landed-in-junk", "email.message.provider-auth-fail"} <= ids
    provider_finding = next(f for f in data["findings"] if f["id"] == "email.message.provider-auth-fail")
    assert any("dkim=fail (body hash did not verify)" in e for e in provider_finding["evidence"])
    assert any(e.startswith("ours: spf=none dkim=pass (d=shop.test)") for e in provider_finding["evidence"])
    assert PASSWORD not in out + err


def test_message_in_the_inbox_terminal_output(receive_imap: ReceiveImap) -> None:
    code, out, err = receive_imap("--to", "member+inbox-1@mailtest.test")
    assert "Mailbox folder: INBOX\n" in out
    assert "Provider's Authentication-Results: mx.mailtest.test: dkim=pass (shop.test)" in out
    assert "email.message.landed-in-junk" not in out and "provider-auth-fail" not in out
    assert code == 0, out + err


def test_a_utf8_message_is_found_by_its_utf8_address_and_shown_as_written(receive_imap: ReceiveImap) -> None:
    code, out, err = receive_imap("--to", "zoë@inbox.test", "--wait", "5", "--format", "json")
    data = json.loads(out)
    assert data["headers"]["subject"] == UTF8_SUBJECT
    assert data["headers"]["to"] == "Zoë Exemple <zoë@inbox.test>"
    assert [(d["domain"], d["result"]) for d in data["dkim"]] == [("shop.test", "pass")]
    assert code == 0, err


def test_absent_message_wrong_password_and_bad_options(
    receive_imap: ReceiveImap, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = receive_imap("--to", "nobody@mailtest.test", "--wait", "0.2")
    assert code == 1 and out == ""
    assert "no matching message arrived within 0.2 s (Inbox and Junk searched)" in err
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "not-the-password-9")
    code, out, err = receive_imap("--to", "nobody@mailtest.test")
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("launchready: error: IMAP 127.0.0.1:")
    assert "login as tester refused: [AUTHENTICATIONFAILED]" in err
    assert "not-the-password-9" not in err
    code, _, err = run_cli(["email", "receive", "--imap"], capsys)
    assert code == 2 and "--imap needs --to, --subject or --message-id" in err
    code, _, err = run_cli(["email", "receive", "--listen", "127.0.0.1:0", "--imap", "--to", "a@b.c"], capsys)
    assert code == 2 and "either --listen HOST:PORT" in err
    monkeypatch.delenv("TEST_IMAP_PASSWORD")
    code, _, err = receive_imap("--to", "a@b.c")
    assert code == 2 and "[smoke.mailbox]: ${env:TEST_IMAP_PASSWORD} is not set in the environment" in err


def test_verify_scores_with_spamassassin_and_checks_links(
    zone: ZoneServer, key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_spamassassin()
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(200 if self.path.startswith("/verify") else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self.do_HEAD()

        def log_message(self, *args: object) -> None:
            return None

    ca = LabCA.create()
    cert, key_file = ca.issue(["shop.test"]).write(tmp_path, "shop")
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        eml = tmp_path / "welcome.eml"
        html = (
            '<p><a href="https://shop.test/verify?token=abc">Verify</a> <a href="https://shop.test/help">Help</a></p>'
        )
        eml.write_bytes(sign(message(html=html), key, domain="shop.test", selector="k"))
        args = ["email", "verify", str(eml), "--nameserver", f"127.0.0.1:{zone.port}", "--domain", "shop.test"]
        args += [
            "--check-links",
            "--ca-bundle",
            str(bundle),
            "--connect-to",
            f"shop.test:443:127.0.0.1:{server.server_port}",
        ]
        code, out, err = run_cli([*args, "--format", "json"], capsys)
    finally:
        server.shutdown()
        server.server_close()
    data = json.loads(out)
    # The lab message has no Date header and different text and HTML parts: SpamAssassin says so.
    spam = data["spamassassin"]
    assert {"MISSING_DATE", "MPART_ALT_DIFF"} <= {r["name"] for r in spam["rules"]}
    spam_finding = next(f for f in data["findings"] if f["id"] == "email.message.spam-score")
    assert spam_finding["severity"] == ("high" if spam["score"] >= 5 else "medium")
    assert any(
        e.startswith("+2.7 MISSING_DATE: Missing Date: header (fix: set a Date header")
        for e in spam_finding["evidence"]
    )
    dead = next(f for f in data["findings"] if f["id"] == "email.message.dead-link")
    assert dead["evidence"] == ["https://shop.test/help: 404"]
    assert [c["alive"] for c in data["links"]["checked"]] == [True, False]
    assert code == 1, err


def test_hostile_message_with_every_extra_check_is_judged_not_crashed(
    zone: ZoneServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_spamassassin()
    eml = tmp_path / "hostile.eml"
    eml.write_bytes(
        b"From: a@shop.test\r\nTo: b@shop.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="never-closed"\r\n\r\n--never-closed\r\n'
        b"Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n!!not base64!!\r\n"
        b'<a href="https://[::1/x">broken</a>\r\n'
    )
    args = ["email", "verify", str(eml), "--nameserver", f"127.0.0.1:{zone.port}", "--domain", "shop.test"]
    code, out, err = run_cli([*args, "--check-links", "--format", "json"], capsys)
    assert code == 1 and "Traceback" not in err
    data = json.loads(out)
    assert "email.message.mime-defects" in {f["id"] for f in data["findings"]}
    assert "score" in data["spamassassin"] and data["links"]["checked"] == []

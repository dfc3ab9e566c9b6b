"""The SMTP receiver with a real SMTP client (smtplib, STARTTLS against a lab certificate): each
message is judged with the connecting address, HELO and envelope sender it really presented."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mailzone import (
    UTF8_SUBJECT,
    SigningKey,
    ZoneServer,
    message,
    rsa_key,
    send_utf8_message,
    shop_zone,
    sign,
    utf8_message,
)

from launchready.core.net import NetSettings
from launchready.lab.ca import LabCA
from launchready.mailtest.content import ContentPolicy
from launchready.mailtest.inbox import SmtpInbox
from launchready.mailtest.judge import Judgement
from launchready.mailtest.receiver import Receiver, peer_address


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return rsa_key(2048)


@pytest.fixture(scope="module")
def zone(key: SigningKey) -> Iterator[ZoneServer]:
    with shop_zone(
        key, spf="v=spf1 ip4:127.0.0.1 -all", more={"elsewhere.test": [("TXT", "v=spf1 ip4:192.0.2.99 -all")]}
    ) as server:
        yield server


class RunningReceiver:
    """A Receiver on its own event loop thread, as the CLI runs it, collecting its judgements."""

    def __init__(self, zone: ZoneServer, context: ssl.SSLContext | None) -> None:
        self.judgements: list[Judgement] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="receiver", daemon=True)
        self._thread.start()
        net = NetSettings(nameservers=(zone.nameserver,), timeout=1.0)
        self.receiver = Receiver(net, ContentPolicy(("shop.test",)), self.judgements.append, tls_context=context)
        self.port = asyncio.run_coroutine_threadsafe(self.receiver.start(), self._loop).result(10)

    def wait_for(self, count: int) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.wait_for(count), self._loop).result(30)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


@pytest.fixture
def server_tls(lab_ca: LabCA, tmp_path: Path) -> ssl.SSLContext:
    cert, key = lab_ca.issue(["mx.shop.test"]).write(tmp_path, "mx")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def client_tls(lab_ca: LabCA) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=lab_ca.cert_pem.decode())
    context.check_hostname = False  # the client dials 127.0.0.1; the chain is what is checked
    return context


def test_message_over_starttls_is_judged_with_the_real_peer(
    zone: ZoneServer, key: SigningKey, lab_ca: LabCA, server_tls: ssl.SSLContext
) -> None:
    running = RunningReceiver(zone, server_tls)
    try:
        with smtplib.SMTP("127.0.0.1", running.port, local_hostname="relay.shop.test", timeout=30) as client:
            client.starttls(context=client_tls(lab_ca))
            assert client.sock is not None and isinstance(client.sock, ssl.SSLSocket)
            client.sendmail(
                "bounce@shop.test", ["member@inbox.test"], sign(message(), key, domain="shop.test", selector="k")
            )
        running.wait_for(1)
    finally:
        running.stop()
    [judgement] = running.judgements
    spf = judgement.auth.spf
    assert (spf.result, spf.client_ip, spf.helo, spf.mail_from) == (
        "pass",
        "127.0.0.1",
        "relay.shop.test",
        "bounce@shop.test",
    )
    assert [s.result for s in judgement.auth.dkim] == ["pass"]
    assert judgement.auth.dmarc.result == "pass"
    assert judgement.findings == ()


def test_each_message_of_a_session_is_judged(zone: ZoneServer, key: SigningKey) -> None:
    running = RunningReceiver(zone, None)
    try:
        with smtplib.SMTP("127.0.0.1", running.port, local_hostname="relay.shop.test", timeout=30) as client:
            client.sendmail("bounces@elsewhere.test", ["a@inbox.test"], message(text=None))
            client.sendmail("bounce@shop.test", ["b@inbox.test"], message())
        running.wait_for(2)
    finally:
        running.stop()
    first, second = running.judgements
    assert first.auth.spf.result == "fail"
    assert {"email.message.spf-fail", "email.message.no-text-part", "email.message.dkim-none"} <= {
        f.id for f in first.findings
    }
    assert second.auth.spf.result == "pass"
    assert second.auth.dmarc.result == "pass"  # SPF aligned, though unsigned


def test_a_utf8_message_to_a_utf8_address_is_received_over_smtputf8(zone: ZoneServer, key: SigningKey) -> None:
    running = RunningReceiver(zone, None)
    try:
        with smtplib.SMTP("127.0.0.1", running.port, local_hostname="relay.shop.test", timeout=30) as client:
            client.ehlo()
            assert client.has_extn("smtputf8")
            signed = sign(utf8_message(), key, domain="shop.test", selector="k")
            client.sendmail("bounce@shop.test", ["zoë@inbox.test"], signed, mail_options=["SMTPUTF8"])
        running.wait_for(1)
    finally:
        running.stop()
    [judgement] = running.judgements
    assert dict(judgement.shown) == {
        "Subject": UTF8_SUBJECT,
        "From": "Boutique Zoé <hello@shop.test>",
        "To": "Zoë Exemple <zoë@inbox.test>",
    }
    assert [s.result for s in judgement.auth.dkim] == ["pass"]
    assert judgement.auth.dmarc.result == "pass"
    assert judgement.findings == ()


def test_the_mail_tests_inbox_finds_a_utf8_message_by_its_utf8_address_and_subject() -> None:
    async def main() -> tuple[str, str, tuple[str, ...]] | None:
        inbox = SmtpInbox()
        port = await inbox.start()
        try:
            await asyncio.get_running_loop().run_in_executor(None, send_utf8_message, port)
            found = await inbox.find("zoë@inbox.test", "Zoë 🎉")
        finally:
            await inbox.stop()
        return None if found is None else (found.subject, found.text, found.to)

    found = asyncio.run(main())
    assert found is not None
    subject, text, to = found
    assert subject == UTF8_SUBJECT
    assert text.startswith("Bonjour Zoë, confirmez")
    assert "zoë@inbox.test" in to


def test_receive_command_prints_one_json_line_per_message(
    zone: ZoneServer, key: SigningKey, lab_ca: LabCA, tmp_path: Path
) -> None:
    issued = lab_ca.issue(["mx.shop.test"])
    cert, key_path = issued.write(tmp_path, "mx")
    command = [
        sys.executable, "-m", "launchready", "email", "receive", "--listen", "127.0.0.1:0",
        "--cert", str(cert), "--key", str(key_path), "--count", "1", "--format", "json",
        "--nameserver", f"127.0.0.1:{zone.port}", "--domain", "shop.test",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        ready = process.stderr.readline()
        # Port 0: the command names the port it was given, so no other test can take it first.
        listening = re.match(r"listening on 127\.0\.0\.1:(\d+) \(STARTTLS offered\)", ready)
        assert listening is not None and listening.group(1) != "0", ready
        port = int(listening.group(1))
        with smtplib.SMTP("127.0.0.1", port, local_hostname="relay.shop.test", timeout=30) as client:
            client.starttls(context=client_tls(lab_ca))
            client.sendmail(
                "bounce@shop.test", ["m@inbox.test"], sign(message(), key, domain="shop.test", selector="k")
            )
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    [line] = out.splitlines()
    data = json.loads(line)
    assert (data["spf"]["result"], data["spf"]["client_ip"]) == ("pass", "127.0.0.1")
    assert [d["result"] for d in data["dkim"]] == ["pass"]
    assert data["dmarc"]["result"] == "pass"
    # SpamAssassin scored the message too (it is installed in CI), or the output says why not.
    spam = data["spamassassin"]
    if shutil.which("spamassassin") is not None:
        assert "MISSING_DATE" in {r["name"] for r in spam["rules"]}
    else:
        assert "not installed" in spam["skipped"]


def test_receive_rejects_a_lone_cert_and_a_bad_listen_address(tmp_path: Path) -> None:
    bad_listen = subprocess.run(
        [sys.executable, "-m", "launchready", "email", "receive", "--listen", "nowhere"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad_listen.returncode == 2
    assert "--listen 'nowhere': expected HOST:PORT" in bad_listen.stderr
    lone = subprocess.run(
        [sys.executable, "-m", "launchready", "email", "receive", "--listen", "127.0.0.1:0", "--cert", "c.pem"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert lone.returncode == 2
    assert (
        lone.stderr.strip()
        == "launchready: error: --cert and --key go together: STARTTLS needs both the certificate and its key"
    )


def test_peer_address_of_a_dual_stack_socket_is_the_ipv4_client() -> None:
    assert peer_address(("::ffff:192.0.2.10", 25, 0, 0)) == "192.0.2.10"
    assert peer_address(("2001:db8::1", 25, 0, 0)) == "2001:db8::1"
    assert peer_address(("fe80::1%eth0", 25, 0, 2)) == "fe80::1"
    assert peer_address(None) is None

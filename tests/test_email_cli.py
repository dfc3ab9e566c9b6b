"""`launchready email verify FILE.eml` end to end, against a real DNS server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cliutil import run_cli
from mailzone import UTF8_SUBJECT, SigningKey, ZoneServer, message, rsa_key, shop_zone, sign, utf8_message

from launchready.lab.lab import Lab

RESULT_WORDS = {"pass", "fail", "neutral", "none", "temperror", "permerror", "policy", "softfail"}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return rsa_key(2048)


@pytest.fixture(scope="module")
def zone(key: SigningKey) -> Iterator[ZoneServer]:
    with shop_zone(key, dmarc="v=DMARC1; p=quarantine; adkim=s") as server:
        yield server


def verify(zone: ZoneServer, path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    ns = f"127.0.0.1:{zone.port}"
    return run_cli(["email", "verify", str(path), "--nameserver", ns, "--domain", "shop.test", *extra], capsys)


def test_json_has_spf_dkim_dmarc_and_findings(
    zone: ZoneServer, key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eml = tmp_path / "welcome.eml"
    eml.write_bytes(sign(message(), key, domain="shop.test", selector="k"))
    code, out, err = verify(
        zone,
        eml,
        capsys,
        "--client-ip",
        "192.0.2.10",
        "--helo",
        "mta.shop.test",
        "--format",
        "json",
        "--no-spamassassin",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["spf"]["result"] == "pass"
    assert data["spf"]["mail_from"] == "bounce@shop.test"
    assert [(d["domain"], d["selector"], d["result"]) for d in data["dkim"]] == [("shop.test", "k", "pass")]
    assert (data["dmarc"]["result"], data["dmarc"]["policy"], data["dmarc"]["aligned_domain"]) == (
        "pass",
        "quarantine",
        "shop.test",
    )
    assert data["findings"] == []
    assert {data["spf"]["result"], data["dmarc"]["result"], *(d["result"] for d in data["dkim"])} <= RESULT_WORDS
    assert data["authentication_results"].startswith("Authentication-Results: launchready;")


def test_a_bad_message_exits_1_with_findings_in_the_terminal(
    zone: ZoneServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eml = tmp_path / "reset.eml"
    eml.write_bytes(message(html='<a href="http://localhost:3000/reset?t=s3cr3t-reset-token">Reset</a>'))
    code, out, _ = verify(zone, eml, capsys, "--mail-from", "bounce@shop.test")
    assert code == 1
    assert "dkim=none" in out
    assert "(email.message.local-link)" in out
    assert "(email.message.dmarc-fail)" in out
    assert "http://localhost:3000/reset?t=s3cr…(18 chars)" in out
    assert "s3cr3t-reset-token" not in out


def test_mail_from_option_overrides_the_return_path(
    zone: ZoneServer, key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(sign(message(), key, domain="shop.test", selector="k"))
    code, out, err = verify(
        zone, eml, capsys, "--client-ip", "192.0.2.10", "--mail-from", "x@elsewhere.test", "--format", "json"
    )
    assert json.loads(out)["spf"]["mail_from"] == "x@elsewhere.test"
    assert json.loads(out)["spf"]["result"] == "none"


@pytest.mark.parametrize("raw_headers", [True, False], ids=["raw-utf8", "encoded-words"])
def test_utf8_headers_are_shown_as_written_and_dkim_verifies_the_bytes(
    raw_headers: bool, zone: ZoneServer, key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eml = tmp_path / "bienvenue.eml"
    signed = sign(utf8_message(raw_headers=raw_headers), key, domain="shop.test", selector="k")
    eml.write_bytes(signed)
    args = ("--client-ip", "192.0.2.10", "--no-spamassassin")
    code, out, err = verify(zone, eml, capsys, *args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    to = "Zoë Exemple <zoë@inbox.test>" if raw_headers else "Zoë Exemple <zoe@inbox.test>"
    assert data["headers"] == {"subject": UTF8_SUBJECT, "from": "Boutique Zoé <hello@shop.test>", "to": to}
    # The signature covers the UTF-8 From, To and Subject: it verifies only over the bytes as sent.
    assert [(d["domain"], d["result"]) for d in data["dkim"]] == [("shop.test", "pass")]
    assert data["dmarc"]["result"] == "pass"
    assert data["findings"] == []
    code, out, err = verify(zone, eml, capsys, *args)
    assert code == 0, err
    assert f"Subject: {UTF8_SUBJECT}\n" in out
    assert "\ufffd" not in out


@pytest.mark.parametrize(
    "domain",
    ["\u2603\u2603\u2603.test".encode(), b"xn--zz--.test", b"caf\xff\xfe.test"],
    ids=["disallowed-u-label", "undecodable-a-label", "raw-bytes"],
)
def test_a_from_domain_with_no_dns_form_is_a_permanent_error_not_a_dns_failure(
    domain: bytes, zone: ZoneServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eml = tmp_path / "odd.eml"
    eml.write_bytes(
        b"From: Shop <hello@" + domain + b">\r\nReturn-Path: <bounce@" + domain + b">\r\nTo: member@inbox.test\r\n"
        b"Subject: hi\r\nMessage-ID: <1@shop.test>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n"
    )
    code, out, err = verify(zone, eml, capsys, "--client-ip", "192.0.2.10", "--no-spamassassin", "--format", "json")
    assert code == 1, err
    data = json.loads(out)
    # RFC 7208 4.3: SPF for a malformed domain is "none"; RFC 7489 6.6.1: a malformed From is a
    # permerror. Neither is a temperror, which tells the sender to retry the same message later.
    assert (data["spf"]["result"], data["dmarc"]["result"]) == ("none", "permerror")
    assert "not a valid domain name" in data["spf"]["reason"]
    assert "no DNS form" in data["dmarc"]["reason"]
    assert "temperror" not in data["authentication_results"]


def test_the_network_flags_lab_up_prints_are_accepted_and_used(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eml = tmp_path / "lab.eml"
    eml.write_bytes(message(sender=f"Shop <hello@{lab.domain}>"))
    args = ["email", "verify", str(eml), "--mail-from", f"bounce@{lab.domain}", "--client-ip", "192.0.2.99"]
    assert "--rdap-server" in lab.cli_args()
    code, out, err = run_cli([*args, "--no-spamassassin", "--format", "json", *lab.cli_args()], capsys)
    assert code in (0, 1), err
    data = json.loads(out)
    # The lab's own DNS answered: its DMARC record was found, its SPF evaluated (192.0.2.99 is not listed).
    assert (data["dmarc"]["record_domain"], data["dmarc"]["result"]) == (lab.domain, "fail")
    assert data["spf"]["result"] in ("fail", "softfail")


def test_unreadable_file_and_bad_client_ip_are_one_line_usage_errors(
    zone: ZoneServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = verify(zone, tmp_path / "missing.eml", capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        f"launchready: error: {tmp_path / 'missing.eml'}: cannot read: No such file or directory"
    ]
    eml = tmp_path / "m.eml"
    eml.write_bytes(message())
    code, _, err = verify(zone, eml, capsys, "--client-ip", "not-an-ip")
    assert code == 2
    assert err.strip() == "launchready: error: --client-ip 'not-an-ip': not an IPv4 or IPv6 address"


def test_docs_describe_every_finding() -> None:
    from launchready.mailtest.judge import FINDING_RULES

    docs = (Path(__file__).resolve().parents[1] / "docs" / "email.md").read_text(encoding="utf-8")
    table = [line for line in docs.splitlines() if line.startswith("| `")]
    documented = {kind.strip(" `") for line in table for kind in line.split("|")[1].split(",")}
    assert documented >= set(FINDING_RULES), set(FINDING_RULES) - documented

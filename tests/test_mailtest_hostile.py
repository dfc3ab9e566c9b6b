"""Hostile messages give findings or clear verdicts, never a crash: broken MIME, a 5 MB header,
many DKIM signatures, signatures over missing headers, invalid base64."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailzone import SigningKey, ZoneServer, message, rsa_key, shop_zone, sign

from launchready.core.net import NetSettings
from launchready.mailtest.auth import MAX_HEADER_BYTES, MAX_SIGNATURES
from launchready.mailtest.content import ContentPolicy
from launchready.mailtest.judge import Judgement, judge_message
from launchready.mailtest.message import parse_message, readable_header
from launchready.probes.dns import DnsProbe

RESULT_WORDS = {"pass", "fail", "neutral", "none", "temperror", "permerror", "policy", "softfail"}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return rsa_key(2048)


@pytest.fixture(scope="module")
def zone(key: SigningKey) -> Iterator[ZoneServer]:
    with shop_zone(key, more={"bad._domainkey.shop.test": [("TXT", "v=DKIM1; k=rsa; p=!!!not-base64!!!")]}) as server:
        yield server


def judge(zone: ZoneServer, raw: bytes) -> Judgement:
    async def run() -> Judgement:
        probe = DnsProbe(NetSettings(nameservers=(zone.nameserver,), timeout=1.0))
        try:
            return await judge_message(
                probe, raw, ContentPolicy(("shop.test",)), name="hostile.eml", client_ip="192.0.2.10"
            )
        finally:
            await probe.close()

    result = asyncio.run(run())
    words = {result.auth.spf.result, result.auth.dmarc.result, result.auth.arc.result}
    words |= {s.result for s in result.auth.dkim}
    assert words <= RESULT_WORDS
    return result


def ids(judgement: Judgement) -> set[str]:
    return {f.id for f in judgement.findings}


def test_broken_mime_is_a_finding(zone: ZoneServer) -> None:
    raw = (
        b"From: hello@shop.test\r\nTo: m@inbox.test\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="never-used"\r\n\r\n'
        b"no boundary ever appears here\r\n"
    )
    result = judge(zone, raw)
    defects = next(f for f in result.findings if f.id == "email.message.mime-defects")
    assert "StartBoundaryNotFoundDefect" in defects.evidence[0]


def test_invalid_base64_body_is_a_finding(zone: ZoneServer) -> None:
    raw = (
        b"From: hello@shop.test\r\nTo: m@inbox.test\r\nSubject: b64\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"@@@ this is not base64 at all ===\r\nQUJD\r\nQ\r\n"
    )
    assert "email.message.mime-defects" in ids(judge(zone, raw))


def test_invalid_base64_in_a_signature_is_a_verdict(zone: ZoneServer, key: SigningKey) -> None:
    signed = sign(message(), key, domain="shop.test", selector="k")
    start = signed.index(b" b=") + 3
    broken = signed[:start] + b"%%%not*base64%%%" + signed[start + 20 :]
    [sig] = judge(zone, broken).auth.dkim
    assert sig.result in ("fail", "permerror")


def test_invalid_base64_in_the_key_record_is_permerror(zone: ZoneServer, key: SigningKey) -> None:
    [sig] = judge(zone, sign(message(), key, domain="shop.test", selector="bad")).auth.dkim
    assert sig.result == "permerror"


def test_a_5_mb_header_is_refused_quickly_not_verified_at_length(zone: ZoneServer, key: SigningKey) -> None:
    signed = sign(message(), key, domain="shop.test", selector="k")
    raw = b"X-Huge: " + b"x" * (5 * 1024 * 1024) + b"\r\n" + signed
    [sig] = judge(zone, raw).auth.dkim
    assert sig.result == "permerror"
    assert sig.reason == f"header section over {MAX_HEADER_BYTES} bytes: not verified"
    # Just under the limit, the same signature is verified.
    under = b"X-Big: " + b"x" * (MAX_HEADER_BYTES // 2) + b"\r\n" + signed
    assert [s.result for s in judge(zone, under).auth.dkim] == ["pass"]


def test_more_signatures_than_verified_are_reported(zone: ZoneServer, key: SigningKey) -> None:
    raw = message()
    for _ in range(MAX_SIGNATURES + 2):
        raw = sign(raw, key, domain="shop.test", selector="k")
    result = judge(zone, raw)
    assert len(result.auth.dkim) == MAX_SIGNATURES
    assert all(s.result == "pass" for s in result.auth.dkim)
    skipped = next(f for f in result.findings if f.id == "email.message.dkim-too-many-signatures")
    assert skipped.evidence == (f"2 signature(s) past the first {MAX_SIGNATURES} were not verified",)


def test_signature_over_headers_the_message_lacks(zone: ZoneServer, key: SigningKey) -> None:
    # Signing an absent header (RFC 6376 5.4) is legal: it stops anyone adding one later.
    raw = sign(message(), key, domain="shop.test", selector="k", headers=("from", "to", "subject", "x-absent", "cc"))
    [sig] = judge(zone, raw).auth.dkim
    assert sig.result == "pass"
    # Adding one of those headers after signing breaks the signature.
    [later] = judge(zone, b"Cc: someone@else.test\r\n" + raw).auth.dkim
    assert later.result == "fail"


def test_signature_with_garbage_tags_is_permerror(zone: ZoneServer) -> None:
    raw = b"DKIM-Signature: this is ; not = a ; ; tag=list\r\n" + message()
    [sig] = judge(zone, raw).auth.dkim
    assert sig.result == "permerror"
    assert "email.message.dkim-error" in ids(judge(zone, raw))


def test_no_from_and_two_froms_are_dmarc_permerror(zone: ZoneServer) -> None:
    no_from = b"To: m@inbox.test\r\nSubject: none\r\n\r\nhello\r\n"
    assert judge(zone, no_from).auth.dmarc.result == "permerror"
    two = b"From: a@shop.test\r\nFrom: b@evil.example\r\nTo: m@inbox.test\r\n\r\nhello\r\n"
    assert judge(zone, two).auth.dmarc.result == "permerror"


def test_empty_and_binary_input(zone: ZoneServer) -> None:
    for raw in (b"", b"\x00\xff\xfe" * 1000, b"\r\n\r\n\r\n"):
        result = judge(zone, raw)
        assert "email.message.dmarc-error" in ids(result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 40), st.binary(max_size=40)), max_size=6))
def test_mangled_signed_messages_always_get_verdicts(
    zone: ZoneServer, key: SigningKey, cuts: list[tuple[int, int, bytes]]
) -> None:
    raw = sign(message(extra=[("Reply-To", "help@shop.test")]), key, domain="shop.test", selector="k")
    for at, length, insert in cuts:
        at %= len(raw) + 1
        raw = raw[:at] + insert + raw[at + length :]
    judge(zone, raw)


def test_signature_not_covering_from_is_permerror(zone: ZoneServer, key: SigningKey) -> None:
    signed = sign(message(), key, domain="shop.test", selector="k", headers=("from", "subject"))
    without_from = signed.replace(b"h=from : subject", b"h=subject", 1)
    assert without_from != signed
    [sig] = judge(zone, without_from).auth.dkim
    assert (sig.result, sig.reason) == ("permerror", "h= does not include From (RFC 6376 6.1.1)")


def test_no_envelope_sender_and_no_helo_leaves_spf_unevaluated(zone: ZoneServer) -> None:
    result = judge(zone, message(return_path=None))
    spf = result.auth.spf
    assert (spf.result, spf.reason) == ("none", "not evaluated: no envelope sender or HELO name")
    assert "email.message.spf-none" not in ids(result)


# A parsed field holds surrogates only as escapes of undecodable bytes (U+DC80-U+DCFF, one is in the
# list); other lone surrogates cannot come from a message, so the random characters leave them out.
HEADERISH = st.text(
    alphabet=st.sampled_from(list('=?utf-8qQbB<>@",;:()\\ \t\r\nabcZoë🎉\udcff\x00'))
    | st.characters(exclude_categories=("Cs",)),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(["Subject", "From", "To", "Reply-To", "X-Anything"]), value=HEADERISH)
def test_any_header_value_is_shown_without_raising(name: str, value: str) -> None:
    shown = readable_header(name, value)
    assert isinstance(shown, str)
    raw = f"{name}: ".encode() + value.encode("utf-8", "surrogateescape") + b"\r\n\r\nbody\r\n"
    parsed = parse_message(raw)
    assert parsed.shown(name) is None or isinstance(parsed.shown(name), str)


def test_an_address_hidden_in_an_encoded_word_is_not_an_address() -> None:
    # The display text decodes to something that looks like an address: the field's syntax decides.
    raw = b"From: =?utf-8?q?boss=40shop.test_=3Cceo=40shop.test=3E?= <attacker@evil.test>\r\n\r\nhi\r\n"
    parsed = parse_message(raw)
    assert parsed.addresses("from") == ["attacker@evil.test"]
    assert parsed.shown("from") == '"boss@shop.test <ceo@shop.test>" <attacker@evil.test>'

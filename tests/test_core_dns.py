"""Typed DNS answers: every check reads MX, CAA, SOA and target names from the same parse."""

from __future__ import annotations

import pytest

from launchready.core.dns import CaaRecord, DnsAnswer, MxRecord, ServerAnswer, SoaRecord, query_failed


def test_mx_records_keep_preference_and_exchange() -> None:
    answer = DnsAnswer("example.com", "MX", "ok", ("10 MX1.Example.com.", "0 .", "20 mx2.example.com.", "junk"))
    assert answer.mx == (MxRecord(10, "mx1.example.com"), MxRecord(0, "."), MxRecord(20, "mx2.example.com"))
    assert answer.mx[1].is_null
    assert answer.mx_hosts == ("mx1.example.com", "mx2.example.com")


def test_caa_records_keep_flag_tag_and_value() -> None:
    answer = DnsAnswer(
        "example.com", "CAA", "ok", ('128 issue "pki.goog; cansignhttpexchanges=yes"', '0 iodef "mailto:x@y"')
    )
    first, second = answer.caa
    assert first == CaaRecord(128, "issue", "pki.goog; cansignhttpexchanges=yes")
    assert first.critical and first.issuer_domain == "pki.goog"
    assert second.tag == "iodef" and not second.critical


def test_soa_and_target_names() -> None:
    soa = "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"
    assert DnsAnswer("example.com", "SOA", "ok", (soa,)).soa == SoaRecord(
        "ns1.example.com", "hostmaster.example.com", 2024010101
    )
    assert ServerAnswer("ns1", "127.0.0.1:53", "example.com", "SOA", "ok", (soa,)).soa is not None
    assert DnsAnswer("example.com", "NS", "ok", ("NS1.example.com.", ".")).names == ("ns1.example.com",)


@pytest.mark.parametrize(
    ("status", "failed", "answered"),
    [("ok", False, True), ("nxdomain", False, True), ("nodata", False, True)]
    + [(s, True, False) for s in ("timeout", "servfail", "error")],
)
def test_failed_is_the_opposite_of_answered(status: str, failed: bool, answered: bool) -> None:
    answer = DnsAnswer("example.com", "A", status)  # type: ignore[arg-type]
    assert answer.failed is failed and query_failed(status) is failed and answer.answered is answered

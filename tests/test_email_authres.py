"""The RFC 8601 Authentication-Results reader, against providers' real field shapes and against the
``authres`` package (a test dependency) on the same fields."""

from __future__ import annotations

import authres  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchready.email.authres import MAX_FIELD_CHARS, parse_authentication_results

GMAIL = (
    "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=Jx4nQ0aB;\r\n"
    "       spf=pass (google.com: domain of bounce@example.com designates 192.0.2.10 as permitted sender)"
    " smtp.mailfrom=bounce@example.com;\r\n"
    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com"
)
RFC_EXAMPLE = (
    'example.com; dkim=fail reason="bad signature" header.d=example.org header.b="abc def"; '
    "spf/1=softfail smtp.mailfrom=sender@example.net; auth=pass (cram-md5) smtp.auth=sender@example.net"
)
MICROSOFT = (
    "spf=pass (sender IP is 192.0.2.10) smtp.mailfrom=example.com; dkim=pass (signature was verified) "
    "header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100"
)


def _theirs(value: str) -> list[tuple[str, str, str | None, list[tuple[str, str]]]]:
    parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value)
    return [
        (r.method, r.result, r.reason, [(f"{p.type}.{p.name}", p.value) for p in r.properties]) for r in parsed.results
    ]


@pytest.mark.parametrize("value", [GMAIL, RFC_EXAMPLE, "mx.example.net; none"])
def test_reads_what_the_authres_package_reads(value: str) -> None:
    ours = parse_authentication_results(value)
    mine = [(r.method, r.result, r.reason, list(r.properties)) for r in ours.results]
    assert mine == _theirs(value)
    assert ours.authserv_id == authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value).authserv_id


def test_gmail_field_details() -> None:
    parsed = parse_authentication_results("Authentication-Results: " + GMAIL)
    assert parsed.authserv_id == "mx.google.com" and parsed.problem is None
    (spf,) = parsed.of("spf")
    assert spf.result == "pass" and spf.property("smtp.mailfrom") == "bounce@example.com"
    assert spf.comment is not None and "designates 192.0.2.10" in spf.comment
    assert parsed.of("dmarc")[0].comment == "p=REJECT sp=REJECT dis=NONE"
    assert parsed.summary() == "mx.google.com: dkim=pass (@example.com) spf=pass dmarc=pass (example.com)"


def test_microsoft_field_without_authserv_id() -> None:
    parsed = parse_authentication_results(MICROSOFT)
    assert parsed.authserv_id == ""
    assert [(r.method, r.result) for r in parsed.results] == [
        ("spf", "pass"),
        ("dkim", "pass"),
        ("dmarc", "pass"),
        ("compauth", "pass"),
    ]
    assert parsed.of("dkim")[0].property("header.d") == "example.com"
    assert parsed.of("compauth")[0].reason == "100"


def test_hostile_fields_never_raise() -> None:
    parsed = parse_authentication_results("x; ((((unclosed; dkim=; =pass; spf=fail smtp.mailfrom=a@b")
    assert parsed.authserv_id == "x"
    assert parsed.problem is not None
    huge = parse_authentication_results("mx.test; " + "dkim=pass header.d=a.example; " * 5000)
    assert huge.problem is not None and "only the start" in huge.problem
    assert len(huge.results) < 5000 and all(r.result == "pass" for r in huge.results[:-1])
    assert MAX_FIELD_CHARS < len("mx.test; " + "dkim=pass header.d=a.example; " * 5000)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reads_without_error(value: str) -> None:
    parsed = parse_authentication_results(value)
    assert all(r.method and r.result for r in parsed.results)

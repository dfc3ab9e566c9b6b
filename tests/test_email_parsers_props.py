"""Property tests: no input crashes the SPF, DKIM or DMARC record parsers."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from launchready.email.dkim_record import parse_dkim_key
from launchready.email.dmarc_record import DmarcRecord
from launchready.email.spf_macro import MacroContext, expand
from launchready.email.spf_syntax import SpfSyntaxError, parse_spf, parse_term

TERMS = st.sampled_from(
    ["v=spf1", "a", "mx", "ptr", "all", "-all", "~all", "?all", "+all", "include:", "exists:", "ip4:", "ip6:",
     "redirect=", "exp=", "%{d}", "%{ir}", "%{l1r-}", "%%", "%_", "/24", "//64", ":", ".", "example.com", "1.2.3.4",
     "::1", " ", "=", ";", "\x00", "é"]
)  # fmt: skip
SPFISH = st.lists(TERMS, max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), SPFISH, SPFISH.map(lambda s: "v=spf1 " + s)))
def test_spf_parser_only_raises_its_syntax_error(text: str) -> None:
    try:
        record = parse_spf(text)
    except SpfSyntaxError:
        return
    assert record.text == text
    for term in record.terms:
        assert term.text  # every term keeps its source text for evidence


@settings(max_examples=200, deadline=None)
@given(SPFISH)
def test_spf_terms_and_macro_expansion_never_crash(text: str) -> None:
    ctx = MacroContext("a.b@example.com", "example.com", ipaddress.ip_address("192.0.2.1"), "mail.example.com")
    try:
        parse_term(text)
    except SpfSyntaxError:
        pass
    try:
        expand(text, ctx, exp=True)
    except SpfSyntaxError:
        pass


TAGS = st.lists(
    st.tuples(
        st.sampled_from(["v", "p", "k", "t", "h", "s", "rua", "ruf", "pct", "sp", "adkim", "aspf", "x"]),
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                ["DKIM1", "DMARC1", "rsa", "ed25519", "y", "none", "reject", "mailto:a@b.test", "MIIB", "100"]
            ),
        ),
    ),
    max_size=8,
).map(lambda pairs: "; ".join(f"{k}={v}" for k, v in pairs))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), TAGS))
def test_dkim_parser_never_raises(text: str) -> None:
    key = parse_dkim_key(text)
    assert key.raw == text
    assert key.problem is None or isinstance(key.problem, str)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), TAGS))
def test_dmarc_parser_never_raises(text: str) -> None:
    record = DmarcRecord.parse(text)
    _ = (record.is_dmarc, record.policy, record.subdomain_policy, record.pct, record.problem)
    _ = (record.report_domains("rua"), record.report_domains("ruf"))

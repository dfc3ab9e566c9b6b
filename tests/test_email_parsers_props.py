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


# -- fuzzing the record parsers and their judges: any record gets a verdict, none crashes -------------

TAG_NAMES = st.sampled_from(
    ["v", "V", "p", "P", "k", "K", "t", "h", "s", "n", "g", "rua", "RUA", "ruf", "pct", "Pct", "sp", "adkim",
     "aspf", "fo", "rf", "ri", "np", "id", "x", "", " ", "é", "\u0130", "p p"]
)  # fmt: skip
TAG_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["DKIM1", "DMARC1", "STSv1", "TLSRPTv1", "rsa", "ed25519", "y", "y:s", "none", "quarantine", "reject",
         "REJECT", "sha1", "sha256", "sha1:sha256", "email", "*", "tlsrpt", "101", "-1", "0", "abc", "r", "s", "x",
         "mailto:a@b.test", "mailto:a@b.test!10m", "mailto:a@b.test!10x", "https://r.test/x", "a@b.test",
         "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "=", ";"]
    ),
    # Huge values: a receiver's 64 KiB TXT answer, a runaway base64 key.
    st.integers(min_value=1_000, max_value=70_000).map(lambda n: "A" * n),
)  # fmt: skip
SEPARATORS = st.sampled_from([";", "; ", " ;", ";\r\n\t", ";\n ", "\t;\t", ";;", ""])
EQUALS = st.sampled_from(["=", " = ", "=\r\n ", "", "=="])


@st.composite
def tag_lists(draw: st.DrawFn) -> str:
    """Tag lists with random names, case, folding whitespace, separators, duplicates and bare parts."""
    parts = draw(st.lists(st.tuples(TAG_NAMES, EQUALS, TAG_VALUES, SEPARATORS), max_size=10))
    text = "".join(f"{name}{eq}{value}{sep}" for name, eq, value, sep in parts)
    prefix = draw(st.sampled_from(["", "v=DKIM1; ", "v=DMARC1; ", "v=DMARC1; p=reject; ", " \t"]))
    return prefix + text


RECORDS = st.one_of(tag_lists(), st.text(max_size=400), TAGS)


@settings(max_examples=400, deadline=None)
@given(RECORDS)
def test_any_dkim_record_gets_a_verdict(text: str) -> None:
    from launchready.checks.email.dkim import SelectorFacts
    from launchready.checks.email.dkim import judge as judge_dkim
    from launchready.core.dns import DnsAnswer

    key = parse_dkim_key(text)
    assert key.raw == text
    # A verdict: unusable (and why), revoked, or a usable key of a known size.
    assert key.problem is not None or key.revoked or key.key_bits is not None
    assert key.problem is None or (isinstance(key.problem, str) and key.problem)
    _ = (key.for_email, key.sha1_only, key.testing, key.key_type)
    facts = (SelectorFacts("s1", True, DnsAnswer("s1._domainkey.example.com", "TXT", "ok", (text,))),)
    findings = judge_dkim("example.com", facts)
    assert all(f.id.startswith("email.dkim.") and f.evidence for f in findings)


@settings(max_examples=400, deadline=None)
@given(RECORDS)
def test_any_dmarc_record_gets_a_verdict(text: str) -> None:
    from launchready.checks.email.dmarc import effective_record
    from launchready.checks.email.dmarc import judge as judge_dmarc
    from launchready.core.dns import DnsAnswer

    record = DmarcRecord.parse(text)
    problem = record.problem
    assert problem is None or (isinstance(problem, str) and problem)
    if problem is None:
        # A usable record always has a policy, a percentage and alignment modes receivers apply.
        assert record.policy in ("none", "quarantine", "reject")
        assert 0 <= record.pct <= 100
        assert record.alignment("adkim") in ("r", "s") and record.alignment("aspf") in ("r", "s")
        corrected = DmarcRecord.parse(record.corrected())
        assert corrected.problem is None and corrected.fallbacks == ()
    for fallback in record.fallbacks:
        assert fallback.text()
    answer = DnsAnswer("_dmarc.example.com", "TXT", "ok", (text,))
    findings = judge_dmarc("example.com", answer)
    assert all(f.id.startswith("email.dmarc.") and f.evidence for f in findings)
    _ = effective_record(answer, None)


@settings(max_examples=200, deadline=None)
@given(RECORDS)
def test_mta_sts_and_tls_rpt_records_get_a_verdict(text: str) -> None:
    from launchready.email.mta_sts import StsRecord, TlsRptRecord

    for record in (StsRecord.parse(text), TlsRptRecord.parse(text)):
        problem = record.problem
        assert problem is None or (isinstance(problem, str) and problem)

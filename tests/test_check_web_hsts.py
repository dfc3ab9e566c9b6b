"""web.hsts: header parsing and judging on HTTP exchanges, then the check against the lab."""

from __future__ import annotations

import pytest

from launchready.checks.web.hsts import HstsPolicy, https_problem, judge, parse_hsts, subdomain_findings
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Severity
from launchready.probes.http import HttpExchange
from launchready.probes.tls import TlsFacts

HOST = "shop.test"


def answer(*hsts: str, status: int = 200) -> HttpExchange:
    headers = tuple(("strict-transport-security", v) for v in hsts)
    return HttpExchange(f"https://{HOST}/", "GET", status, headers=headers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=63072000; includeSubDomains", HstsPolicy(63072000, True, False)),
        ('max-age="31536000"; preload; includesubdomains', HstsPolicy(31536000, True, True)),
        ("MAX-AGE=100;;", HstsPolicy(100, False, False)),
        ("  max-age = 20 ", HstsPolicy(20, False, False)),
    ],
)
def test_parse_valid_headers(value: str, expected: HstsPolicy) -> None:
    assert parse_hsts(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("includeSubDomains", "no max-age"),
        ("max-age=abc", "not a number"),
        ("max-age=-5", "not a number"),
        ("max-age=1; max-age=2", "appears twice"),
        ("max-age=1, includeSubDomains", "cannot parse"),
        ("max age=1", "cannot parse"),
    ],
)
def test_parse_invalid_headers_says_why(value: str, reason: str) -> None:
    result = parse_hsts(value)
    assert isinstance(result, str) and reason in result


def test_a_two_year_policy_passes() -> None:
    assert judge(HOST, answer("max-age=63072000; includeSubDomains")) == []
    assert judge(HOST, answer("max-age=15552000")) == []


def test_a_redirect_response_is_judged_too() -> None:
    [f] = judge(HOST, answer(status=301))
    assert f.id == "web.hsts.missing"


def test_missing_header_gives_the_exact_header_line() -> None:
    [f] = judge(HOST, answer())
    assert f.id == "web.hsts.missing"
    assert f.severity is Severity.MEDIUM
    assert "Strict-Transport-Security: (absent)" in f.evidence
    assert "Strict-Transport-Security: max-age=63072000; includeSubDomains" in f.remediation
    assert 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;' in f.remediation
    assert "max-age=300" in f.remediation  # the ramp


def test_short_max_age_is_low() -> None:
    [f] = judge(HOST, answer("max-age=86400; includeSubDomains"))
    assert f.id == "web.hsts.short-max-age"
    assert f.severity is Severity.LOW
    assert any("1.0 day(s)" in e for e in f.evidence)
    assert "max-age=63072000; includeSubDomains" in f.remediation


def test_max_age_zero_is_called_out() -> None:
    [f] = judge(HOST, answer("max-age=0"))
    assert f.id == "web.hsts.short-max-age"
    assert any("forget HSTS" in e for e in f.evidence)


def test_invalid_header_is_low_with_the_reason() -> None:
    [f] = judge(HOST, answer("max-age=soon"))
    assert f.id == "web.hsts.invalid"
    assert any(e.startswith("problem: max-age") for e in f.evidence)


def test_only_the_first_header_counts() -> None:
    [f] = judge(HOST, answer("max-age=10", "max-age=63072000"))
    assert f.id == "web.hsts.short-max-age"
    assert "2 headers sent; browsers use only the first" in f.evidence


def test_untrusted_certificate_is_noted_in_evidence() -> None:
    [f] = judge(HOST, answer(), tls_trusted=False)
    assert any("browsers ignore HSTS" in e for e in f.evidence)


def test_no_answer_is_could_not_run() -> None:
    failed = HttpExchange(f"https://{HOST}/", "GET", error="connection refused", error_kind="refused")
    with pytest.raises(CouldNotRun, match="refused"):
        judge(HOST, failed)


# -- includeSubDomains against what the subdomains serve (apex only) ----------------------------

GOOD_TLS = TlsFacts(host=f"app.{HOST}", port=443, connected=True, verified=True, hostname_matches=True)
EXPIRED = TlsFacts(host=f"old.{HOST}", port=443, connected=True, verified=False, verify_error="certificate has expired")
NO_TLS = TlsFacts(host=f"blog.{HOST}", port=443, connected=False, error="connection refused", error_kind="refused")


def test_https_problem_names_why_a_browser_would_refuse() -> None:
    assert https_problem(GOOD_TLS) is None
    assert https_problem(EXPIRED) == "certificate not valid: certificate has expired"
    assert https_problem(NO_TLS) == "no TLS on port 443: connection refused"


def test_include_subdomains_with_a_host_without_valid_https_is_high_and_names_it() -> None:
    policy = HstsPolicy(63072000, True, False)
    hosts = {f"app.{HOST}": GOOD_TLS, f"old.{HOST}": EXPIRED, f"blog.{HOST}": NO_TLS}
    [finding] = subdomain_findings(HOST, policy, "max-age=63072000; includeSubDomains", hosts)
    assert finding.id == "web.hsts.subdomain-not-https"
    assert finding.severity is Severity.HIGH
    assert finding.target == HOST
    assert f"blog.{HOST}, old.{HOST}" in finding.title
    assert f"old.{HOST}: certificate not valid: certificate has expired" in finding.evidence
    assert f"blog.{HOST}: no TLS on port 443: connection refused" in finding.evidence
    assert f"app.{HOST}" not in " ".join(finding.evidence[1:])


def test_include_subdomains_missing_while_every_host_is_ready_is_low() -> None:
    policy = HstsPolicy(63072000, False, False)
    [finding] = subdomain_findings(HOST, policy, "max-age=63072000", {f"app.{HOST}": GOOD_TLS})
    assert finding.id == "web.hsts.no-include-subdomains"
    assert finding.severity is Severity.LOW
    assert "includeSubDomains" in finding.remediation
    # With only the apex there is still nothing against it.
    assert [f.id for f in subdomain_findings(HOST, policy, "max-age=63072000", {})] == [
        "web.hsts.no-include-subdomains"
    ]


def test_no_subdomain_finding_when_nothing_is_wrong_or_it_would_break_a_host() -> None:
    ready = {f"app.{HOST}": GOOD_TLS}
    assert subdomain_findings(HOST, HstsPolicy(63072000, True, False), "h", ready) == []
    # Without includeSubDomains a broken host is tls.certificate's finding; adding it would make things worse.
    assert subdomain_findings(HOST, HstsPolicy(63072000, False, False), "h", {f"old.{HOST}": EXPIRED}) == []
    # max-age=0 clears the policy, includeSubDomains with it.
    assert subdomain_findings(HOST, HstsPolicy(0, True, False), "h", {f"old.{HOST}": EXPIRED}) == []
    # Hosts outside the apex are not covered by its policy.
    assert subdomain_findings(HOST, HstsPolicy(63072000, True, False), "h", {"other.test": EXPIRED}) == []


def test_judge_applies_the_subdomain_rule_only_on_a_trusted_apex() -> None:
    header = "max-age=63072000; includeSubDomains"
    broken = {f"old.{HOST}": EXPIRED}
    assert [f.id for f in judge(HOST, answer(header), apex=True, subdomains=broken)] == ["web.hsts.subdomain-not-https"]
    assert judge(HOST, answer(header), apex=False, subdomains=broken) == []
    assert [f.id for f in judge(HOST, answer(header), apex=True, tls_trusted=False, subdomains=broken)] == []

"""Ranking, decision rules and network-flag parsing: pure logic, no network."""

from __future__ import annotations

import pytest

from launchready.core.finding import CheckResult, Finding, Status
from launchready.core.net import (
    ConnectTo,
    Nameserver,
    NetFlagError,
    build_net_settings,
    parse_connect_to,
    parse_nameserver,
)
from launchready.core.run import Verdict
from launchready.core.severity import Confidence, Impact, Severity
from launchready.engine.decision import DECISION_RULES, decide
from launchready.engine.ranking import rank
from launchready.engine.target import TargetError, normalise_domain


def make(
    id_: str,
    severity: Severity,
    impact: Impact = Impact.TRUST,
    confidence: Confidence = Confidence.CERTAIN,
    target: str = "example.com",
) -> Finding:
    return Finding(
        id=id_,
        check_id=id_.rsplit(".", 1)[0],
        title=f"title of {id_}",
        severity=severity,
        impact=impact,
        confidence=confidence,
        target=target,
        remediation="do the fix",
    )


def test_rank_orders_by_severity_then_impact_then_confidence() -> None:
    findings = [
        make("a.b.low", Severity.LOW, Impact.DATA_EXPOSURE),
        make("a.b.high-trust", Severity.HIGH, Impact.TRUST),
        make("a.b.high-pay", Severity.HIGH, Impact.PAYMENTS),
        make("a.b.blocker", Severity.BLOCKER, Impact.PERFORMANCE),
        make("a.b.high-pay-tentative", Severity.HIGH, Impact.PAYMENTS, Confidence.TENTATIVE),
    ]
    assert [f.id for f in rank(findings)] == [
        "a.b.blocker",
        "a.b.high-pay",
        "a.b.high-pay-tentative",
        "a.b.high-trust",
        "a.b.low",
    ]


def test_rank_is_stable_for_equal_keys() -> None:
    one = make("a.b.c", Severity.MEDIUM, target="b.example.com")
    two = make("a.b.c", Severity.MEDIUM, target="a.example.com")
    assert rank([one, two]) == rank([two, one]) == (two, one)


def result(status: Status, findings: tuple[Finding, ...] = ()) -> CheckResult:
    return CheckResult(check_id="a.b", target="example.com", status=status, findings=findings, reason="why")


@pytest.mark.parametrize(
    ("severities", "errors", "verdict"),
    [
        ([], 0, Verdict.SHIP),
        ([Severity.INFO, Severity.LOW], 0, Verdict.SHIP),
        ([Severity.MEDIUM], 0, Verdict.SHIP_WITH_FIXES),
        ([Severity.HIGH, Severity.LOW], 0, Verdict.SHIP_WITH_FIXES),
        ([], 1, Verdict.SHIP_WITH_FIXES),
        ([Severity.BLOCKER], 0, Verdict.PAUSE),
        ([Severity.BLOCKER, Severity.HIGH], 2, Verdict.PAUSE),
    ],
)
def test_decision_rules(severities: list[Severity], errors: int, verdict: Verdict) -> None:
    findings = rank(make(f"a.b.f{i}", s) for i, s in enumerate(severities))
    results = [result(Status.FAILED, findings)] + [result(Status.ERROR) for _ in range(errors)]
    decision = decide(findings, results)
    assert decision.verdict is verdict
    assert decision.rules == DECISION_RULES
    assert decision.reasons, "a decision always says why"


def test_decision_reasons_name_the_worst_findings_and_unverified_checks() -> None:
    findings = rank([make("a.b.x", Severity.BLOCKER, target="app.example.com"), make("a.b.y", Severity.HIGH)])
    decision = decide(findings, [result(Status.ERROR)])
    assert "1 blocker: title of a.b.x (app.example.com)" in decision.reasons[0]
    assert any("could not complete" in r for r in decision.reasons)


def test_parse_connect_to_forms() -> None:
    assert parse_connect_to(":443:127.0.0.1:8443") == ConnectTo(None, 443, "127.0.0.1", 8443)
    assert parse_connect_to("Example.COM.::[::1]:80") == ConnectTo("example.com", None, "::1", 80)
    assert parse_connect_to("[::1]:443:127.0.0.2:1") == ConnectTo("::1", 443, "127.0.0.2", 1)
    rule = parse_connect_to("a.test:443:127.0.0.1:9")
    assert rule.matches("A.test.", 443) and not rule.matches("a.test", 80)


@pytest.mark.parametrize("bad", ["a:b:c", "::127.0.0.1", ":443::80", ":99999:127.0.0.1:80", "[::1:443:x:1"])
def test_parse_connect_to_rejects_with_one_line(bad: str) -> None:
    with pytest.raises(NetFlagError) as err:
        parse_connect_to(bad)
    assert "--connect-to" in str(err.value) and "\n" not in str(err.value)


def test_parse_nameserver() -> None:
    assert parse_nameserver("127.0.0.1") == Nameserver("127.0.0.1", 53)
    assert parse_nameserver("127.0.0.1:5353") == Nameserver("127.0.0.1", 5353)
    assert parse_nameserver("[::1]:5353") == Nameserver("::1", 5353)
    assert parse_nameserver("::1") == Nameserver("::1", 53)
    for bad in ("dns.google", "127.0.0.1:0", "127.0.0.1:x"):
        with pytest.raises(NetFlagError, match="--nameserver"):
            parse_nameserver(bad)


def test_net_settings_validation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NetFlagError, match="--ca-bundle"):
        build_net_settings(None, tmp_path / "missing.pem", None, 5, environ={})
    with pytest.raises(NetFlagError, match="--timeout"):
        build_net_settings(None, None, None, 0, environ={})
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert build_net_settings(None, None, None, 5, environ={"SSL_CERT_FILE": str(bundle)}).ca_bundle == bundle


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Example.COM.", "example.com"),
        ("https://example.com/path?q=1", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_normalise_domain(given: str, expected: str) -> None:
    assert normalise_domain(given) == expected


@pytest.mark.parametrize("bad", ["localhost", "exa mple.com", "example.com:443", "-bad.com", "a..com", ""])
def test_normalise_domain_rejects(bad: str) -> None:
    with pytest.raises(TargetError, match="DOMAIN"):
        normalise_domain(bad)


def test_unicode_digits_are_not_ports() -> None:
    # "²".isdigit() is True but int("²") raises: the flag must still fail as a flag error.
    with pytest.raises(NetFlagError, match="--connect-to"):
        parse_connect_to(":²:127.0.0.1:80")
    with pytest.raises(NetFlagError, match="--nameserver"):
        parse_nameserver("127.0.0.1:²")

"""Hand-built AuditRuns for the report and history tests: every severity, an error result, a
skipped result, a file:line target, hostile evidence, and a history delta with a fixed finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from launchready.core.finding import CheckResult, Finding, Status
from launchready.core.run import AuditRun, Decision, HistoryDelta, HostSummary, Verdict
from launchready.core.severity import Confidence, Impact, Severity

T0 = datetime(2024, 5, 1, 14, 3, 7, 123456, tzinfo=UTC)
XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def finding(
    fid: str,
    severity: Severity,
    target: str,
    *,
    impact: Impact = Impact.TRUST,
    title: str | None = None,
    evidence: tuple[str, ...] = (),
    remediation: str | None = None,
    references: tuple[str, ...] = ("https://www.rfc-editor.org/rfc/rfc7489",),
    confidence: Confidence = Confidence.CERTAIN,
) -> Finding:
    check_id = fid.rsplit(".", 1)[0]
    return Finding(
        id=fid,
        check_id=check_id,
        title=title or f"Problem {fid}",
        severity=severity,
        impact=impact,
        confidence=confidence,
        target=target,
        evidence=evidence,
        remediation=remediation or f"Fix for {fid}: do the concrete thing.",
        references=references,
    )


CERT_EXPIRED = finding(
    "tls.certificate.expired",
    Severity.BLOCKER,
    "app.example.com",
    impact=Impact.AVAILABILITY,
    title="TLS certificate expired",
    evidence=("notAfter=2024-04-01T00:00:00Z", "issuer: CN=Lab CA", XSS),
    remediation="Renew the certificate for app.example.com and set up automatic renewal (e.g. certbot renew).",
    references=("https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5", "javascript:alert(1)"),
)
PRIVATE_CACHE = finding(
    "web.private-cache.shared-cacheable",
    Severity.BLOCKER,
    "https://app.example.com/account",
    impact=Impact.DATA_EXPOSURE,
    title="Member pages can be cached by shared caches",
    evidence=("Cache-Control: public, max-age=600", "Set-Cookie: session=abcd…(32 chars)"),
    remediation="Send `Cache-Control: private, no-store` on every authenticated response.",
)
SECRET = finding(
    "repo.secrets.live-key",
    Severity.HIGH,
    "src/settings.py:12",
    impact=Impact.PAYMENTS,
    title="Live payment key committed",
    evidence=("STRIPE_KEY = 'sk_l…(32 chars)'",),
    remediation="Revoke the key in the payment dashboard, then load it from the environment.",
    confidence=Confidence.FIRM,
)
DMARC = finding(
    "email.dmarc.missing",
    Severity.HIGH,
    "example.com",
    impact=Impact.EMAIL,
    title="No DMARC record",
    evidence=("_dmarc.example.com TXT: NXDOMAIN",),
    remediation='Publish _dmarc.example.com TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"',
)
HSTS = finding(
    "web.hsts.missing",
    Severity.MEDIUM,
    "www.example.com",
    title="HSTS header missing | pipes [and] *stars*",
    remediation="Add Strict-Transport-Security: max-age=31536000; includeSubDomains",
    references=("https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Strict-Transport-Security",),
)
CAA = finding("dns.caa.missing", Severity.LOW, "example.com", title="No CAA record", references=())
SPF_SOFT = finding(
    "email.spf.softfail",
    Severity.INFO,
    "example.com",
    impact=Impact.EMAIL,
    title="SPF ends in ~all",
    confidence=Confidence.TENTATIVE,
)
OLD_HEALTH = finding(
    "app.health.down",
    Severity.BLOCKER,
    "https://app.example.com/healthz",
    impact=Impact.AVAILABILITY,
    title="Health route returns 500",
)

ALL_FINDINGS = (CERT_EXPIRED, PRIVATE_CACHE, SECRET, DMARC, HSTS, CAA, SPF_SOFT)

DECISION_PAUSE = Decision(
    verdict=Verdict.PAUSE,
    reasons=("2 blockers: TLS certificate expired; Member pages can be cached by shared caches",),
    rules=(
        "PAUSE when any blocker is found.",
        "SHIP WITH FIXES when any high is found, or a check could not run.",
        "SHIP otherwise.",
    ),
)


def results_for(findings: tuple[Finding, ...]) -> tuple[CheckResult, ...]:
    by_check: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        target = "/repo" if f.check_id.startswith("repo.") else f.target
        by_check.setdefault((f.check_id, target), []).append(f)
    out = [
        CheckResult(check_id=c, target=t, status=Status.FAILED, findings=tuple(fs), duration_ms=12.5)
        for (c, t), fs in by_check.items()
    ]
    out += [
        CheckResult(check_id="dns.apex", target="example.com", status=Status.PASSED, duration_ms=3.0),
        CheckResult(
            check_id="web.https-redirect",
            target="admin.example.com",
            status=Status.ERROR,
            reason="connection refused by 127.0.0.1:443",
            duration_ms=1.0,
        ),
        CheckResult(
            check_id="app.health",
            target="https://app.example.com",
            status=Status.PASSED,
            duration_ms=4.0,
        ),
        CheckResult(check_id="repo.history", target="/repo", status=Status.SKIPPED, reason="no git history"),
    ]
    return tuple(out)


HOSTS = (
    HostSummary(name="example.com", addresses=("127.0.0.1",), found_by="apex"),
    HostSummary(
        name="www.example.com",
        addresses=("127.0.0.1", "::1"),
        cname_chain=("example.com",),
        found_by="common",
    ),
    HostSummary(name="app.example.com", addresses=("127.0.0.1",), found_by="common"),
    HostSummary(name="admin.example.com", addresses=(), found_by="config"),
)


def sample_run(
    *,
    findings: tuple[Finding, ...] = ALL_FINDINGS,
    decision: Decision = DECISION_PAUSE,
    delta: HistoryDelta | None = None,
    started: datetime = T0,
    results: tuple[CheckResult, ...] | None = None,
    run_id: int | None = None,
) -> AuditRun:
    return AuditRun(
        tool_version="0.1.0",
        target="example.com",
        started=started,
        finished=started + timedelta(seconds=4, milliseconds=250),
        decision=decision,
        findings=findings,
        results=results if results is not None else results_for(findings),
        hosts=HOSTS,
        delta=delta,
        run_id=run_id,
    )


def sample_delta() -> HistoryDelta:
    return HistoryDelta(
        previous_run_id=3,
        previous_started=T0 - timedelta(days=2),
        new=(CERT_EXPIRED.fingerprint, SECRET.fingerprint),
        still_open=tuple(f.fingerprint for f in ALL_FINDINGS if f not in (CERT_EXPIRED, SECRET)),
        fixed=(OLD_HEALTH,),
    )


def run_with_history() -> AuditRun:
    return sample_run(delta=sample_delta(), run_id=4)

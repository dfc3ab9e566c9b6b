"""The launch decision. The rules are data so every report prints exactly what was applied."""

from __future__ import annotations

from collections.abc import Sequence

from launchready.core.finding import CheckResult, Finding, Status
from launchready.core.run import Decision, Verdict
from launchready.core.severity import Severity

DECISION_RULES: tuple[str, ...] = (
    "PAUSE when any blocker is found: a blocker breaks signup, payments, email, availability or leaks data on day one.",
    "SHIP WITH FIXES when there is no blocker but a high or medium risk is open, or a check could not run "
    "or was not configured (what was not verified is not assumed fine).",
    "SHIP when only low or informational findings remain and every check ran.",
)

_REASON_LIMIT = 3


def _describe(findings: Sequence[Finding], label: str) -> str:
    # The same problem on several hosts is named once, with its targets.
    by_id: dict[str, list[Finding]] = {}
    for f in findings:
        by_id.setdefault(f.id, []).append(f)
    named = []
    for same in list(by_id.values())[:_REASON_LIMIT]:
        targets = ", ".join(f.target for f in same[:2]) + (f" +{len(same) - 2} more" if len(same) > 2 else "")
        named.append(f"{same[0].title} ({targets})")
    shown = "; ".join(named)
    more = f"; +{len(by_id) - _REASON_LIMIT} more" if len(by_id) > _REASON_LIMIT else ""
    noun = label if len(findings) == 1 else label + "s"
    return f"{len(findings)} {noun}: {shown}{more}"


def decide(findings: Sequence[Finding], results: Sequence[CheckResult]) -> Decision:
    """``findings`` must already be ranked (worst first) so the reasons name the worst."""
    by_severity = {s: [f for f in findings if f.severity is s] for s in Severity}
    not_run = [r for r in results if r.status is Status.ERROR]
    not_configured = [r for r in results if r.status is Status.SKIPPED and r.configure]
    reasons: list[str] = []
    if by_severity[Severity.BLOCKER]:
        reasons.append(_describe(by_severity[Severity.BLOCKER], "blocker"))
    for severity in (Severity.HIGH, Severity.MEDIUM):
        if by_severity[severity]:
            reasons.append(_describe(by_severity[severity], f"{severity.value} risk"))
    if not_run:
        names = ", ".join(sorted({r.check_id for r in not_run})[:_REASON_LIMIT])
        reasons.append(f"{len(not_run)} check run(s) could not complete and are unverified ({names})")
    if not_configured:
        names = ", ".join(sorted({r.check_id for r in not_configured})[:_REASON_LIMIT])
        reasons.append(
            f"{len(not_configured)} check(s) not configured, so not verified ({names}); "
            "configure them or mark them not applicable"
        )

    if by_severity[Severity.BLOCKER]:
        verdict = Verdict.PAUSE
    elif by_severity[Severity.HIGH] or by_severity[Severity.MEDIUM] or not_run or not_configured:
        verdict = Verdict.SHIP_WITH_FIXES
    else:
        verdict = Verdict.SHIP
        low = len(by_severity[Severity.LOW]) + len(by_severity[Severity.INFO])
        reasons.append(
            f"no blocker, high or medium risk; {low} low/info note(s)" if low else "no risk found by any check"
        )
    return Decision(verdict=verdict, reasons=tuple(reasons), rules=DECISION_RULES)

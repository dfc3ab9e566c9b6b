"""app.smoke: failed flows become findings by their declared impact; dependent failures fold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from launchready.checks.app.smoke import judge, run
from launchready.config.model import Config
from launchready.core.errors import NotApplicable
from launchready.core.severity import Impact, Severity
from launchready.smoke.results import FlowResult, SmokeRun, StepResult

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def flow(
    name: str, impact: Impact, severity: Severity, *, passed: bool = False, origin: str | None = None
) -> FlowResult:
    steps = (
        StepResult(
            "open", "request", "s.yaml:3", True, 5.0, "GET https://x.example/", status=200, origin=origin or name
        ),
        StepResult(
            "submit",
            "request",
            "s.yaml:9",
            passed,
            5.0,
            "POST https://x.example/go",
            status=500,
            failure=None if passed else "expected status equals 200, got 500 (s.yaml:12)",
            response_excerpt=None if passed else "status 500; boom",
            origin=origin or name,
        ),
    )
    return FlowResult(name, "s.yaml:1", severity, impact, passed, 10.0, steps)


def smoke_run(*flows: FlowResult) -> SmokeRun:
    return SmokeRun("production", "https://x.example", NOW, NOW, flows)


@pytest.mark.parametrize(
    ("impact", "finding_id"),
    [
        (Impact.SIGNUP, "app.smoke.signup-flow-failed"),
        (Impact.LOGIN, "app.smoke.login-flow-failed"),
        (Impact.PAYMENTS, "app.smoke.payments-flow-failed"),
        (Impact.EMAIL, "app.smoke.email-flow-failed"),
        (Impact.AVAILABILITY, "app.smoke.flow-failed"),
        (Impact.TRUST, "app.smoke.flow-failed"),
    ],
)
def test_failed_flow_becomes_the_finding_of_its_impact(impact: Impact, finding_id: str) -> None:
    [finding] = judge(smoke_run(flow("f", impact, Severity.MEDIUM)))
    assert finding.id == finding_id
    assert finding.severity is Severity.MEDIUM  # the flow file's severity wins
    assert finding.target == "https://x.example flow:f"
    assert "failed at step 'submit' (s.yaml:9): expected status equals 200, got 500 (s.yaml:12)" in finding.evidence
    assert "response: status 500; boom" in finding.evidence
    assert "launchready smoke --flow f" in finding.remediation and "s.yaml:9" in finding.remediation


def test_signup_failing_is_a_blocker_and_passing_flows_are_silent() -> None:
    findings = judge(
        smoke_run(
            flow("signup", Impact.SIGNUP, Severity.BLOCKER),
            flow("api", Impact.AVAILABILITY, Severity.HIGH, passed=True),
        )
    )
    assert [(f.id, f.severity) for f in findings] == [("app.smoke.signup-flow-failed", Severity.BLOCKER)]
    assert judge(smoke_run(flow("api", Impact.AVAILABILITY, Severity.HIGH, passed=True))) == []


def test_flows_failing_inside_an_included_flow_fold_into_it() -> None:
    signup = flow("signup", Impact.SIGNUP, Severity.BLOCKER)
    checkout = flow("checkout", Impact.PAYMENTS, Severity.BLOCKER, origin="signup")
    [finding] = judge(smoke_run(signup, checkout))
    assert finding.id == "app.smoke.signup-flow-failed"
    assert "flows that include it fail the same way: checkout" in finding.evidence
    # If the included flow itself was not run (or passed), the dependant is reported on its own.
    [alone] = judge(smoke_run(checkout))
    assert alone.id == "app.smoke.payments-flow-failed"


def test_no_flows_declared_is_not_applicable() -> None:
    import asyncio

    class _Ctx:
        config = Config()

    with pytest.raises(NotApplicable):
        asyncio.run(run(_Ctx(), "production"))  # type: ignore[arg-type]

"""app.smoke: the user flows declared in the smoke flow files work end to end on each environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotConfigured
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError
from launchready.smoke.plan import declares_flows, execute, plan_smoke
from launchready.smoke.report import flow_failure_evidence
from launchready.smoke.results import FlowResult, SmokeRun

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_DOCS = "https://en.wikipedia.org/wiki/Smoke_testing_(software)"
_MDN_STATUS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status"
_STRIPE_WEBHOOKS = "https://docs.stripe.com/webhooks#verify-events"

_FIX = (
    "Run `launchready smoke --flow {flow}` to see the failing step with its request and response, fix the "
    "application (logs around that request), redeploy, and run the flow again."
)

# Which finding a failed flow becomes, by the business impact its flow file declares.
_ID_BY_IMPACT = {
    Impact.SIGNUP: "app.smoke.signup-flow-failed",
    Impact.LOGIN: "app.smoke.login-flow-failed",
    Impact.PAYMENTS: "app.smoke.payments-flow-failed",
    Impact.EMAIL: "app.smoke.email-flow-failed",
}
_GENERIC_ID = "app.smoke.flow-failed"

META = CheckMeta(
    id="app.smoke",
    title="The product's key user flows work end to end",
    scope=Scope.ENVIRONMENT,
    doc=CheckDoc(
        what=(
            "Runs the smoke flows declared under [smoke] files in launchready.toml (YAML flow files) against each "
            "environment: real sign-ups with fresh addresses, waiting for the confirmation email, logging in, "
            "accepting invites, paying with a signed webhook, exactly as a new member would. Each failed flow is a "
            "finding naming the step, the request and what came back."
        ),
        why=(
            "A green build and a passing health route do not mean a new member can sign up, confirm their email "
            "or pay. These flows are the business: if the signup or payment flow breaks on launch day, every "
            "visitor the launch brings in is lost, and nobody notices until the complaints arrive."
        ),
        fix=(
            "Run `launchready smoke --env NAME --flow FLOW` to replay the failing flow step by step, read the "
            "application logs around the failing request, fix and redeploy. Use `launchready deploy` so every "
            "deploy runs the flows and rolls back by itself when one fails."
        ),
    ),
    findings=(
        FindingSpec(
            id="app.smoke.signup-flow-failed",
            title="New members cannot complete signup",
            severity=Severity.BLOCKER,
            impact=Impact.SIGNUP,
            remediation=_FIX.format(flow="signup"),
            references=(_DOCS, _MDN_STATUS),
        ),
        FindingSpec(
            id="app.smoke.login-flow-failed",
            title="Members cannot log in and reach their dashboard",
            severity=Severity.BLOCKER,
            impact=Impact.LOGIN,
            remediation=_FIX.format(flow="login"),
            references=(_DOCS, _MDN_STATUS),
        ),
        FindingSpec(
            id="app.smoke.payments-flow-failed",
            title="The payment flow does not complete",
            severity=Severity.BLOCKER,
            impact=Impact.PAYMENTS,
            remediation=_FIX.format(flow="checkout")
            + " For webhooks, check the signing secret the app was deployed with.",
            references=(_DOCS, _STRIPE_WEBHOOKS),
        ),
        FindingSpec(
            id="app.smoke.email-flow-failed",
            title="A flow that depends on email does not complete",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation=_FIX.format(flow="NAME"),
            references=(_DOCS,),
        ),
        FindingSpec(
            id="app.smoke.flow-failed",
            title="A declared user flow does not complete",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=_FIX.format(flow="NAME"),
            references=(_DOCS, _MDN_STATUS),
        ),
    ),
    references=(_DOCS, _MDN_STATUS),
    probes=("http", "smtp-mailbox"),
)


def finding_id(flow: FlowResult) -> str:
    return _ID_BY_IMPACT.get(flow.impact, _GENERIC_ID)


def judge(run: SmokeRun) -> list[Finding]:
    """One finding per failed flow; a flow that failed inside another failed flow's steps is folded
    into that flow's finding (a broken signup breaks login and checkout too: one cause, one finding)."""
    failed = {f.name: f for f in run.failed}
    dependants: dict[str, list[str]] = {}
    roots: list[FlowResult] = []
    for flow in run.failed:
        step = flow.failed_step
        origin = step.origin if step is not None else ""
        if origin and origin != flow.name and origin in failed:
            dependants.setdefault(origin, []).append(flow.name)
        else:
            roots.append(flow)
    findings: list[Finding] = []
    for flow in roots:
        step = flow.failed_step
        where = f" at step '{step.name}'" if step is not None else ""
        evidence = [f"environment: {run.environment}", *flow_failure_evidence(flow)]
        if flow.name in dependants:
            evidence.append(f"flows that include it fail the same way: {', '.join(sorted(dependants[flow.name]))}")
        findings.append(
            META.finding(
                finding_id(flow),
                target=f"{run.base_url} flow:{flow.name}",
                title=f"Smoke flow '{flow.name}' fails{where}",
                severity=flow.severity,
                evidence=evidence,
                remediation=_FIX.format(flow=flow.name)
                + (f" The failing step is written at {step.where}." if step is not None else ""),
            )
        )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    if not declares_flows(ctx.config):
        raise NotConfigured(
            "no smoke flows declared ([smoke] files in launchready.toml)",
            'write your sign-up and payment flows in a YAML file and list it: [smoke] files = ["smoke.yaml"]',
        )
    try:
        plan = plan_smoke(ctx.config, target, domain=ctx.domain)
    except (SmokeError, SecretsError) as exc:  # the flows, or the env_file they read
        raise CouldNotRun(str(exc)) from None
    result = await execute(plan, ctx.net, dns=ctx.dns)
    return judge(result)


CHECK = Check(meta=META, run=run)

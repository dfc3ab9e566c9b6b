"""env.contract: each environment has every variable the app needs, set to a real value (names only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.secrets.contract import EnvSource, Issue, Problem, evaluate, read_source, requirements
from launchready.secrets.errors import SecretsError

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_TWELVE_FACTOR = "https://12factor.net/config"
_DOC = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"
_STRIPE_KEYS = "https://docs.stripe.com/keys"

META = CheckMeta(
    id="env.contract",
    title="Every environment has the variables the app needs",
    scope=Scope.ENVIRONMENT,
    doc=CheckDoc(
        what=(
            "Compares the variables an environment actually has (the file named in [secrets.env.sources], e.g. "
            "an export from the hosting platform) with the contract: the names in .env.example, the per-"
            "environment `required` lists and the variables each flow needs. Reports missing, empty and "
            "placeholder values and variables set in another environment but not this one; across environments, "
            "a payment or SMS provider's test credentials in production, a database host or secret shared between "
            "production and another environment, and names set twice in one file. Values are never shown."
        ),
        why=(
            "A release that reaches production without the email provider's key or the database URL breaks "
            "signup on the spot, and nothing in the build fails: the code only reads the variable at run time. "
            "Staging passing proves little when production lacks a variable staging has."
        ),
        fix=(
            "Set each reported variable in the hosting platform's environment settings (e.g. `fly secrets set "
            "NAME=...`, `heroku config:set NAME=...`, Vercel/Render dashboard > Environment), redeploy, and run "
            "`launchready env check --env production --from <export>` in the deploy pipeline so it cannot happen again."
        ),
    ),
    findings=(
        FindingSpec(
            id="env.contract.flow-variable-missing",
            title="Production lacks a variable a key flow needs",
            severity=Severity.BLOCKER,
            impact=Impact.SIGNUP,
            remediation="Set the variable in production's environment (hosting dashboard or CLI) and redeploy before launch.",
            references=(_TWELVE_FACTOR,),
        ),
        FindingSpec(
            id="env.contract.missing",
            title="A required environment variable is not set",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation="Set the variable in this environment's settings and redeploy.",
            references=(_TWELVE_FACTOR,),
        ),
        FindingSpec(
            id="env.contract.empty",
            title="A required environment variable is empty",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation="Give the variable its real value in this environment's settings and redeploy.",
            references=(_TWELVE_FACTOR,),
        ),
        FindingSpec(
            id="env.contract.placeholder",
            title="A required environment variable holds a placeholder",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation="Replace the placeholder (or the value copied from .env.example) with the real value and redeploy.",
            references=(_TWELVE_FACTOR, _DOC),
        ),
        FindingSpec(
            id="env.contract.drift",
            title="A variable set in another environment is missing here",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation="Set it here too, or declare it optional in [secrets.env] if this environment does not need it.",
            references=(_TWELVE_FACTOR,),
        ),
        FindingSpec(
            id="env.contract.test-key",
            title="Production holds a test or sandbox credential",
            severity=Severity.HIGH,
            impact=Impact.PAYMENTS,
            remediation=(
                "Replace it with the live credential from the provider's dashboard (Stripe live keys start with "
                "sk_live_/pk_live_; PayPal and Braintree: the live environment) and redeploy."
            ),
            references=(_STRIPE_KEYS, _TWELVE_FACTOR),
        ),
        FindingSpec(
            id="env.contract.shared",
            title="Production and another environment share a data store or a secret",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Give each environment its own database and its own secrets (generate new ones for staging, rotate "
                "the production value if staging's was exposed) and redeploy both."
            ),
            references=(_DOC, _TWELVE_FACTOR),
        ),
        FindingSpec(
            id="env.contract.duplicate",
            title="A variable is set more than once in one file",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation="Keep one line per variable: the last one silently wins, which is rarely the one meant.",
            references=(_TWELVE_FACTOR,),
        ),
    ),
    references=(_TWELVE_FACTOR, _DOC),
    probes=("env-file",),
    needs_existing_domain=False,
)

_IDS = {
    Problem.MISSING: "missing",
    Problem.EMPTY: "empty",
    Problem.PLACEHOLDER: "placeholder",
    Problem.DRIFT: "drift",
    Problem.TEST_KEY: "test-key",
    Problem.SHARED: "shared",
    Problem.DUPLICATE: "duplicate",
}
# The contract's own problems: on a flow's variable in production they are the blocker finding.
_CONTRACT = frozenset({Problem.MISSING, Problem.EMPTY, Problem.PLACEHOLDER})


def judge(issues: list[Issue]) -> list[Finding]:
    findings: list[Finding] = []
    for issue in issues:
        blocker = issue.severity is Severity.BLOCKER and issue.problem in _CONTRACT
        suffix = "flow-variable-missing" if blocker else _IDS[issue.problem]
        evidence = [issue.detail]
        if issue.flows:
            evidence.append(f"needed by: {', '.join(issue.flows)}")
        finding = META.finding(
            suffix, target=f"{issue.environment}:{issue.name}", evidence=evidence, severity=issue.severity
        )
        findings.append(finding.model_copy(update={"impact": issue.impact}))
    return findings


def _read(path: str) -> EnvSource:
    try:
        return read_source(Path(path))
    except SecretsError as exc:
        raise CouldNotRun(str(exc)) from None


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    contract = ctx.config.secrets.env
    source = contract.sources.get(target)
    if source is None:
        raise NotApplicable(f"no [secrets.env.sources] entry for {target}")
    try:
        needs = requirements(contract, target, ctx.repo)
    except SecretsError as exc:
        raise CouldNotRun(str(exc)) from None
    if not needs.names:
        raise NotApplicable("the environment contract is empty ([secrets.env] example, required or flows)")
    others = {name: _read(path).env for name, path in contract.sources.items() if name != target}
    have = _read(source)
    return judge(evaluate(target, have.env, needs, others, have.duplicates))


CHECK = Check(meta=META, run=run)

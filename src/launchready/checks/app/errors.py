"""app.errors: production reports its errors somewhere, and a test event sent there arrives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.envtext import EnvFile, EnvTextError, is_placeholder, is_production, parse_env_text
from launchready.core.errors import CouldNotRun, NotApplicable, NotConfigured
from launchready.core.errortracking import Dsn, DsnDelivery, DsnError, is_dsn_variable, parse_dsn
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_SENTRY_DSN_DOC = "https://docs.sentry.io/concepts/key-terms/dsn-explainer/"
_SENTRY_PYTHON = "https://docs.sentry.io/platforms/python/"
_SENTRY_ENVELOPE = "https://develop.sentry.dev/sdk/data-model/envelopes/"
_TWELVE_FACTOR = "https://12factor.net/config"
_SENTRY_OPTIONS = "https://docs.sentry.io/platforms/python/configuration/options/#dsn"

DEFAULT_NAME = "SENTRY_DSN"
MAX_ENV_BYTES = 1 << 20

_SET_UP = (
    "Create a project in an error tracker and copy its DSN: `launchready monitor project add web --url "
    "https://monitor.example.com` prints one for the launchready monitor (Sentry, GlitchTip and Bugsink show it in "
    "the project settings). Set it in production's environment: `SENTRY_DSN=https://<public key>@<host>/<project id>` "
    "(e.g. `fly secrets set SENTRY_DSN=...`, `heroku config:set SENTRY_DSN=...`, or the dashboard's Environment "
    "page), add an empty `SENTRY_DSN=` line to .env.example so every environment is asked for it, initialise the "
    'SDK at start-up (Python: `sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], environment="production", '
    'release=os.environ.get("GIT_SHA"))`), redeploy, and run `launchready errors test --dsn "$SENTRY_DSN"`.'
)

META = CheckMeta(
    id="app.errors",
    title="Production reports its errors to an error tracker",
    scope=Scope.ENVIRONMENT,
    doc=CheckDoc(
        what=(
            "For each production environment (production, prod, live), reads the environment contract "
            "(.env.example, [secrets.env] required lists) and the environment's variables ([secrets.env.sources], an "
            "export from the hosting platform) and looks for an error-tracking DSN: SENTRY_DSN and its framework "
            "variants (NEXT_PUBLIC_SENTRY_DSN, VITE_SENTRY_DSN...), GLITCHTIP_DSN, BUGSINK_DSN, ERRORS_DSN. When one "
            "is set, it sends one test event there, exactly as an SDK would (an envelope tagged launchready.test), "
            "and expects the service to accept it. Values are never shown; the DSN's key is masked."
        ),
        why=(
            "After launch, nobody watches the server's console. Without error reporting a failing signup, a crash "
            "on checkout or a bug introduced by Friday's deploy stays invisible until members complain or leave. A "
            "DSN that is missing in production, mistyped, or points at a tracker that was shut down is as silent as "
            "none, and nothing in the build says so."
        ),
        fix=(
            "Create a project in an error tracker (`launchready monitor project add NAME` for the launchready "
            "monitor, or Sentry, GlitchTip, Bugsink), set its DSN as SENTRY_DSN in production, initialise the SDK "
            "with it, and check with `launchready errors test --dsn DSN` that a test event arrives."
        ),
    ),
    findings=(
        FindingSpec(
            id="app.errors.not-configured",
            title="Production reports its errors nowhere",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=_SET_UP,
            references=(_SENTRY_DSN_DOC, _SENTRY_PYTHON, _SENTRY_OPTIONS),
        ),
        FindingSpec(
            id="app.errors.missing-in-production",
            title="The error-tracking DSN is declared but not set in production",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Set the variable in production's environment to the project's DSN "
                "(`SENTRY_DSN=https://<public key>@<host>/<project id>`) and redeploy."
            ),
            references=(_SENTRY_DSN_DOC, _TWELVE_FACTOR),
        ),
        FindingSpec(
            id="app.errors.invalid-dsn",
            title="Production's error-tracking DSN is not a DSN",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Copy the DSN again from the tracker's project settings: it has the form "
                "`https://<public key>@<host>/<project id>`; set it and redeploy."
            ),
            references=(_SENTRY_DSN_DOC,),
        ),
        FindingSpec(
            id="app.errors.not-delivered",
            title="A test event sent to production's DSN did not arrive",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Check that the tracker named in the DSN is running and reachable from production, and that the "
                "project and its key still exist; update the DSN and run `launchready errors test --dsn DSN`."
            ),
            references=(_SENTRY_DSN_DOC, _SENTRY_ENVELOPE, _SENTRY_OPTIONS),
        ),
    ),
    references=(_SENTRY_DSN_DOC, _SENTRY_PYTHON, _SENTRY_OPTIONS),
    probes=("env-file", "error-tracking"),
    needs_existing_domain=False,
)


@dataclass(frozen=True)
class ReportingFacts:
    """What the audit saw of one environment's error reporting."""

    environment: str
    # DSN-like variable names the contract declares, with where (".env.example", "[secrets.env.required]").
    declared: Mapping[str, str]
    source: str  # where the environment's variables came from, as shown to the user
    values: Mapping[str, str]  # the environment's DSN-like variables as set (empty and placeholders too)
    deliveries: Mapping[str, DsnDelivery] = field(default_factory=dict)  # by variable name


def usable_value(value: str) -> bool:
    return bool(value.strip()) and not is_placeholder(value)


def dsns_to_test(values: Mapping[str, str]) -> dict[str, Dsn]:
    """The environment's variables holding a parseable DSN, by name."""
    found: dict[str, Dsn] = {}
    for name, value in values.items():
        if not usable_value(value):
            continue
        try:
            found[name] = parse_dsn(value)
        except DsnError:
            continue
    return found


def _where(facts: ReportingFacts, name: str) -> str:
    return f"{facts.environment}:{name}"


def _delivery_finding(facts: ReportingFacts, name: str, delivery: DsnDelivery) -> Finding:
    evidence = [
        f"environment: {facts.environment} ({facts.source})",
        f"{name} = {delivery.dsn}",
        f"POST {delivery.envelope_url} (test event {delivery.event_id})",
    ]
    if delivery.status is None:
        evidence.append(f"no answer: {delivery.detail}")
        title = f"Production's error tracker does not answer ({name})"
        fix = (
            f"Nothing answered at {delivery.envelope_url} ({delivery.error_kind or 'error'}): the tracker in {name} "
            "is down, was shut down, or its name does not resolve. Start it again or create a project in a running "
            f"tracker, set {name} to the new DSN in production, redeploy, and run "
            f'`launchready errors test --dsn "${name}"` until it says "arrived".'
        )
    else:
        evidence.append(f"answer: {delivery.detail}")
        title = f"Production's error tracker refuses its events ({name})"
        fix = (
            f"The tracker answered HTTP {delivery.status}: "
            + (
                "the project or its key is unknown there (deleted project, revoked key, or a DSN copied from another "
                "instance). Copy the DSN again from the project's settings (Client Keys), "
                if delivery.status in (401, 403, 404)
                else "it did not accept the event. Read the tracker's logs for the request, "
            )
            + f'set {name} in production, redeploy, and run `launchready errors test --dsn "${name}"`.'
        )
    severity = Severity.MEDIUM if delivery.status == 429 else Severity.HIGH
    if delivery.status == 429:
        fix = (
            f"The tracker is rate limiting this project's key: events are being dropped. Raise the project's quota "
            f'or lower the SDK\'s sample rate (`sample_rate`), then run `launchready errors test --dsn "${name}"`.'
        )
    return META.finding(
        "not-delivered", target=_where(facts, name), title=title, evidence=evidence, remediation=fix, severity=severity
    )


def judge(facts: ReportingFacts) -> list[Finding]:
    """Pure: one finding per problem, on ``environment:VARIABLE``."""
    set_names = {name for name, value in facts.values.items() if usable_value(value)}
    if not facts.declared and not set_names:
        evidence = [
            f"environment: {facts.environment} ({facts.source})",
            "no error-tracking DSN among its variables (SENTRY_DSN, NEXT_PUBLIC_SENTRY_DSN, GLITCHTIP_DSN, ...)",
            "nor in the environment contract (.env.example, [secrets.env.required])",
        ]
        return [META.finding("not-configured", target=_where(facts, DEFAULT_NAME), evidence=evidence)]
    findings: list[Finding] = []
    for name, where in sorted(facts.declared.items()):
        if name in set_names:
            continue
        state = "not set" if name not in facts.values else "empty or a placeholder"
        findings.append(
            META.finding(
                "missing-in-production",
                target=_where(facts, name),
                title=f"{name} is declared but {state} in {facts.environment}",
                evidence=[f"declared in {where}", f"{facts.environment} ({facts.source}): {name} {state}"],
                remediation=(
                    f"Set {name} in {facts.environment}'s environment to the project's DSN "
                    f"(`{name}=https://<public key>@<host>/<project id>`, e.g. `fly secrets set {name}=...`), "
                    f'redeploy, and run `launchready errors test --dsn "${name}"`.'
                ),
            )
        )
    testable = dsns_to_test(facts.values)
    for name in sorted(set_names - set(testable)):
        findings.append(
            META.finding(
                "invalid-dsn",
                target=_where(facts, name),
                evidence=[
                    f"environment: {facts.environment} ({facts.source})",
                    f"{name} is set ({len(facts.values[name])} characters) but is not of the form "
                    "https://<public key>@<host>/<project id>",
                ],
                remediation=(
                    f"Copy the DSN again from the tracker's project settings (Client Keys) into {name} in "
                    f'{facts.environment}, redeploy, and run `launchready errors test --dsn "${name}"`.'
                ),
            )
        )
    for name in sorted(testable):
        delivery = facts.deliveries.get(name)
        if delivery is None:
            raise CouldNotRun(f"no test event was sent for {name}")
        if not delivery.arrived:
            findings.append(_delivery_finding(facts, name, delivery))
    return findings


def _parse(text: str, shown: str) -> EnvFile:
    try:
        return parse_env_text(text, shown)
    except EnvTextError as exc:
        raise CouldNotRun(str(exc)) from None


async def _read(ctx: AuditContext, path: Path) -> EnvFile:
    texts = dict((await ctx.git.read_texts(path.parent, [path.name], MAX_ENV_BYTES)).texts)
    if path.name not in texts:
        raise CouldNotRun(f"{path}: cannot read it (missing, not text, or over {MAX_ENV_BYTES >> 20} MB)")
    return _parse(texts[path.name], str(path))


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    if not is_production(target):
        raise NotApplicable(f"{target} is not a production environment; error reporting is judged on production")
    contract = ctx.config.secrets.env
    source = contract.sources.get(target)
    if source is None:
        raise NotConfigured(
            f"no [secrets.env.sources] entry for {target}: the audit cannot see its variables",
            f'[secrets.env] sources = {{ {target} = "deploy/{target}.env" }} (an export of the hosting platform\'s '
            "variables), so the audit can see whether errors are reported (SENTRY_DSN)",
        )
    declared: dict[str, str] = {}
    if contract.example:
        example_path = Path(contract.example)
        if not example_path.is_absolute() and ctx.repo is not None:
            example_path = ctx.repo / example_path
        for name in (await _read(ctx, example_path)).values:
            if is_dsn_variable(name):
                declared.setdefault(name, example_path.name)
    for name in contract.required.get(target, ()):
        if is_dsn_variable(name):
            declared.setdefault(name, f"[secrets.env.required] {target}")
    for name in contract.optional:
        declared.pop(name, None)
    have = await _read(ctx, Path(source))
    values = {name: value for name, value in have.values.items() if is_dsn_variable(name)}
    deliveries = {name: await ctx.errors.send_test_event(dsn) for name, dsn in dsns_to_test(values).items()}
    facts = ReportingFacts(target, declared, Path(source).name, values, deliveries)
    return judge(facts)


CHECK = Check(meta=META, run=run)

"""The environment contract: which variables an environment must have, judged against what it has.

Pure functions over names and values; the report carries names only, never a value. Besides the
contract itself (missing, empty, placeholder, drift) the environments are judged against each
other: a payment provider's test or sandbox credentials in production, a value shared between
production and another environment (the same database host, the same secret), a production
value pointing at a staging host, and a name set twice in one file (the last one silently wins).
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from launchready.config.sections.secrets import EnvContract
from launchready.core.envtext import is_production
from launchready.core.masking import mask_secret
from launchready.core.severity import Impact, Severity
from launchready.secrets.envfile import EnvFile, is_placeholder, parse_env_text, read_env_file, read_env_source

FLOW_IMPACT: dict[str, Impact] = {
    "signup": Impact.SIGNUP,
    "email": Impact.EMAIL,
    "login": Impact.LOGIN,
    "payments": Impact.PAYMENTS,
    "checkout": Impact.PAYMENTS,
}


class Problem(str, Enum):
    MISSING = "missing"
    EMPTY = "empty"
    PLACEHOLDER = "placeholder"
    DRIFT = "drift"
    TEST_KEY = "test-key"  # a test or sandbox credential in production
    SHARED = "shared"  # a value (database host, secret) shared between production and another environment
    DUPLICATE = "duplicate"  # a name set more than once in one file


@dataclass(frozen=True)
class Issue:
    problem: Problem
    name: str
    environment: str
    flows: tuple[str, ...]
    severity: Severity
    detail: str
    area: Impact | None = None  # what breaks, when the problem itself says (a payment key: payments)

    @property
    def impact(self) -> Impact:
        if self.area is not None:
            return self.area
        for flow in self.flows:
            if flow in FLOW_IMPACT:
                return FLOW_IMPACT[flow]
        return Impact.AVAILABILITY


@dataclass(frozen=True)
class Requirements:
    names: dict[str, str]  # variable -> why it is required ("in .env.example", "flow signup", ...)
    flows: dict[str, tuple[str, ...]]  # variable -> flows that need it
    example: EnvFile | None


def requirements(contract: EnvContract, environment: str, repo_root: Path | None) -> Requirements:
    names: dict[str, str] = {}
    example: EnvFile | None = None
    if contract.example:
        path = Path(contract.example)
        if not path.is_absolute() and repo_root is not None:
            path = repo_root / path
        example = read_env_file(path)
        for name in example.values:
            names.setdefault(name, f"listed in {Path(contract.example).name}")
    for name in contract.required.get(environment, ()):
        names.setdefault(name, f"required for {environment} in [secrets.env.required]")
    flows: dict[str, list[str]] = {}
    for flow, variables in contract.flows.items():
        for name in variables:
            names.setdefault(name, f"needed by the {flow} flow")
            flows.setdefault(name, []).append(flow)
    for name in contract.optional:
        names.pop(name, None)
    return Requirements(names=names, flows={k: tuple(v) for k, v in flows.items()}, example=example)


def _severity(environment: str, flows: tuple[str, ...]) -> Severity:
    production = is_production(environment)
    if production and flows:
        return Severity.BLOCKER
    return Severity.HIGH if production else Severity.MEDIUM


def evaluate(
    environment: str,
    have: EnvFile,
    needs: Requirements,
    others: dict[str, EnvFile] | None = None,
    duplicates: Mapping[str, tuple[int, ...]] | None = None,
) -> list[Issue]:
    """Missing, empty and placeholder values of required variables, drift against other environments,
    test credentials in production, values shared across environments and names set twice."""
    issues: list[Issue] = []
    example_values = needs.example.values if needs.example else {}
    for name, why in sorted(needs.names.items()):
        flows = needs.flows.get(name, ())
        severity = _severity(environment, flows)
        needed_by = f" ({why})"
        if name not in have.values:
            issues.append(Issue(Problem.MISSING, name, environment, flows, severity, f"{name} is not set{needed_by}"))
            continue
        value = have.values[name]
        if not value.strip():
            issues.append(
                Issue(Problem.EMPTY, name, environment, flows, severity, f"{name} is set but empty{needed_by}")
            )
        elif is_placeholder(value) or (example_values.get(name) and value == example_values[name]):
            issues.append(
                Issue(
                    Problem.PLACEHOLDER,
                    name,
                    environment,
                    flows,
                    severity,
                    f"{name} holds a placeholder (or the .env.example value), not a real value{needed_by}",
                )
            )
    for other_name, other in sorted((others or {}).items()):
        if other_name == environment:
            continue
        for name in sorted(other.names - have.names - set(needs.names)):
            issues.append(
                Issue(
                    Problem.DRIFT,
                    name,
                    environment,
                    (),
                    Severity.MEDIUM,
                    f"{name} is set in {other_name} but not in {environment}",
                )
            )
    if is_production(environment):
        issues += test_credentials(environment, have, needs)
    issues += shared_values(environment, have, others or {})
    for name, lines in sorted((duplicates or {}).items()):
        issues.append(
            Issue(
                Problem.DUPLICATE,
                name,
                environment,
                needs.flows.get(name, ()),
                Severity.MEDIUM,
                f"{name} is set {len(lines)} times in {have.name} (lines {', '.join(map(str, lines))}); "
                f"the last one wins",
            )
        )
    return _mask_bare_lines(issues, have, others or {}, needs)


def _mask_bare_lines(
    issues: list[Issue], have: EnvFile, others: Mapping[str, EnvFile], needs: Requirements
) -> list[Issue]:
    """Issues with every name that came from a bare line of a value file masked, unless the contract
    declares that name: a line holding only ``sk_live_...`` parses as a name, and is a secret."""
    suspect = set(have.bare).union(*(other.bare for other in others.values())) - set(needs.names)
    if not suspect:
        return issues
    pattern = re.compile(
        r"(?<![A-Za-z0-9_.\-])(?:" + "|".join(map(re.escape, sorted(suspect, key=len, reverse=True))) + r")"
        r"(?![A-Za-z0-9_.\-])"
    )

    def masked(text: str) -> str:
        return pattern.sub(lambda m: mask_secret(m.group(0)), text)

    return [replace(i, name=masked(i.name), detail=masked(i.detail)) for i in issues]


# -- test and sandbox credentials ------------------------------------------------------------------


@dataclass(frozen=True)
class TestCredential:
    """A shape of value that only a provider's test mode or sandbox accepts."""

    provider: str
    what: str  # shown to the user, naming the provider: a prefix or a setting, never the value
    pattern: re.Pattern[str]
    names: re.Pattern[str] | None = None  # only for variables whose name matches
    area: Impact = Impact.PAYMENTS


TEST_CREDENTIALS = (
    TestCredential("Stripe", "a Stripe test-mode key (sk_test_…)", re.compile(r"^sk_test_")),
    TestCredential("Stripe", "a Stripe test-mode key (pk_test_…)", re.compile(r"^pk_test_")),
    TestCredential("Stripe", "a Stripe test-mode key (rk_test_…)", re.compile(r"^rk_test_")),
    TestCredential("Razorpay", "a Razorpay test-mode key (rzp_test_…)", re.compile(r"^rzp_test_")),
    TestCredential(
        "Mollie", "a Mollie test-mode key (test_…)", re.compile(r"^test_\w{20,}$"), re.compile(r"MOLLIE", re.I)
    ),
    TestCredential("Square", "a Square sandbox credential (sandbox-sq0…)", re.compile(r"^sandbox-sq0")),
    TestCredential("PayPal", "PayPal's sandbox API (sandbox.paypal.com)", re.compile(r"sandbox\.paypal\.com", re.I)),
    TestCredential(
        "PayPal", "PayPal's sandbox mode", re.compile(r"^sandbox$", re.I), re.compile(r"PAYPAL.*(MODE|ENV)", re.I)
    ),
    TestCredential(
        "Braintree",
        "Braintree's sandbox",
        re.compile(r"^sandbox$|sandbox\.braintreegateway\.com", re.I),
        re.compile(r"BRAINTREE", re.I),
    ),
    TestCredential(
        "Adyen", "Adyen's test platform", re.compile(r"^test$|-test\.adyen\.com", re.I), re.compile(r"ADYEN", re.I)
    ),
    TestCredential(
        "Paddle",
        "Paddle's sandbox",
        re.compile(r"^sandbox$|sandbox-[\w-]*\.paddle\.com", re.I),
        re.compile(r"PADDLE", re.I),
    ),
    # Twilio's test credentials only accept its magic numbers (+15005550006...): a real SMS never goes out.
    TestCredential(
        "Twilio",
        "a Twilio test-credentials magic number (+1500555…)",
        re.compile(r"^\+?1?500555\d{4}$"),
        re.compile(r"TWILIO", re.I),
        Impact.SIGNUP,
    ),
)


def test_credentials(environment: str, have: EnvFile, needs: Requirements) -> list[Issue]:
    issues: list[Issue] = []
    for name, value in sorted(have.values.items()):
        value = value.strip()
        if not value:
            continue
        for shape in TEST_CREDENTIALS:
            if (shape.names is None or shape.names.search(name)) and shape.pattern.search(value):
                flows = needs.flows.get(name, ())
                issues.append(
                    Issue(
                        Problem.TEST_KEY,
                        name,
                        environment,
                        flows,
                        Severity.BLOCKER if flows else Severity.HIGH,
                        f"{name} holds {shape.what} in {environment}: no real payment or message goes through with it",
                        area=shape.area,
                    )
                )
                break
    return issues


# -- values shared between production and the other environments ---------------------------------

# Variables whose value is a credential: the same value in two environments is one secret in both.
_SECRET_NAME = re.compile(
    r"SECRET|TOKEN|PASSWORD|PASSWD|PASS$|API_?KEY|PRIVATE|_KEY$|^KEY$|DSN|CREDENTIAL|SALT|AUTH", re.I
)
# URL schemes of data stores: the same host means the same database, cache or queue.
_STORE_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "redis",
        "rediss",
        "mongodb",
        "mongodb+srv",
        "amqp",
        "amqps",
        "sqlserver",
        "mssql",
    }
)
_STAGING_HOST = re.compile(r"(?:^|[.-])(?:staging|stage|stg)(?:[.-]|\d|$)", re.I)
_MIN_SHARED = 8  # shorter equal values (flags, ports, "true") say nothing


def _store_host(value: str) -> str | None:
    """``host:port`` of a data-store URL, or None."""
    try:
        parts = urlsplit(value.strip())
        if parts.scheme.lower().split("+")[0] not in {s.split("+")[0] for s in _STORE_SCHEMES}:
            return None
        host = (parts.hostname or "").lower()
        return f"{host}:{parts.port or ''}" if host else None
    except ValueError:
        return None


def _url_host(value: str) -> str:
    try:
        return (urlsplit(value.strip()).hostname or "").lower()
    except ValueError:
        return ""


def shared_values(environment: str, have: EnvFile, others: Mapping[str, EnvFile]) -> list[Issue]:
    """Production and a non-production environment sharing a data store or a secret, either way round;
    and production values pointing at a staging host."""
    issues: list[Issue] = []
    production = is_production(environment)
    for other_name, other in sorted(others.items()):
        if other_name == environment or is_production(other_name) == production:
            continue
        for name in sorted(have.names & other.names):
            mine, theirs = have.values[name].strip(), other.values[name].strip()
            if not mine or not theirs or is_placeholder(mine):
                continue
            whose = f"{environment} uses {other_name}'s" if production else f"{environment} reuses {other_name}'s"
            host = _store_host(mine)
            if host is not None and host == _store_host(theirs):
                detail = f"{whose} {name} host: {environment} and {other_name} share one data store"
            elif mine == theirs and len(mine) >= _MIN_SHARED and _SECRET_NAME.search(name):
                detail = f"{whose} {name} (the same value): one leaked environment opens the other"
            else:
                continue
            issues.append(Issue(Problem.SHARED, name, environment, (), Severity.HIGH, detail))
    if production:
        reported = {i.name for i in issues}
        for name, value in sorted(have.values.items()):
            host = _url_host(value) if "://" in value else ""
            if name not in reported and host and _STAGING_HOST.search(host):
                issues.append(
                    Issue(
                        Problem.SHARED,
                        name,
                        environment,
                        (),
                        Severity.HIGH,
                        f"{name} points at a staging host in {environment}",
                    )
                )
    return issues


# -- reading sources, duplicates included ----------------------------------------------------------


@dataclass(frozen=True)
class EnvSource:
    """An environment's variables and the names set more than once (every line setting them)."""

    env: EnvFile
    duplicates: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


def duplicate_lines(text: str) -> dict[str, tuple[int, ...]]:
    """Every line setting a name, for the names set more than once (the parser keeps the last)."""
    from dotenv.parser import parse_stream

    seen: dict[str, list[int]] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None or binding.error:
            continue
        # dotenv counts a binding from the blank lines read before it: its own line comes after them.
        original = binding.original.string
        skipped = original[: len(original) - len(original.lstrip())]
        line = binding.original.line + skipped.count("\n") + skipped.count("\r") - skipped.count("\r\n")
        seen.setdefault(binding.key, []).append(line)
    return {name: tuple(lines) for name, lines in seen.items() if len(lines) > 1}


def read_source(source: str | Path) -> EnvSource:
    """A file (``Path`` or name), ``-`` for stdin or ``env`` for the process environment."""
    if isinstance(source, Path):
        env = read_env_file(source)
        return EnvSource(env, duplicate_lines(source.read_text(encoding="utf-8-sig")))
    if source == "-":
        text = sys.stdin.read()
        return EnvSource(parse_env_text(text, "<stdin>"), duplicate_lines(text))
    if source == "env":
        return EnvSource(read_env_source("env"))
    return read_source(Path(source))

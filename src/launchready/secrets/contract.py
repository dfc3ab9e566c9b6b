"""The environment contract: which variables an environment must have, judged against what it has.

Pure functions over names and values; the report carries names only, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from launchready.config.sections.secrets import EnvContract
from launchready.core.severity import Impact, Severity
from launchready.secrets.envfile import EnvFile, is_placeholder, read_env_file

PRODUCTION_NAMES = frozenset({"production", "prod", "live"})
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


@dataclass(frozen=True)
class Issue:
    problem: Problem
    name: str
    environment: str
    flows: tuple[str, ...]
    severity: Severity
    detail: str

    @property
    def impact(self) -> Impact:
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
    production = environment.lower() in PRODUCTION_NAMES
    if production and flows:
        return Severity.BLOCKER
    return Severity.HIGH if production else Severity.MEDIUM


def evaluate(
    environment: str,
    have: EnvFile,
    needs: Requirements,
    others: dict[str, EnvFile] | None = None,
) -> list[Issue]:
    """Missing, empty and placeholder values of required variables, and drift against other environments."""
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
    return issues

"""What a check is: metadata and doc beside one async function that turns probe facts into findings.

A check module defines a module-level ``CHECK = Check(meta=CheckMeta(...), run=run)``. The
metadata declares every finding id the check can emit, with its default severity, impact and
fix, so ``launchready checks`` and ``launchready explain`` know them without running anything,
and a check cannot emit an id it did not declare.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from launchready.core.finding import FINDING_ID_PATTERN, Finding
from launchready.core.severity import Confidence, Impact, Severity


class Scope(str, Enum):
    """What the runner fans a check out over; each (check, target) pair gets its own timeout."""

    DOMAIN = "domain"  # once, target = the apex domain
    WEB_HOST = "web-host"  # once per discovered host that has an address
    ENVIRONMENT = "environment"  # once per configured environment (base URL)
    REPO = "repo"  # once, when a repository is given or found


class CheckDoc(BaseModel):
    """The text ``launchready explain`` prints: what is checked, why it matters, how to fix it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    what: str = Field(min_length=20)
    why: str = Field(min_length=20)
    fix: str = Field(min_length=20)


def _check_url(url: str) -> str:
    if not url.startswith("https://"):
        raise ValueError(f"reference {url!r} must be an https:// URL")
    return url


class FindingSpec(BaseModel):
    """One finding id a check can emit, with the defaults every emitted finding starts from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=FINDING_ID_PATTERN)
    title: str = Field(min_length=5)
    severity: Severity
    impact: Impact
    remediation: str = Field(min_length=10)
    confidence: Confidence = Confidence.CERTAIN
    references: tuple[str, ...] = ()

    @field_validator("references")
    @classmethod
    def _references_are_urls(cls, refs: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_url(r) for r in refs)


class CheckMeta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=FINDING_ID_PATTERN)
    title: str = Field(min_length=5)
    scope: Scope
    doc: CheckDoc
    findings: tuple[FindingSpec, ...] = Field(min_length=1)
    references: tuple[str, ...] = Field(min_length=1)
    # Probe names the check reads (dns, http, tls, repo, ...): documentation and "could not run" hints.
    probes: tuple[str, ...] = ()
    # When the domain does not exist in DNS every other verdict is noise; only checks that judge
    # the DNS itself (False here) still run.
    needs_existing_domain: bool = True

    @field_validator("references")
    @classmethod
    def _references_are_urls(cls, refs: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_url(r) for r in refs)

    @model_validator(mode="after")
    def _finding_ids_under_check_id(self) -> CheckMeta:
        seen: set[str] = set()
        for spec in self.findings:
            if not spec.id.startswith(self.id + "."):
                raise ValueError(f"finding id {spec.id!r} must start with the check id {self.id!r} + '.'")
            if spec.id in seen:
                raise ValueError(f"finding id {spec.id!r} declared twice")
            seen.add(spec.id)
        return self

    def spec(self, finding_id: str) -> FindingSpec:
        for spec in self.findings:
            if spec.id == finding_id:
                return spec
        raise KeyError(f"check {self.id} emitted undeclared finding id {finding_id!r}")

    def finding(
        self,
        finding_id: str,
        *,
        target: str,
        evidence: Iterable[str] = (),
        remediation: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        title: str | None = None,
    ) -> Finding:
        """Build a finding from its declared spec; ``finding_id`` may be the suffix after the check id."""
        full_id = finding_id if finding_id.startswith(self.id + ".") else f"{self.id}.{finding_id}"
        spec = self.spec(full_id)
        return Finding(
            id=full_id,
            check_id=self.id,
            title=_cut(title or spec.title, MAX_TITLE_CHARS),
            severity=severity or spec.severity,
            impact=spec.impact,
            confidence=confidence or spec.confidence,
            target=_cut(target, MAX_EVIDENCE_CHARS),
            evidence=bounded_evidence(evidence),
            remediation=_cut(remediation or spec.remediation, MAX_REMEDIATION_CHARS),
            references=spec.references or self.references,
        )


# What one finding may carry: a hostile server can make any echoed text huge (a 75 KB MTA-STS
# policy, a thousand records), and a report must stay readable and small. The lines kept are the
# first ones; the last says how many were left out.
MAX_EVIDENCE_LINES = 50
MAX_EVIDENCE_CHARS = 1_000
# A remediation or title that quotes what the server published (every MX host of a policy) is
# cut too; written ones are far shorter.
MAX_REMEDIATION_CHARS = 3_000
MAX_TITLE_CHARS = 300


def _cut(line: str, limit: int = MAX_EVIDENCE_CHARS) -> str:
    if len(line) <= limit:
        return line
    return f"{line[:limit]}… ({len(line) - limit} more characters)"


def bounded_evidence(lines: Iterable[str]) -> tuple[str, ...]:
    """At most MAX_EVIDENCE_LINES lines of at most MAX_EVIDENCE_CHARS characters each."""
    given = list(lines)
    if len(given) > MAX_EVIDENCE_LINES:
        hidden = len(given) - (MAX_EVIDENCE_LINES - 1)
        given = [*given[: MAX_EVIDENCE_LINES - 1], f"... and {hidden} more evidence line(s) not shown"]
    return tuple(_cut(line) for line in given)


# A check that meets the same problem once per record (a thousand MX hosts without an address)
# reports it once, from this many repeats on, with each record's distinct evidence listed.
GROUP_REPEATS_AT = 5


def group_repeated(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings sharing an id and target, GROUP_REPEATS_AT or more times, merged into the first of them."""
    given = list(findings)
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in given:
        groups.setdefault((finding.id, finding.target), []).append(finding)
    out: list[Finding] = []
    for finding in given:
        group = groups[(finding.id, finding.target)]
        if len(group) < GROUP_REPEATS_AT:
            out.append(finding)
        elif finding is group[0]:
            lines = dict.fromkeys(line for member in group for line in member.evidence)
            update = {"title": f"{finding.title} ({len(group)} times)", "evidence": bounded_evidence(lines)}
            out.append(finding.model_copy(update=update))
    return tuple(out)


# The first argument is the engine's ``AuditContext``: core sits below the engine and cannot name
# it, so it is ``Any`` here; each check annotates its own ``run`` with the real type.
CheckFunction = Callable[[Any, str], Awaitable[Iterable[Finding]]]
"""Called with the audit context and one target (domain, host, environment name or repo path).

Returns the findings (empty: passed); raises CouldNotRun or NotApplicable when it has no verdict.
"""


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    run: CheckFunction

    @property
    def id(self) -> str:
        return self.meta.id

"""What a scan reports. The raw secret never leaves the scanner: a Hit holds its mask and a fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import Enum

from launchready.core.masking import mask_secret
from launchready.core.severity import Impact, Severity
from launchready.secrets.detector import Match
from launchready.secrets.rules import Kind


class Source(str, Enum):
    TREE = "tree"
    STAGED = "staged"
    HISTORY = "history"
    LOGS = "logs"


def fingerprint(rule_id: str, secret: str) -> str:
    """Identity of a secret across files, commits and runs (what a baseline stores).

    A truncated hash: enough to recognise the value again, not enough to recover it.
    """
    return hashlib.sha256(f"{rule_id}\0{secret}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    date: str  # ISO 8601

    @property
    def short(self) -> str:
        return self.sha[:10]


@dataclass(frozen=True)
class Hit:
    rule_id: str
    description: str
    kind: Kind
    severity: Severity
    impact: Impact
    masked: str
    fingerprint: str
    path: str
    line: int
    source: Source
    rotate: str
    commit: CommitInfo | None = None  # history: the newest commit that added it
    first_commit: CommitInfo | None = None  # history: the commit that introduced it
    first_path: str | None = None
    in_head: bool | None = None  # history: still present in HEAD
    baselined: bool = False

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def with_(self, **changes: object) -> Hit:
        return replace(self, **changes)  # type: ignore[arg-type]


def hit_from_match(match: Match, path: str, source: Source, commit: CommitInfo | None = None) -> Hit:
    rule = match.rule
    severity = Severity(match.severity_override) if match.severity_override else rule.severity
    return Hit(
        rule_id=rule.id,
        description=rule.description,
        kind=rule.kind,
        severity=severity,
        impact=rule.impact,
        masked=mask_secret(match.secret),
        fingerprint=fingerprint(rule.id, match.secret),
        path=path,
        line=match.line,
        source=source,
        rotate=rule.rotate,
        commit=commit,
        first_commit=commit,
        first_path=path if commit else None,
    )


@dataclass(frozen=True)
class Note:
    """Something the scan did not look at, and why (binary, too large, shallow history...)."""

    path: str
    reason: str


@dataclass
class ScanResult:
    hits: list[Hit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    files_scanned: int = 0
    commits_scanned: int = 0
    source: Source = Source.TREE
    root: str = ""

    @property
    def new_hits(self) -> list[Hit]:
        return [h for h in self.hits if not h.baselined]

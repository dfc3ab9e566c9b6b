"""Findings and check results: the only things checks hand to the rest of the tool."""

from __future__ import annotations

from datetime import date
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from launchready.core.severity import Confidence, Impact, Severity

FINDING_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$"


class Acceptance(BaseModel):
    """A finding the team decided to live with for now: who, why and until when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    by: str
    until: date


class Finding(BaseModel):
    """One risk observed on one target. Evidence is already masked when it gets here."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=FINDING_ID_PATTERN)
    check_id: str
    title: str
    severity: Severity
    impact: Impact
    confidence: Confidence = Confidence.CERTAIN
    target: str
    evidence: tuple[str, ...] = ()
    remediation: str
    references: tuple[str, ...] = ()
    # Set when an unexpired [[audit.accept]] entry names this finding's id@target: still reported
    # (as accepted), but it no longer counts towards the decision or the exit code.
    accepted: Acceptance | None = None

    @property
    def fingerprint(self) -> str:
        """Identity across runs: the same risk on the same target is the same finding."""
        return f"{self.id}@{self.target}"


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    # The probe or the check itself broke: nothing is known, so this must never read as a pass.
    ERROR = "error"
    # The check does not apply to this target (e.g. no repository given).
    SKIPPED = "skipped"


class CheckResult(BaseModel):
    """What one check concluded about one target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check_id: str
    target: str
    status: Status
    findings: tuple[Finding, ...] = ()
    reason: str | None = None
    duration_ms: float = 0.0
    # Set on a SKIPPED result the configuration could have made run: what to add to launchready.toml.
    # Such a check is "not verified", never quietly "did not apply".
    configure: str | None = None

"""The outcome of one audit: what reports render and the history store keeps."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict

from launchready.core.dnsmap import DnsMap
from launchready.core.facts import HostFact
from launchready.core.finding import CheckResult, Finding, Status


class Verdict(str, Enum):
    SHIP = "SHIP"
    SHIP_WITH_FIXES = "SHIP WITH FIXES"
    PAUSE = "PAUSE"


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    verdict: Verdict
    # Why this verdict, in plain sentences, e.g. "2 blockers: ...". Printed with the decision.
    reasons: tuple[str, ...]
    # The rules the verdict follows, printed so the decision is never a black box.
    rules: tuple[str, ...]


class Change(str, Enum):
    """A finding compared with the previous audit of the same target."""

    NEW = "new"
    STILL_OPEN = "still-open"
    FIXED = "fixed"


class HistoryDelta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    previous_run_id: int | None
    previous_started: datetime | None = None
    new: tuple[str, ...] = ()  # fingerprints
    still_open: tuple[str, ...] = ()
    fixed: tuple[Finding, ...] = ()  # findings of the previous run that are gone now


class HostSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    addresses: tuple[str, ...]
    cname_chain: tuple[str, ...] = ()
    found_by: str


class AuditRun(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tool_version: str
    target: str  # the apex domain audited
    started: datetime
    finished: datetime
    decision: Decision
    findings: tuple[Finding, ...]  # ranked, worst first
    results: tuple[CheckResult, ...]
    hosts: tuple[HostSummary, ...] = ()
    # Hosts audited but left out of ``hosts``, which is bounded (a zone of a thousand MX hosts).
    hosts_omitted: int = 0
    delta: HistoryDelta | None = None
    run_id: int | None = None  # set once stored in history
    dns_map: DnsMap | None = None  # every record of the names that matter
    host_facts: tuple[HostFact, ...] = ()  # per-host measurements checks contributed (core/facts.py)
    # False when the network failed under the run (the apex could not be looked up): reported, but
    # not stored as the baseline the next run is compared with.
    baseline: bool = True

    @property
    def not_run(self) -> tuple[CheckResult, ...]:
        """Checks that could not run: shown as 'not verified', never as passes."""
        return tuple(r for r in self.results if r.status is Status.ERROR)

    @property
    def not_configured(self) -> tuple[CheckResult, ...]:
        """Checks skipped because the configuration does not declare what they test: not verified."""
        return tuple(r for r in self.results if r.status is Status.SKIPPED and r.configure)

    @property
    def fully_verified(self) -> bool:
        """True only when every check that applies ran: nothing could-not-run, nothing unconfigured."""
        return not self.not_run and not self.not_configured

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.severity.value] = out.get(f.severity.value, 0) + 1
        return out

    def change_of(self, finding: Finding) -> Change | None:
        if self.delta is None or self.delta.previous_run_id is None:
            return None
        return Change.NEW if finding.fingerprint in self.delta.new else Change.STILL_OPEN

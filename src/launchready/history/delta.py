"""What changed since the previous audit: new, still open, fixed, matched by finding fingerprint."""

from __future__ import annotations

from launchready.core.finding import Finding, Status
from launchready.core.run import AuditRun, HistoryDelta

_RAN = (Status.PASSED, Status.FAILED)


def compute_delta(previous: AuditRun | None, run: AuditRun) -> HistoryDelta:
    """Compare ``run`` with ``previous`` (the last stored audit of the same target).

    A previous finding only counts as fixed when the check that reported it ran again on the
    same target and did not report it. If that check could not run this time (timeout,
    refused) or was not selected, nothing is known, so the finding is neither fixed nor open.
    """
    if previous is None:
        return HistoryDelta(previous_run_id=None)
    before = {f.fingerprint for f in previous.findings}
    now = {f.fingerprint for f in run.findings}
    new = tuple(f.fingerprint for f in run.findings if f.fingerprint not in before)
    still_open = tuple(f.fingerprint for f in run.findings if f.fingerprint in before)

    reported_by = {f.fingerprint: (r.check_id, r.target) for r in previous.results for f in r.findings}
    ran_pairs = {(r.check_id, r.target) for r in run.results if r.status in _RAN}
    ran_checks = {r.check_id for r in run.results if r.status in _RAN}

    def checked_again(finding: Finding) -> bool:
        pair = reported_by.get(finding.fingerprint)
        if pair is not None:
            return pair in ran_pairs
        return finding.check_id in ran_checks

    fixed: list[Finding] = []
    seen: set[str] = set()
    for finding in previous.findings:
        if finding.fingerprint in now or finding.fingerprint in seen or not checked_again(finding):
            continue
        seen.add(finding.fingerprint)
        fixed.append(finding)
    return HistoryDelta(
        previous_run_id=previous.run_id,
        previous_started=previous.started,
        new=new,
        still_open=still_open,
        fixed=tuple(fixed),
    )

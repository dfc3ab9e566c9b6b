"""Order findings by what they do to the launch: severity, then impact, then confidence."""

from __future__ import annotations

from collections.abc import Iterable

from launchready.core.finding import Finding


def rank_key(finding: Finding) -> tuple[int, int, int, str, str]:
    # Negated so that sorted() puts the worst first; id and target make the order stable.
    return (
        -finding.severity.rank,
        -finding.impact.weight,
        -finding.confidence.weight,
        finding.id,
        finding.target,
    )


def rank(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=rank_key))

"""Severity, business impact and confidence: the three axes findings are ranked on."""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    BLOCKER = "blocker"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used for sorting and --fail-on thresholds."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.BLOCKER: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Impact(str, Enum):
    """The business flow a finding hurts."""

    SIGNUP = "signup"
    LOGIN = "login"
    EMAIL = "email"
    PAYMENTS = "payments"
    TRUST = "trust"
    DATA_EXPOSURE = "data-exposure"
    AVAILABILITY = "availability"
    PERFORMANCE = "performance"

    @property
    def weight(self) -> int:
        """Tie-breaker within one severity: how directly the flow turns into lost members or money.

        Leaked data and a site that is down hurt every member at once; signup and payments are
        the launch's revenue path; email carries verification and receipts; trust and
        performance erode conversion more slowly.
        """
        return _IMPACT_WEIGHT[self]


_IMPACT_WEIGHT = {
    Impact.DATA_EXPOSURE: 8,
    Impact.AVAILABILITY: 7,
    Impact.PAYMENTS: 6,
    Impact.SIGNUP: 5,
    Impact.LOGIN: 4,
    Impact.EMAIL: 3,
    Impact.TRUST: 2,
    Impact.PERFORMANCE: 1,
}


class Confidence(str, Enum):
    """How sure the check is: certain (observed directly), firm (strong inference), tentative."""

    CERTAIN = "certain"
    FIRM = "firm"
    TENTATIVE = "tentative"

    @property
    def weight(self) -> int:
        return {Confidence.CERTAIN: 3, Confidence.FIRM: 2, Confidence.TENTATIVE: 1}[self]

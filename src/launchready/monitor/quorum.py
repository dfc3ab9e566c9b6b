"""Quorum across regions (pure): a check is down only when enough regions see it failing at once.

Each region keeps its own state machine (``state.advance`` with the check's
``failures_before_down`` / ``successes_before_up``), so one lost packet in one region moves
nothing. The check's state is then judged from the regions whose last result is *fresh* (within
the check's window, about two intervals):

- ``down``: at least ``quorum`` fresh regions are down;
- ``regional``: some fresh regions are down, fewer than ``quorum`` (shown on the dashboard, at
  most a low-urgency notice, never a page);
- ``up``: no fresh region is down and at least one is up;
- no verdict: no region is fresh (every probe silent); the state stays and the silent probes
  alert on their own.

Pure and import-free (the config section validates quorums with it).

A region that stopped reporting therefore never counts as failing (a dead probe is not a dead
site) nor as passing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_EVIDENCE_CHARS = 200
_REASON_CHARS = 2000


def default_quorum(region_count: int) -> int:
    """A majority of the regions, and at least 2 as soon as 2 regions run the check."""
    if region_count <= 1:
        return 1
    return max(2, region_count // 2 + 1)


def check_window_s(interval_s: float, timeout_s: float) -> float:
    """How recent a region's last result must be to count: two intervals plus one run's timeout.

    Two intervals, so a region whose run landed just before the other regions' runs still counts
    in the same window; plus the timeout, since a failing run ends that much after it started.
    """
    return 2 * interval_s + timeout_s


@dataclass(frozen=True)
class QuorumPolicy:
    regions: tuple[str, ...]
    quorum: int
    window_s: float


@dataclass(frozen=True)
class RegionView:
    """One region's state for a check, as the regions table holds it."""

    region: str
    state: str  # new | up | down (the region's own state machine)
    last_result_at: float | None
    reason: str | None = None
    evidence: str | None = None
    latency_ms: float | None = None


@dataclass(frozen=True)
class Verdict:
    state: str | None  # up | regional | down; None: no fresh region, no verdict
    failing: tuple[RegionView, ...]
    passing: tuple[str, ...]
    stale: tuple[str, ...]
    quorum: int
    regions: int

    def reason(self) -> str | None:
        """Names the failing regions with each one's evidence (None when nothing fails)."""
        if not self.failing:
            return None
        if self.regions == 1:  # a check run from one place keeps its plain reason
            return self.failing[0].reason
        names = ", ".join(view.region for view in self.failing)
        head = f"failing in {names} ({len(self.failing)} of {self.regions} regions, quorum {self.quorum})"
        parts = [head]
        for view in self.failing:
            evidence = f" [{view.evidence[:_EVIDENCE_CHARS]}]" if view.evidence else ""
            parts.append(f"{view.region}: {view.reason or 'failed'}{evidence}")
        return "; ".join(parts)[:_REASON_CHARS]


def judge(policy: QuorumPolicy, views: Mapping[str, RegionView], now: float) -> Verdict:
    """The check's state from its regions' states at ``now`` (regions outside the policy ignored)."""
    failing: list[RegionView] = []
    passing: list[str] = []
    stale: list[str] = []
    for region in policy.regions:
        view = views.get(region)
        if view is None or view.last_result_at is None or now - view.last_result_at > policy.window_s:
            stale.append(region)
        elif view.state == "down":
            failing.append(view)
        elif view.state == "up":
            passing.append(region)
        else:  # "new": a first failure or two, not yet a verdict of its own
            stale.append(region)
    state: str | None
    if len(failing) >= policy.quorum:
        state = "down"
    elif failing:
        state = "regional"
    elif passing:
        state = "up"
    else:
        state = None
    return Verdict(state, tuple(failing), tuple(passing), tuple(stale), policy.quorum, len(policy.regions))


@dataclass(frozen=True)
class QuorumFlip:
    old_state: str
    new_state: str
    reason: str | None


def transition(current: str, verdict: Verdict) -> QuorumFlip | None:
    """The check's flip for ``verdict`` (None when it stays). Paused checks never move."""
    if current == "paused" or verdict.state is None or verdict.state == current:
        return None
    return QuorumFlip(current, verdict.state, verdict.reason() if verdict.state != "up" else None)


def is_notice(old_state: str, new_state: str) -> bool:
    """A flip into ``regional`` from anything but ``down``: the low-urgency notice, never a page."""
    return new_state == "regional" and old_state != "down"


def validate_regions(regions: Sequence[str], quorum: int | None) -> int:
    """The effective quorum; ValueError (one line) for a quorum the regions cannot reach."""
    effective = default_quorum(len(regions)) if quorum is None else quorum
    if regions and not 1 <= effective <= len(regions):
        raise ValueError(f"quorum {effective} needs between 1 and {len(regions)} (the number of regions)")
    return effective

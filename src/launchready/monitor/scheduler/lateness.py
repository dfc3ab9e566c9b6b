"""When a heartbeat is late: period + grace (or its cron schedule + grace) after its last ping.

Lateness is measured in elapsed time, on the monotonic clock, so a wall clock that jumps (NTP
correcting a drifted clock, a VM resumed, an operator setting the date) neither makes every
heartbeat look late nor hides a late one. The wall clock is read once, when a ping is first
seen, to know how old it already was; from then on only monotonic time counts.

A heartbeat never pinged is ``new`` and is never late (it never alerts); ``paused`` and ``down``
ones are not judged (down stays down until the next ping, which the ping endpoint records).
"""

from __future__ import annotations

from dataclasses import dataclass

from launchready.monitor.cron import CronSchedule, parse_cron
from launchready.monitor.store.repository import HeartbeatRow


@dataclass(frozen=True)
class _Anchor:
    last_ping_at: float  # wall time of the ping, as stored
    monotonic_at_ping: float  # the same instant on the monotonic clock


@dataclass(frozen=True)
class Late:
    row: HeartbeatRow
    reason: str


class LatenessTracker:
    def __init__(self) -> None:
        self._anchors: dict[str, _Anchor] = {}
        self._crons: dict[tuple[str, str], CronSchedule] = {}

    def allowed_s(self, row: HeartbeatRow) -> float:
        """Seconds after the last ping before the heartbeat is down."""
        if row.cron:
            key = (row.cron, row.tz or "UTC")
            schedule = self._crons.get(key)
            if schedule is None:
                schedule = self._crons[key] = parse_cron(row.cron, row.tz or "UTC")
            assert row.last_ping_at is not None
            return schedule.next_after(row.last_ping_at) - row.last_ping_at + row.grace_s
        return (row.period_s or 0.0) + row.grace_s

    def late(self, rows: list[HeartbeatRow], *, wall: float, monotonic: float) -> list[Late]:
        found: list[Late] = []
        for row in rows:
            if row.last_ping_at is None:
                self._anchors.pop(row.name, None)
                continue
            anchor = self._anchors.get(row.name)
            if anchor is None or anchor.last_ping_at != row.last_ping_at:
                # First sight of this ping: its age now, by the wall clock, clamped at zero (a
                # ping stamped "in the future" by a clock that since went back is fresh).
                age = max(0.0, wall - row.last_ping_at)
                anchor = _Anchor(row.last_ping_at, monotonic - age)
                self._anchors[row.name] = anchor
            if row.state not in ("up", "late"):
                continue
            allowed = self.allowed_s(row)
            elapsed = monotonic - anchor.monotonic_at_ping
            if elapsed > allowed:
                found.append(Late(row, f"no ping for {_seconds(elapsed)} (allowed {_seconds(allowed)})"))
        return found


def _seconds(value: float) -> str:
    whole = int(value)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{value:.0f}s"

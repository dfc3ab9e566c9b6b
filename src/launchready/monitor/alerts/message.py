"""A flip rendered for the providers: one model, three shapes (Slack text, e-mail, webhook JSON).

The webhook JSON carries ``kind`` (check | heartbeat | slo | probe), ``name``, ``status`` (the
new state: down, up, burning, ok, ...), ``previous_status``, ``reason``, ``at`` (ISO 8601, UTC),
``idempotency_key`` (the same for every retry of one flip), ``recovery``, ``reminder`` and
``down_since`` (when the outage began, for recoveries and reminders).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from launchready.monitor.alerts.routing import is_recovery, is_reminder
from launchready.notify.base import Message


def iso8601(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def human_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    if not days and not hours:
        parts.append(f"{secs}s")
    return " ".join(parts)


@dataclass(frozen=True)
class AlertMessage:
    kind: str
    name: str
    status: str
    previous_status: str
    reason: str | None
    at: float
    idempotency_key: str
    down_since: float | None = None

    @property
    def recovery(self) -> bool:
        return is_recovery(self.previous_status, self.status)

    @property
    def reminder(self) -> bool:
        return is_reminder(self.previous_status, self.status)

    @property
    def title(self) -> str:
        subject = f"{self.kind} {self.name}"
        if self.reminder:
            since = f" (for {human_duration(self.at - self.down_since)})" if self.down_since is not None else ""
            return f"{subject} is still {self.status.upper()}{since}"
        if self.recovery:
            lasted = f" after {human_duration(self.at - self.down_since)}" if self.down_since is not None else ""
            return f"{subject} is {self.status.upper()} again{lasted}"
        reason = f": {self.reason}" if self.reason else ""
        return f"{subject} is {self.status.upper()}{reason}"

    def payload(self) -> dict[str, object]:
        return {
            "event": "alert",
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "previous_status": self.previous_status,
            "reason": self.reason,
            "at": iso8601(self.at),
            "idempotency_key": self.idempotency_key,
            "recovery": self.recovery,
            "reminder": self.reminder,
            "down_since": iso8601(self.down_since) if self.down_since is not None else None,
        }

    def as_message(self) -> Message:
        lines = [f"state: {self.previous_status} -> {self.status} at {iso8601(self.at)}"]
        if self.reason:
            lines.append(f"reason: {self.reason}")
        if self.down_since is not None:
            lines.append(f"down since: {iso8601(self.down_since)}")
        return Message(
            title=self.title,
            lines=tuple(lines),
            payload=self.payload(),
            event=f"{self.kind}.{'reminder' if self.reminder else self.status}",
            idempotency_key=self.idempotency_key,
        )

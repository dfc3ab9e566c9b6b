"""Which alert providers hear about a flip, and which maintenance window silences it.

Alerting states are ``down`` (checks, heartbeats, probes) and ``burning`` (an SLO's error budget);
a flip into one of them alerts, and a flip from one of them back to ``up``/``ok`` is a recovery
notice (for entries with ``recovery = true``). Flips between other states (``new`` -> ``up``,
``up`` -> ``paused``, ``late``) are recorded for the dashboard but alert nobody.
"""

from __future__ import annotations

from collections.abc import Sequence

from launchready.config.sections.monitor_alerts import (
    AlertConfig,
    MaintenanceWindow,
    alert_name,
    name_alerts,
    silencing_window,
)

ALERTING_STATES = frozenset({"down", "burning"})
RECOVERED_STATES = frozenset({"up", "ok"})


def is_alert(old_state: str, new_state: str) -> bool:
    return new_state in ALERTING_STATES and old_state != new_state


def is_recovery(old_state: str, new_state: str) -> bool:
    return old_state in ALERTING_STATES and new_state in RECOVERED_STATES


def is_reminder(old_state: str, new_state: str) -> bool:
    """Reminders are stored as transitions whose state did not change (see reminders.py)."""
    return old_state == new_state and new_state in ALERTING_STATES


class AlertRouter:
    def __init__(self, alerts: Sequence[AlertConfig], maintenance: Sequence[MaintenanceWindow] = ()) -> None:
        # Named here too, so a [monitor] model declaring a plain tuple still gets distinct names.
        self.alerts = name_alerts(list(alerts))
        self.maintenance = tuple(maintenance)

    def providers_for(
        self, subject_kind: str, subject_name: str, tags: Sequence[str], old_state: str, new_state: str
    ) -> list[str]:
        """The provider names to pass to ``record_flip`` for this flip (empty: record only)."""
        recovery = is_recovery(old_state, new_state)
        if not (is_alert(old_state, new_state) or recovery or is_reminder(old_state, new_state)):
            return []
        return [
            alert_name(alert)
            for alert in self.alerts
            if alert.routes(subject_name, tuple(tags)) and (alert.recovery or not recovery)
        ]

    def silenced_by(self, subject_name: str, tags: Sequence[str], at: float) -> MaintenanceWindow | None:
        return silencing_window(self.maintenance, subject_name, tuple(tags), at)

    def reminding(self) -> tuple[AlertConfig, ...]:
        """The entries that repeat alerts while a subject stays down."""
        return tuple(alert for alert in self.alerts if alert.reminder_every)

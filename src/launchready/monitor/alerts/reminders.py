"""Reminders while a subject stays down (``reminder_every`` on an ``[[monitor.alerts]]`` entry).

A reminder is stored like a flip whose state did not change (``old_state == new_state``, e.g.
down -> down) with one outbox row for the reminding provider, so it is delivered, retried and
shown exactly like any other alert; the dashboard's incident list skips such rows. Its
idempotency key is derived from (the flip that started the outage, the provider, the reminder's
ordinal), and the key is unique in the store: two workers racing to write the same reminder
write it once. After a long stop only the current reminder is sent, not every one missed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from launchready.config.sections.monitor_alerts import alert_name
from launchready.monitor.alerts.routing import ALERTING_STATES, AlertRouter
from launchready.monitor.store.schema import checks, outbox, transitions


def reminder_key(subject_kind: str, flip_id: int, provider: str, ordinal: int) -> str:
    # Bounded length (the column holds 80): the provider name is hashed.
    digest = hashlib.sha256(provider.encode()).hexdigest()[:16]
    return f"{subject_kind[:16]}:reminder:{flip_id}:{digest}:{ordinal}"


class ReminderPass:
    def __init__(self, engine: Engine, router: AlertRouter, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.router = router
        self.clock = clock

    def _outages(self) -> list[tuple[int, str, str, str, float]]:
        """(flip id, kind, name, state, since) for every subject whose latest real flip was into an alerting state."""
        latest = (
            select(func.max(transitions.c.id))
            .where(transitions.c.old_state != transitions.c.new_state)
            .group_by(transitions.c.subject_kind, transitions.c.subject_name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    transitions.c.id,
                    transitions.c.subject_kind,
                    transitions.c.subject_name,
                    transitions.c.new_state,
                    transitions.c.at,
                ).where(transitions.c.id.in_(latest), transitions.c.new_state.in_(ALERTING_STATES))
            ).all()
        return [(int(r.id), r.subject_kind, r.subject_name, r.new_state, float(r.at)) for r in rows]

    def run_once(self) -> int:
        """Write the reminders that are due now; returns how many were written."""
        reminding = self.router.reminding()
        if not reminding:
            return 0
        now = self.clock()
        outages = self._outages()
        if not outages:
            return 0
        with self.engine.connect() as conn:
            tags = {
                name: tuple(str(t) for t in (value or ()))
                for name, value in conn.execute(select(checks.c.name, checks.c.tags))
            }
        written = 0
        for flip_id, kind, name, state, since in outages:
            subject_tags = tags.get(name, ()) if kind in ("check", "slo") else ()
            for alert in reminding:
                assert alert.reminder_every is not None
                if not alert.routes(name, subject_tags):
                    continue
                ordinal = math.floor((now - since) / alert.reminder_every)
                if ordinal < 1:
                    continue
                provider = alert_name(alert)
                since_text = datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                try:
                    with self.engine.begin() as conn:
                        transition_id = conn.execute(
                            insert(transitions)
                            .values(
                                subject_kind=kind,
                                subject_name=name,
                                old_state=state,
                                new_state=state,
                                at=now,
                                reason=f"still {state} since {since_text} (reminder {ordinal})",
                                idempotency_key=reminder_key(kind, flip_id, provider, ordinal),
                            )
                            .returning(transitions.c.id)
                        ).scalar_one()
                        conn.execute(
                            insert(outbox).values(
                                transition_id=transition_id,
                                provider=provider,
                                status="pending",
                                attempts=0,
                                next_attempt_at=now,
                            )
                        )
                    written += 1
                except IntegrityError:
                    continue  # this reminder exists already (written earlier or by another worker)
        return written

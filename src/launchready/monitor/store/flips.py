"""Write a state flip and its outbox rows in one transaction (the transactional outbox).

Every monitor package that changes a subject's state (the scheduler for checks and late
heartbeats, the ping endpoint for heartbeats that come back, the SLO evaluator, the probe
watcher) calls :func:`record_flip` inside the same transaction that writes the new state, so an
alert can never be lost between "state written" and "alert queued", nor queued for a flip that
was rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, insert

from launchready.monitor.store.schema import outbox, transitions


def record_flip(
    conn: Connection,
    *,
    subject_kind: str,
    subject_name: str,
    old_state: str,
    new_state: str,
    at: float,
    reason: str | None,
    providers: Sequence[str],
) -> int:
    """Insert the transition and one pending outbox row per provider; returns the transition id.

    ``providers`` are the names of the alert providers routed for this subject (possibly none:
    the flip is still recorded for the dashboard's incident list).
    """
    # The key is random rather than derived from (subject, at) so that two flips in the same
    # instant are still two alerts; receivers de-duplicate retries of one flip by it.
    idempotency_key = f"{subject_kind}:{uuid.uuid4().hex}"
    transition_id = conn.execute(
        insert(transitions)
        .values(
            subject_kind=subject_kind,
            subject_name=subject_name,
            old_state=old_state,
            new_state=new_state,
            at=at,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        .returning(transitions.c.id)
    ).scalar_one()
    if providers:
        conn.execute(
            insert(outbox),
            [
                {
                    "transition_id": transition_id,
                    "provider": name,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                }
                for name in dict.fromkeys(providers)
            ],
        )
    return int(transition_id)

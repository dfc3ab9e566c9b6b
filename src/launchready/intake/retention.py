"""Pruning the intake's tables, for the monitor's background pruner to call with its own clock.

Events, transactions and attachments are raw data (kept ``raw_days``, 14 by default, as the
monitor keeps raw check results); per-minute group counts and session counts are rollups (kept
``rollup_days``, 90). Groups themselves are never pruned: their counters and first/last seen are
the history. A group's sample event is kept past the raw window so its page still shows a stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from launchready.monitor.store.errors_schema import (
    error_attachments,
    error_events,
    error_group_minutes,
    error_groups,
    error_sessions,
    error_transactions,
)

DAY = 86400.0


@dataclass(frozen=True)
class Pruned:
    events: int
    transactions: int
    attachments: int
    minutes: int
    sessions: int


def prune_intake(conn: Connection, now: float, *, raw_days: float = 14, rollup_days: float = 90) -> Pruned:
    raw_cutoff = now - raw_days * DAY
    rollup_cutoff_minute = int((now - rollup_days * DAY) // 60)
    samples = select(error_groups.c.sample_event_id).where(error_groups.c.sample_event_id.is_not(None))
    events = conn.execute(
        delete(error_events).where(error_events.c.received_at < raw_cutoff, error_events.c.event_id.not_in(samples))
    ).rowcount
    transactions = conn.execute(
        delete(error_transactions).where(error_transactions.c.received_at < raw_cutoff)
    ).rowcount
    attachments = conn.execute(delete(error_attachments).where(error_attachments.c.received_at < raw_cutoff)).rowcount
    minutes = conn.execute(
        delete(error_group_minutes).where(error_group_minutes.c.minute < rollup_cutoff_minute)
    ).rowcount
    sessions = conn.execute(delete(error_sessions).where(error_sessions.c.minute < rollup_cutoff_minute)).rowcount
    return Pruned(events, transactions, attachments, minutes, sessions)

"""The probe's spool: results waiting for the server, in a local SQLite file, in order, bounded.

While the server answers, the spool holds one batch at a time; while it does not, results pile
up here (a probe restart loses none of them) and are replayed oldest first when it is back.
Past ``limit`` rows the oldest are dropped and counted: the count is reported with the next
batch that reaches the server, so a gap in the history is a number on the dashboard, never a
silence. The last assignment is kept too, so a probe restarted while the server is down goes on
checking.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from launchready.monitor.errors import MonitorError


class SpoolError(MonitorError):
    """The spool file cannot be opened or written (one line naming it)."""


class Spool:
    def __init__(self, path: Path, limit: int = 100_000) -> None:
        if limit < 1:
            raise SpoolError(f"spool {path}: the limit must be at least 1")
        self.path = path
        self.limit = limit
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except (sqlite3.Error, OSError) as exc:
            raise SpoolError(f"spool {path}: cannot open: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def add(self, results: list[dict[str, Any]]) -> int:
        """Append results; returns how many of the oldest were dropped to stay within the limit."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT INTO results (body) VALUES (?)", [(json.dumps(r),) for r in results])
            (count,) = self._db.execute("SELECT count(*) FROM results").fetchone()
            dropped = max(0, int(count) - self.limit)
            if dropped:
                self._db.execute(
                    "DELETE FROM results WHERE id IN (SELECT id FROM results ORDER BY id LIMIT ?)", (dropped,)
                )
                self._set_meta("dropped", str(self.dropped + dropped))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise SpoolError(f"spool {self.path}: cannot write: {exc}") from None
        return dropped

    def batch(self, size: int) -> tuple[int, list[dict[str, Any]]]:
        """(last id, up to ``size`` oldest results); (0, []) when empty."""
        rows = self._db.execute("SELECT id, body FROM results ORDER BY id LIMIT ?", (size,)).fetchall()
        if not rows:
            return 0, []
        return int(rows[-1][0]), [json.loads(body) for _, body in rows]

    def remove_through(self, last_id: int) -> None:
        self._db.execute("DELETE FROM results WHERE id <= ?", (last_id,))

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM results").fetchone()
        return int(count)

    @property
    def dropped(self) -> int:
        """Dropped results not yet reported to the server."""
        return int(self._meta("dropped") or 0)

    def reported_dropped(self, count: int) -> None:
        self._set_meta("dropped", str(max(0, self.dropped - count)))

    def save_assignment(self, checks: list[dict[str, Any]]) -> None:
        self._set_meta("assignment", json.dumps(checks))

    def load_assignment(self) -> list[dict[str, Any]] | None:
        text = self._meta("assignment")
        return None if text is None else list(json.loads(text))

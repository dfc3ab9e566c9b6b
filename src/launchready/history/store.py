"""The history store: every audit in ``<base>/.launchready/history.sqlite``.

Rows hold what listing and comparing need (fingerprints, severities, statuses); ``run_json``
holds the run exactly as reported (evidence already masked upstream), so ``get`` gives back what
was rendered. Every database failure becomes a ``HistoryError`` with one line naming the file.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from launchready.core.run import AuditRun, HistoryDelta, Verdict
from launchready.core.severity import Severity
from launchready.history.delta import compute_delta
from launchready.history.errors import HistoryError
from launchready.history.models import (
    SCHEMA_VERSION,
    Base,
    FindingRow,
    MetaRow,
    ResultRow,
    RunRow,
)

STORE_DIR = ".launchready"
DB_NAME = "history.sqlite"
# Seconds SQLite waits for another launchready writing the same file before giving up.
LOCK_TIMEOUT = 5.0


@dataclass(frozen=True)
class RunSummary:
    id: int
    target: str
    started: datetime
    finished: datetime
    verdict: Verdict
    counts: dict[str, int] = field(hash=False)  # severity value -> number of findings, worst first
    not_verified: int = 0
    tool_version: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class HistoryStore:
    def __init__(self, base_dir: Path, *, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.base_dir = Path(base_dir)
        self.path = self.base_dir / STORE_DIR / DB_NAME
        self._lock_timeout = lock_timeout
        self._engine: Engine | None = None

    # -- public API ------------------------------------------------------------------------

    def previous(self, target: str) -> AuditRun | None:
        """The latest stored run for ``target``, or None (reading never creates the file)."""
        return self._latest(target, before_id=None)

    def first(self, target: str) -> AuditRun | None:
        """The earliest stored run for ``target``, or None: the baseline a handover counts fixes from."""
        return self._latest(target, before_id=None, oldest=True)

    def count(self, target: str) -> int:
        """How many runs are stored for ``target``."""
        with self._session(create=False) as session:
            if session is None:
                return 0
            query = select(func.count()).select_from(RunRow).where(RunRow.target_key == _target_key(target))
            return int(session.scalar(query) or 0)

    def delta(self, run: AuditRun) -> HistoryDelta:
        """Compare ``run`` with the previous stored run of its target (earlier than it, if stored)."""
        return compute_delta(self._latest(run.target, before_id=run.run_id), run)

    def save(self, run: AuditRun) -> AuditRun:
        """Store the run with its findings and results; returns a copy with ``run_id`` set."""
        counts = _severity_counts(run)
        row = RunRow(
            target_key=_target_key(run.target),
            target=run.target,
            started=_to_text(run.started),
            finished=_to_text(run.finished),
            tool_version=run.tool_version,
            verdict=run.decision.verdict.value,
            not_verified=len(run.not_run),
            run_json=run.model_dump_json(exclude={"run_id"}),
            **counts,
        )
        row.findings = [
            FindingRow(
                rank=rank,
                fingerprint=f.fingerprint,
                finding_id=f.id,
                check_id=f.check_id,
                severity=f.severity.value,
                impact=f.impact.value,
                confidence=f.confidence.value,
                target=f.target,
                title=f.title,
            )
            for rank, f in enumerate(run.findings, start=1)
        ]
        row.results = [
            ResultRow(
                check_id=r.check_id,
                target=r.target,
                status=r.status.value,
                reason=r.reason,
                duration_ms=r.duration_ms,
            )
            for r in run.results
        ]
        with self._session(create=True) as session:
            if session is None:  # unreachable: create=True always opens the store
                raise HistoryError(f"history database {self.path} could not be created")
            session.add(row)
            session.flush()
            run_id = row.id
        return run.model_copy(update={"run_id": run_id})

    def list_runs(self, target: str | None = None, limit: int = 20) -> list[RunSummary]:
        """Newest first, optionally for one target."""
        with self._session(create=False) as session:
            if session is None:
                return []
            query = select(RunRow).order_by(RunRow.started.desc(), RunRow.id.desc()).limit(max(0, limit))
            if target is not None:
                query = query.where(RunRow.target_key == _target_key(target))
            return [_summary(row) for row in session.scalars(query)]

    def get(self, run_id: int) -> AuditRun | None:
        with self._session(create=False) as session:
            if session is None:
                return None
            row = session.get(RunRow, run_id)
            return self._load(row) if row is not None else None

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _latest(self, target: str, before_id: int | None, *, oldest: bool = False) -> AuditRun | None:
        with self._session(create=False) as session:
            if session is None:
                return None
            order = (RunRow.started.asc(), RunRow.id.asc()) if oldest else (RunRow.started.desc(), RunRow.id.desc())
            query = select(RunRow).where(RunRow.target_key == _target_key(target)).order_by(*order).limit(1)
            if before_id is not None:
                query = query.where(RunRow.id < before_id)
            row = session.scalars(query).first()
            return self._load(row) if row is not None else None

    def _load(self, row: RunRow) -> AuditRun:
        try:
            run = AuditRun.model_validate_json(row.run_json)
        except ValidationError as exc:
            raise HistoryError(
                f"history database {self.path}: audit #{row.id} cannot be read by this version "
                f"of launchready ({exc.error_count()} field error(s)); it was written by "
                f"launchready {row.tool_version}"
            ) from exc
        return run.model_copy(update={"run_id": row.id})

    @contextmanager
    def _session(self, *, create: bool) -> Iterator[Session | None]:
        """A transaction on the store, or None when reading a store that does not exist yet."""
        try:
            engine = self._open(create=create)
            if engine is None:
                yield None
                return
            with Session(engine, expire_on_commit=False) as session, session.begin():
                yield session
        except HistoryError:
            raise
        # ValueError: a row whose stored values this version cannot parse (edited or damaged file).
        except (SQLAlchemyError, sqlite3.Error, OSError, ValueError) as exc:
            raise HistoryError(self._describe(exc)) from exc

    def _open(self, *, create: bool) -> Engine | None:
        if self._engine is not None:
            return self._engine
        if not self.path.exists():
            if not create:
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                # Audit history is local state, like a cache: keep it out of commits by default.
                ignore.write_text("# launchready audit history (local state)\n*\n", encoding="utf-8")
        elif self.path.is_dir():
            raise HistoryError(f"history database {self.path} is a directory, not a file")
        engine = create_engine(
            URL.create("sqlite", database=str(self.path)),
            connect_args={"timeout": self._lock_timeout},
        )
        event.listen(engine, "connect", _write_ahead_log)
        try:
            self._initialise(engine)
        except BaseException:
            engine.dispose()
            raise
        self._engine = engine
        return engine

    def _initialise(self, engine: Engine) -> None:
        """Create the schema and its version row; safe when several audits open a new store at once.

        Each process checks for the tables, then creates what is missing: two doing so together
        collide ("table ... already exists", a lock). The loser simply tries again and finds
        the winner's schema; the attempts stop after the lock timeout, as a write would.
        """
        deadline = time.monotonic() + self._lock_timeout
        while True:
            try:
                Base.metadata.create_all(engine)
                self._check_version(engine)
                return
            except (OperationalError, IntegrityError) as exc:
                text = str(exc.orig).lower()
                racing = "already exists" in text or "locked" in text or "busy" in text or "unique" in text
                if not racing or time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0.01, 0.05))

    def _check_version(self, engine: Engine) -> None:
        with Session(engine) as session, session.begin():
            # INSERT OR IGNORE: another process may add the row between a read and our insert.
            session.execute(
                sqlite_insert(MetaRow).values(key="schema_version", value=SCHEMA_VERSION).on_conflict_do_nothing()
            )
            meta = session.get(MetaRow, "schema_version")
            if meta is not None and meta.value != SCHEMA_VERSION:
                raise HistoryError(
                    f"history database {self.path} has format version {meta.value}, this launchready "
                    f"reads version {SCHEMA_VERSION}; use a matching launchready or move the file away"
                )

    def _describe(self, exc: BaseException) -> str:
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        detail = lines[0] if lines else type(cause).__name__
        lowered = detail.lower()
        if "locked" in lowered or "busy" in lowered:
            return f"history database {self.path} is locked by another process; retry when it has finished"
        if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
            return (
                f"history database {self.path} is corrupt or not a launchready history file ({detail}); "
                "move it away to start a new history"
            )
        if isinstance(exc, OSError):
            reason = exc.strerror or detail
            return f"history database {self.path} cannot be used: {reason}"
        return f"history database {self.path} cannot be used: {detail}"


def _write_ahead_log(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """WAL: readers never wait for a writer, and parallel audits queue their writes on the busy timeout."""
    try:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        # Another process holds the file while switching: it stays in (or is being put in) WAL mode.
        pass


def _target_key(target: str) -> str:
    return target.strip().rstrip(".").lower()


def _to_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Fixed width (microseconds always present) so text order is time order.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _severity_counts(run: AuditRun) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for finding in run.findings:
        counts[finding.severity.value] += 1
    return counts


def _summary(row: RunRow) -> RunSummary:
    ordered = sorted(Severity, key=lambda s: s.rank, reverse=True)
    return RunSummary(
        id=row.id,
        target=row.target,
        started=_from_text(row.started),
        finished=_from_text(row.finished),
        verdict=Verdict(row.verdict),
        counts={s.value: getattr(row, s.value) for s in ordered},
        not_verified=row.not_verified,
        tool_version=row.tool_version,
    )

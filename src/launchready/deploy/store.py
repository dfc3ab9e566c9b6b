"""Deploy records in the history database (``.launchready/history.sqlite``), table ``deploys``.

A table of its own (its own declarative base), created on first use next to the audit tables:
the audit history's schema version is not touched, and the audit store ignores this table.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, Integer, String, Text, create_engine, inspect, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from launchready.history.errors import HistoryError
from launchready.history.store import DB_NAME, LOCK_TIMEOUT, STORE_DIR


class _Base(DeclarativeBase):
    pass


class DeployRow(_Base):
    __tablename__ = "deploys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    environment: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(200))
    who: Mapped[str] = mapped_column(String(200))
    command: Mapped[str] = mapped_column(Text)  # masked
    started: Mapped[str] = mapped_column(String(40), index=True)
    finished: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # running, succeeded, command-failed, smoke-failed, rolled-back, rollback-failed, timed-out,
    # cancelled, errored, abandoned; rollback: rolled-back-on-request
    outcome: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")  # one line per phase, masked


@dataclass(frozen=True)
class DeployRecord:
    id: int
    environment: str
    version: str
    who: str
    command: str
    started: datetime
    finished: datetime | None
    outcome: str
    summary: str


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


class DeployStore:
    def __init__(self, base_dir: Path) -> None:
        self.path = Path(base_dir) / STORE_DIR / DB_NAME
        self._engine: Engine | None = None

    def _open(self) -> Engine:
        if self._engine is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                ignore = self.path.parent / ".gitignore"
                if not ignore.exists():
                    ignore.write_text("# launchready audit history (local state)\n*\n", encoding="utf-8")
                engine = create_engine(
                    URL.create("sqlite", database=str(self.path)), connect_args={"timeout": LOCK_TIMEOUT}
                )
                _Base.metadata.create_all(engine)
            except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
                raise HistoryError(f"history database {self.path} cannot be used: {exc}") from exc
            self._engine = engine
        return self._engine

    def start(self, environment: str, version: str, who: str, command: str) -> int:
        row = DeployRow(
            environment=environment, version=version, who=who, command=command, started=_now(), outcome="running"
        )
        try:
            with Session(self._open()) as session, session.begin():
                session.add(row)
                session.flush()
                return row.id
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise HistoryError(f"history database {self.path}: cannot record the deploy: {exc}") from exc

    def finish(self, deploy_id: int, outcome: str, summary: str) -> None:
        try:
            with Session(self._open()) as session, session.begin():
                row = session.get(DeployRow, deploy_id)
                if row is not None:
                    row.finished = _now()
                    row.outcome = outcome
                    row.summary = summary
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise HistoryError(f"history database {self.path}: cannot record the deploy: {exc}") from exc

    def abandon_running(self, environment: str) -> list[int]:
        """Mark the environment's ``running`` records ``abandoned``: called by the lock's holder, so
        no live run owns them (their run was killed before it could record an outcome)."""
        try:
            with Session(self._open()) as session, session.begin():
                rows = list(
                    session.scalars(
                        select(DeployRow).where(DeployRow.environment == environment, DeployRow.outcome == "running")
                    )
                )
                for row in rows:
                    row.outcome = "abandoned"
                    row.finished = _now()
                    row.summary = (row.summary + "\n" if row.summary else "") + (
                        "abandoned: the run that started it ended without recording an outcome (killed?)"
                    )
                return [row.id for row in rows]
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise HistoryError(f"history database {self.path}: cannot record the deploy: {exc}") from exc

    def list(self, environment: str | None = None, limit: int = 20) -> list[DeployRecord]:
        """Newest first. Reading creates nothing: no file or no deploys table yet is no record."""
        if not self.path.exists():
            return []
        # Not self._open(): that creates the table, and a reader (the handover) must write nothing.
        engine = self._engine or create_engine(
            URL.create("sqlite", database=str(self.path)), connect_args={"timeout": LOCK_TIMEOUT}
        )
        try:
            if not inspect(engine).has_table(DeployRow.__tablename__):
                return []
            with Session(engine) as session:
                query = select(DeployRow).order_by(DeployRow.id.desc()).limit(limit)
                if environment is not None:
                    query = query.where(DeployRow.environment == environment)
                return [
                    DeployRecord(
                        r.id,
                        r.environment,
                        r.version,
                        r.who,
                        r.command,
                        datetime.fromisoformat(r.started),
                        datetime.fromisoformat(r.finished) if r.finished else None,
                        r.outcome,
                        r.summary,
                    )
                    for r in session.scalars(query)
                ]
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise HistoryError(f"history database {self.path}: cannot read deploys: {exc}") from exc
        finally:
            if engine is not self._engine:
                engine.dispose()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

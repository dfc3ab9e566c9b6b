"""The history tables. Rows carry what ``list_runs`` and queries need; ``run_json`` carries the whole
run so ``get`` reloads it faithfully, whatever fields later versions add to the model."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Bumped when the tables change incompatibly; a store refuses a file of another version.
SCHEMA_VERSION = "1"


class Base(DeclarativeBase):
    pass


class MetaRow(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Normalised (lower case, no trailing dot) so "Example.com." and "example.com" share history.
    target_key: Mapped[str] = mapped_column(String(255), index=True)
    target: Mapped[str] = mapped_column(String(255))
    # ISO 8601 UTC text: sorts correctly and round-trips without SQLite's naive-datetime loss.
    started: Mapped[str] = mapped_column(String(40), index=True)
    finished: Mapped[str] = mapped_column(String(40))
    tool_version: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(32))
    blocker: Mapped[int] = mapped_column(Integer, default=0)
    high: Mapped[int] = mapped_column(Integer, default=0)
    medium: Mapped[int] = mapped_column(Integer, default=0)
    low: Mapped[int] = mapped_column(Integer, default=0)
    info: Mapped[int] = mapped_column(Integer, default=0)
    not_verified: Mapped[int] = mapped_column(Integer, default=0)
    run_json: Mapped[str] = mapped_column(Text)

    findings: Mapped[list[FindingRow]] = relationship(back_populates="run", cascade="all, delete-orphan")
    results: Mapped[list[ResultRow]] = relationship(back_populates="run", cascade="all, delete-orphan")


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(600), index=True)
    finding_id: Mapped[str] = mapped_column(String(200))
    check_id: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(400))
    title: Mapped[str] = mapped_column(Text)

    run: Mapped[RunRow] = relationship(back_populates="findings")


class ResultRow(Base):
    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)

    run: Mapped[RunRow] = relationship(back_populates="results")

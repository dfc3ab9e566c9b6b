"""Host facts: measurements worth showing per host that are not risks (e.g. the header score).

A check contributes them through ``AuditContext.facts``; the audit stores them on ``AuditRun``
and the renderers show them as one generic table (host, fact, value, from which check) without
knowing any check. A fact never changes the decision: problems are findings.
"""

from __future__ import annotations

import threading

from pydantic import BaseModel, ConfigDict


class HostFact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    name: str  # e.g. "Header score (Observatory v6)"
    value: str  # short, e.g. "115 (A+)"
    check_id: str  # the check that measured it
    detail: tuple[str, ...] = ()  # how the value was reached, one line each


class FactBook:
    """Collects the facts checks contribute during one run; one value per (host, name)."""

    def __init__(self) -> None:
        self._facts: dict[tuple[str, str], HostFact] = {}
        self._lock = threading.Lock()  # checks run on one event loop; the lock keeps threads honest too

    def add(self, host: str, name: str, value: str, *, check_id: str, detail: tuple[str, ...] = ()) -> None:
        fact = HostFact(host=host, name=name, value=value, check_id=check_id, detail=detail)
        with self._lock:
            self._facts[(host, name)] = fact

    def collected(self, host_order: tuple[str, ...] = ()) -> tuple[HostFact, ...]:
        """Every fact, hosts in ``host_order`` first (the audit's apex-first order), then by name."""
        rank = {h: i for i, h in enumerate(host_order)}
        with self._lock:
            facts = list(self._facts.values())
        return tuple(sorted(facts, key=lambda f: (rank.get(f.host, len(rank)), f.host, f.name)))

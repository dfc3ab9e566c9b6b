"""Audit history: every run stored under ``.launchready/`` so the next audit shows fixed / new / still open.

The names below are loaded on first use: ``launchready.history.errors`` (which the CLI's error table
imports at start) must not pull in SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.lazy import lazy_exports

if TYPE_CHECKING:
    from launchready.history.errors import HistoryError
    from launchready.history.render import render_history
    from launchready.history.store import HistoryStore, RunSummary

__all__ = ["HistoryError", "HistoryStore", "RunSummary", "render_history"]

__getattr__ = lazy_exports(
    __name__,
    {
        "HistoryError": "launchready.history.errors",
        "HistoryStore": "launchready.history.store",
        "RunSummary": "launchready.history.store",
        "render_history": "launchready.history.render",
    },
)

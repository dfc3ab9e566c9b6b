"""Audit history: every run stored under ``.launchready/`` so the next audit shows fixed / new / still open.

The names below are loaded on first use: ``launchready.history.errors`` (which the CLI's error table
imports at start) must not pull in SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from launchready.history.errors import HistoryError
    from launchready.history.render import render_history
    from launchready.history.store import HistoryStore, RunSummary

__all__ = ["HistoryError", "HistoryStore", "RunSummary", "render_history"]

_HOMES = {
    "HistoryError": "launchready.history.errors",
    "HistoryStore": "launchready.history.store",
    "RunSummary": "launchready.history.store",
    "render_history": "launchready.history.render",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)

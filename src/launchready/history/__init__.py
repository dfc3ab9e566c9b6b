"""Audit history: every run stored under ``.launchready/`` so the next audit shows fixed / new / still open."""

from launchready.history.errors import HistoryError
from launchready.history.render import render_history
from launchready.history.store import HistoryStore, RunSummary

__all__ = ["HistoryError", "HistoryStore", "RunSummary", "render_history"]

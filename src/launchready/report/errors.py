"""The output layer's error root: a report that cannot be written in the format asked for."""

from __future__ import annotations


class ReportError(Exception):
    """One line naming what is missing or failed (e.g. Chromium for PDF) and what to do."""

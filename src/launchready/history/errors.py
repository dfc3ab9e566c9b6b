"""The one exception the history store raises: a one-line message naming the database file."""

from __future__ import annotations


class HistoryError(Exception):
    """The history database cannot be used (corrupt, locked, unwritable, from a newer version).

    The message is one line meant for the user as is; the CLI prints it without a traceback.
    """

"""The mail tests' error root."""

from __future__ import annotations


class MailtestError(Exception):
    """Mail tests that cannot run as configured: a mailbox that refuses the login, an unreachable
    IMAP server, a missing ``${env:NAME}``.

    ``str(exc)`` is one line naming the host, key or flag at fault (never a password); the CLI
    prints it and exits with code 2.
    """


class MailboxError(MailtestError):
    """The mailbox itself could not be read (as opposed to: the message is not there yet)."""

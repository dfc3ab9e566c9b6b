"""The lab's faults in the mail the app sends, caught by `launchready email test` (check email.message).

The clean app signs every message with the key the lab zone publishes (``lab._domainkey``), sends
From and envelope on the lab domain, text and HTML parts, links on the app's public host, and its
relay forwards at once. Each fault breaks one of these the way a real launch does: a staging DKIM
key, a provider sending with its own domain, a reset link built from the framework's default base
URL, an invitation stuck in a slow queue, an HTML-only template.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from launchready.lab.dkim import DkimKey
from launchready.lab.mailer import DkimSigner

DKIM_WRONG_KEY = "email-dkim-wrong-key"
FROM_UNALIGNED = "email-from-unaligned"
RESET_LINK_LOCALHOST = "email-reset-link-localhost"
INVITE_DELAYED = "email-invite-delayed"
HTML_ONLY = "email-html-only"

# A real queue delay: over the default [email] delivery_s of 60. Tests pass a shorter one
# (Lab(invite_delay_s=...)) with a matching short delivery budget.
DEFAULT_INVITE_DELAY_S = 90.0
INVITE_SUBJECT = "invited you"


def hold_seconds(faults: frozenset[str], invite_delay_s: float) -> Callable[[EmailMessage], float]:
    """How long the lab's relay keeps a message before forwarding it."""

    def hold(message: EmailMessage) -> float:
        if INVITE_DELAYED in faults and INVITE_SUBJECT in str(message.get("Subject", "")):
            return invite_delay_s
        return 0.0

    return hold


def mailer_options(
    faults: frozenset[str], *, domain: str, provider_domain: str, key: DkimKey, staging_key: DkimKey | None
) -> dict[str, Any]:
    """The app mailer's signing key, envelope sender and parts, with the faults applied."""
    signer = DkimSigner(domain, key.selector, key.private_key_pem)
    envelope = f"no-reply@{domain}"
    if DKIM_WRONG_KEY in faults and staging_key is not None:
        # The staging key under the production selector: the published key does not verify it.
        signer = DkimSigner(domain, key.selector, staging_key.private_key_pem)
    if FROM_UNALIGNED in faults:
        # The provider's defaults: its own bounce domain and its own d=, both passing, neither From's.
        signer = DkimSigner(provider_domain, key.selector, key.private_key_pem)
        envelope = f"bounces@{provider_domain}"
    return {"signer": signer, "envelope_sender": envelope, "html_only": HTML_ONLY in faults}

"""The mail tests' findings as a catalogue entry, so ``launchready checks`` lists them and
``launchready explain email.message.spam-score`` explains them like any check's.

The mail tests run from the ``email`` commands, not from the audit's registry, so the entry is a
``Check`` whose ``run`` only says where the tests run; the catalogue commands add it beside the
registry's checks (a registry check with the same id, once the audit runs mail tests, wins).
"""

from __future__ import annotations

from typing import Any

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import NotConfigured
from launchready.mailtest.judge import CHECK_ID, FINDING_RULES


async def _run(ctx: Any, target: str) -> list[Any]:
    raise NotConfigured(
        "real messages are judged by the email commands",
        "run `launchready email verify FILE.eml`, `email receive --listen HOST:PORT` or `email receive --imap`",
    )


MESSAGE_CHECK = Check(
    meta=CheckMeta(
        id=CHECK_ID,
        title="Real messages: authentication, content, mailbox placement, spam score and links",
        scope=Scope.DOMAIN,
        doc=CheckDoc(
            what=(
                "Judges real messages the product sent: SPF for the connecting address, every DKIM signature, DMARC "
                "alignment and ARC, written as an RFC 8601 Authentication-Results line; the content (links, text part, "
                "unsubscribe headers, sender domains, size); the folder a real mailbox filed it in and that provider's "
                "own verdicts; SpamAssassin's score with the rules that fired; and whether its links answer."
            ),
            why=(
                "What breaks a launch is more often the message than the DNS records: the verification mail signed "
                "with the staging key, the reset link pointing at localhost, the invite that lands in Gmail's spam "
                "folder. Members who never get the mail never finish signing up, and support cannot see why."
            ),
            fix=(
                "Each finding names the message (its Message-ID), the evidence and the exact change; see "
                "docs/email.md for pointing a staging environment at `launchready email receive` and for the IMAP "
                "app passwords that let `email receive --imap` read a real Gmail, Outlook or iCloud mailbox."
            ),
        ),
        findings=tuple(
            FindingSpec(
                id=f"{CHECK_ID}.{kind}",
                title=rule.title,
                severity=rule.severity,
                impact=rule.impact,
                remediation=rule.remediation,
                references=rule.references,
            )
            for kind, rule in FINDING_RULES.items()
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc8601",
            "https://www.rfc-editor.org/rfc/rfc7489",
            "https://support.google.com/a/answer/81126",
        ),
        probes=("dns", "http", "imap", "spamassassin"),
    ),
    run=_run,
)


def feature_checks() -> tuple[Check, ...]:
    """Catalogue entries for findings that commands other than the audit report."""
    return (MESSAGE_CHECK,)

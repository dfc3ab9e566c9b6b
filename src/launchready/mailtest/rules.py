"""How a mail-test finding reads (title, default severity, impact, fix, references), keyed by its
kind (the id after ``email.message.``). The specs are declared once, by the audit check
``email.message`` (checks/email/message.py), so `launchready checks` and `explain` list them; a
new kind is a FindingSpec added there. ``MESSAGE_RULES`` are the message's own judgements
(``judge.py``); ``EXTENDED_RULES`` the ones that need more than the message (``extended.py``):
where a real mailbox filed it, the provider's own verdicts, SpamAssassin's score, its links."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from launchready.checks.email.message import EXTENDED_FINDINGS, MESSAGE_FINDINGS
from launchready.checks.email.message import META as MESSAGE_META
from launchready.core.check import FindingSpec
from launchready.core.severity import Impact, Severity

CHECK_ID = MESSAGE_META.id


@dataclass(frozen=True)
class Rule:
    title: str
    severity: Severity
    impact: Impact
    remediation: str
    references: tuple[str, ...]


def rules_of(specs: Iterable[FindingSpec]) -> dict[str, Rule]:
    return {
        spec.id.removeprefix(f"{CHECK_ID}."): Rule(
            spec.title, spec.severity, spec.impact, spec.remediation, spec.references or MESSAGE_META.references
        )
        for spec in specs
    }


MESSAGE_RULES: dict[str, Rule] = rules_of(MESSAGE_FINDINGS)
EXTENDED_RULES: dict[str, Rule] = rules_of(EXTENDED_FINDINGS)

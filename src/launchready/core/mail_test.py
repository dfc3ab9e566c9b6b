"""The facts of a mail test: the messages the product's smoke flows made it send, how long each
took to arrive and what the message judge found in it.

The mail test itself (running the flows, receiving and judging the messages) is a feature
(``mailtest/run.py``); the audit's ``email.message`` check reads these facts through the
``MailTester`` Protocol (``core/protocols.py``) and only decides which of them are findings.
"""

from __future__ import annotations

from dataclasses import dataclass

from launchready.core.finding import Finding


@dataclass(frozen=True)
class SentMessage:
    """One email step of a flow: the message the request before it should have made the product send."""

    flow: str  # the flow the email step is written in
    step: str  # the email step's name
    where: str  # file:line of the email step
    target: str  # stable across runs: "{base_url} flow:{flow} email:{step}"
    to: str
    trigger: str | None  # the request that made the product send it ("POST https://app.example.com/signup")
    arrived: bool
    delivery_s: float | None  # from the trigger request's start to the message's arrival
    waited_s: float  # how long the test waited for it
    message_id: str | None = None
    subject: str | None = None  # as a reader sees it (UTF-8, encoded words decoded)
    authentication_results: str = ""  # the RFC 8601 verdicts line, for reports
    # The message judge's findings (authentication, content, and the extra checks': mailbox folder,
    # provider verdicts, SpamAssassin, links), already aimed at ``target``.
    findings: tuple[Finding, ...] = ()
    spam_score: float | None = None  # SpamAssassin's score; None: not scored (``checked`` says why)
    # What the extra checks saw, one line each for reports: "SpamAssassin: 1.2 (spam at 5.0)",
    # "Mailbox folder: Junk", "Provider's Authentication-Results: ...", "Links: 3 of 3 answered".
    checked: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnreachedStep:
    """An email step whose flow failed before it: the product was never asked to send the message."""

    flow: str
    step: str
    reason: str  # the flow's failure (masked)


@dataclass(frozen=True)
class MailTestFacts:
    environment: str
    base_url: str
    delivery_budget_s: float
    wait_s: float
    messages: tuple[SentMessage, ...] = ()
    # The flows could not be run at all (bad flow file, no mailbox, unset variable): could not run.
    problem: str | None = None
    # Email steps whose flow failed before them (app.smoke reports the flow; no message to judge).
    unreached: tuple[UnreachedStep, ...] = ()

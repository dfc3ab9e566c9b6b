"""How a mail-test finding reads (title, default severity, impact, fix, references), and the
findings that need more than the message itself: where a real mailbox filed it, the mailbox
provider's own verdicts, SpamAssassin's score and whether its links answer. ``judge.FINDING_RULES``
holds these beside the message's own."""

from __future__ import annotations

from dataclasses import dataclass

from launchready.core.severity import Impact, Severity

_RFC = "https://www.rfc-editor.org/rfc/"


@dataclass(frozen=True)
class Rule:
    title: str
    severity: Severity
    impact: Impact
    remediation: str
    references: tuple[str, ...]


EXTENDED_RULES: dict[str, Rule] = {
    "landed-in-junk": Rule(
        "The message landed in the Spam/Junk folder",
        Severity.HIGH,
        Impact.EMAIL,
        "Fix the authentication, content and SpamAssassin findings first; then keep complaint rates low, warm up "
        "a new sending domain or address gradually, and watch the provider's reputation tools (Google Postmaster "
        "Tools, Microsoft SNDS). Marking the test message 'not spam' only hides the problem for that one mailbox.",
        (f"{_RFC}rfc6154#section-2", "https://support.google.com/a/answer/81126"),
    ),
    "provider-auth-fail": Rule(
        "The mailbox provider's own SPF, DKIM or DMARC verdict fails",
        Severity.HIGH,
        Impact.EMAIL,
        "Compare the provider's Authentication-Results with ours: DKIM failing only at the provider means something "
        "changed the message after signing (a footer, a link tracker, a relay re-encoding it); SPF failing only there "
        "means it saw another connecting address (a forwarder or relay missing from SPF). Fix that hop, or sign after it.",
        (f"{_RFC}rfc8601", f"{_RFC}rfc7489#section-3.1"),
    ),
    "spam-score": Rule(
        "SpamAssassin scores the message as spam, or close to it",
        Severity.HIGH,
        Impact.EMAIL,
        "Change what the listed rules match (each comes with SpamAssassin's description and, for the common ones, "
        "the fix), then score again; the usual causes are HTML-only mail, missing headers, shouting subjects, "
        "image-heavy templates and failing authentication.",
        ("https://spamassassin.apache.org/full/4.0.x/doc/Mail_SpamAssassin_Conf.html",),
    ),
    "dead-link": Rule(
        "A link in the message does not answer",
        Severity.HIGH,
        Impact.SIGNUP,
        "Point the template at a route that exists in this environment (a verification or reset route missing, "
        "renamed or behind a broken deploy is the usual cause), and make link routes answer HEAD as well as GET: "
        "mail security scanners check links with HEAD before the member clicks.",
        ("https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2",),
    ),
    "dead-image": Rule(
        "An image in the message does not load",
        Severity.LOW,
        Impact.TRUST,
        "Serve the template's images from a public URL that answers (or embed them as cid: parts).",
        ("https://www.rfc-editor.org/rfc/rfc9110#section-15.5.5",),
    ),
}

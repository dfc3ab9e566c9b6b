"""email.message: the mail the product really sends (verification, reset, invitation) arrives in time,
authenticated (SPF, DKIM, DMARC aligned) and with links and parts a member can use.

The facts come from the mail test (``mailtest/run.py``, given to the audit as ``ctx.mail_test``
when ``[email] test = true``): it runs the smoke flows that wait for mail, receives each message
and judges it with the message judge (``mailtest/judge.py``), which builds its findings from the
specs declared here. This module decides delivery (in time, late, never) and passes the judge's
findings on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable, NotConfigured
from launchready.core.finding import Finding
from launchready.core.mail_test import MailTestFacts, SentMessage
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC = "https://www.rfc-editor.org/rfc/"
_GMAIL_SENDERS = "https://support.google.com/a/answer/81126"

# The message judge's findings, one spec per kind (the judge's FINDING_RULES are read from here,
# with EXTENDED_FINDINGS below).
MESSAGE_FINDINGS: tuple[FindingSpec, ...] = (
    FindingSpec(
        id="email.message.spf-fail",
        title="SPF fails for the sending address",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Add the sending service to the envelope domain's SPF record (its include: or ip4:/ip6:), or send with an envelope (Return-Path) domain whose SPF lists it.",
        references=(_RFC + "rfc7208#section-2.6",),
    ),
    FindingSpec(
        id="email.message.spf-error",
        title="SPF could not be evaluated",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Fix the envelope domain's SPF record (one v=spf1 record, at most 10 DNS-querying terms); a temperror means the DNS did not answer: retry, then check the domain's nameservers.",
        references=(
            _RFC + "rfc7208#section-2.6.6",
            _RFC + "rfc7208#section-2.6.7",
        ),
    ),
    FindingSpec(
        id="email.message.spf-none",
        title="No SPF record for the envelope domain",
        severity=Severity.MEDIUM,
        impact=Impact.EMAIL,
        remediation="Publish a v=spf1 record listing the services that send for the envelope domain, ending in ~all or -all.",
        references=(_RFC + "rfc7208#section-3",),
    ),
    FindingSpec(
        id="email.message.dkim-none",
        title="The message is not DKIM-signed",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Enable DKIM signing at the sending service with a key published under your domain, so DMARC can pass even when SPF breaks on forwarding.",
        references=(_RFC + "rfc6376",),
    ),
    FindingSpec(
        id="email.message.dkim-fail",
        title="A DKIM signature does not verify",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Publish the public key matching the private key the sender signs with at selector._domainkey.domain (a staging key or a rotated selector is the usual cause), and do not modify the message after signing.",
        references=(
            _RFC + "rfc6376#section-6",
            _RFC + "rfc8601#section-2.7.1",
        ),
    ),
    FindingSpec(
        id="email.message.dkim-error",
        title="A DKIM signature could not be verified",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Publish the key at selector._domainkey.domain (TXT, v=DKIM1; k=rsa or ed25519; p=...) and fix the signature's tags; a temperror means the DNS did not answer.",
        references=(
            _RFC + "rfc6376#section-3.6",
            _RFC + "rfc8601#section-2.7.1",
        ),
    ),
    FindingSpec(
        id="email.message.dkim-weak-key",
        title="DKIM key shorter than 2048 bits",
        severity=Severity.MEDIUM,
        impact=Impact.EMAIL,
        remediation="Generate a 2048-bit RSA key (or add an Ed25519 one beside it), publish it under a new selector and switch the signer.",
        references=(_RFC + "rfc8301#section-3.2",),
    ),
    FindingSpec(
        id="email.message.dkim-body-length",
        title="A DKIM signature covers only part of the body (l= tag)",
        severity=Severity.MEDIUM,
        impact=Impact.TRUST,
        remediation="Turn off body-length limits at the signer: anyone can append content after the signed length and keep the signature valid.",
        references=(_RFC + "rfc6376#section-8.2",),
    ),
    FindingSpec(
        id="email.message.dkim-headers-unsigned",
        title="A DKIM signature does not cover From, Subject or To",
        severity=Severity.MEDIUM,
        impact=Impact.TRUST,
        remediation="Sign From, Subject, To, Date and Message-ID (h=): unsigned headers can be replaced in transit without breaking the signature.",
        references=(_RFC + "rfc6376#section-5.4",),
    ),
    FindingSpec(
        id="email.message.dkim-too-many-signatures",
        title="More than 10 DKIM signatures",
        severity=Severity.LOW,
        impact=Impact.EMAIL,
        remediation="Sign once per signing domain; receivers stop verifying after a few signatures.",
        references=(_RFC + "rfc6376#section-4.2",),
    ),
    FindingSpec(
        id="email.message.dmarc-fail",
        title="DMARC fails: neither SPF nor DKIM passes aligned with From",
        severity=Severity.BLOCKER,
        impact=Impact.EMAIL,
        remediation="Sign with a DKIM key under the From domain (d= equal to it, or a subdomain in relaxed mode), or send with an envelope domain under it whose SPF passes.",
        references=(
            _RFC + "rfc7489#section-3.1",
            _RFC + "rfc7489#section-4.2",
        ),
    ),
    FindingSpec(
        id="email.message.dmarc-none",
        title="No DMARC record for the From domain",
        severity=Severity.MEDIUM,
        impact=Impact.EMAIL,
        remediation="Publish _dmarc.<domain> TXT 'v=DMARC1; p=none; rua=mailto:...' and tighten to quarantine once reports are clean; Gmail and Yahoo require DMARC from bulk senders.",
        references=(_RFC + "rfc7489#section-6.1",),
    ),
    FindingSpec(
        id="email.message.dmarc-error",
        title="DMARC could not be evaluated",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Send with exactly one From address and publish exactly one valid v=DMARC1 record; a temperror means the DNS did not answer.",
        references=(_RFC + "rfc7489#section-6.6",),
    ),
    FindingSpec(
        id="email.message.arc-fail",
        title="The ARC chain does not validate",
        severity=Severity.LOW,
        impact=Impact.EMAIL,
        remediation="An intermediary (list, forwarder) broke or mis-sealed the chain; receivers fall back to the plain DKIM/SPF results.",
        references=(_RFC + "rfc8617",),
    ),
    FindingSpec(
        id="email.message.mime-defects",
        title="The message's MIME structure is malformed",
        severity=Severity.MEDIUM,
        impact=Impact.EMAIL,
        remediation="Build messages with the mail library's MIME API rather than by hand: boundaries, headers and base64 must be well formed.",
        references=(
            _RFC + "rfc2045",
            _RFC + "rfc2046",
        ),
    ),
    FindingSpec(
        id="email.message.no-text-part",
        title="No text/plain part",
        severity=Severity.MEDIUM,
        impact=Impact.EMAIL,
        remediation="Send multipart/alternative with a text/plain part beside the HTML: spam filters penalise HTML-only mail.",
        references=(_RFC + "rfc2046#section-5.1.4",),
    ),
    FindingSpec(
        id="email.message.local-link",
        title="A link points at localhost or a private address",
        severity=Severity.BLOCKER,
        impact=Impact.SIGNUP,
        remediation="Build links from the public base URL setting of each environment, never from the request's Host or a default.",
        references=("https://owasp.org/www-community/attacks/Host_header_injection",),
    ),
    FindingSpec(
        id="email.message.staging-link",
        title="A link points at the staging host",
        severity=Severity.HIGH,
        impact=Impact.SIGNUP,
        remediation="Set the public base URL per environment; production mail must link to production.",
        references=(),
    ),
    FindingSpec(
        id="email.message.http-link",
        title="A link uses http instead of https",
        severity=Severity.MEDIUM,
        impact=Impact.TRUST,
        remediation="Link with https:// (tokens in verification and reset links travel in clear over http).",
        references=(_RFC + "rfc9110#section-4.2.2",),
    ),
    FindingSpec(
        id="email.message.relative-link",
        title="A link is relative",
        severity=Severity.HIGH,
        impact=Impact.SIGNUP,
        remediation="Use absolute https:// URLs in mail: there is no page to resolve a relative link against.",
        references=(),
    ),
    FindingSpec(
        id="email.message.undeclared-link-host",
        title="A link points at a host the product does not declare",
        severity=Severity.LOW,
        impact=Impact.TRUST,
        remediation="Link only to the product's own domains (or declare the host); unknown hosts look like phishing to filters.",
        references=(),
    ),
    FindingSpec(
        id="email.message.bad-link",
        title="A link is not a valid URL",
        severity=Severity.MEDIUM,
        impact=Impact.EMAIL,
        remediation="Fix the template that builds the URL: a broken link cannot be clicked.",
        references=(),
    ),
    FindingSpec(
        id="email.message.local-image",
        title="An image points at localhost or a private address",
        severity=Severity.HIGH,
        impact=Impact.TRUST,
        remediation="Serve mail images from the public CDN or embed them (cid:).",
        references=(),
    ),
    FindingSpec(
        id="email.message.staging-image",
        title="An image points at the staging host",
        severity=Severity.MEDIUM,
        impact=Impact.TRUST,
        remediation="Serve images from production's own host or CDN.",
        references=(),
    ),
    FindingSpec(
        id="email.message.http-image",
        title="An image is loaded over http",
        severity=Severity.LOW,
        impact=Impact.TRUST,
        remediation="Serve images over https: clients block or warn on mixed content.",
        references=(),
    ),
    FindingSpec(
        id="email.message.relative-image",
        title="An image source is relative",
        severity=Severity.MEDIUM,
        impact=Impact.TRUST,
        remediation="Use absolute https:// image URLs.",
        references=(),
    ),
    FindingSpec(
        id="email.message.undeclared-image-host",
        title="An image is loaded from a host the product does not declare",
        severity=Severity.INFO,
        impact=Impact.TRUST,
        remediation="Serve images from the product's own domains or declare the CDN host.",
        references=(),
    ),
    FindingSpec(
        id="email.message.bad-image",
        title="An image URL is not valid",
        severity=Severity.LOW,
        impact=Impact.TRUST,
        remediation="Fix the template that builds the image URL: the image is not shown.",
        references=(),
    ),
    FindingSpec(
        id="email.message.no-list-unsubscribe",
        title="Bulk mail without List-Unsubscribe",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Add 'List-Unsubscribe: <https://...>' and 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' to every non-transactional message.",
        references=(
            _RFC + "rfc2369",
            _RFC + "rfc8058",
            "https://support.google.com/a/answer/81126",
        ),
    ),
    FindingSpec(
        id="email.message.no-one-click-unsubscribe",
        title="Bulk mail without one-click unsubscribe",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Give List-Unsubscribe an https URI that unsubscribes on POST, and add 'List-Unsubscribe-Post: List-Unsubscribe=One-Click'.",
        references=(_RFC + "rfc8058#section-3.1",),
    ),
    FindingSpec(
        id="email.message.from-off-domain",
        title="From is not on the product's domain",
        severity=Severity.HIGH,
        impact=Impact.TRUST,
        remediation="Send from an address on the product's domain, authenticated for it (DKIM d= and DMARC).",
        references=(_RFC + "rfc7489#section-3.1",),
    ),
    FindingSpec(
        id="email.message.reply-to-off-domain",
        title="Reply-To is not on the product's domain",
        severity=Severity.LOW,
        impact=Impact.TRUST,
        remediation="Set Reply-To to a monitored address on the product's domain.",
        references=(),
    ),
    FindingSpec(
        id="email.message.too-large",
        title="The message is larger than providers accept",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation="Link to large files instead of attaching them.",
        references=(),
    ),
    FindingSpec(
        id="email.message.html-clipped",
        title="The HTML body is long enough for Gmail to clip it",
        severity=Severity.LOW,
        impact=Impact.EMAIL,
        remediation="Keep the HTML under 102 KB: minify inline CSS and drop unused markup.",
        references=("https://support.google.com/mail/answer/6588",),
    ),
)

# The findings that need more than the message (mailtest/extended.py): where a real mailbox filed
# it, the mailbox provider's own verdicts, SpamAssassin's score and whether its links answer.
EXTENDED_FINDINGS: tuple[FindingSpec, ...] = (
    FindingSpec(
        id="email.message.landed-in-junk",
        title="The message landed in the Spam/Junk folder",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation=(
            "Fix the authentication, content and SpamAssassin findings first; then keep complaint rates low, warm up "
            "a new sending domain or address gradually, and watch the provider's reputation tools (Google Postmaster "
            "Tools, Microsoft SNDS). Marking the test message 'not spam' only hides the problem for that one mailbox."
        ),
        references=(_RFC + "rfc6154#section-2", _GMAIL_SENDERS),
    ),
    FindingSpec(
        id="email.message.provider-auth-fail",
        title="The mailbox provider's own SPF, DKIM or DMARC verdict fails",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation=(
            "Compare the provider's Authentication-Results with ours: DKIM failing only at the provider means something "
            "changed the message after signing (a footer, a link tracker, a relay re-encoding it); SPF failing only there "
            "means it saw another connecting address (a forwarder or relay missing from SPF). Fix that hop, or sign after it."
        ),
        references=(_RFC + "rfc8601", _RFC + "rfc7489#section-3.1"),
    ),
    FindingSpec(
        id="email.message.spam-score",
        title="SpamAssassin scores the message as spam, or close to it",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation=(
            "Change what the listed rules match (each comes with SpamAssassin's description and, for the common ones, "
            "the fix), then score again; the usual causes are HTML-only mail, missing headers, shouting subjects, "
            "image-heavy templates and failing authentication."
        ),
        references=("https://spamassassin.apache.org/full/4.0.x/doc/Mail_SpamAssassin_Conf.html",),
    ),
    FindingSpec(
        id="email.message.dead-link",
        title="A link in the message does not answer",
        severity=Severity.HIGH,
        impact=Impact.SIGNUP,
        remediation=(
            "Point the template at a route that exists in this environment (a verification or reset route missing, "
            "renamed or behind a broken deploy is the usual cause), and make link routes answer HEAD as well as GET: "
            "mail security scanners check links with HEAD before the member clicks."
        ),
        references=(_RFC + "rfc9110#section-9.3.2",),
    ),
    FindingSpec(
        id="email.message.dead-image",
        title="An image in the message does not load",
        severity=Severity.LOW,
        impact=Impact.TRUST,
        remediation="Serve the template's images from a public URL that answers (or embed them as cid: parts).",
        references=(_RFC + "rfc9110#section-15.5.5",),
    ),
)

DELIVERY_FINDINGS: tuple[FindingSpec, ...] = (
    FindingSpec(
        id="email.message.not-delivered",
        title="A message the product should send never arrived",
        severity=Severity.HIGH,
        impact=Impact.EMAIL,
        remediation=(
            "Look up the trigger request's time in the application's and the mail provider's logs: an exception "
            "in the mail job, a queue worker that is not running, a provider that refused the message (sender "
            "not verified, sandbox mode) or a suppression list holding the address."
        ),
        references=(_RFC + "rfc5321#section-4.5.4.1",),
    ),
    FindingSpec(
        id="email.message.slow-delivery",
        title="A message arrived later than the delivery budget",
        severity=Severity.MEDIUM,
        impact=Impact.EMAIL,
        remediation=(
            "Send transactional mail (verification, reset, invitation) at once, outside batched or low-priority "
            "queues; check the mail worker's concurrency and the provider's throttling. Members give up on a "
            "confirmation mail after a minute."
        ),
        references=(_RFC + "rfc5321#section-4.5.4.1",),
    ),
)

META = CheckMeta(
    id="email.message",
    title="The product's mail arrives in time, authenticated and with working links",
    scope=Scope.ENVIRONMENT,
    doc=CheckDoc(
        what=(
            "Runs the smoke flows that wait for mail (sign-up confirmation, password reset, invitation) against "
            "each environment, times every message from the request that triggers it to its arrival, and judges "
            "each one as receivers do: SPF for the connecting address, every DKIM signature, DMARC alignment with "
            "From, ARC, and the content (a text part, links and images on the product's public hosts over https, "
            "unsubscribe headers for bulk mail), SpamAssassin's score with the rules that fired and, for an IMAP "
            "mailbox, the folder it landed in and the provider's own Authentication-Results; `email test "
            "--check-links` also dials its links. On with [email] test = true; `launchready email test` runs it alone."
        ),
        why=(
            "The DNS records can be perfect while the mail is not: the app signs with the staging DKIM key, a "
            "provider sends with its own domain so DMARC fails and Gmail rejects the message, the reset link "
            "points at localhost, the invitation sits in a queue for minutes. Each of these loses the member "
            "at the first step, and none shows on a web page."
        ),
        fix=(
            "Run `launchready email test` to see each message's Authentication-Results line and findings; each "
            "finding names the message (flow and step), the evidence and the exact fix. Re-run it after every "
            "change of mail provider, DNS records or mail templates (docs/email.md)."
        ),
    ),
    findings=(*DELIVERY_FINDINGS, *MESSAGE_FINDINGS, *EXTENDED_FINDINGS),
    references=(_RFC + "rfc7489", _RFC + "rfc6376", _RFC + "rfc7208", _GMAIL_SENDERS),
    probes=("smoke-flows", "smtp-mailbox", "imap", "dns", "spamassassin", "http"),
)


def delivery_findings(facts: MailTestFacts, sent: SentMessage) -> list[Finding]:
    trigger = f"triggered by {sent.trigger}" if sent.trigger else "no request before the email step"
    where = [f"environment: {facts.environment}", f"email step {sent.step!r} at {sent.where}", trigger]
    if not sent.arrived:
        return [
            META.finding(
                "not-delivered",
                target=sent.target,
                evidence=[
                    *where,
                    f"no message to {sent.to} within {sent.waited_s:.1f}s",
                ],
            )
        ]
    if sent.delivery_s is not None and sent.delivery_s > facts.delivery_budget_s:
        return [
            META.finding(
                "slow-delivery",
                target=sent.target,
                evidence=[
                    *where,
                    f"arrived {sent.delivery_s:.1f}s after the request (budget: {facts.delivery_budget_s:g}s, "
                    "[email] delivery_s)",
                ],
            )
        ]
    return []


def message_fact(facts: MailTestFacts, sent: SentMessage) -> tuple[str, str, tuple[str, ...]]:
    """The message as a host fact (name, value, detail): when it arrived and its verdicts."""
    if not sent.arrived:
        value = f"not delivered within {sent.waited_s:.1f}s"
    elif sent.delivery_s is not None:
        value = f"arrived in {sent.delivery_s:.1f}s (budget {facts.delivery_budget_s:g}s)"
    else:
        value = "arrived"
    detail = [f"email step at {sent.where}"]
    if sent.trigger:
        detail.append(f"triggered by {sent.trigger}")
    if sent.subject is not None:
        detail.append(f"Subject: {sent.subject}")
    if sent.message_id:
        detail.append(f"Message-ID: {sent.message_id}")
    if sent.authentication_results:
        detail.append(" ".join(sent.authentication_results.split()))
    detail.extend(sent.checked)
    return f"Mail: {sent.flow} / {sent.step}", value, tuple(detail)


def judge(facts: MailTestFacts) -> list[Finding]:
    """Delivery findings for every message, then the message judge's own findings."""
    findings: list[Finding] = []
    for sent in facts.messages:
        findings.extend(delivery_findings(facts, sent))
        findings.extend(sent.findings)
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    if not ctx.config.email.test:
        # Like a load test, the mail test makes the product do real work (sign-ups, mail sent):
        # never a side effect of a plain audit.
        raise NotApplicable("the mail test runs with `launchready email test` (or set [email] test = true)")
    if ctx.mail_test is None:
        raise CouldNotRun("no mail test was given to this run (run `launchready audit` or `launchready email test`)")
    facts = await ctx.mail_test.test(target, domain=ctx.domain)
    if facts.problem is not None:
        raise CouldNotRun(facts.problem)
    if not facts.messages:
        raise NotConfigured(
            "no smoke flow waits for mail",
            "add an email step after the request that sends mail (docs/smoke.md), e.g. the sign-up confirmation",
        )
    host = urlsplit(facts.base_url).hostname or target
    for sent in facts.messages:
        name, value, detail = message_fact(facts, sent)
        ctx.facts.add(host, name, value, check_id=META.id, detail=detail)
    for step in facts.unreached:
        # The flow failed before asking for the message (app.smoke reports the flow): nothing to judge.
        ctx.facts.add(
            host,
            f"Mail: {step.flow} / {step.step}",
            "not sent: the flow failed before it",
            check_id=META.id,
            detail=(step.reason,),
        )
    return judge(facts)


CHECK = Check(meta=META, run=run)

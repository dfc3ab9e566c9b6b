"""The findings for one received message: its authentication verdicts and its content issues."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.mailtest.auth import GOOD_RSA_BITS, MAX_SIGNATURES, MIN_RSA_BITS, AuthVerdict, authenticate
from launchready.mailtest.content import ContentIssue, ContentPolicy, judge_content
from launchready.mailtest.message import ParsedMessage, parse_message
from launchready.mailtest.rules import EXTENDED_RULES
from launchready.mailtest.rules import Rule as _Rule
from launchready.probes.spf import SpfResolver

CHECK_ID = "email.message"
_RFC = "https://www.rfc-editor.org/rfc/"
# Headers whose change would change what the recipient reads: a signature must cover them.
MUST_SIGN = ("from", "subject", "to")


FINDING_RULES: dict[str, _Rule] = {
    "spf-fail": _Rule(
        "SPF fails for the sending address",
        Severity.HIGH,
        Impact.EMAIL,
        "Add the sending service to the envelope domain's SPF record (its include: or ip4:/ip6:), "
        "or send with an envelope (Return-Path) domain whose SPF lists it.",
        (f"{_RFC}rfc7208#section-2.6",),
    ),
    "spf-error": _Rule(
        "SPF could not be evaluated",
        Severity.HIGH,
        Impact.EMAIL,
        "Fix the envelope domain's SPF record (one v=spf1 record, at most 10 DNS-querying terms); "
        "a temperror means the DNS did not answer: retry, then check the domain's nameservers.",
        (f"{_RFC}rfc7208#section-2.6.6", f"{_RFC}rfc7208#section-2.6.7"),
    ),
    "spf-none": _Rule(
        "No SPF record for the envelope domain",
        Severity.MEDIUM,
        Impact.EMAIL,
        "Publish a v=spf1 record listing the services that send for the envelope domain, ending in ~all or -all.",
        (f"{_RFC}rfc7208#section-3",),
    ),
    "dkim-none": _Rule(
        "The message is not DKIM-signed",
        Severity.HIGH,
        Impact.EMAIL,
        "Enable DKIM signing at the sending service with a key published under your domain, "
        "so DMARC can pass even when SPF breaks on forwarding.",
        (f"{_RFC}rfc6376",),
    ),
    "dkim-fail": _Rule(
        "A DKIM signature does not verify",
        Severity.HIGH,
        Impact.EMAIL,
        "Publish the public key matching the private key the sender signs with at selector._domainkey.domain "
        "(a staging key or a rotated selector is the usual cause), and do not modify the message after signing.",
        (f"{_RFC}rfc6376#section-6", f"{_RFC}rfc8601#section-2.7.1"),
    ),
    "dkim-error": _Rule(
        "A DKIM signature could not be verified",
        Severity.HIGH,
        Impact.EMAIL,
        "Publish the key at selector._domainkey.domain (TXT, v=DKIM1; k=rsa or ed25519; p=...) and "
        "fix the signature's tags; a temperror means the DNS did not answer.",
        (f"{_RFC}rfc6376#section-3.6", f"{_RFC}rfc8601#section-2.7.1"),
    ),
    "dkim-weak-key": _Rule(
        "DKIM key shorter than 2048 bits",
        Severity.MEDIUM,
        Impact.EMAIL,
        "Generate a 2048-bit RSA key (or add an Ed25519 one beside it), publish it under a new selector and switch the signer.",
        (f"{_RFC}rfc8301#section-3.2",),
    ),
    "dkim-body-length": _Rule(
        "A DKIM signature covers only part of the body (l= tag)",
        Severity.MEDIUM,
        Impact.TRUST,
        "Turn off body-length limits at the signer: anyone can append content after the signed length and keep the signature valid.",
        (f"{_RFC}rfc6376#section-8.2",),
    ),
    "dkim-headers-unsigned": _Rule(
        "A DKIM signature does not cover From, Subject or To",
        Severity.MEDIUM,
        Impact.TRUST,
        "Sign From, Subject, To, Date and Message-ID (h=): unsigned headers can be replaced in transit without breaking the signature.",
        (f"{_RFC}rfc6376#section-5.4",),
    ),
    "dkim-too-many-signatures": _Rule(
        f"More than {MAX_SIGNATURES} DKIM signatures",
        Severity.LOW,
        Impact.EMAIL,
        "Sign once per signing domain; receivers stop verifying after a few signatures.",
        (f"{_RFC}rfc6376#section-4.2",),
    ),
    "dmarc-fail": _Rule(
        "DMARC fails: neither SPF nor DKIM passes aligned with From",
        Severity.BLOCKER,
        Impact.EMAIL,
        "Sign with a DKIM key under the From domain (d= equal to it, or a subdomain in relaxed mode), or "
        "send with an envelope domain under it whose SPF passes.",
        (f"{_RFC}rfc7489#section-3.1", f"{_RFC}rfc7489#section-4.2"),
    ),
    "dmarc-none": _Rule(
        "No DMARC record for the From domain",
        Severity.MEDIUM,
        Impact.EMAIL,
        "Publish _dmarc.<domain> TXT 'v=DMARC1; p=none; rua=mailto:...' and tighten to quarantine once reports are clean; "
        "Gmail and Yahoo require DMARC from bulk senders.",
        (f"{_RFC}rfc7489#section-6.1",),
    ),
    "dmarc-error": _Rule(
        "DMARC could not be evaluated",
        Severity.HIGH,
        Impact.EMAIL,
        "Send with exactly one From address and publish exactly one valid v=DMARC1 record; a temperror means the DNS did not answer.",
        (f"{_RFC}rfc7489#section-6.6",),
    ),
    "arc-fail": _Rule(
        "The ARC chain does not validate",
        Severity.LOW,
        Impact.EMAIL,
        "An intermediary (list, forwarder) broke or mis-sealed the chain; receivers fall back to the plain DKIM/SPF results.",
        (f"{_RFC}rfc8617",),
    ),
    "mime-defects": _Rule(
        "The message's MIME structure is malformed",
        Severity.MEDIUM,
        Impact.EMAIL,
        "Build messages with the mail library's MIME API rather than by hand: boundaries, headers and base64 must be well formed.",
        (f"{_RFC}rfc2045", f"{_RFC}rfc2046"),
    ),
    "no-text-part": _Rule(
        "No text/plain part",
        Severity.MEDIUM,
        Impact.EMAIL,
        "Send multipart/alternative with a text/plain part beside the HTML: spam filters penalise HTML-only mail.",
        (f"{_RFC}rfc2046#section-5.1.4",),
    ),
    "local-link": _Rule(
        "A link points at localhost or a private address",
        Severity.BLOCKER,
        Impact.SIGNUP,
        "Build links from the public base URL setting of each environment, never from the request's Host or a default.",
        ("https://owasp.org/www-community/attacks/Host_header_injection",),
    ),
    "staging-link": _Rule(
        "A link points at the staging host",
        Severity.HIGH,
        Impact.SIGNUP,
        "Set the public base URL per environment; production mail must link to production.",
        (),
    ),
    "http-link": _Rule(
        "A link uses http instead of https",
        Severity.MEDIUM,
        Impact.TRUST,
        "Link with https:// (tokens in verification and reset links travel in clear over http).",
        ("https://www.rfc-editor.org/rfc/rfc9110#section-4.2.2",),
    ),
    "relative-link": _Rule(
        "A link is relative",
        Severity.HIGH,
        Impact.SIGNUP,
        "Use absolute https:// URLs in mail: there is no page to resolve a relative link against.",
        (),
    ),
    "undeclared-link-host": _Rule(
        "A link points at a host the product does not declare",
        Severity.LOW,
        Impact.TRUST,
        "Link only to the product's own domains (or declare the host); unknown hosts look like phishing to filters.",
        (),
    ),
    "bad-link": _Rule("A link is not a valid URL", Severity.MEDIUM, Impact.EMAIL, "Fix the template's URL.", ()),
    "local-image": _Rule(
        "An image points at localhost or a private address",
        Severity.HIGH,
        Impact.TRUST,
        "Serve mail images from the public CDN or embed them (cid:).",
        (),
    ),
    "staging-image": _Rule(
        "An image points at the staging host", Severity.MEDIUM, Impact.TRUST, "Serve images from production.", ()
    ),
    "http-image": _Rule(
        "An image is loaded over http",
        Severity.LOW,
        Impact.TRUST,
        "Serve images over https: clients block or warn on mixed content.",
        (),
    ),
    "relative-image": _Rule(
        "An image source is relative", Severity.MEDIUM, Impact.TRUST, "Use absolute https:// image URLs.", ()
    ),
    "undeclared-image-host": _Rule(
        "An image is loaded from a host the product does not declare",
        Severity.INFO,
        Impact.TRUST,
        "Serve images from the product's own domains or declare the CDN host.",
        (),
    ),
    "bad-image": _Rule("An image URL is not valid", Severity.LOW, Impact.TRUST, "Fix the template's image URL.", ()),
    "no-list-unsubscribe": _Rule(
        "Bulk mail without List-Unsubscribe",
        Severity.HIGH,
        Impact.EMAIL,
        "Add 'List-Unsubscribe: <https://...>' and 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' to every non-transactional message.",
        (f"{_RFC}rfc2369", f"{_RFC}rfc8058", "https://support.google.com/a/answer/81126"),
    ),
    "no-one-click-unsubscribe": _Rule(
        "Bulk mail without one-click unsubscribe",
        Severity.HIGH,
        Impact.EMAIL,
        "Give List-Unsubscribe an https URI that unsubscribes on POST, and add 'List-Unsubscribe-Post: List-Unsubscribe=One-Click'.",
        (f"{_RFC}rfc8058#section-3.1",),
    ),
    "from-off-domain": _Rule(
        "From is not on the product's domain",
        Severity.HIGH,
        Impact.TRUST,
        "Send from an address on the product's domain, authenticated for it (DKIM d= and DMARC).",
        (f"{_RFC}rfc7489#section-3.1",),
    ),
    "reply-to-off-domain": _Rule(
        "Reply-To is not on the product's domain",
        Severity.LOW,
        Impact.TRUST,
        "Set Reply-To to a monitored address on the product's domain.",
        (),
    ),
    "too-large": _Rule(
        "The message is larger than providers accept",
        Severity.HIGH,
        Impact.EMAIL,
        "Link to large files instead of attaching them.",
        (),
    ),
    "html-clipped": _Rule(
        "The HTML body is long enough for Gmail to clip it",
        Severity.LOW,
        Impact.EMAIL,
        "Keep the HTML under 102 KB: minify inline CSS and drop unused markup.",
        ("https://support.google.com/mail/answer/6588",),
    ),
    **EXTENDED_RULES,
}


@dataclass(frozen=True)
class Judgement:
    subject: str  # what the findings' target names: the file or the message's Message-ID
    auth: AuthVerdict
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        dmarc = self.auth.dmarc
        return {
            "message": self.subject,
            "spf": asdict(self.auth.spf),
            "dkim": [asdict(s) for s in self.auth.dkim],
            "dmarc": {
                "result": dmarc.result,
                "policy": dmarc.policy,
                "aligned_domain": dmarc.aligned_domain,
                "aligned_by": dmarc.aligned_by,
                "from_domain": dmarc.from_domain,
                "record_domain": dmarc.record_domain,
                "reason": dmarc.reason,
            },
            "arc": asdict(self.auth.arc),
            "authentication_results": self.auth.authentication_results(),
            "findings": [f.model_dump(mode="json", exclude_none=True) for f in self.findings],
        }


def finding(kind: str, target: str, evidence: list[str]) -> Finding:
    rule = FINDING_RULES[kind]
    return Finding(
        id=f"email.message.{kind}",
        check_id=CHECK_ID,
        title=rule.title,
        severity=rule.severity,
        impact=rule.impact,
        target=target,
        evidence=tuple(e[:500] for e in evidence[:20]),
        remediation=rule.remediation,
        references=rule.references,
    )


def auth_findings(auth: AuthVerdict, target: str) -> list[Finding]:
    out: list[Finding] = []
    spf = auth.spf
    spf_line = f"SPF {spf.result} for {spf.domain or '(no domain)'} from {spf.client_ip}" + (
        f": {spf.reason}" if spf.reason else ""
    )
    if spf.client_ip is not None:
        if spf.result in ("fail", "softfail"):
            out.append(finding("spf-fail", target, [spf_line]))
        elif spf.result in ("temperror", "permerror"):
            out.append(finding("spf-error", target, [spf_line]))
        elif spf.result == "none" and spf.domain:
            out.append(finding("spf-none", target, [spf_line]))
    if not auth.dkim:
        out.append(finding("dkim-none", target, ["no DKIM-Signature header"]))
    groups: dict[str, list[str]] = {}
    for sig in auth.dkim:
        who = f"d={sig.domain} s={sig.selector}"
        if sig.result == "fail":
            groups.setdefault("dkim-fail", []).append(f"{who}: {sig.reason}")
        elif sig.result in ("permerror", "temperror"):
            groups.setdefault("dkim-error", []).append(f"{who}: {sig.result}: {sig.reason}")
        if sig.key_bits is not None and sig.algorithm.startswith("rsa") and sig.key_bits < GOOD_RSA_BITS:
            note = " (below 1024: rejected)" if sig.key_bits < MIN_RSA_BITS else ""
            groups.setdefault("dkim-weak-key", []).append(f"{who}: {sig.key_bits}-bit RSA{note}")
        if sig.body_length is not None:
            groups.setdefault("dkim-body-length", []).append(f"{who}: l={sig.body_length}")
        if sig.domain:
            missing = [h for h in MUST_SIGN if h not in sig.signed_headers]
            if missing:
                groups.setdefault("dkim-headers-unsigned", []).append(
                    f"{who}: h= lacks {', '.join(missing)} (signed: {':'.join(sig.signed_headers) or 'nothing'})"
                )
    for kind, evidence in groups.items():
        out.append(finding(kind, target, evidence))
    if auth.signatures_skipped:
        out.append(
            finding(
                "dkim-too-many-signatures",
                target,
                [f"{auth.signatures_skipped} signature(s) past the first {MAX_SIGNATURES} were not verified"],
            )
        )
    dmarc = auth.dmarc
    dmarc_line = f"DMARC {dmarc.result} for From domain {dmarc.from_domain or '(none)'}" + (
        f" (p={dmarc.policy})" if dmarc.policy else ""
    )
    if dmarc.reason:
        dmarc_line += f": {dmarc.reason}"
    if dmarc.result == "fail":
        out.append(finding("dmarc-fail", target, [dmarc_line]))
    elif dmarc.result == "none":
        out.append(finding("dmarc-none", target, [dmarc_line]))
    elif dmarc.result in ("temperror", "permerror"):
        out.append(finding("dmarc-error", target, [dmarc_line]))
    if auth.arc.result == "fail":
        out.append(finding("arc-fail", target, [f"ARC fail: {auth.arc.reason or 'chain does not validate'}"]))
    return out


def content_findings(issues: list[ContentIssue], target: str) -> list[Finding]:
    grouped: dict[str, list[str]] = {}
    for issue in issues:
        grouped.setdefault(issue.kind, []).append(issue.detail)
    return [finding(kind, target, details) for kind, details in grouped.items()]


def message_target(message: ParsedMessage, fallback: str) -> str:
    message_id = message.first("message-id")
    return message_id.strip() if message_id else fallback


async def judge_message(
    resolver: SpfResolver,
    raw: bytes,
    policy: ContentPolicy,
    *,
    name: str,
    client_ip: str | None = None,
    helo: str = "",
    mail_from: str | None = None,
) -> Judgement:
    """Everything about one received message; ``name`` names it when it has no Message-ID."""
    message = parse_message(raw)
    target = message_target(message, name)
    auth = await authenticate(resolver, message, client_ip=client_ip, helo=helo, mail_from=mail_from)
    findings = [*auth_findings(auth, target), *content_findings(judge_content(message, policy), target)]
    findings.sort(key=lambda f: (-f.severity.rank, -f.impact.weight, f.id))
    return Judgement(target, auth, tuple(findings))

"""email.dkim: the DKIM keys receivers fetch to verify your mail's signatures are there and strong."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.masking import mask_secret
from launchready.core.names import COMMON_DKIM_SELECTORS
from launchready.core.severity import Confidence, Impact, Severity
from launchready.email.dkim_record import DkimKey, looks_like_dkim, parse_dkim_key

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC6376 = "https://www.rfc-editor.org/rfc/rfc6376"
_RFC6376_3_6_1 = "https://www.rfc-editor.org/rfc/rfc6376#section-3.6.1"
_RFC8301 = "https://www.rfc-editor.org/rfc/rfc8301"
_RFC8463 = "https://www.rfc-editor.org/rfc/rfc8463"
_GMAIL_RULES = "https://support.google.com/a/answer/81126"

META = CheckMeta(
    id="email.dkim",
    title="DKIM keys are published and strong",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the DKIM key record (TXT at SELECTOR._domainkey.DOMAIN) of every selector declared in "
            "launchready.toml and of the selectors common providers use (google, selector1, s1, k1, ...): "
            "the tag list must be valid (no duplicated tag, every part a tag=value pair, tag names in lower case as "
            "RFC 6376 3.2 compares them case-sensitively), p must decode to a key, s= (if any) must allow email, "
            "h= (if any) must allow sha256 (RFC 8301 forbids rsa-sha1), and RSA keys must be at least 2048 bits."
        ),
        why=(
            "Receivers verify your signup and receipt emails' DKIM signatures with this key. A missing or "
            "revoked key makes every signature fail, so DMARC can only pass through SPF, and forwarded mail "
            "fails outright. Keys under 1024 bits are ignored (RFC 8301), and t=y tells receivers to ignore failures."
        ),
        fix=(
            "In your email provider's dashboard, generate (or rotate to) a 2048-bit DKIM key and publish the TXT "
            "or CNAME record it gives you at SELECTOR._domainkey.DOMAIN; remove t=y once signing works."
        ),
    ),
    findings=(
        FindingSpec(
            id="email.dkim.selector-missing",
            title="A declared DKIM selector has no key in DNS: signatures fail",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Publish the key record your provider gives you at <selector>._domainkey.<domain>.",
            references=(_RFC6376_3_6_1, _GMAIL_RULES),
        ),
        FindingSpec(
            id="email.dkim.none-found",
            title="No DKIM key found: mail cannot pass DMARC through DKIM",
            severity=Severity.MEDIUM,
            impact=Impact.EMAIL,
            confidence=Confidence.TENTATIVE,
            remediation="Turn on DKIM signing at your email provider and list its selector in [email] dkim_selectors.",
            references=(_RFC6376, _GMAIL_RULES),
        ),
        FindingSpec(
            id="email.dkim.revoked",
            title="A DKIM key is revoked (empty p=): signatures with it fail",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Publish the current key at this selector, or stop signing with it at your provider.",
            references=(_RFC6376_3_6_1,),
        ),
        FindingSpec(
            id="email.dkim.weak-key",
            title="A DKIM key is too short to be trusted",
            severity=Severity.MEDIUM,
            impact=Impact.EMAIL,
            remediation="Rotate to a 2048-bit RSA key at your email provider and publish the new record.",
            references=(_RFC8301,),
        ),
        FindingSpec(
            id="email.dkim.malformed",
            title="A DKIM key record cannot be used",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Re-publish the key record exactly as your email provider shows it: v=DKIM1; k=rsa; p=<base64 key>.",
            references=(_RFC6376_3_6_1,),
        ),
        FindingSpec(
            id="email.dkim.not-for-email",
            title="A DKIM key is restricted to another service (s=) and cannot verify mail",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Remove the s= tag from the key record (or set s=email); only s=email or s=* keys verify mail.",
            references=(_RFC6376_3_6_1,),
        ),
        FindingSpec(
            id="email.dkim.sha1-only",
            title="A DKIM key allows only SHA-1 (h=sha1): no receiver may verify with it",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Remove the h= tag from the key record (or set h=sha256) and sign with rsa-sha256.",
            references=(_RFC8301, _RFC6376_3_6_1),
        ),
        FindingSpec(
            id="email.dkim.testing",
            title="A DKIM key is in testing mode (t=y): receivers ignore failures",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Remove t=y from the key record once signatures verify.",
            references=(_RFC6376_3_6_1,),
        ),
        FindingSpec(
            id="email.dkim.ed25519-only",
            title="Only ed25519 DKIM keys: many receivers cannot verify them yet",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            remediation="Sign with an RSA 2048-bit key as well (dual signing) until receivers support ed25519.",
            references=(_RFC8463,),
        ),
    ),
    references=(_RFC6376, _RFC8301, _GMAIL_RULES),
    probes=("dns",),
)


@dataclass(frozen=True)
class SelectorFacts:
    selector: str
    declared: bool
    answer: DnsAnswer


def _name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def _shown(key: DkimKey) -> str:
    p = key.tag("p") or ""
    # The public key is not secret, but 400 characters of base64 help nobody reading evidence.
    short = key.raw.replace(p, mask_secret(p, keep=12)) if len(p) > 40 else key.raw
    return f'"{short}"'


def _record(
    selector: str, domain: str, value: str = "v=DKIM1; k=rsa; p=<2048-bit public key from your provider>"
) -> str:
    return f'`{_name(selector, domain)}. 300 IN TXT "{value}"`'


def judge(domain: str, facts: tuple[SelectorFacts, ...]) -> list[Finding]:
    """Judge the key records of each selector asked (declared ones first)."""
    for f in facts:
        if f.declared and f.answer.failed:
            raise CouldNotRun(f"TXT query for {_name(f.selector, domain)} failed ({f.answer.status})")
    findings: list[Finding] = []
    keys: list[tuple[SelectorFacts, DkimKey]] = []
    for f in facts:
        records = [r for r in f.answer.records if looks_like_dkim(r)] if f.answer.ok else []
        if not records:
            if f.declared:
                findings.append(
                    META.finding(
                        "selector-missing",
                        target=_name(f.selector, domain),
                        evidence=[f"TXT {_name(f.selector, domain)}: {f.answer.status.upper()}"],
                        remediation=(
                            f"Publish the key your provider shows for selector {f.selector!r}: {_record(f.selector, domain)} "
                            "(some providers give a CNAME to their own key instead: publish that). Until then every "
                            "signature with this selector fails verification."
                        ),
                    )
                )
            continue
        keys.extend((f, parse_dkim_key(r)) for r in records)
    if not keys and not any(f.declared for f in facts):
        unanswered = [f for f in facts if f.answer.failed]
        if unanswered:
            # A selector whose question went unanswered may hold the key: "none found" would be a guess.
            names = ", ".join(f"{f.selector} ({f.answer.status})" for f in unanswered[:4])
            raise CouldNotRun(f"no DKIM key found, but {len(unanswered)} selector lookup(s) failed: {names}")
        asked = ", ".join(f.selector for f in facts[:8])
        findings.append(
            META.finding(
                "none-found",
                target=domain,
                evidence=[f"no DKIM key at the common selectors ({asked}, ...)"],
                remediation=(
                    "Turn on DKIM at each service that sends your mail (Google Workspace: Admin console > Gmail > "
                    "Authenticate email; Postmark, SendGrid, SES: domain settings), publish the records they give you, "
                    "and list the selectors in launchready.toml [email] dkim_selectors so they are checked exactly."
                ),
            )
        )
    for f, key in keys:
        target = _name(f.selector, domain)
        evidence = [f"TXT {target}: {_shown(key)}"]
        if key.problem is not None:
            findings.append(
                META.finding(
                    "malformed",
                    target=target,
                    evidence=[*evidence, f"problem: {key.problem}"],
                    remediation=f"Re-publish the record exactly as your provider shows it, e.g. {_record(f.selector, domain)}; {key.problem}.",
                )
            )
            continue
        if key.revoked:
            findings.append(
                META.finding(
                    "revoked",
                    target=target,
                    evidence=[*evidence, "p= is empty: the key is revoked"],
                    severity=Severity.HIGH if f.declared else Severity.LOW,
                    remediation=(
                        f"If you still sign with selector {f.selector!r}, publish its current key: {_record(f.selector, domain)}; "
                        "if you rotated away from it, make sure your provider signs with the new selector."
                    ),
                )
            )
            continue
        if not key.for_email:
            findings.append(
                META.finding(
                    "not-for-email",
                    target=target,
                    evidence=[
                        *evidence,
                        f"s={key.tag('s')}: the key is for {', '.join(key.services)} only, not email "
                        "(RFC 6376 3.6.1), so every signature with this selector fails",
                    ],
                    severity=Severity.HIGH if f.declared else Severity.LOW,
                    remediation=(
                        f"Publish the key without s= (or with s=email): {_record(f.selector, domain)}. A key meant "
                        "for another service belongs under its own selector."
                    ),
                )
            )
            continue
        if key.sha1_only:
            findings.append(
                META.finding(
                    "sha1-only",
                    target=target,
                    evidence=[
                        *evidence,
                        f"h={key.tag('h')}: RFC 8301 forbids verifying rsa-sha1 and no sha256 is allowed, "
                        "so no signature with this key verifies",
                    ],
                    severity=Severity.HIGH if f.declared else Severity.LOW,
                    remediation=(
                        f"Publish the key without h= (or with h=sha256): {_record(f.selector, domain)}, and make "
                        "sure your provider signs with rsa-sha256 (or ed25519-sha256)."
                    ),
                )
            )
            continue
        if key.key_type == "rsa" and key.key_bits is not None and key.key_bits < 2048:
            weak = key.key_bits < 1024
            findings.append(
                META.finding(
                    "weak-key",
                    target=target,
                    evidence=[
                        *evidence,
                        f"RSA key of {key.key_bits} bits"
                        + (
                            " (under 1024: receivers must ignore it, RFC 8301)"
                            if weak
                            else " (under the recommended 2048)"
                        ),
                    ],
                    severity=Severity.HIGH if weak else Severity.MEDIUM,
                    remediation=(
                        f"Rotate to a 2048-bit key at your email provider, publish it under a new selector "
                        f"({_record(f.selector + '2048', domain)}), switch signing to it, then revoke the old one "
                        f"({_record(f.selector, domain, 'v=DKIM1; k=rsa; p=')})."
                    ),
                )
            )
        if key.testing:
            findings.append(
                META.finding(
                    "testing",
                    target=target,
                    evidence=[*evidence, "t=y: receivers treat failures as unsigned"],
                    remediation=f"Once signatures verify, publish the record without t=y: {_record(f.selector, domain)}.",
                )
            )
    usable = [k for _, k in keys if k.usable]
    if usable and all(k.key_type == "ed25519" for k in usable):
        findings.append(
            META.finding(
                "ed25519-only",
                target=domain,
                evidence=["every published key is ed25519 (RFC 8463)"],
                remediation=f"Also sign with an RSA 2048-bit key under a second selector: {_record('rsa1', domain)}.",
            )
        )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    email = ctx.config.email
    if not email.sends_mail:
        raise NotApplicable("the domain sends no mail ([email] sends_mail = false)")
    declared = tuple(email.dkim_selectors)
    common = tuple(s for s in COMMON_DKIM_SELECTORS if s not in declared)
    selectors = (*declared, *common)
    answers = await asyncio.gather(*(ctx.dns.txt(_name(s, target)) for s in selectors))
    facts = tuple(SelectorFacts(s, s in declared, a) for s, a in zip(selectors, answers, strict=True))
    return judge(target, facts)


CHECK = Check(meta=META, run=run)

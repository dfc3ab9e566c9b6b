"""The findings for one received message: its authentication verdicts and its content issues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from launchready.core.finding import Finding
from launchready.mailtest.auth import GOOD_RSA_BITS, MAX_SIGNATURES, MIN_RSA_BITS, AuthVerdict, authenticate
from launchready.mailtest.content import ContentIssue, ContentPolicy, judge_content
from launchready.mailtest.message import ParsedMessage, parse_message
from launchready.mailtest.rules import CHECK_ID, EXTENDED_RULES, MESSAGE_RULES
from launchready.mailtest.rules import Rule as _Rule
from launchready.probes.spf import SpfResolver

# Headers whose change would change what the recipient reads: a signature must cover them.
MUST_SIGN = ("from", "subject", "to")
# The fields a report shows to say which message it is, as a mail client shows them.
SHOWN_HEADERS = ("Subject", "From", "To")


# One rule per finding kind, declared by the audit check email.message (checks/email/message.py):
# the message's own kinds and those of the extra checks (extended.py).
FINDING_RULES: dict[str, _Rule] = {**MESSAGE_RULES, **EXTENDED_RULES}


class MessageCheck(Protocol):
    """One more judge of a received message: its findings, built with :func:`finding`."""

    async def __call__(self, message: ParsedMessage, target: str) -> list[Finding]: ...


@dataclass(frozen=True)
class Judgement:
    subject: str  # what the findings' target names: the file or the message's Message-ID
    auth: AuthVerdict
    findings: tuple[Finding, ...]
    # Subject, From and To as a reader sees them (UTF-8 and encoded words decoded); absent ones left out.
    shown: tuple[tuple[str, str], ...] = ()

    def shown_lines(self) -> list[str]:
        return [f"{name}: {value}" for name, value in self.shown]

    def to_json(self) -> dict[str, Any]:
        dmarc = self.auth.dmarc
        return {
            "message": self.subject,
            "headers": {name.lower(): value for name, value in self.shown},
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
    extra: Sequence[MessageCheck] = (),
) -> Judgement:
    """Everything about one received message; ``name`` names it when it has no Message-ID.

    ``extra``: more judges of the same message (spam score, link liveness, the folder it landed
    in), each adding its findings (kinds declared in checks/email/message.py)."""
    message = parse_message(raw)
    target = message_target(message, name)
    auth = await authenticate(resolver, message, client_ip=client_ip, helo=helo, mail_from=mail_from)
    findings = [*auth_findings(auth, target), *content_findings(judge_content(message, policy), target)]
    for check in extra:
        findings.extend(await check(message, target))
    findings.sort(key=lambda f: (-f.severity.rank, -f.impact.weight, f.id))
    shown = tuple((name, value) for name in SHOWN_HEADERS if (value := message.shown(name)) is not None)
    return Judgement(target, auth, tuple(findings), shown)

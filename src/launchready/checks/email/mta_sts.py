"""email.mta-sts: the MTA-STS record and its policy file make senders use TLS to the right MX hosts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity
from launchready.email.mta_sts import StsPolicy, StsRecord

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC8461 = "https://www.rfc-editor.org/rfc/rfc8461"
_RFC8461_3_1 = "https://www.rfc-editor.org/rfc/rfc8461#section-3.1"
_RFC8461_3_2 = "https://www.rfc-editor.org/rfc/rfc8461#section-3.2"
_RFC8461_3_3 = "https://www.rfc-editor.org/rfc/rfc8461#section-3.3"
_RFC8461_4_1 = "https://www.rfc-editor.org/rfc/rfc8461#section-4.1"
_GOOGLE_MTA_STS = "https://support.google.com/a/answer/9261504"

META = CheckMeta(
    id="email.mta-sts",
    title="MTA-STS makes senders deliver your mail over verified TLS",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the TXT record at _mta-sts.DOMAIN (v=STSv1; id=...) and fetches the policy it announces from "
            "https://mta-sts.DOMAIN/.well-known/mta-sts.txt with certificate checks and no redirects, as sending "
            "servers do: version, mode, max_age, and mx lines that must match every MX host of the domain."
        ),
        why=(
            "Without MTA-STS an attacker on the path between a sender and your mail server can strip TLS and read "
            "replies and support mail. It matters to mail you receive, not to whether your own signup emails "
            "arrive, so it is informational unless the policy is broken: an enforced policy naming the wrong MX "
            "hosts makes Gmail and others refuse to deliver mail to you."
        ),
        fix=(
            'Publish `_mta-sts.DOMAIN. TXT "v=STSv1; id=20240601"`, serve a text/plain policy at '
            "https://mta-sts.DOMAIN/.well-known/mta-sts.txt with `version: STSv1`, `mode: enforce`, one `mx:` line per "
            "MX host and `max_age: 604800`, and change id= whenever the policy changes."
        ),
    ),
    findings=(
        FindingSpec(
            id="email.mta-sts.missing",
            title="No MTA-STS policy: mail to you can be downgraded to plain text",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            remediation='Publish `_mta-sts.<domain>. TXT "v=STSv1; id=<date>"` and a policy file on mta-sts.<domain>.',
            references=(_RFC8461, _GOOGLE_MTA_STS),
        ),
        FindingSpec(
            id="email.mta-sts.record-invalid",
            title="The MTA-STS record is malformed: senders ignore the policy",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation='Publish exactly one record `"v=STSv1; id=<1-32 letters and digits>"` at _mta-sts.',
            references=(_RFC8461_3_1,),
        ),
        FindingSpec(
            id="email.mta-sts.policy-unreachable",
            title="The MTA-STS policy file cannot be fetched over HTTPS",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Serve the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt with a valid certificate, status 200, no redirect.",
            references=(_RFC8461_3_3,),
        ),
        FindingSpec(
            id="email.mta-sts.policy-invalid",
            title="The MTA-STS policy file is malformed: senders ignore it",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Serve a policy with version: STSv1, mode:, max_age: and one mx: line per MX host.",
            references=(_RFC8461_3_2,),
        ),
        FindingSpec(
            id="email.mta-sts.mx-mismatch",
            title="An MX host matches no mx: line of the MTA-STS policy",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Add an mx: line for every MX host to the policy and change the record's id=.",
            references=(_RFC8461_4_1, _RFC8461_3_2),
        ),
        FindingSpec(
            id="email.mta-sts.testing-mode",
            title="The MTA-STS policy is not enforced (mode testing or none)",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            remediation="Once TLS reports show every sender connecting over TLS, switch the policy to mode: enforce.",
            references=(_RFC8461_3_2, _RFC8461),
        ),
        FindingSpec(
            id="email.mta-sts.short-max-age",
            title="The MTA-STS policy is cached for less than a day",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            remediation="Set max_age to at least 604800 (one week); RFC 8461 suggests weeks.",
            references=(_RFC8461_3_2,),
        ),
    ),
    references=(_RFC8461, _GOOGLE_MTA_STS),
    probes=("dns", "http"),
)

_LOOKS_LIKE_STS = re.compile(r"^\s*v\s*=\s*sts", re.IGNORECASE)
ONE_DAY = 86_400
SUGGESTED_MX_LINES = 10


def policy_url(domain: str) -> str:
    return f"https://mta-sts.{domain}/.well-known/mta-sts.txt"


def suggested_policy(mx_hosts: tuple[str, ...], mode: str = "enforce") -> str:
    """The policy file as its lines, each in backticks (one per line in the file)."""
    shown = mx_hosts[:SUGGESTED_MX_LINES]
    lines = [
        "version: STSv1",
        f"mode: {mode}",
        *(f"mx: {h}" for h in shown or ("<your MX host>",)),
        "max_age: 604800",
    ]
    text = "a file of the lines " + ", ".join(f"`{line}`" for line in lines)
    if len(mx_hosts) > len(shown):
        # A zone of a thousand MX hosts must not make a remediation of a thousand lines.
        text += f" (and one `mx:` line for each of the other {len(mx_hosts) - len(shown)} MX hosts)"
    return text


def _record(domain: str, value: str = "v=STSv1; id=<today, e.g. 20240601>") -> str:
    return f'`_mta-sts.{domain}. 300 IN TXT "{value}"`'


def judge(domain: str, txt: DnsAnswer, mx_hosts: tuple[str, ...], page: HttpExchange | None) -> list[Finding]:
    """``txt`` is the answer at _mta-sts.DOMAIN; ``page`` the policy fetch (None when not fetched)."""
    name = f"_mta-sts.{domain}"
    if txt.failed:
        raise CouldNotRun(f"TXT query for {name} failed ({txt.status}): {txt.error or 'no detail'}")
    records = [StsRecord.parse(r.strip()) for r in txt.records] if txt.ok else []
    candidates = [r for r in records if r.is_sts or _LOOKS_LIKE_STS.match(r.raw)]
    policy_text = suggested_policy(mx_hosts)
    serve = f"serve {policy_text} as text/plain at {policy_url(domain)} (a certificate for mta-sts.{domain} is needed)"
    if not candidates:
        return [
            META.finding(
                "missing",
                target=domain,
                evidence=[
                    f"TXT {name}: " + (f"{len(records)} record(s), none v=STSv1" if records else txt.status.upper())
                ],
                remediation=f"Publish {_record(domain)} and {serve}; start with mode: testing if unsure, then enforce.",
            )
        ]
    if len(candidates) > 1 or candidates[0].problem is not None:
        problem = (
            "more than one v=STSv1 record: senders ignore them all" if len(candidates) > 1 else candidates[0].problem
        )
        return [
            META.finding(
                "record-invalid",
                target=name,
                evidence=[*(f'TXT {name}: "{r.raw}"' for r in candidates), f"problem: {problem}"],
                remediation=f"Publish exactly one record {_record(domain)} and delete the others.",
            )
        ]
    if page is None:
        raise CouldNotRun(f"the MTA-STS policy at {policy_url(domain)} was not fetched")
    evidence = [f'TXT {name}: "{candidates[0].raw}"']
    if page.error or page.status != 200:
        got = page.error or f"HTTP {page.status}" + (
            f" redirecting to {page.location} (senders do not follow redirects)" if page.is_redirect else ""
        )
        return [
            META.finding(
                "policy-unreachable",
                target=policy_url(domain),
                evidence=[*evidence, f"GET {page.url}: {got}"],
                remediation=(
                    f"Point mta-sts.{domain} at a web server with a valid certificate for mta-sts.{domain} and {serve}. "
                    "Until it is reachable, senders apply no policy."
                ),
            )
        ]
    policy = StsPolicy.parse(page.body.decode("utf-8", "replace"))
    evidence.append(f"GET {page.url}: 200, " + "; ".join(f"{k}: {v}" for k, v in policy.fields))
    if policy.problem is not None:
        return [
            META.finding(
                "policy-invalid",
                target=policy_url(domain),
                evidence=[*evidence, f"problem: {policy.problem}"],
                remediation=f"Replace the policy: {serve}, then change the id= of {_record(domain)}.",
            )
        ]
    findings: list[Finding] = []
    unmatched = policy.unmatched(mx_hosts) if policy.mode != "none" else ()
    if unmatched:
        enforced = policy.mode == "enforce"
        findings.append(
            META.finding(
                "mx-mismatch",
                target=policy_url(domain),
                severity=Severity.MEDIUM if enforced else Severity.LOW,
                evidence=[
                    *evidence,
                    f"MX host(s) {', '.join(unmatched)} match none of mx: {', '.join(policy.mx)}",
                    "in enforce mode senders that honour MTA-STS (Gmail, Outlook) refuse to deliver to them"
                    if enforced
                    else "in testing mode senders deliver anyway but report a failure",
                ],
                remediation=(
                    f"Serve {suggested_policy(mx_hosts, policy.mode or 'enforce')} at {policy_url(domain)} and publish "
                    f"{_record(domain)} with a new id so senders fetch it again."
                ),
            )
        )
    if policy.mode in ("testing", "none"):
        findings.append(
            META.finding(
                "testing-mode",
                target=policy_url(domain),
                evidence=[
                    *evidence,
                    f"mode: {policy.mode}: senders deliver even when TLS to your MX fails or is stripped",
                ],
                remediation=(
                    f"Once TLS-RPT reports (`_smtp._tls.{domain}`) show senders connecting over TLS, serve "
                    f"{suggested_policy(mx_hosts)} and publish {_record(domain)} with a new id."
                ),
            )
        )
    max_age = policy.max_age
    if max_age is not None and max_age < ONE_DAY and policy.mode != "none":
        findings.append(
            META.finding(
                "short-max-age",
                target=policy_url(domain),
                evidence=[*evidence, f"max_age: {max_age} seconds"],
                remediation="Set `max_age: 604800` (one week) in the policy once it is right, and change the record's id=.",
            )
        )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    email = ctx.config.email
    mx_hosts = ctx.site.mx_hosts
    if not email.receives_mail or (ctx.site.mx.ok and not mx_hosts):
        raise NotApplicable("the domain receives no mail (null MX or [email] receives_mail = false)")
    txt = await ctx.dns.txt(f"_mta-sts.{target}")
    announced = txt.ok and any(_LOOKS_LIKE_STS.match(r) for r in txt.records)
    page = await ctx.http.fetch(policy_url(target), max_body=64_000) if announced else None
    return judge(target, txt, mx_hosts, page)


CHECK = Check(meta=META, run=run)

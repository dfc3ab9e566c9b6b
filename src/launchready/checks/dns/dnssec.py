"""dns.dnssec: the zone is signed, and its signatures validate from the parent's DS down.

An unsigned zone is only unprotected; a zone whose DNSSEC is *broken* is worse than unsigned,
because every validating resolver answers SERVFAIL for every name in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dnssec import DnssecFacts, Signature
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC4033 = "https://www.rfc-editor.org/rfc/rfc4033"
_RFC4035_5 = "https://www.rfc-editor.org/rfc/rfc4035#section-5"
_RFC4034_3 = "https://www.rfc-editor.org/rfc/rfc4034#section-3.1.5"
_RFC6781 = "https://www.rfc-editor.org/rfc/rfc6781"
_ICANN_DNSSEC = "https://www.icann.org/resources/pages/dnssec-what-is-it-why-important-2019-03-05-en"

META = CheckMeta(
    id="dns.dnssec",
    title="DNSSEC: the zone is signed and validates",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Asks the domain's DS record (published by the registrar in the parent zone), its DNSKEY records "
            "and the RRSIG signatures over the DNSKEY and SOA RRsets, with the DO and CD bits so a validating "
            "resolver hands them over even when they are broken. It checks that a DS matches a published key "
            "(dnspython's make_ds), that every signature is inside its validity window, and that the RRsets "
            "validate against the keys (dnspython's validate). The chain above the zone is the resolver's."
        ),
        why=(
            "Broken DNSSEC is worse than none: when the parent's DS points at a key the zone no longer "
            "publishes, or the signatures have expired, every validating resolver (Google Public DNS, "
            "Cloudflare 1.1.1.1, Quad9, most mobile carriers) answers SERVFAIL for every name in the zone. "
            "Signup, login and email then fail for a large share of users while the site works from your desk. "
            "An unsigned zone only lacks protection against spoofed answers, so it is reported as low: most "
            "domains are unsigned, and turning DNSSEC on carelessly is how the outages above start."
        ),
        fix=(
            "For a broken chain, act first: publish at the registrar the DS of the key the zone signs with "
            "(shown in the finding), or re-sign the zone; if neither can be done within the hour, remove the DS "
            "so resolvers treat the zone as unsigned. To sign an unsigned zone, turn on DNSSEC at your DNS "
            "provider and publish the DS record it shows at your registrar; `dig +dnssec DNSKEY DOMAIN` and "
            "`dig DS DOMAIN` confirm both sides, and https://dnsviz.net shows the whole chain."
        ),
    ),
    findings=(
        FindingSpec(
            id="dns.dnssec.missing",
            title="The zone is not signed with DNSSEC (no DS at the parent)",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=(
                "Turn on DNSSEC signing at your DNS provider, then publish the DS record it shows at your "
                "registrar; `dig DS <domain>` must then return it."
            ),
            references=(_RFC4033, _ICANN_DNSSEC),
        ),
        FindingSpec(
            id="dns.dnssec.ds-mismatch",
            title="The parent's DS matches no key the zone publishes: validating resolvers fail the whole domain",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Replace the DS at the registrar with the DS of the zone's current key signing key, or remove "
                "the DS until the zone is signed again."
            ),
            references=(_RFC4035_5, _RFC6781),
        ),
        FindingSpec(
            id="dns.dnssec.signature-expired",
            title="The zone's DNSSEC signatures have expired: validating resolvers fail the whole domain",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Re-sign the zone now (restart the signer or re-enable signing at your DNS provider) and make "
                "re-signing automatic; if that cannot happen within the hour, remove the DS at the registrar."
            ),
            references=(_RFC4034_3, _RFC6781),
        ),
        FindingSpec(
            id="dns.dnssec.signature-invalid",
            title="The zone's DNSSEC signatures do not validate: validating resolvers fail the whole domain",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Re-sign the zone with the key its DNSKEY RRset publishes (and the DS at the registrar points "
                "at); if that cannot happen within the hour, remove the DS at the registrar."
            ),
            references=(_RFC4035_5, _RFC4034_3),
        ),
    ),
    references=(_RFC4033, _RFC4035_5, _RFC6781),
    probes=("dnssec",),
)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _shown(sig: Signature) -> str:
    return f"RRSIG {sig.covers} (key {sig.key_tag}): valid {_when(sig.inception)} to {_when(sig.expiration)}"


def judge(facts: DnssecFacts) -> list[Finding]:
    """Judge one observation of the zone's DNSSEC state (pure: the time is the observation's)."""
    domain = facts.domain
    for rdtype in ("DS", "DNSKEY"):
        lookup = facts.lookup(rdtype)
        if lookup.failed:
            raise CouldNotRun(f"{rdtype} query for {domain} failed ({lookup.status}): {lookup.error or 'no detail'}")
    keys_line = (
        f"DNSKEY {domain}: " + ", ".join(f"key {k.key_tag} ({k.algorithm})" for k in facts.dnskeys)
        if facts.dnskeys
        else f"DNSKEY {domain}: none"
    )
    if not facts.ds:
        entry_points = [k for k in facts.dnskeys if k.secure_entry_point] or list(facts.dnskeys)
        if not entry_points:
            return [META.finding("missing", target=domain, evidence=(f"DS {domain}: none at the parent", keys_line))]
        # Keys are published but the parent does not point at them: the exact record to publish.
        records = " and ".join(f"`{domain}. 3600 IN DS {k.ds_sha256}`" for k in entry_points)
        return [
            META.finding(
                "missing",
                target=domain,
                evidence=(f"DS {domain}: none at the parent (resolvers treat the zone as unsigned)", keys_line),
                remediation=f"The zone is already signed: publish {records} at your registrar (its DNSSEC or DS page).",
            )
        ]
    ds_lines = tuple(
        f"DS {domain}: {d.text}" + (" (matches a published DNSKEY)" if d.matches_dnskey else " (matches no DNSKEY)")
        for d in facts.ds
    )
    if not any(d.matches_dnskey for d in facts.ds):
        entry_points = [k for k in facts.dnskeys if k.secure_entry_point] or list(facts.dnskeys)
        if entry_points:
            records = " and ".join(f"`{domain}. 3600 IN DS {k.ds_sha256}`" for k in entry_points)
            fix = f"At the registrar, replace the DS with {records} (the key the zone signs with)."
        else:
            fix = "The zone publishes no DNSKEY: remove the DS at the registrar, or turn signing back on first."
        return [META.finding("ds-mismatch", target=domain, evidence=(*ds_lines, keys_line), remediation=fix)]
    soa = facts.lookup("SOA")
    if soa.failed:
        raise CouldNotRun(f"SOA query for {domain} failed ({soa.status}): {soa.error or 'no detail'}")
    findings: list[Finding] = []
    expired = [s for s in facts.signatures if s.expiration <= facts.observed_at]
    if expired:
        evidence = (f"observed {_when(facts.observed_at)}", *(_shown(s) for s in expired))
        findings.append(META.finding("signature-expired", target=domain, evidence=evidence))
    failed = [v for v in facts.validations if not v.ok]
    if not facts.validations:
        failed_lines = [f"nothing to validate: {keys_line}"]
    else:
        failed_lines = [f"{v.rrset}: {v.error}" for v in failed]
    if failed_lines and not expired:
        early = [s for s in facts.signatures if s.inception > facts.observed_at]
        evidence = (
            *failed_lines,
            *(f"{_shown(s)} (not valid yet)" for s in early),
            *ds_lines,
            keys_line,
        )
        findings.append(META.finding("signature-invalid", target=domain, evidence=evidence))
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    return judge(await ctx.probes.dnssec.observe(target))


CHECK = Check(meta=META, run=run)

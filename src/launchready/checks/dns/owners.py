"""dns.owners: every provider the domain's DNS shows it depends on has a named owner in [owners].

Providers are read from what the audit already resolves: the MX hosts, the SPF record's own
includes and the CNAME targets of the domain's hosts. The DNS host and the registrar are
dns.registration's (it reads them from the registry's RDAP answer), so they are not repeated here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from launchready.config.sections.owners import Owner
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import mx_not_checked
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.email.psl import organizational_domain

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_LAUNCH_HANDOVER = "https://sre.google/sre-book/accelerating-sre-on-call/"
_RFC7208_5_2 = "https://www.rfc-editor.org/rfc/rfc7208#section-5.2"

# Well-known providers by the registrable domain their records point at: (owner key, display name).
KNOWN_PROVIDERS: Mapping[str, tuple[str, str]] = {
    "google.com": ("google", "Google Workspace"),
    "googlemail.com": ("google", "Google Workspace"),
    "outlook.com": ("microsoft", "Microsoft 365"),
    "sendgrid.net": ("sendgrid", "SendGrid"),
    "mtasv.net": ("postmark", "Postmark"),
    "mailgun.org": ("mailgun", "Mailgun"),
    "amazonses.com": ("amazonses", "Amazon SES"),
    "mcsv.net": ("mailchimp", "Mailchimp"),
    "zoho.com": ("zoho", "Zoho Mail"),
    "protonmail.ch": ("proton", "Proton Mail"),
    "herokuapp.com": ("heroku", "Heroku"),
    "herokudns.com": ("heroku", "Heroku"),
    "vercel-dns.com": ("vercel", "Vercel"),
    "vercel.app": ("vercel", "Vercel"),
    "netlify.app": ("netlify", "Netlify"),
    "netlify.com": ("netlify", "Netlify"),
    "github.io": ("github", "GitHub Pages"),
    "cloudfront.net": ("cloudfront", "Amazon CloudFront"),
    "amazonaws.com": ("aws", "Amazon Web Services"),
    "elasticbeanstalk.com": ("aws", "Amazon Web Services"),
    "azurewebsites.net": ("azure", "Microsoft Azure"),
    "fastly.net": ("fastly", "Fastly"),
    "cloudflare.net": ("cloudflare", "Cloudflare"),
    "fly.dev": ("fly", "Fly.io"),
    "onrender.com": ("render", "Render"),
    "shopify.com": ("shopify", "Shopify"),
    "myshopify.com": ("shopify", "Shopify"),
}

META = CheckMeta(
    id="dns.owners",
    title="Owners: every provider the domain depends on has a named owner",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Lists the providers the domain's DNS shows it depends on: the mail servers (MX), the services "
            "its SPF record includes, and where its hosts' CNAMEs point (hosting, CDN, storage). Each one "
            "must have someone named in the [owners] table of launchready.toml, under its kind (`email`, "
            "`hosting`) or its own name (`sendgrid`, `heroku`). Every MX name is read, but CNAMEs only of the "
            "20 most preferred MX hosts; a host fact says how many were not looked up."
        ),
        why=(
            "The outages no monitor prevents are ownership gaps: the mail provider's card expires and "
            "nobody gets the warning, the hosting account belongs to a freelancer who left, the only person "
            "with the dashboard is on holiday. Writing down who holds each account is cheap before launch "
            "and impossible to reconstruct during an incident."
        ),
        fix=(
            "For each provider named in a finding, add who holds its account to launchready.toml: "
            '`[owners]` `email = { name = "Ana Lima", role = "CTO" }` or `sendgrid = "Ana Lima"`. '
            "Names and roles only, never passwords or keys."
        ),
    ),
    findings=(
        FindingSpec(
            id="dns.owners.provider-unowned",
            title="A provider the domain depends on has no named owner",
            severity=Severity.LOW,
            impact=Impact.AVAILABILITY,
            remediation='Name who holds the provider\'s account in launchready.toml: `[owners]` `KIND = "..."`.',
            references=(_LAUNCH_HANDOVER, _RFC7208_5_2),
        ),
    ),
    references=(_LAUNCH_HANDOVER,),
    probes=("dns", "spf"),
)


@dataclass(frozen=True)
class DetectedProvider:
    kind: str  # the [owners] key for its kind: email, hosting
    domain: str  # the registrable domain its records point at (sendgrid.net)
    evidence: tuple[str, ...]

    @property
    def key(self) -> str:
        return KNOWN_PROVIDERS.get(self.domain, (self.domain.split(".")[0], ""))[0]

    @property
    def name(self) -> str:
        return KNOWN_PROVIDERS.get(self.domain, ("", self.domain))[1]


def detect_providers(
    domain: str,
    *,
    mx_hosts: Iterable[str] = (),
    spf_includes: Iterable[str] = (),
    cnames: Iterable[tuple[str, str]] = (),
) -> tuple[DetectedProvider, ...]:
    """Providers outside ``domain`` from its MX hosts, SPF includes and (host, CNAME target) pairs (pure)."""
    own = organizational_domain(domain)
    found: dict[tuple[str, str], list[str]] = {}

    def add(kind: str, name: str, line: str) -> None:
        provider = organizational_domain(name.lower().rstrip("."))
        if provider and provider != own:
            found.setdefault((kind, provider), []).append(line)

    for host in mx_hosts:
        add("email", host, f"MX {domain}: {host}")
    for target in spf_includes:
        add("email", target, f"SPF {domain}: include:{target}")
    for host, target in cnames:
        add("hosting", target, f"CNAME {host}: {target}")
    return tuple(DetectedProvider(kind, provider, tuple(lines)) for (kind, provider), lines in found.items())


def owner_of(provider: DetectedProvider, owners: Mapping[str, str | Owner]) -> str | Owner | None:
    for key in (provider.kind, provider.key, provider.domain):
        if key in owners:
            return owners[key]
    return None


def judge(domain: str, providers: Iterable[DetectedProvider], owners: Mapping[str, str | Owner]) -> list[Finding]:
    """One finding per detected provider nobody is named for (pure)."""
    findings: list[Finding] = []
    for provider in providers:
        if owner_of(provider, owners) is not None:
            continue
        findings.append(
            META.finding(
                "provider-unowned",
                target=f"{domain} ({provider.kind}: {provider.domain})",
                title=f"Nobody is named as holding the {provider.name} account ({provider.kind})",
                evidence=(*provider.evidence, f"launchready.toml [owners]: no '{provider.kind}' or '{provider.key}'"),
                remediation=(
                    f"Name who holds the {provider.name} account in launchready.toml: `[owners]` "
                    f'`{provider.key} = {{ name = "...", role = "..." }}` (or `{provider.kind} = "..."` '
                    f"for every {provider.kind} provider)."
                ),
            )
        )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    tree = await ctx.mail.spf_tree(target)
    includes = tuple(child.domain for child in tree.children if child.via.startswith("include:"))
    cnames = tuple((h.name, h.cname_chain[-1]) for h in ctx.site.hosts if h.cname_chain)
    providers = detect_providers(target, mx_hosts=ctx.site.mx_hosts, spf_includes=includes, cnames=cnames)
    for provider in providers:
        holder = owner_of(provider, ctx.config.owners)
        ctx.facts.add(
            target,
            f"Provider ({provider.kind}): {provider.name}",
            f"held by {holder}" if holder is not None else "no owner named",
            check_id=META.id,
            detail=provider.evidence,
        )
    if ctx.site.mx_omitted:
        # Every MX name is read, but the aliases (CNAMEs) of only the looked-up ones: a provider
        # behind an alias of a less preferred MX host is not seen.
        ctx.facts.add(
            target,
            "Providers read",
            f"{len(providers)} provider(s)",
            check_id=META.id,
            detail=(mx_not_checked(ctx.site.mx_omitted),),
        )
    return judge(target, providers, ctx.config.owners)


CHECK = Check(meta=META, run=run)

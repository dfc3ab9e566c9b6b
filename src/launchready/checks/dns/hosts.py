"""dns.hosts: www and every name the config declares (subdomains, environment hosts) resolve."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC1034_3_6_2 = "https://www.rfc-editor.org/rfc/rfc1034#section-3.6.2"
_RFC1035 = "https://www.rfc-editor.org/rfc/rfc1035"
_MDN_DNS = "https://developer.mozilla.org/en-US/docs/Glossary/DNS"

Role = Literal["www", "declared", "environment"]

META = CheckMeta(
    id="dns.hosts",
    title="www and every declared subdomain resolve",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Asks DNS for the A and AAAA records of www and of every name launchready.toml declares: the "
            "subdomains list and the host of each environment's base URL. A declared name with no address "
            "(and no alias, which dns.cname judges) is reported, and www is reported when the bare domain "
            "serves but www does not exist."
        ),
        why=(
            "The config says which names the product lives on. One that does not resolve is a part of the "
            "product nobody can reach: a sign-in host, the status page, the API the app calls. Many people "
            "type www in front of any domain; without it they get a browser error on launch day."
        ),
        fix=(
            "Publish an A/AAAA record (or a CNAME to your host) for each declared name, e.g. "
            "`app.DOMAIN. 300 IN CNAME your-app.host.example.`, and `www.DOMAIN. 300 IN CNAME DOMAIN.` for www; "
            "remove from the config names you no longer use."
        ),
    ),
    findings=(
        FindingSpec(
            id="dns.hosts.declared-missing",
            title="A name the config declares does not resolve",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation="Publish an A/AAAA record or a CNAME for the name, or remove it from launchready.toml.",
            references=(_RFC1035, _MDN_DNS),
        ),
        FindingSpec(
            id="dns.hosts.www-missing",
            title="www does not resolve although the bare domain serves",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation="Publish `www.<domain>. 300 IN CNAME <domain>.` and redirect www to the bare domain.",
            references=(_RFC1034_3_6_2, _MDN_DNS),
        ),
    ),
    references=(_RFC1035, _RFC1034_3_6_2, _MDN_DNS),
    probes=("dns",),
)


@dataclass(frozen=True)
class NameFacts:
    name: str
    role: Role
    a: DnsAnswer
    aaaa: DnsAnswer
    # The CNAME answer, asked only for names without an address: an alias is dns.cname's to judge.
    cname: DnsAnswer | None = None
    environments: tuple[str, ...] = ()  # environments whose base URL is on this name

    @property
    def resolves(self) -> bool:
        return self.a.ok or self.aaaa.ok

    @property
    def missing(self) -> bool:
        return all(x.status in ("nxdomain", "nodata") for x in (self.a, self.aaaa)) and not (
            self.cname is not None and self.cname.ok
        )

    @property
    def failed(self) -> bool:
        return not self.resolves and (self.a.failed or self.aaaa.failed)


def _status(f: NameFacts) -> str:
    return f"A {f.name}: {f.a.status.upper()}; AAAA {f.name}: {f.aaaa.status.upper()}"


def judge(domain: str, apex: tuple[DnsAnswer, DnsAnswer], names: tuple[NameFacts, ...]) -> list[Finding]:
    """``apex`` is the bare domain's (A, AAAA); ``names`` are www and the declared names."""
    findings: list[Finding] = []
    apex_addresses = apex[0].records + apex[1].records if apex[0].ok or apex[1].ok else ()
    failed: list[str] = []
    for f in names:
        if f.failed:
            failed.append(f"{f.name}: A {f.a.status}, AAAA {f.aaaa.status}")
            continue
        if not f.missing:
            continue
        if f.role == "www":
            if not apex_addresses:
                continue  # no site on the bare domain either: dns.apex reports that
            findings.append(
                META.finding(
                    "www-missing",
                    target=f.name,
                    evidence=[_status(f), f"{domain} resolves to {', '.join(apex_addresses)}"],
                    remediation=(
                        f"Publish `{f.name}. 300 IN CNAME {domain}.` (or A records with {domain}'s addresses) and have "
                        f"the web server redirect https://{f.name}/ to https://{domain}/ (a certificate must cover {f.name})."
                    ),
                )
            )
            continue
        envs = f.environments
        severity = Severity.HIGH if envs else Severity.MEDIUM
        why = (
            f"the base URL of environment(s) {', '.join(envs)}: nobody can reach it"
            if envs
            else "declared in launchready.toml subdomains"
        )
        findings.append(
            META.finding(
                "declared-missing",
                target=f.name,
                severity=severity,
                evidence=[_status(f), f"{f.name} is {why}"],
                remediation=(
                    f"Publish the record your host gives you for {f.name}, e.g. `{f.name}. 300 IN CNAME <your-app>.<host>.` "
                    f"or `{f.name}. 300 IN A <server IP>`"
                    + (
                        ". "
                        if envs
                        else f", or remove {f.name.removesuffix('.' + domain)!r} from subdomains in launchready.toml. "
                    )
                    + "Check afterwards with `dig +short A "
                    + f.name
                    + "`."
                ),
            )
        )
    if failed and not findings:
        raise CouldNotRun("DNS did not answer for " + "; ".join(failed))
    return findings


def declared_names(ctx: AuditContext, domain: str) -> tuple[tuple[str, Role, tuple[str, ...]], ...]:
    """www, then the declared subdomains, then environment hosts under the domain, with their environments."""
    envs: dict[str, list[str]] = {}
    for env_name, env in ctx.config.environments.items():
        host = (env.base_url.host or "").lower().rstrip(".")
        if host == domain or host.endswith("." + domain):
            envs.setdefault(host, []).append(env_name)
    out: dict[str, Role] = {f"www.{domain}": "www"}
    for label in ctx.config.subdomains:
        out.setdefault(label if label.endswith("." + domain) else f"{label}.{domain}", "declared")
    for host in envs:
        if host != domain:
            out[host] = "environment" if out.get(host) != "www" else "www"
    return tuple((n, role, tuple(envs.get(n, ()))) for n, role in out.items())


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    apex = await ctx.dns.addresses(target)

    async def facts(name: str, role: Role, envs: tuple[str, ...]) -> NameFacts:
        a, aaaa = await ctx.dns.addresses(name)
        cname = None if a.ok or aaaa.ok else await ctx.dns.query(name, "CNAME")
        return NameFacts(name, role, a, aaaa, cname, envs)

    names = await asyncio.gather(*(facts(n, r, e) for n, r, e in declared_names(ctx, target)))
    return judge(target, apex, tuple(names))


CHECK = Check(meta=META, run=run)

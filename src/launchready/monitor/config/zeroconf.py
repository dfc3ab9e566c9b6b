"""Zero-config: with a launchready.toml and no ``[[monitor.checks]]``, watch what the audit watches.

- every environment's ``base_url`` + ``health_path`` (an http check, ``[STATUS] < 400``);
- the TLS certificate of every https host: environments' hosts, and the apex and ``www`` of
  ``domain`` when they have an address (alerting 14 days before expiry, as tls.certificate does);
- the domain's MX, SPF and DMARC records as the DNS serves them now, through the same DNS probe
  and flags the audit uses: each becomes a dns check that the record is still served.

Each derived check comes with a sentence saying why, for ``monitor serve`` to print at start.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from launchready.config.model import Config
from launchready.config.sections.monitor import MonitorCheck
from launchready.core.net import NetSettings
from launchready.probes.dns import DnsAnswer, DnsProbe

HEALTH_INTERVAL_S = 60.0
TLS_INTERVAL_S = 3600.0
DNS_INTERVAL_S = 300.0
TLS_CONDITION = "[CERTIFICATE_EXPIRATION] > 14d"


@dataclass(frozen=True)
class DerivedCheck:
    check: MonitorCheck
    why: str

    def __str__(self) -> str:
        return f"{self.check.name}: {self.check.target} ({self.why})"


def _https_hosts(config: Config) -> list[str]:
    hosts: list[str] = []
    for environment in config.environments.values():
        parts = urlsplit(str(environment.base_url))
        if parts.scheme == "https" and parts.hostname:
            hosts.append(parts.hostname.lower())
    return hosts


async def _has_address(dns: DnsProbe, host: str) -> bool:
    a, aaaa = await dns.addresses(host)
    return a.ok or aaaa.ok


def _first(answer: DnsAnswer, prefix: str) -> str | None:
    if not answer.ok:
        return None
    for record in answer.records:
        if record.lower().startswith(prefix):
            return record
    return None


async def derive_checks(config: Config, net: NetSettings) -> list[DerivedCheck]:
    derived: list[DerivedCheck] = []
    for name, environment in config.environments.items():
        url = str(environment.base_url).rstrip("/") + environment.health_path
        check = MonitorCheck(name=f"{name}-health", url=url, interval=HEALTH_INTERVAL_S)
        derived.append(DerivedCheck(check, f"environment {name}'s health route"))

    dns = DnsProbe(net)
    try:
        hosts = dict.fromkeys(_https_hosts(config))
        domain = config.domain
        if domain:
            candidates = [domain, f"www.{domain}"]
            present = await asyncio.gather(*(_has_address(dns, h) for h in candidates))
            hosts.update(dict.fromkeys(h for h, ok in zip(candidates, present, strict=True) if ok))
        for host in hosts:
            check = MonitorCheck(
                name=f"tls-{host}", url=f"tls://{host}:443", interval=TLS_INTERVAL_S, conditions=(TLS_CONDITION,)
            )
            derived.append(DerivedCheck(check, "its certificate stays valid for 14 days or more"))
        if domain:
            derived.extend(await _email_records(config, dns, domain))
    finally:
        await dns.close()
    return derived


async def _email_records(config: Config, dns: DnsProbe, domain: str) -> list[DerivedCheck]:
    mx, txt, dmarc = await asyncio.gather(dns.query(domain, "MX"), dns.txt(domain), dns.txt(f"_dmarc.{domain}"))
    derived: list[DerivedCheck] = []
    if config.email.receives_mail and mx.ok and mx.records:
        check = MonitorCheck(name="dns-mx", url=f"dns://{domain}/MX", expect=mx.records, interval=DNS_INTERVAL_S)
        derived.append(DerivedCheck(check, f"the MX records served now: {', '.join(mx.records)}"))
    if config.email.sends_mail:
        spf = _first(txt, "v=spf1")
        if spf is not None:
            check = MonitorCheck(name="dns-spf", url=f"dns://{domain}/TXT", expect=(spf,), interval=DNS_INTERVAL_S)
            derived.append(DerivedCheck(check, "the SPF record served now"))
        policy = _first(dmarc, "v=dmarc1")
        if policy is not None:
            check = MonitorCheck(
                name="dns-dmarc", url=f"dns://_dmarc.{domain}/TXT", expect=(policy,), interval=DNS_INTERVAL_S
            )
            derived.append(DerivedCheck(check, "the DMARC record served now"))
    return derived

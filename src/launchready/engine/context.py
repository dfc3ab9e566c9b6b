"""What a check sees: the target, the config, the shared probes and the discovered site map."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from launchready.config.model import Config
from launchready.core.dns import MAX_MX_TARGETS, DnsAnswer
from launchready.core.facts import FactBook
from launchready.core.net import NetSettings
from launchready.core.protocols import (
    CnameChains,
    DnsLookup,
    DnssecInspect,
    ErrorTracking,
    GitRepo,
    HttpFetch,
    MailAuth,
    MailTester,
    RdapLookup,
    SiteCrawl,
    TlsInspect,
)
from launchready.probes.alignment import MailAuthProbe
from launchready.probes.cname import CnameProbe
from launchready.probes.crawl import CrawlProbe
from launchready.probes.dns import DnsProbe
from launchready.probes.dnssec import DnssecProbe
from launchready.probes.errortracking import ErrorTrackingProbe
from launchready.probes.git import GitProbe
from launchready.probes.http import HttpProbe
from launchready.probes.rdap import RdapProbe
from launchready.probes.tls import TlsProbe


@dataclass(frozen=True)
class HostInfo:
    """One name under the domain that answered in DNS, and how it was found."""

    name: str
    a: DnsAnswer
    aaaa: DnsAnswer
    found_by: str  # "apex", "www", "config", "common-name", "mx"

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.a.records + self.aaaa.records

    @property
    def cname_chain(self) -> tuple[str, ...]:
        return self.a.chain[1:] if len(self.a.chain) > 1 else self.aaaa.chain[1:]

    @property
    def has_address(self) -> bool:
        return bool(self.addresses)


@dataclass(frozen=True)
class SiteMap:
    domain: str
    hosts: tuple[HostInfo, ...]
    mx: DnsAnswer
    # MX targets discovery did not look up (beyond the MAX_MX_TARGETS most preferred).
    mx_omitted: int = 0

    @property
    def mx_hosts(self) -> tuple[str, ...]:
        """The MX targets (a null MX "0 ." yields none)."""
        return self.mx.mx_hosts

    @property
    def omitted_notes(self) -> tuple[str, ...]:
        """What discovery left out, in words for the DNS map and the report."""
        if not self.mx_omitted:
            return ()
        return (
            f"{self.mx_omitted} more MX host(s) not looked up (only the {MAX_MX_TARGETS} most preferred "
            "were: senders never try further down the list)",
        )

    @property
    def web_hosts(self) -> tuple[str, ...]:
        """Hosts that resolve to an address, apex first: the ones web checks fan out over.

        Mail exchangers are left out: they speak SMTP, and a missing website there is no risk.
        """
        mail = set(self.mx_hosts)
        return tuple(h.name for h in self.hosts if h.has_address and h.name not in mail)

    @property
    def domain_missing(self) -> bool:
        """The apex is NXDOMAIN: the domain is not registered or not delegated."""
        apex = self.host(self.domain)
        return apex is not None and apex.a.status == "nxdomain" and apex.aaaa.status == "nxdomain"

    def host(self, name: str) -> HostInfo | None:
        for h in self.hosts:
            if h.name == name:
                return h
        return None


@dataclass
class Probes:
    """The run's shared probes; identical questions within a run are asked once.

    Checks see each one through its Protocol (``core/protocols.py``), never the concrete class.
    """

    dns: DnsLookup
    http: HttpFetch
    tls: TlsInspect
    crawl: SiteCrawl
    cname: CnameChains
    mail: MailAuth
    git: GitRepo
    dnssec: DnssecInspect
    rdap: RdapLookup
    errors: ErrorTracking
    # Closed in this order when the run ends (the crawl before the HTTP client it uses, DNS last).
    closers: tuple[Callable[[], Awaitable[None]], ...] = ()

    @classmethod
    def open(cls, net: NetSettings) -> Probes:
        dns = DnsProbe(net)
        http = HttpProbe(net, dns)
        tls = TlsProbe(net, dns)
        crawl = CrawlProbe(http)
        dnssec = DnssecProbe(net)
        rdap = RdapProbe(net, http)
        return cls(
            dns=dns,
            http=http,
            tls=tls,
            crawl=crawl,
            cname=CnameProbe(dns),
            mail=MailAuthProbe(dns),
            git=GitProbe(),
            dnssec=dnssec,
            rdap=rdap,
            errors=ErrorTrackingProbe(http),
            closers=(rdap.close, dnssec.close, crawl.close, http.close, tls.close, dns.close),
        )

    async def close(self) -> None:
        for close in self.closers:
            await close()


@dataclass(frozen=True)
class AuditContext:
    domain: str
    config: Config
    net: NetSettings
    probes: Probes
    site: SiteMap
    repo: Path | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Per-host measurements checks contribute for the report (core/facts.py); never findings.
    facts: FactBook = field(default_factory=FactBook)
    # The mail test (mailtest/run.py), given by the caller when [email] test is on; the engine
    # imports no feature, so it cannot make one itself.
    mail_test: MailTester | None = None

    @property
    def dns(self) -> DnsLookup:
        return self.probes.dns

    @property
    def http(self) -> HttpFetch:
        return self.probes.http

    @property
    def tls(self) -> TlsInspect:
        return self.probes.tls

    @property
    def crawl(self) -> SiteCrawl:
        return self.probes.crawl

    @property
    def cname(self) -> CnameChains:
        return self.probes.cname

    @property
    def mail(self) -> MailAuth:
        return self.probes.mail

    @property
    def git(self) -> GitRepo:
        return self.probes.git

    @property
    def errors(self) -> ErrorTracking:
        return self.probes.errors

"""What a check may ask the run's probes, as small Protocols (sslyze's plugin interface,
pip-audit's ``interface.py``).

Checks see the probes only through these types (``engine/context.py`` exposes them), so a
check never imports a concrete probe class and never does I/O itself; a test can hand a check
any object with these methods. The answers are the frozen facts in ``core/`` (``core/dns.py``,
``core/http.py``, ``core/tls.py``, ``core/crawl.py``, ``core/repo.py``) and the record types
of the pure parsing library ``email/`` (which imports nothing but itself).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from launchready.core.crawl import CrawlLimits, CrawlResult, Visit
from launchready.core.dns import CnameChain, DnsAnswer, ServerAnswer
from launchready.core.dnssec import DnssecFacts
from launchready.core.errortracking import Dsn, DsnDelivery
from launchready.core.http import HttpExchange
from launchready.core.mail_test import MailTestFacts
from launchready.core.net import DeclaredHosts
from launchready.core.rdap import RdapFacts
from launchready.core.repo import FileTexts, RepoFiles
from launchready.core.tls import TlsFacts

if TYPE_CHECKING:
    from launchready.email.alignment import SenderFacts
    from launchready.email.spf_facts import SenderVerdict, SpfNode


class DnsLookup(Protocol):
    """The run's DNS: cached, one answer per (name, type) per run."""

    async def query(self, name: str, rdtype: str) -> DnsAnswer: ...

    async def addresses(self, name: str) -> tuple[DnsAnswer, DnsAnswer]: ...

    async def txt(self, name: str) -> DnsAnswer: ...

    async def query_server(self, server: str, name: str, rdtype: str) -> tuple[ServerAnswer, ...]: ...


class HttpFetch(Protocol):
    """The run's HTTP client: one exchange per request, redirects never followed by ``fetch``."""

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
        max_body: int = 1_000_000,
        use_cache: bool = True,
    ) -> HttpExchange: ...

    async def follow(
        self, url: str, *, max_hops: int = 10, verify_tls: bool = True, within: DeclaredHosts | None = None
    ) -> tuple[HttpExchange, ...]: ...


class TlsInspect(Protocol):
    async def handshake(self, host: str, port: int = 443) -> TlsFacts: ...

    async def accepts_protocol(self, host: str, port: int, version: ssl.TLSVersion) -> bool | None: ...


class SiteCrawl(Protocol):
    """Bounded same-site crawls (one per host per run) and the same rules for a single URL."""

    async def crawl(
        self, domain: str, host: str, starts: tuple[str, ...], limits: CrawlLimits = CrawlLimits()
    ) -> CrawlResult: ...

    async def follow_in_site(self, domain: str, url: str, *, max_hops: int = 10) -> Visit: ...


class CnameChains(Protocol):
    async def follow_all(self, names: tuple[str, ...]) -> tuple[CnameChain, ...]: ...


class MailAuth(Protocol):
    """SPF evaluation over the run's DNS, and what DNS says about each declared sender's alignment."""

    async def spf_tree(self, domain: str) -> SpfNode: ...

    async def evaluate_sender(self, domain: str, sender: str, mechanism: str, tree: SpfNode) -> SenderVerdict: ...

    async def sender_facts(
        self, domain: str, senders: tuple[tuple[str, str], ...], declared_selectors: tuple[str, ...]
    ) -> tuple[SenderFacts, ...]: ...


class GitRepo(Protocol):
    """A repository's files as git sees them, and their text."""

    async def files(self, root: Path) -> RepoFiles: ...

    async def worktree(self, root: Path) -> tuple[str, ...]:
        """Files git tracks or would add (every file, for a directory git does not know)."""
        ...

    async def read_texts(self, root: Path, names: Sequence[str], max_bytes: int) -> FileTexts: ...


class DnssecInspect(Protocol):
    """The zone's DNSSEC chain as served: DS at the parent, DNSKEYs, signatures, validation."""

    async def observe(self, domain: str) -> DnssecFacts: ...


class RdapLookup(Protocol):
    """The domain's registration as its registry's RDAP server answers it."""

    async def lookup(self, domain: str) -> RdapFacts: ...


class MailTester(Protocol):
    """The mail test (``mailtest/run.py``): runs an environment's mail-triggering smoke flows and
    judges every message they make the product send. Given to the audit only when ``[email] test``
    is on; never raises for a flow, a mailbox or a message (problems are in the facts).

    ``domain``: the audited domain, which a flow's redirects may reach besides the configuration's
    domain and the environments' hosts (as ``app.smoke`` plans its flows)."""

    async def test(self, environment: str, *, domain: str | None = None) -> MailTestFacts: ...


class ErrorTracking(Protocol):
    """Whether an error-tracking DSN accepts an event: one test event per DSN per run."""

    async def send_test_event(self, dsn: Dsn) -> DsnDelivery: ...

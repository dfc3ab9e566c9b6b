"""A bounded same-site crawler: what pages link to, and what each link answers.

Safety rules, each enforced here rather than trusted to callers:

- Only GET is ever sent (through ``HttpProbe.fetch``), never a form submission.
- Nothing outside the site is ever requested: a URL is fetched only when its host is the
  audited domain or a name under it, and its scheme is http or https. A redirect that leaves the
  site is recorded as the hop's Location and not followed.
- Only pages on the start host are expanded (their links read); links to other hosts of the
  site are fetched once to see whether they work, and those hosts get crawls of their own.
- Bounds: ``max_pages`` fetched URLs (every redirect hop counts), ``max_depth`` link levels
  from the start pages, ``max_links_per_page`` links read from one page, ``max_body`` bytes
  read from one response, and at most ``rate`` new requests per second.

The crawl is a fact (``CrawlResult``); the web.links, web.mixed-content and web.caching checks
judge it. One crawl per (start host) per run, shared by every check that asks.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urljoin, urlsplit

from launchready.core.crawl import SUBRESOURCE_KINDS as SUBRESOURCE_KINDS
from launchready.core.crawl import CrawlLimits as CrawlLimits
from launchready.core.crawl import CrawlResult as CrawlResult
from launchready.core.crawl import Link as Link
from launchready.core.crawl import LinkKind as LinkKind
from launchready.core.crawl import Visit as Visit
from launchready.core.crawl import in_site as in_site
from launchready.core.crawl import normalise as normalise
from launchready.probes.flight import single_flight
from launchready.probes.http import HttpExchange, HttpProbe

_MAX_REDIRECTS = 10


# --- HTML link extraction ----------------------------------------------------------------------

_ATTRS: dict[tuple[str, str], LinkKind] = {
    ("a", "href"): "a",
    ("area", "href"): "a",
    ("form", "action"): "form",
    ("script", "src"): "script",
    ("img", "src"): "img",
    ("iframe", "src"): "iframe",
    ("frame", "src"): "iframe",
    ("audio", "src"): "media",
    ("video", "src"): "media",
    ("video", "poster"): "img",
    ("source", "src"): "media",
    ("track", "src"): "media",
    ("embed", "src"): "media",
    ("object", "data"): "media",
}


class _LinkParser(HTMLParser):
    """Collects (url, kind, tag) from the attributes that make a browser navigate or load."""

    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, LinkKind, str, bool]] = []
        self.cut = 0
        self._limit = limit
        self.base: str | None = None

    def _add(self, url: str | None, kind: LinkKind, tag: str, integrity: bool = False) -> None:
        if not url or not url.strip():
            return
        if len(self.found) >= self._limit:
            self.cut += 1
            return
        self.found.append((url.strip(), kind, tag, integrity))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value for name, value in attrs}
        integrity = bool((values.get("integrity") or "").strip())
        if tag == "base" and self.base is None:
            self.base = values.get("href")
            return
        if tag == "link":
            rel = (values.get("rel") or "").lower().split()
            kind: LinkKind = "other"
            if "stylesheet" in rel:
                kind = "style"
            elif "icon" in rel or "apple-touch-icon" in rel:
                kind = "icon"
            elif "preload" in rel or "modulepreload" in rel:
                as_ = (values.get("as") or "").lower()
                kind = {"script": "script", "style": "style", "font": "font", "image": "img"}.get(as_, "other")  # type: ignore[assignment]
            if kind != "other":
                self._add(values.get("href"), kind, "link href", integrity)
            return
        for (tag_name, attr), kind_for in _ATTRS.items():
            if tag == tag_name and attr in values:
                self._add(values[attr], kind_for, f"{tag} {attr}", integrity and tag == "script")
        if tag in ("img", "source") and values.get("srcset"):
            for candidate in (values["srcset"] or "").split(","):
                url = candidate.strip().split(" ")[0]
                self._add(url, "img", f"{tag} srcset")


def extract_links(page_url: str, html: str, limit: int = 1000) -> tuple[list[tuple[str, LinkKind, str]], int]:
    """Absolute URLs referenced by ``html`` (served at ``page_url``), and how many were cut by ``limit``."""
    found, cut = extract_links_detailed(page_url, html, limit)
    return [(url, kind, tag) for url, kind, tag, _ in found], cut


def extract_links_detailed(
    page_url: str, html: str, limit: int = 1000
) -> tuple[list[tuple[str, LinkKind, str, bool]], int]:
    """As :func:`extract_links`, each with whether its tag carries an ``integrity`` attribute."""
    found, cut, _ = extract_links_checked(page_url, html, limit)
    return found, cut


def _join(base: str, ref: str) -> tuple[str | None, str | None]:
    """(absolute normalised URL or None when not followable, why ``ref`` cannot be parsed or None)."""
    try:
        return normalise(urljoin(base, ref)), None
    except ValueError as exc:  # "http://[::1", "http://[zz]/": urllib refuses the authority
        return None, str(exc) or type(exc).__name__


def extract_links_checked(
    page_url: str, html: str, limit: int = 1000
) -> tuple[list[tuple[str, LinkKind, str, bool]], int, list[tuple[str, LinkKind, str, str]]]:
    """As :func:`extract_links_detailed`, plus the references no URL parser accepts: (raw, kind, tag, why).

    A ``<base href>`` that does not parse is ignored, as browsers do, and listed among them.
    """
    parser = _LinkParser(limit)
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient; be safe anyway
        pass
    invalid: list[tuple[str, LinkKind, str, str]] = []
    base = page_url
    if parser.base:
        try:
            base = urljoin(page_url, parser.base)
        except ValueError as exc:
            invalid.append((parser.base.strip(), "other", "base href", str(exc) or type(exc).__name__))
    out: list[tuple[str, LinkKind, str, bool]] = []
    seen: set[tuple[str, str]] = set()
    for raw, kind, tag, integrity in parser.found:
        lowered = raw.lower()
        if lowered.startswith(("javascript:", "mailto:", "tel:", "data:", "#", "about:", "blob:")):
            continue
        absolute, why = _join(base, raw)
        if why is not None:
            invalid.append((raw, kind, tag, why))
            continue
        if absolute is None or (absolute, kind) in seen:
            continue
        seen.add((absolute, kind))
        out.append((absolute, kind, tag, integrity))
    return out, parser.cut, invalid


def _links_of(
    page: str, body: bytes, limit: int
) -> tuple[list[tuple[str, LinkKind, str, bool]], int, list[tuple[str, LinkKind, str, str]]]:
    return extract_links_checked(page, body.decode("utf-8", "replace"), limit)


def _is_html(exchange: HttpExchange) -> bool:
    ctype = (exchange.header("content-type") or "").lower()
    return "text/html" in ctype or "application/xhtml" in ctype


# --- the crawl -----------------------------------------------------------------------------


@dataclass
class _Pacer:
    """At most ``rate`` request starts per second across the crawl's workers."""

    rate: float
    _next: float = field(default=0.0)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def wait(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + 1.0 / self.rate
        if delay > 0:
            await asyncio.sleep(delay)


class _Crawl:
    def __init__(self, http: HttpProbe, domain: str, host: str, limits: CrawlLimits) -> None:
        self.http = http
        self.domain = domain
        self.host = host.lower().rstrip(".")
        self.limits = limits
        self.pacer = _Pacer(limits.rate)
        self.requests = 0
        self.budget_hit = False
        self.depth_hit = False
        self.links_cut = 0
        self.off_site = 0
        self.visits: dict[str, Visit] = {}
        self.links: list[Link] = []
        self.unparsable: list[tuple[Link, str]] = []

    def _budget_left(self) -> bool:
        if self.requests >= self.limits.max_pages:
            self.budget_hit = True
            return False
        return True

    async def _get(self, url: str, *, reserved: bool = False) -> HttpExchange:
        if not reserved:
            self.requests += 1
        await self.pacer.wait()
        exchange = await self.http.fetch(url, method="GET", max_body=self.limits.max_body)
        if exchange.status is None and exchange.error_kind == "tls":
            # The certificate is tls.certificate's finding; the links behind it still matter.
            exchange = await self.http.fetch(url, method="GET", max_body=self.limits.max_body, verify_tls=False)
        return exchange

    async def visit(self, url: str, depth: int, *, reserved: bool = False) -> Visit:
        """Fetch ``url`` and its in-site redirects; ``reserved``: the scheduler already counted the first request."""
        hops: list[HttpExchange] = []
        seen = {url}
        current = url
        stop: Literal["loop", "max-hops", "off-site", "budget", "bad-location"] | None = None
        while True:
            exchange = await self._get(current, reserved=reserved and not hops)
            hops.append(exchange)
            if exchange.error or not exchange.is_redirect:
                break
            target, _ = _join(current, exchange.location or "")
            if not exchange.location or target is None:
                stop = "bad-location"
                break
            if not in_site(urlsplit(target).hostname or "", self.domain):
                stop = "off-site"
                break
            if target in seen:
                stop = "loop"
                break
            if len(hops) > _MAX_REDIRECTS:
                stop = "max-hops"
                break
            if not self._budget_left():
                stop = "budget"
                break
            seen.add(target)
            current = target
        result = Visit(url=url, depth=depth, hops=tuple(hops), stop=stop)
        self.visits[url] = result
        return result

    def _expandable(self, visit: Visit) -> bool:
        final = visit.final
        final_host = (urlsplit(final.url).hostname or "").lower()
        return final.status == 200 and final_host == self.host and _is_html(final) and visit.stop is None

    async def run(self, starts: tuple[str, ...]) -> CrawlResult:
        queue: deque[tuple[str, int]] = deque()
        queued: set[str] = set()
        for start in starts:
            url = normalise(start)
            if url is not None and url not in queued and in_site(urlsplit(url).hostname or "", self.domain):
                queue.append((url, 0))
                queued.add(url)
        active: set[asyncio.Task[None]] = set()

        async def work(url: str, depth: int) -> None:
            visit = await self.visit(url, depth, reserved=True)
            if not self._expandable(visit):
                return
            if depth >= self.limits.max_depth:
                self.depth_hit = True
                return
            page = visit.final.url
            # Parsing a 1 MB page takes long enough to starve the loop (DNS checks then time out): a thread does it.
            found, cut, invalid = await asyncio.to_thread(
                _links_of, page, visit.final.body, self.limits.max_links_per_page
            )
            self.links_cut += cut
            # No request can be made to these: kept apart from ``links`` (whose URLs every check may parse).
            self.unparsable.extend(
                (Link(page=page, url=raw, kind=kind, tag=tag), why) for raw, kind, tag, why in invalid
            )
            for link_url, kind, tag, integrity in found:
                self.links.append(Link(page=page, url=link_url, kind=kind, tag=tag, integrity=integrity))
                if kind == "form":
                    continue  # a form's action expects a submission; the crawler never sends one
                if not in_site(urlsplit(link_url).hostname or "", self.domain):
                    self.off_site += 1
                    continue
                if link_url not in queued:
                    queued.add(link_url)
                    queue.append((link_url, depth + 1))

        while queue or active:
            while queue and len(active) < self.limits.concurrency:
                if not self._budget_left():
                    queue.clear()
                    break
                url, depth = queue.popleft()
                self.requests += 1  # reserved now, so concurrent workers cannot overshoot the budget
                task = asyncio.ensure_future(work(url, depth))
                active.add(task)
            if not active:
                break
            done, _ = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                active.discard(task)
                task.result()  # a bug here should surface, not vanish
        return CrawlResult(
            start=starts,
            host=self.host,
            visits=tuple(self.visits.values()),
            links=tuple(self.links),
            page_budget_hit=self.budget_hit,
            depth_limit_hit=self.depth_hit,
            links_cut=self.links_cut,
            off_site_links=self.off_site,
            requests=self.requests,
            unparsable=tuple(self.unparsable),
        )


async def crawl(
    http: HttpProbe, domain: str, host: str, starts: tuple[str, ...], limits: CrawlLimits = CrawlLimits()
) -> CrawlResult:
    """Crawl ``host`` from ``starts`` (absolute URLs) within ``limits``; never leaves ``domain``."""
    return await _Crawl(http, domain, host, limits).run(starts)


class CrawlProbe:
    """One crawl per (domain, host, start pages, limits) per run, shared by the checks that read it."""

    def __init__(self, http: HttpProbe) -> None:
        self._http = http
        self._crawls: dict[tuple[str, str, tuple[str, ...], CrawlLimits], asyncio.Task[CrawlResult]] = {}

    async def crawl(
        self, domain: str, host: str, starts: tuple[str, ...], limits: CrawlLimits = CrawlLimits()
    ) -> CrawlResult:
        key = (domain.lower().rstrip("."), host.lower().rstrip("."), starts, limits)
        return await single_flight(self._crawls, key, lambda: crawl(self._http, *key))

    async def follow_in_site(self, domain: str, url: str, *, max_hops: int = _MAX_REDIRECTS) -> Visit:
        return await follow_in_site(self._http, domain, url, max_hops=max_hops)

    async def close(self) -> None:
        for task in self._crawls.values():
            if not task.done():
                task.cancel()


async def follow_in_site(http: HttpProbe, domain: str, url: str, *, max_hops: int = _MAX_REDIRECTS) -> Visit:
    """GET ``url`` and its redirects while they stay inside ``domain`` (the crawler's rules, one URL)."""
    host = urlsplit(url).hostname or domain
    limits = CrawlLimits(max_pages=max_hops + 1, max_depth=0, rate=0)
    return await _Crawl(http, domain, host, limits).visit(normalise(url) or url, 0)

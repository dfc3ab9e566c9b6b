"""Crawl facts: the pages a bounded same-site crawl visited and the links it found on them.

``in_site`` and ``normalise`` are the pure URL rules the crawler and the web checks share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urldefrag, urlsplit

from launchready.core.http import HttpExchange

LinkKind = Literal["a", "form", "script", "style", "img", "media", "iframe", "font", "icon", "other"]

# What a browser loads by itself when it renders the page (mixed content rules apply to these).
SUBRESOURCE_KINDS: frozenset[str] = frozenset({"script", "style", "img", "media", "iframe", "font", "icon", "form"})


@dataclass(frozen=True)
class CrawlLimits:
    max_pages: int = 200
    max_depth: int = 3
    rate: float = 10.0  # new requests per second
    max_links_per_page: int = 1000
    max_body: int = 2_000_000
    concurrency: int = 4


@dataclass(frozen=True)
class Link:
    """One reference found on a page, resolved to an absolute URL (fragment dropped)."""

    page: str  # the page (final URL) it was found on
    url: str
    kind: LinkKind
    tag: str  # e.g. "script src", "a href"
    # The tag carries a non-empty integrity attribute (Subresource Integrity; scripts and styles).
    integrity: bool = False


@dataclass(frozen=True)
class Visit:
    """One URL the crawler requested and every redirect hop it took (each hop a real exchange)."""

    url: str
    depth: int
    hops: tuple[HttpExchange, ...]
    # Set when following stopped on something other than a final answer.
    stop: Literal["loop", "max-hops", "off-site", "budget", "bad-location"] | None = None

    @property
    def final(self) -> HttpExchange:
        return self.hops[-1]

    @property
    def redirects(self) -> int:
        return sum(1 for h in self.hops if h.is_redirect)


@dataclass(frozen=True)
class CrawlResult:
    start: tuple[str, ...]
    host: str
    visits: tuple[Visit, ...]
    links: tuple[Link, ...]
    # Bounds that cut the crawl short: worth saying in evidence ("200 pages crawled, more exist").
    page_budget_hit: bool = False
    depth_limit_hit: bool = False
    links_cut: int = 0  # links on pages beyond max_links_per_page
    off_site_links: int = 0
    requests: int = 0
    # References on crawled pages that no URL parser accepts ("http://[::1"), with the parser's reason.
    unparsable: tuple[tuple[Link, str], ...] = ()

    def visit(self, url: str) -> Visit | None:
        for v in self.visits:
            if v.url == url:
                return v
        return None

    def links_to(self, url: str) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.url == url)


def in_site(host: str, domain: str) -> bool:
    host = host.lower().rstrip(".")
    domain = domain.lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


def normalise(url: str) -> str | None:
    """The URL without fragment, with a path; None for schemes the crawler never follows."""
    url, _ = urldefrag(url.strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path or "/"
    rebuilt = f"{parts.scheme}://{parts.netloc.lower()}{path}"
    return rebuilt + (f"?{parts.query}" if parts.query else "")

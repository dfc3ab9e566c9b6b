"""perf.cache's judges on facts: revalidation that works, that does not, and a CDN that never hits."""

from __future__ import annotations

from launchready.checks.perf.cache import asset_urls, judge_cdn, judge_revalidation
from launchready.probes.http import HttpExchange

CSS = "https://example.com/static/app.css"


def ex(url: str, status: int, *headers: tuple[str, str], body: bytes = b"x" * 100) -> HttpExchange:
    return HttpExchange(url=url, method="GET", status=status, headers=headers, body=body, body_size=len(body))


def test_304_on_revalidation_is_clean() -> None:
    first = ex(CSS, 200, ("etag", '"abc"'))
    assert judge_revalidation(first, ex(CSS, 304, body=b"")) is None


def test_a_full_200_on_revalidation_is_a_finding() -> None:
    first = ex(CSS, 200, ("etag", '"abc"'))
    finding = judge_revalidation(first, ex(CSS, 200, ("etag", '"abc"')))
    assert finding is not None and finding.id == "perf.cache.no-revalidation" and finding.target == CSS
    assert "If-None-Match -> 200, 100 bytes (expected 304 Not Modified)" in finding.evidence[1]
    last_modified = ex(CSS, 200, ("last-modified", "Wed, 21 Oct 2025 07:28:00 GMT"))
    again = judge_revalidation(last_modified, ex(CSS, 200))
    assert again is not None and "If-Modified-Since" in again.evidence[1]


def test_cdn_that_never_hits_a_cacheable_asset() -> None:
    cacheable = ("cache-control", "public, max-age=31536000")
    misses = [ex(CSS, 200, cacheable, ("cf-cache-status", "MISS")) for _ in range(3)]
    finding = judge_cdn(misses)
    assert finding is not None and finding.id == "perf.cache.cdn-miss"
    assert finding.evidence == (
        "request 1: cf-cache-status: MISS",
        "request 2: cf-cache-status: MISS",
        "request 3: cf-cache-status: MISS",
    )
    warmed = misses[:2] + [ex(CSS, 200, cacheable, ("cf-cache-status", "HIT"))]
    assert judge_cdn(warmed) is None
    private = [ex(CSS, 200, ("cache-control", "private, no-store"), ("x-cache", "MISS")) for _ in range(3)]
    assert judge_cdn(private) is None


def test_asset_urls_are_same_host_stylesheets_scripts_and_images() -> None:
    page = ex(
        "https://example.com/",
        200,
        body=(
            b'<link rel="stylesheet" href="/static/a.css"><link rel="icon" href="/f.ico">'
            b'<script src="static/b.js"></script><img src="https://cdn.other.test/c.png"><img src="/d.png">'
        ),
    )
    assert asset_urls(page) == [
        "https://example.com/static/a.css",
        "https://example.com/static/b.js",
        "https://example.com/d.png",
    ]

"""web.redirect-map: every old URL in the config's redirect map redirects, once, to its new URL."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from launchready.checks.web.crawled import listed
from launchready.config.model import RedirectEntry
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.crawl import Visit, in_site, normalise
from launchready.core.errors import NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_GOOGLE_REDIRECTS = "https://developers.google.com/search/docs/crawling-indexing/301-redirects"
_RFC9110_REDIRECT = "https://www.rfc-editor.org/rfc/rfc9110#section-15.4"
_DOCS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Redirections"

META = CheckMeta(
    id="web.redirect-map",
    title="Old URLs from the redirect map redirect cleanly to their new place",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "For every entry of the config's redirect map ([[redirects]] tables or a CSV: old, new, status), "
            "requests the old URL (a path is taken on the apex, over https) without following redirects off the "
            "domain, and checks the first answer is the expected status and that the chain ends, in one hop, at "
            "the new URL with a 200. Each broken entry is listed with its file:line."
        ),
        why=(
            "A relaunch that moves pages breaks every old link at once: search results, newsletters, partner "
            "sites and bookmarks land on a 404 and the ranking those URLs earned is lost. Nobody notices until "
            "traffic drops, and no other tool checks a redirect map entry by entry."
        ),
        fix=(
            "Add one redirect per entry with the expected status (nginx `location = /old { return 301 /new$is_args$args; }`, "
            "Netlify `_redirects`: `/old /new 301`, Vercel `redirects` in vercel.json), straight to the final URL."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.redirect-map.broken",
            title="Old links break instead of redirecting cleanly",
            severity=Severity.MEDIUM,
            impact=Impact.SIGNUP,
            remediation="Add or fix the redirect for each listed entry, with the status the map expects, in one hop.",
            references=(_GOOGLE_REDIRECTS, _RFC9110_REDIRECT),
        ),
    ),
    references=(_GOOGLE_REDIRECTS, _DOCS),
    probes=("http",),
)


def absolute(domain: str, ref: str) -> str:
    return ref if ref.startswith(("http://", "https://")) else f"https://{domain}{ref}"


def problem(entry: RedirectEntry, domain: str, visit: Visit) -> str | None:
    """What is wrong with one entry's observed chain, or None when it redirects as the map says."""
    first = visit.hops[0]
    if first.status is None:
        return f"no answer ({first.error or first.error_kind})"
    if not first.is_redirect:
        return f"answers {first.status} instead of redirecting"
    if first.status != entry.status:
        return f"answers {first.status}, expected {entry.status}"
    expected = normalise(absolute(domain, entry.new))
    landed = normalise(urljoin(first.url, first.location or ""))
    if landed is None or expected is None:
        return f"redirects to an unusable Location {first.location!r}"

    def same(a: str, b: str) -> bool:
        # The query of the old URL may be kept: compare scheme, host and path only.
        pa, pb = urlsplit(a), urlsplit(b)
        return (pa.scheme, pa.netloc, pa.path) == (pb.scheme, pb.netloc, pb.path)

    if not same(landed, expected):
        if any(same(normalise(urljoin(h.url, h.location or "")) or "", expected) for h in visit.hops if h.is_redirect):
            return f"reaches {entry.new} only after {visit.redirects} redirects"
        return f"redirects to {landed}, expected {expected}"
    final = visit.final
    if visit.stop == "off-site" or not in_site(urlsplit(expected).hostname or "", domain):
        return None  # the new URL is elsewhere (another site): not ours to fetch
    if visit.redirects > 1:
        return f"reaches {entry.new} only after {visit.redirects} redirects"
    if final.status != 200:
        return f"the new URL answers {final.status if final.status is not None else final.error}"
    return None


def judge(domain: str, results: list[tuple[RedirectEntry, Visit]]) -> list[Finding]:
    broken = []
    for entry, visit in results:
        why = problem(entry, domain, visit)
        if why:
            broken.append(f"{entry.source or 'config'}: {entry.old} -> {entry.new} ({entry.status}): {why}")
    if not broken:
        return []
    return [
        META.finding(
            "broken",
            target=domain,
            evidence=[f"{len(broken)} of {len(results)} redirect map entries broken", *listed(broken, 20)],
            title=f"{len(broken)} old link(s) break instead of redirecting cleanly",
        )
    ]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    entries = ctx.config.redirects
    if not entries:
        raise NotApplicable('no redirect map in the config ([[redirects]] or redirects = "file.csv")')
    limit = asyncio.Semaphore(8)

    async def one(entry: RedirectEntry) -> tuple[RedirectEntry, Visit]:
        async with limit:
            return entry, await ctx.crawl.follow_in_site(target, absolute(target, entry.old), max_hops=5)

    return judge(target, list(await asyncio.gather(*(one(e) for e in entries))))


CHECK = Check(meta=META, run=run)

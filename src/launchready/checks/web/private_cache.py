"""web.private-cache: a response that starts a session must never be stored by a shared cache."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from launchready.checks.web.crawled import crawl_host
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.headers import CacheControl as CacheControl
from launchready.core.http import HttpExchange
from launchready.core.severity import Confidence, Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC9111_SHARED = "https://www.rfc-editor.org/rfc/rfc9111#section-3"
_RFC9111_CC = "https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2"
_MDN_CC = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control"
_MDN_CACHING = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Caching"
_RFC9111_AUTH = "https://www.rfc-editor.org/rfc/rfc9111#section-3.5"
_MDN_VARY = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Vary"
# Request headers whose presence in Vary says the page differs per visitor's session.
_PERSONAL_VARY = frozenset({"cookie", "authorization"})

# Pages that set a session on a typical MVP: home (anonymous session), login (CSRF + session),
# and member pages a redirect-to-login may still cookie.
PATHS: tuple[str, ...] = ("/", "/login", "/dashboard", "/account")

_FIX = (
    "Send `Cache-Control: private, no-store` on every response that sets a cookie or shows member data "
    "(Django: @never_cache / patch_cache_control(private=True, no_store=True); Rails: "
    '`response.headers["Cache-Control"] = "private, no-store"`; Express: '
    '`res.set("Cache-Control", "private, no-store")`; nginx in front of the app: remove any '
    "`proxy_ignore_headers Set-Cookie` / `add_header Cache-Control public`). At the CDN, bypass the cache "
    "whenever a session cookie is present or the response sets one (Cloudflare: a Cache Rule 'Bypass cache' "
    "when the Cookie header contains your session cookie; Fastly/Varnish: `return(pass)` on Cookie and "
    "never cache beresp with Set-Cookie)."
)

META = CheckMeta(
    id="web.private-cache",
    title="Pages that set a session cookie are not cacheable by CDNs or proxies",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Fetches the home page, /login, /dashboard, /account and the [web] key_pages of every web host "
            "without cookies, plus every HTML page the crawl reached, and flags any response that sets a cookie "
            "while its Cache-Control lets a shared cache (CDN, reverse proxy, corporate proxy) store it: "
            "`public`, `s-maxage` above zero, or `max-age` above zero without `private` or `no-store`. It also "
            "flags HTML that sets no cookie but declares itself per-member (`Vary: Cookie` or `Vary: "
            "Authorization`) while shared caches may store it. Pages that answer 404 are ignored. Limit: pages "
            "are fetched without a session (the smoke flows' login is not reused here), so a member page that "
            "varies by cookie without saying so in Vary is not seen."
        ),
        why=(
            "A shared cache keeps one copy and hands it to everyone. If that copy carries a Set-Cookie or a "
            "member's page, the next visitors receive someone else's session and are logged in as them: "
            "a data leak that goes viral on launch day, and a classic CDN misconfiguration."
        ),
        fix=(
            "Mark every response that sets a cookie or shows member data `Cache-Control: private, no-store`, "
            "and configure the CDN to bypass its cache whenever a session cookie is present. Cache only "
            "anonymous, cookie-free responses (static assets, public marketing pages)."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.private-cache.shared-cacheable",
            title="A page that sets a session cookie may be stored and served to others by a shared cache",
            severity=Severity.BLOCKER,
            impact=Impact.DATA_EXPOSURE,
            remediation=_FIX,
            references=(_RFC9111_SHARED, _RFC9111_CC, _MDN_CC),
        ),
        FindingSpec(
            id="web.private-cache.personalised-shared-cacheable",
            title="A page that varies per member (Vary: Cookie/Authorization) may be stored and served to others by a shared cache",
            severity=Severity.BLOCKER,
            impact=Impact.DATA_EXPOSURE,
            confidence=Confidence.FIRM,
            remediation=(
                "Send `Cache-Control: private, no-store` on pages whose content depends on the visitor (nginx "
                '`add_header Cache-Control "private, no-store" always;` in that location; Django '
                '@never_cache; Express `res.set("Cache-Control", "private, no-store")`). `Vary: Cookie` '
                "does not make a public page safe: Cloudflare and most CDNs ignore Vary except Accept-Encoding "
                "and serve the first member's copy to everyone, and `public` explicitly lets caches store answers "
                "to requests with Authorization (RFC 9111 3.5). If the anonymous version should stay cached, "
                "render the member parts client-side from a `private, no-store` API, or bypass the CDN cache "
                "when the session cookie is present."
            ),
            references=(_RFC9111_SHARED, _RFC9111_AUTH, _MDN_VARY, _MDN_CC),
        ),
    ),
    references=(_RFC9111_SHARED, _MDN_CC, _MDN_CACHING),
    probes=("http", "crawl"),
)


def cookie_names(set_cookies: tuple[str, ...]) -> tuple[str, ...]:
    """The cookie names only: values are session secrets and never leave this function."""
    names: list[str] = []
    for header in set_cookies:
        name = header.split(";", 1)[0].split("=", 1)[0].strip()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def judge_one(exchange: HttpExchange) -> Finding | None:
    """One response: a finding when it sets a cookie and a shared cache may store it."""
    if exchange.status is None or exchange.status in (404, 410):
        return None
    set_cookies = exchange.header_all("set-cookie")
    if not set_cookies:
        return None
    cache_values = exchange.header_all("cache-control")
    if not CacheControl.parse(cache_values).shared_cacheable:
        return None
    names = cookie_names(set_cookies)
    return META.finding(
        "shared-cacheable",
        target=exchange.url,
        evidence=[
            f"GET {exchange.url} -> {exchange.status} (no cookies sent)",
            f"Cache-Control: {', '.join(cache_values)}",
            f"sets cookie(s): {', '.join(names)}",
        ],
    )


def judge_personalised(exchange: HttpExchange) -> Finding | None:
    """HTML without Set-Cookie that says it varies per session, while a shared cache may store it."""
    if exchange.status != 200 or exchange.header_all("set-cookie"):
        return None  # a Set-Cookie page is judge_one's finding
    if "text/html" not in (exchange.header("content-type") or "").lower():
        return None
    vary = {v.strip().lower() for value in exchange.header_all("vary") for v in value.split(",")}
    personal = sorted(vary & _PERSONAL_VARY)
    cache_values = exchange.header_all("cache-control")
    if not personal or "*" in vary or not CacheControl.parse(cache_values).shared_cacheable:
        return None
    return META.finding(
        "personalised-shared-cacheable",
        target=exchange.url,
        evidence=[
            f"GET {exchange.url} -> {exchange.status} (no cookies sent, no Set-Cookie in the answer)",
            f"Cache-Control: {', '.join(cache_values)}",
            f"Vary: {', '.join(exchange.header_all('vary'))}",
            f"the page declares it differs by {' and '.join(personal)} (per member), yet shared caches may store it",
        ],
    )


def judge(host: str, exchanges: tuple[HttpExchange, ...]) -> list[Finding]:
    """Judge the fetched pages of one host; failed fetches with no finding mean 'could not run'."""
    by_url: dict[str, HttpExchange] = {}
    for ex in exchanges:
        by_url.setdefault(ex.url, ex)
    findings = [f for ex in by_url.values() for f in (judge_one(ex), judge_personalised(ex)) if f is not None]
    failed = [ex for ex in by_url.values() if ex.status is None]
    if failed and not findings:
        detail = "; ".join(f"{ex.url}: {ex.error or ex.error_kind or 'no response'}" for ex in failed)
        raise CouldNotRun(f"could not fetch {len(failed)} of {len(by_url)} pages: {detail}")
    return findings


async def _fetch(ctx: AuditContext, url: str) -> HttpExchange:
    exchange = await ctx.http.fetch(url)
    if exchange.status is None and exchange.error_kind == "tls":
        # Whether a cache may store the page does not depend on the certificate (tls.certificate
        # reports that); look past it so this risk is not hidden behind another.
        exchange = await ctx.http.fetch(url, verify_tls=False)
    return exchange


def paths(ctx: AuditContext) -> tuple[str, ...]:
    """PATHS plus the configured key pages (member pages such as /settings belong there)."""
    return tuple(dict.fromkeys((*PATHS, *ctx.config.web.key_pages)))


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    exchanges = await asyncio.gather(*(_fetch(ctx, f"https://{target}{path}") for path in paths(ctx)))
    crawled = await crawl_host(ctx, target)
    # Every page the crawl reached on this host, already fetched (without cookies) for the other checks.
    # (A page the crawl could not fetch is web.links' finding, not a reason to give up here.)
    pages = tuple(
        v.final for v in crawled.visits if v.final.status is not None and v.final.url.startswith(f"https://{target}/")
    )
    return judge(target, tuple(exchanges) + pages)


CHECK = Check(meta=META, run=run)

"""The lab's web front: one HTTPS port serving every host by SNI and Host, one plain HTTP port.

Clean behaviour is what a careful launch has: plain HTTP redirects to HTTPS keeping path and
query, www redirects to the apex, every HTTPS response carries HSTS, HTML carries a CSP and
the other security headers. Faults switch individual pieces off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from launchready.lab import hsts_lab, score_lab
from launchready.lab.assets import IMMUTABLE_CACHE, Asset, SiteAssets
from launchready.lab.hosts import LabHosts
from launchready.lab.pages import Pages
from launchready.lab.surface import apex_routes, edge_headers, home_context, open_admin_page, origin_host
from launchready.lab.takeover import unclaimed_page

HSTS = "max-age=63072000; includeSubDomains; preload"
# The hsts-short fault: a one-day policy left over from testing (includeSubDomains kept, so only the
# max-age is wrong).
SHORT_HSTS = "max-age=86400; includeSubDomains"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
# Replaces aiohttp's default, which advertises the exact Python and aiohttp versions.
SERVER_NAME = "marketlab"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def apply_security_headers(
    response: web.StreamResponse, *, hsts: bool, hsts_value: str = HSTS, security_headers: bool = True
) -> None:
    if hsts:
        response.headers["Strict-Transport-Security"] = hsts_value
    if not security_headers:
        # The missing-headers fault: the framework defaults, aiohttp's version-revealing Server included.
        return
    response.headers["Server"] = SERVER_NAME
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.content_type == "text/html":
        for name, value in _HTML_HEADERS.items():
            response.headers.setdefault(name, value)


def request_host(request: web.Request) -> str:
    """The Host header's name, lower-case, without port or trailing dot."""
    return (request.url.host or "").lower().rstrip(".")


def _asset_handler(asset: Asset) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        headers = {"Cache-Control": IMMUTABLE_CACHE, "ETag": asset.etag}
        if asset.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(body=asset.body, content_type=asset.content_type, headers=headers)

    return serve


def static_routes(assets: SiteAssets) -> list[web.RouteDef]:
    return [web.get(asset.path, _asset_handler(asset)) for asset in assets.all]


def apex_app(
    hosts: LabHosts, pages: Pages, assets: SiteAssets, faults: frozenset[str] = frozenset()
) -> web.Application:
    async def home(request: web.Request) -> web.StreamResponse:
        return pages.response("home.html.j2", **home_context(hosts, faults))

    async def to_app(request: web.Request) -> web.StreamResponse:
        # Sign-up and log-in live on the app host for good: a permanent move, not a temporary one.
        raise web.HTTPMovedPermanently(f"https://{hosts.app}{request.rel_url.raw_path_qs}")

    async def robots(request: web.Request) -> web.StreamResponse:
        return web.Response(text="User-agent: *\nDisallow:\n", content_type="text/plain")

    app = web.Application()
    app.add_routes(
        [web.get("/", home), web.get("/signup", to_app), web.get("/login", to_app), web.get("/robots.txt", robots)]
        + static_routes(assets)
        + apex_routes(hosts, pages, faults)
    )
    return app


def www_app(hosts: LabHosts) -> web.Application:
    async def to_apex(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(f"https://{hosts.apex}{request.rel_url.raw_path_qs}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", to_apex)
    return app


def admin_app(pages: Pages, assets: SiteAssets | None = None, faults: frozenset[str] = frozenset()) -> web.Application:
    async def login_page(request: web.Request) -> web.StreamResponse:
        if "open-admin" in faults:
            return open_admin_page(pages)
        return pages.response("login.html.j2", heading="Admin sign-in", admin=True)

    async def login(request: web.Request) -> web.StreamResponse:
        # There are no admin accounts in the lab: every attempt fails the same way.
        form = await request.post()
        return pages.response(
            "login.html.j2",
            status=401,
            heading="Admin sign-in",
            admin=True,
            email=str(form.get("email", "")),
            error="Invalid email or password.",
        )

    app = web.Application()
    app.add_routes(
        [web.get("/", login_page), web.get("/login", login_page), web.post("/login", login)]
        + (static_routes(assets) if assets is not None else [])
    )
    return app


def https_front(hosts: LabHosts, faults: frozenset[str], sites: Mapping[str, web.Application]) -> web.Application:
    """Dispatch by Host to each site's app; unknown hosts get 421 Misdirected Request."""
    hsts = not faults & {"no-hsts", "hsts-http-only"}
    hsts_value = SHORT_HSTS if "hsts-short" in faults else hsts_lab.hsts_value(faults, HSTS)
    security = "missing-headers" not in faults
    uncacheable_assets = "assets-uncacheable" in faults

    async def headers(request: web.Request, response: web.StreamResponse) -> None:
        apply_security_headers(response, hsts=hsts, hsts_value=hsts_value, security_headers=security)
        edge_headers(response, host=request_host(request), hosts=hosts, faults=faults)
        score_lab.cors_headers(response, host=request_host(request), hosts=hosts, faults=faults)
        if uncacheable_assets and request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers.popall("ETag", None)

    async def misdirected(request: web.Request) -> web.StreamResponse:
        return web.Response(status=421, text=f"this server does not serve {request_host(request) or 'that host'}\n")

    if "www-serves-content" in faults and hosts.apex in sites:
        sites = {**sites, hosts.www: sites[hosts.apex]}

    front = web.Application()
    for host, site in sites.items():
        front.add_domain(host, site)
    if "exposed-origin" in faults and hosts.apex in sites:
        # The origin under a name of its own answers for the site, with no edge in front.
        front.add_domain(origin_host(hosts), sites[hosts.apex])
    front.router.add_route("*", "/{tail:.*}", misdirected)
    front.on_response_prepare.append(headers)
    return front


def http_front(hosts: LabHosts, faults: frozenset[str], pages: Pages) -> web.Application:
    """Plain HTTP: redirect every lab host to HTTPS, same host, path and query."""
    serve_apex_plain = "http-no-redirect" in faults
    keep_path = "http-redirect-drops-path" not in faults
    hsts_on_plain = "hsts-http-only" in faults

    async def plain(request: web.Request) -> web.StreamResponse:
        host = request_host(request)
        if (unclaimed := unclaimed_page(host, faults, hosts.domain)) is not None:  # lab/takeover.py
            return unclaimed
        if (legacy := hsts_lab.legacy_page(host, faults, hosts.domain)) is not None:  # lab/hsts_lab.py
            return legacy
        if host not in hosts.web:
            return web.Response(status=421, text=f"this server does not serve {host or 'that host'}\n")
        if serve_apex_plain and host == hosts.apex:
            return pages.response("home.html.j2")
        raise web.HTTPMovedPermanently(f"https://{host}" + (request.rel_url.raw_path_qs if keep_path else "/"))

    async def headers(request: web.Request, response: web.StreamResponse) -> None:
        # HSTS over plain HTTP is ignored by browsers; the hsts-http-only fault sends it only there.
        apply_security_headers(response, hsts=hsts_on_plain)

    front = web.Application()
    front.router.add_route("*", "/{tail:.*}", plain)
    front.on_response_prepare.append(headers)
    return front

"""The lab's public surface beyond the app: marketing pages, old URLs, the edge and their faults.

Clean state (what a careful launch has):

- the apex home links to /pricing and /about; the old URLs in the lab's redirect map
  (/pricing.html, /about-us) answer 301 straight to their new place, keeping the query;
- every HTTPS response passes through an emulated CDN edge. The lab has no real CDN (it runs on
  loopback), so its front adds the headers of the *launchready lab edge*, a signature listed in
  ``data/edge/vendors.json`` as lab-only (``x-launchready-lab-edge``); no real site sends it.
  The ``no-cdn`` fault turns the edge off, which is what an origin served directly looks like;
- nothing answers as an origin under another name; admin. asks for a password.

Faults add one broken piece each (see ``lab/faults.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from launchready.lab.cache_lab import personalised_cache_headers
from launchready.lab.hosts import LabHosts
from launchready.lab.pages import Pages

EDGE_HEADER = "X-Launchready-Lab-Edge"
EDGE_POP = "lab1"
ORIGIN_LABEL = "origin"
LOGO_PATH = "/static/logo.svg"
_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    b'<rect width="64" height="64" rx="12" fill="#3060d0"/></svg>'
)
# What a framework default for stale-prone marketing pages looks like: a day in shared caches.
STALE_HTML_CACHE = "public, max-age=86400"
# The redirect map the lab publishes in its launchready.toml: old path -> new path (301).
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REDIRECT_MAP: tuple[tuple[str, str], ...] = (("/pricing.html", "/pricing"), ("/about-us", "/about"))


def surface_toml() -> str:
    """The lab's ``[web]`` section and redirect map for its launchready.toml.

    The lab is on loopback, so its crawl may go faster than the default 10 requests per second.
    Its key page /pricing is crawled on every host; only the apex has it (a 404 elsewhere is no finding).
    It opts in to its own emulated CDN signature (``lab_edge``), which the product ignores otherwise.
    """
    return '\n[web]\ncrawl_rate = 200.0\nkey_pages = ["/pricing"]\nlab_edge = true\n' + "".join(
        f'\n[[redirects]]\nold = "{old}"\nnew = "{new}"\nstatus = 301\n' for old, new in REDIRECT_MAP
    )


def origin_host(hosts: LabHosts) -> str:
    return f"{ORIGIN_LABEL}.{hosts.domain}"


def home_context(hosts: LabHosts, faults: frozenset[str]) -> dict[str, Any]:
    """The apex home page's extra links (each fault adds the link that exposes it)."""
    links: list[tuple[str, str]] = []
    if "redirect-chain" in faults:
        links.append(("/old-pricing", "Old pricing"))
    if "redirect-loop" in faults:
        links.append(("/promo", "Spring promo"))
    if "temporary-move" in faults:
        links.append(("/team", "Team"))
    if "lost-query" in faults:
        links.append(("/plans?ref=home", "Plans"))
    if "broken-link" in faults:
        links.append(("/careers", "Careers"))
    image = f"http://{hosts.apex}{LOGO_PATH}" if "mixed-content" in faults else None
    from launchready.lab.score_lab import external_script  # SRI fault (lab/score_lab.py)

    return {"extra_links": links, "insecure_image": image, "external_script": external_script(faults)}


def _redirect(location: str, status: int = 301) -> web.HTTPException:
    if status == 302:
        return web.HTTPFound(location)
    return web.HTTPMovedPermanently(location)


def apex_routes(hosts: LabHosts, pages: Pages, faults: frozenset[str]) -> list[web.RouteDef]:
    """Marketing pages, the redirect map's old URLs, and the pages the link faults point at."""

    async def pricing(request: web.Request) -> web.StreamResponse:
        response = pages.response("pricing.html.j2")
        if "html-cache-stale" in faults:
            response.headers["Cache-Control"] = STALE_HTML_CACHE
        personalised_cache_headers(response, faults)  # lab/cache_lab.py
        return response

    async def about(request: web.Request) -> web.StreamResponse:
        return pages.response("about.html.j2")

    async def logo(request: web.Request) -> web.StreamResponse:
        headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": '"logo-1"'}
        return web.Response(body=_LOGO, content_type="image/svg+xml", headers=headers)

    def moved(new_path: str, *, keep_query: bool = True, status: int = 301) -> _Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            query = request.rel_url.raw_query_string if keep_query else ""
            raise _redirect(f"https://{hosts.apex}{new_path}" + (f"?{query}" if query else ""), status)

        return handler

    routes = [web.get("/pricing", pricing), web.get("/about", about), web.get(LOGO_PATH, logo)]
    for old, new in REDIRECT_MAP:
        if old == "/about-us" and "redirect-map-broken" in faults:
            continue  # the old URL now 404s: links from old posts and search results break
        routes.append(web.get(old, moved(new)))
    routes += [
        web.get("/old-pricing", moved("/pricing-2023")),
        web.get("/pricing-2023", moved("/pricing")),
        web.get("/team", moved("/about", status=302)),
        web.get("/plans", moved("/pricing", keep_query=False)),
    ]

    async def promo(request: web.Request) -> web.StreamResponse:
        raise _redirect(f"https://{hosts.apex}/promo/")

    async def promo_slash(request: web.Request) -> web.StreamResponse:
        raise _redirect(f"https://{hosts.apex}/promo")

    routes += [web.get("/promo", promo), web.get("/promo/", promo_slash)]
    return routes


def open_admin_page(pages: Pages) -> web.Response:
    """The open-admin fault: the admin dashboard rendered for anyone, no sign-in asked."""
    return pages.response("admin_open.html.j2", heading="Admin", member_count=42)


def edge_headers(response: web.StreamResponse, *, host: str, hosts: LabHosts, faults: frozenset[str]) -> None:
    """The emulated edge's headers on every HTTPS response it fronts (not on the exposed origin)."""
    if "no-cdn" in faults or host == origin_host(hosts):
        return
    response.headers[EDGE_HEADER] = f"{EDGE_POP}; cache=MISS"

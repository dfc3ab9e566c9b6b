"""Lab fault for per-member HTML in shared caches without a Set-Cookie.

``vary-cookie-public``: the apex's /pricing shows members their current plan, so it answers
``Vary: Cookie`` (the app's session cookie decides the content) yet ``Cache-Control: public,
max-age=600``: a CDN that ignores Vary serves one member's page to everyone.
"""

from __future__ import annotations

from aiohttp import web

PERSONAL_PUBLIC_CACHE = "public, max-age=600"


def personalised_cache_headers(response: web.StreamResponse, faults: frozenset[str]) -> None:
    if "vary-cookie-public" in faults:
        response.headers["Cache-Control"] = PERSONAL_PUBLIC_CACHE
        response.headers["Vary"] = "Cookie"

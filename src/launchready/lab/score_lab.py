"""Lab faults for the header score's third-party tests: Subresource Integrity and CORS.

- ``external-script-no-sri``: the apex home page loads a widget from another site's CDN with no
  ``integrity`` attribute (the crawler never fetches it: it is off-site).
- ``cors-wildcard-credentials``: app.'s responses allow any origin with credentials.
"""

from __future__ import annotations

from aiohttp import web

from launchready.lab.hosts import LabHosts

EXTERNAL_SCRIPT = "https://cdn.widgets-lab.test/chat/widget.js"


def external_script(faults: frozenset[str]) -> str | None:
    return EXTERNAL_SCRIPT if "external-script-no-sri" in faults else None


def cors_headers(response: web.StreamResponse, *, host: str, hosts: LabHosts, faults: frozenset[str]) -> None:
    """What a copy-pasted `cors({origin: '*', credentials: true})` sends on every app response."""
    if "cors-wildcard-credentials" in faults and host == hosts.app:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Credentials"] = "true"

"""The lab's HSTS subdomain faults: what includeSubDomains promises versus what subdomains serve.

- ``hsts-no-subdomains``: the HSTS header leaves includeSubDomains (and preload) out although every
  lab host serves valid HTTPS.
- ``hsts-subdomain-no-https``: legacy.DOMAIN resolves and is declared, serves an old page over plain
  HTTP, and has no certificate of its own (its TLS handshake gets the apex's certificate, a name
  mismatch), while the apex's header keeps includeSubDomains.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from launchready.lab.records import Record

LEGACY_LABEL = "legacy"
NO_SUBDOMAINS_HSTS = "max-age=63072000"
_LEGACY_PAGE = "<!doctype html><title>Old blog</title><h1>The 2021 blog</h1><p>Served over plain HTTP only.</p>"


def hsts_value(faults: frozenset[str], default: str) -> str:
    return NO_SUBDOMAINS_HSTS if "hsts-no-subdomains" in faults else default


def legacy_records(faults: frozenset[str], address: str) -> list[Record]:
    if "hsts-subdomain-no-https" not in faults:
        return []
    rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    return [Record(LEGACY_LABEL, rdtype, address)]


def legacy_subdomains(faults: frozenset[str]) -> tuple[str, ...]:
    """Declared in the lab's launchready.toml so discovery finds it without guessing names."""
    return (LEGACY_LABEL,) if "hsts-subdomain-no-https" in faults else ()


def legacy_page(host: str, faults: frozenset[str], domain: str) -> web.Response | None:
    """The plain-HTTP answer for legacy.DOMAIN, or None when the host is not it."""
    if "hsts-subdomain-no-https" not in faults or host != f"{LEGACY_LABEL}.{domain}":
        return None
    return web.Response(text=_LEGACY_PAGE, content_type="text/html")

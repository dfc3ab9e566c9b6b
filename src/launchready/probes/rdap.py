"""RDAP probe: who the domain is registered with, until when, with which status codes.

The base URL comes from ``--rdap-server`` or else from IANA's bootstrap file for domain names
(``data/rdap/dns.json``, RFC 9224: the longest TLD entry the domain ends with). The lookup goes
through the run's HTTP probe, so ``--connect-to`` and ``--ca-bundle`` apply as for every other
request. A redirect is followed only on the same host (a registry may move a path; a redirect to
another host is a registrar's own RDAP server the run did not ask for, and reading it would let any
server send the audit anywhere); everything that is not a JSON domain object becomes ``error``.
Measures, never judges.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from launchready.core.net import NetSettings
from launchready.core.protocols import HttpFetch
from launchready.core.rdap import RdapFacts
from launchready.probes.flight import single_flight

_MAX_HOPS = 3
_MAX_BODY = 1_000_000
_ACCEPT = {"Accept": "application/rdap+json, application/json;q=0.9"}


class BootstrapError(Exception):
    """The shipped bootstrap file cannot be read (a packaging fault, not a user error)."""


@cache
def bootstrap_services() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(tld, base URLs) pairs from the shipped IANA bootstrap file, longest TLD first."""
    raw = resources.files("launchready").joinpath("data", "rdap", "dns.json").read_text("utf-8")
    try:
        services = json.loads(raw)["services"]
        pairs = [(str(tld).lower(), tuple(str(u) for u in urls)) for tlds, urls in services for tld in tlds]
    except (ValueError, KeyError, TypeError) as exc:
        raise BootstrapError(f"data/rdap/dns.json: not an RDAP bootstrap file: {exc}") from exc
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def bootstrap_server(domain: str) -> str | None:
    """The base URL the bootstrap names for ``domain`` (https preferred), or None."""
    name = domain.lower().rstrip(".")
    for tld, urls in bootstrap_services():
        if name == tld or name.endswith("." + tld):
            choices = [u for u in urls if u.startswith("https://")] or list(urls)
            if choices:
                return choices[0] if choices[0].endswith("/") else choices[0] + "/"
    return None


def _parse_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _vcard_name(entity: dict[str, Any]) -> str | None:
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return None
    for prop in card[1]:
        if isinstance(prop, list) and len(prop) >= 4 and prop[0] in ("fn", "org") and isinstance(prop[3], str):
            if prop[3].strip():
                return prop[3].strip()
    return None


def parse_domain_object(domain: str, server: str, url: str, data: object) -> RdapFacts:
    """Facts from one RDAP domain object (RFC 9083); anything else is an error fact."""
    if not isinstance(data, dict):
        return RdapFacts(domain, server, url, error=f"{url}: the answer is JSON but not an RDAP object")
    if data.get("objectClassName") != "domain":
        kind = data.get("objectClassName") or ("error " + str(data.get("errorCode")) if "errorCode" in data else None)
        return RdapFacts(
            domain, server, url, error=f"{url}: not an RDAP domain object ({kind or 'no objectClassName'})"
        )
    expires = registered = None
    for event in data.get("events") or ():
        if not isinstance(event, dict):
            continue
        if event.get("eventAction") == "expiration":
            expires = _parse_date(event.get("eventDate"))
        elif event.get("eventAction") == "registration":
            registered = _parse_date(event.get("eventDate"))
    registrar = iana_id = None
    for entity in data.get("entities") or ():
        if isinstance(entity, dict) and "registrar" in (entity.get("roles") or ()):
            registrar = _vcard_name(entity)
            for public_id in entity.get("publicIds") or ():
                if isinstance(public_id, dict) and public_id.get("type") == "IANA Registrar ID":
                    iana_id = str(public_id.get("identifier"))
            break
    statuses = tuple(s.strip().lower() for s in data.get("status") or () if isinstance(s, str))
    secure = data.get("secureDNS")
    signed = secure.get("delegationSigned") if isinstance(secure, dict) else None
    nameservers = tuple(
        str(ns["ldhName"]).lower().rstrip(".")
        for ns in data.get("nameservers") or ()
        if isinstance(ns, dict) and isinstance(ns.get("ldhName"), str)
    )
    return RdapFacts(
        domain,
        server,
        url,
        registrar=registrar,
        registrar_iana_id=iana_id,
        expires=expires,
        registered=registered,
        statuses=statuses,
        delegation_signed=signed if isinstance(signed, bool) else None,
        nameservers=nameservers,
    )


class RdapProbe:
    """One RDAP lookup per domain and run, through the run's HTTP client."""

    def __init__(self, net: NetSettings, http: HttpFetch) -> None:
        self._override = net.rdap_server
        self._http = http
        self._pending: dict[str, asyncio.Task[RdapFacts]] = {}

    async def lookup(self, domain: str) -> RdapFacts:
        key = domain.lower().rstrip(".")
        return await single_flight(self._pending, key, lambda: self._lookup(key))

    async def close(self) -> None:
        for task in self._pending.values():
            if not task.done():
                task.cancel()

    async def _lookup(self, domain: str) -> RdapFacts:
        server = self._override or bootstrap_server(domain)
        if server is None:
            return RdapFacts(
                domain,
                None,
                error=f"the shipped RDAP bootstrap names no server for .{domain.rsplit('.', 1)[-1]} "
                "(pass --rdap-server URL)",
            )
        url = urljoin(server, "domain/" + quote(domain, safe=""))
        host = urlsplit(url).hostname
        for _ in range(_MAX_HOPS + 1):
            exchange = await self._http.fetch(url, headers=_ACCEPT, max_body=_MAX_BODY, use_cache=False)
            if exchange.error is not None or exchange.status is None:
                return RdapFacts(domain, server, url, error=f"{url}: {exchange.error or 'no answer'}")
            if exchange.is_redirect:
                location = exchange.location
                if not location:
                    return RdapFacts(domain, server, url, error=f"{url}: HTTP {exchange.status} without a Location")
                target = urljoin(url, location)
                if urlsplit(target).hostname != host:
                    return RdapFacts(
                        domain,
                        server,
                        url,
                        error=f"{url}: redirected to another host ({target}); not followed",
                    )
                url = target
                continue
            if exchange.status == 404:
                return RdapFacts(domain, server, url, error=f"{url}: HTTP 404, the RDAP server does not know {domain}")
            if exchange.status != 200:
                return RdapFacts(domain, server, url, error=f"{url}: HTTP {exchange.status}")
            if exchange.body_truncated:
                return RdapFacts(domain, server, url, error=f"{url}: answer larger than {_MAX_BODY} bytes")
            try:
                data = json.loads(exchange.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return RdapFacts(domain, server, url, error=f"{url}: the answer is not JSON")
            return parse_domain_object(domain, server, url, data)
        return RdapFacts(domain, server, url, error=f"{url}: more than {_MAX_HOPS} redirects")

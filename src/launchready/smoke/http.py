"""The flows' HTTP layer: the probes' resolver and TLS trust, plus what flows need on top.

Same stack as :mod:`launchready.probes.http` (aiohttp, :class:`RoutingResolver` for
``--connect-to`` and the run's DNS, :func:`verifying_context` for ``--ca-bundle``), but with what
the probe deliberately lacks: request bodies, a cookie jar per flow and optional redirect
following. One connector is shared by every flow of a run; each flow gets its own session (and
so its own cookies).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from launchready.core.net import DeclaredHosts, NetSettings
from launchready.core.protocols import DnsLookup
from launchready.probes.dial import redirect_refusal
from launchready.probes.dns import DnsProbe
from launchready.probes.http import USER_AGENT, RoutingResolver, classify_error
from launchready.probes.tls import verifying_context

MAX_BODY = 1_000_000
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Response:
    """What a flow step saw. ``status`` is None when nothing answered (``error`` says why)."""

    method: str
    url: str
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None
    cookies: tuple[tuple[str, str], ...] = ()  # the flow's cookie jar for this URL after the response

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def cookie(self, name: str) -> str | None:
        for key, value in self.cookies:
            if key == name:
                return value
        return None


class FlowHttp:
    """Opens sessions for flows on one shared connector; close() when the run is over."""

    def __init__(
        self, net: NetSettings, dns: DnsLookup | None = None, *, redirect_hosts: DeclaredHosts | None = None
    ) -> None:
        self._net = net
        # Where a step that follows redirects may be sent (None: any host but a private address).
        self.redirect_hosts = redirect_hosts
        # The run's resolver when an audit passes one; otherwise this runner's own, closed with it.
        self._own_dns: DnsProbe | None = None
        self._dns: DnsLookup
        if dns is None:
            self._own_dns = self._dns = DnsProbe(net)
        else:
            self._dns = dns
        self._connector: aiohttp.TCPConnector | None = None
        self._ssl: ssl.SSLContext | bool = True
        self.ssl_error: str | None = None

    def _ensure_connector(self) -> aiohttp.TCPConnector:
        if self._connector is None:
            try:
                self._ssl = verifying_context(self._net)
            except (ssl.SSLError, OSError) as exc:
                self.ssl_error = f"cannot load --ca-bundle {self._net.ca_bundle}: {exc}"
            self._connector = aiohttp.TCPConnector(
                resolver=RoutingResolver(self._net, self._dns), use_dns_cache=False, ssl=self._ssl, limit=50
            )
        return self._connector

    def session(self) -> aiohttp.ClientSession:
        """A session with its own cookie jar (unsafe=True: cookies also for IP-address hosts)."""
        return aiohttp.ClientSession(
            connector=self._ensure_connector(),
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=self._net.timeout),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )

    async def send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | Mapping[str, str] | None = None,
        follow_redirects: bool = False,
    ) -> Response:
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        try:
            parsed = URL(url)
        except ValueError as exc:
            return Response(method, url, None, error=f"invalid URL: {exc}")
        if not parsed.is_absolute() or parsed.scheme not in ("http", "https"):
            return Response(method, url, None, error="not an absolute http(s) URL")
        if parsed.scheme == "https" and self.ssl_error is not None:
            return Response(method, url, None, error=self.ssl_error)
        status: int | None = None
        received: tuple[tuple[str, str], ...] = ()
        body = b""
        final_url = url
        current, sent_headers, hops = parsed, dict(headers or {}), 0
        try:
            async with asyncio.timeout(self._net.timeout):
                while True:
                    # Redirects are followed here, hop by hop, so each Location passes the host policy
                    # before anything is sent there (aiohttp's own following would dial it first).
                    async with session.request(
                        method, current, headers=sent_headers, data=data, allow_redirects=False
                    ) as resp:
                        status = resp.status
                        final_url = str(resp.url)
                        received = tuple(
                            (k.decode("latin-1").lower(), v.decode("utf-8", "replace")) for k, v in resp.raw_headers
                        )
                        location = resp.headers.get("Location")
                        if not follow_redirects or status not in _REDIRECTS or location is None:
                            body = await resp.content.read(MAX_BODY)
                            break
                    hops += 1
                    target, refused = self._redirect_target(current, location, hops)
                    if refused is not None:
                        shown = f"{status} redirect to {location} not followed"
                        return Response(method, final_url, None, received, b"", elapsed(), error=f"{shown}: {refused}")
                    assert target is not None
                    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                        method, data = "GET", None  # as browsers (and aiohttp) do
                    if target.origin() != current.origin():
                        # Credentials meant for one site are not handed to the next.
                        sent_headers = {
                            k: v for k, v in sent_headers.items() if k.lower() not in ("authorization", "cookie")
                        }
                    current = target
        except Exception as exc:  # noqa: BLE001 - a failed request is what the step reports
            _, message = classify_error(exc, self._net.timeout)
            return Response(method, final_url, status, received, body, elapsed(), error=" ".join(message.split()))
        jar = tuple((c.key, c.value) for c in session.cookie_jar.filter_cookies(URL(final_url)).values())
        return Response(method, final_url, status, received, body, elapsed(), cookies=jar)

    def _redirect_target(self, current: URL, location: str, hops: int) -> tuple[URL | None, str | None]:
        """The URL a Location leads to, or why it is not followed."""
        if hops > MAX_REDIRECTS:
            return None, f"more than {MAX_REDIRECTS} redirects"
        try:
            target = current.join(URL(location))
            host = target.host
        except ValueError:
            return None, "not a usable URL"
        if target.scheme not in ("http", "https") or not host:
            return None, "not an http(s) URL"
        private = redirect_refusal(self._net, current.host, host)
        if private is not None:
            return None, private
        declared = self.redirect_hosts.refusal(host) if self.redirect_hosts is not None else None
        if declared is not None:
            return None, declared
        return target.with_fragment(None), None

    async def close(self) -> None:
        if self._connector is not None:
            await self._connector.close()
            self._connector = None
        if self._own_dns is not None:
            await self._own_dns.close()


def form_body(pairs: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in pairs.items()}

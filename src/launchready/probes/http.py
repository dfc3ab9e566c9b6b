"""HTTP probe: one aiohttp session per run, with --connect-to routing and the run's DNS.

Routing lives in a custom aiohttp resolver: aiohttp's TCPConnector dials whatever (address,
port) the resolver returns (``_convert_hosts_to_addr_infos`` uses ``hinfo["port"]``) while SNI
and the Host header stay the requested name, which is exactly curl's --connect-to. Names go
through the run's DnsProbe, so a ``--nameserver`` lab DNS serves HTTP too.

Redirects are never followed by ``fetch``: each hop is a fact of its own (``follow`` records them
all). Cookies are never stored or sent between requests, so an exchange depends only on its
request and a cached answer is the same answer.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import replace

import aiohttp
import aiohttp.abc
from aiohttp import http_exceptions
from yarl import URL

from launchready import __version__
from launchready.core.http import HttpErrorKind as HttpErrorKind
from launchready.core.http import HttpExchange as HttpExchange
from launchready.core.http import RedirectStop as RedirectStop
from launchready.core.net import DeclaredHosts, NetSettings, format_peer
from launchready.core.protocols import DnsLookup
from launchready.probes.dial import DialPlan, dial_plan, is_ip, redirect_refusal
from launchready.probes.flight import single_flight
from launchready.probes.tls import verifying_context

USER_AGENT = f"launchready/{__version__} (+launch audit)"
# Safe methods only: answering a second POST from cache would hide what the server does.
_CACHEABLE = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_CHUNK = 65536
_CONNECTION_LIMIT = 100


class RoutingResolver(aiohttp.abc.AbstractResolver):
    """aiohttp resolver applying --connect-to, then the run's DNS (A first, then AAAA)."""

    def __init__(self, net: NetSettings, dns: DnsLookup) -> None:
        self._net = net
        self._dns = dns
        # The last plan per (host, port): lets an exchange name its peer when aiohttp has already
        # released the connection (empty bodies) and there was only one place to dial.
        self.plans: dict[tuple[str, int], DialPlan] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        plan = await dial_plan(self._net, self._dns, host, port)
        self.plans[(host.lower().rstrip("."), port)] = plan
        results: list[aiohttp.abc.ResolveResult] = []
        for address, dial_port in plan.endpoints:
            addr_family = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (socket.AF_INET, socket.AF_INET6) and family != addr_family:
                continue
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": dial_port,
                    "family": addr_family,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not results:
            # aiohttp turns an OSError from the resolver into ClientConnectorDNSError.
            raise OSError(plan.error or f"{host} has no address")
        return results

    async def close(self) -> None:
        return None


def _decode_header(raw: bytes) -> str:
    # Headers are Latin-1 on the wire (RFC 9110 5.5), but UTF-8 in the wild is common.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _cert_error_text(exc: aiohttp.ClientConnectorCertificateError) -> str:
    cert_error = exc.certificate_error
    reason = getattr(cert_error, "verify_message", None) or str(cert_error)
    return f"TLS certificate not trusted: {reason}"


def classify_error(exc: BaseException, timeout: float) -> tuple[HttpErrorKind, str]:
    """Map what aiohttp raised to an error kind and a sentence for the evidence."""
    if isinstance(exc, TimeoutError):
        return "timeout", f"no complete response within {timeout:g}s"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "tls", _cert_error_text(exc)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns", f"name does not resolve: {exc.os_error}"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return "tls", f"TLS handshake failed: {exc.os_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return "refused", "connection refused"
        if isinstance(os_error, (ConnectionResetError, ssl.SSLEOFError)):
            return "reset", f"connection reset while connecting: {os_error}"
        if isinstance(os_error, ssl.SSLError):
            return "tls", f"TLS handshake failed: {os_error}"
        return "other", f"cannot connect: {os_error}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        cause = exc.__cause__ or (exc.args[1] if len(exc.args) > 1 else None)
        if isinstance(cause, http_exceptions.ContentEncodingError) or "encoding" in str(exc).lower():
            return "protocol", f"response body cannot be decoded: {exc}"
        return "reset", f"connection closed before the body was complete: {exc}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "reset", "the server closed the connection without a complete response"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, aiohttp.ClientConnectionResetError)):
        return "reset", f"connection reset: {exc}"
    if isinstance(exc, aiohttp.ClientResponseError):
        # Raised by the response parser: the bytes were not HTTP.
        message = exc.message or str(exc)
        if "too long" in message.lower() or "too large" in message.lower():
            return "too-large", f"response headers too large: {message}"
        return "protocol", f"not a valid HTTP response: {message}"
    if isinstance(exc, aiohttp.InvalidURL):
        return "other", f"invalid URL: {exc}"
    if isinstance(exc, ssl.SSLError):
        return "tls", f"TLS error: {exc}"
    if isinstance(exc, OSError):
        return "other", f"{type(exc).__name__}: {exc.strerror or exc}"
    return "other", f"{type(exc).__name__}: {exc}"


def _host_or_none(url: str) -> str | None:
    try:
        return URL(url).host
    except ValueError:
        return None


def _normalized(url: URL) -> tuple[str, str, int | None, str]:
    """What makes two URLs the same page for loop detection (fragment and default port ignored)."""
    return (url.scheme.lower(), (url.host or "").lower().rstrip("."), url.port, url.raw_path_qs)


_CacheKey = tuple[str, str, bool, tuple[tuple[str, str], ...], int]


class HttpProbe:
    """Fetches URLs for the whole run; identical safe requests are sent once."""

    def __init__(self, net: NetSettings, dns: DnsLookup) -> None:
        self._net = net
        self._dns = dns
        self._session: aiohttp.ClientSession | None = None
        self._resolver: RoutingResolver | None = None
        self._ssl: ssl.SSLContext | None = None
        self._ssl_error: str | None = None
        self._cache: dict[_CacheKey, asyncio.Task[HttpExchange]] = {}

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
        max_body: int = 1_000_000,
        use_cache: bool = True,
    ) -> HttpExchange:
        method = method.upper()
        # Sent as the caller spelled them; compared case-insensitively for the cache.
        header_items = tuple(sorted((headers or {}).items(), key=lambda kv: (kv[0].lower(), kv[1])))
        if not use_cache or method not in _CACHEABLE:
            return await self._exchange(url, method, header_items, verify_tls, max_body)
        folded = tuple((k.lower(), v) for k, v in header_items)
        key: _CacheKey = (method, url, verify_tls, folded, max_body)
        return await single_flight(
            self._cache, key, lambda: self._exchange(url, method, header_items, verify_tls, max_body)
        )

    async def post(
        self, url: str, body: bytes, *, headers: Mapping[str, str] | None = None, max_body: int = 65536
    ) -> HttpExchange:
        """POST ``body`` once (never cached, no redirect followed): e.g. a test event to an error intake."""
        header_items = tuple((headers or {}).items())
        return await self._exchange(url, "POST", header_items, True, max_body, data=body)

    async def follow(
        self, url: str, *, max_hops: int = 10, verify_tls: bool = True, within: DeclaredHosts | None = None
    ) -> tuple[HttpExchange, ...]:
        """GET ``url`` and each Location after it; every hop is its own exchange.

        Stops at a non-redirect, an error, a Location already visited (``redirect_stop="loop"``),
        an unusable Location, or after ``max_hops`` redirects (``redirect_stop="max-hops"``), a
        Location naming a private address no flag declared (``redirect_stop="private-address"``),
        or, given ``within``, a host it does not hold (``redirect_stop="undeclared-host"``).
        """
        hops: list[HttpExchange] = []
        seen: set[tuple[str, str, int | None, str]] = set()
        current = url
        start_host = _host_or_none(url)
        while True:
            exchange = await self.fetch(current, verify_tls=verify_tls)
            hops.append(exchange)
            try:
                here = URL(current)
                seen.add(_normalized(here))
            except ValueError:  # UnicodeError (a bad IDNA label) is a ValueError
                break
            if exchange.error or not exchange.is_redirect or exchange.location is None:
                break
            try:
                target = here.join(URL(exchange.location))
                target_key = _normalized(target)
            except ValueError:
                hops[-1] = replace(exchange, redirect_stop="bad-location")
                break
            if target.scheme not in ("http", "https") or not target.host:
                hops[-1] = replace(exchange, redirect_stop="bad-location")
                break
            if redirect_refusal(self._net, start_host, target.host) is not None:
                hops[-1] = replace(exchange, redirect_stop="private-address")
                break
            if within is not None and within.refusal(target.host) is not None:
                hops[-1] = replace(exchange, redirect_stop="undeclared-host")
                break
            if target_key in seen:
                hops[-1] = replace(exchange, redirect_stop="loop")
                break
            if len(hops) > max_hops:
                hops[-1] = replace(exchange, redirect_stop="max-hops")
                break
            current = str(target.with_fragment(None))
        return tuple(hops)

    async def close(self) -> None:
        for task in self._cache.values():
            if not task.done():
                task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- internals --------------------------------------------------------------------------

    def _ensure_session(self) -> aiohttp.ClientSession:
        # Created here, not in __init__: an aiohttp session belongs to the running loop.
        if self._session is None:
            try:
                self._ssl = verifying_context(self._net)
            except (ssl.SSLError, OSError) as exc:
                self._ssl_error = f"cannot load --ca-bundle {self._net.ca_bundle}: {exc}"
            self._resolver = RoutingResolver(self._net, self._dns)
            connector = aiohttp.TCPConnector(
                resolver=self._resolver,
                use_dns_cache=False,  # the DnsProbe already caches per run
                limit=_CONNECTION_LIMIT,
                ssl=self._ssl if self._ssl is not None else True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=self._net.timeout),
                headers={"User-Agent": USER_AGENT},
                trust_env=False,  # never through a proxy from the environment: we audit the site
                auto_decompress=True,
            )
        return self._session

    def _peer_guess(self, url: URL) -> str | None:
        if self._resolver is None or url.host is None or url.port is None:
            return None
        plan = self._resolver.plans.get((url.host.lower().rstrip("."), url.port))
        if plan is not None and len(plan.endpoints) == 1:
            return format_peer(*plan.endpoints[0])
        if plan is None and is_ip(url.host):
            # aiohttp dials an IP literal without asking the resolver.
            return format_peer(url.host, url.port)
        return None

    async def _exchange(
        self,
        url: str,
        method: str,
        headers: tuple[tuple[str, str], ...],
        verify_tls: bool,
        max_body: int,
        data: bytes | None = None,
    ) -> HttpExchange:
        session = self._ensure_session()
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        try:
            parsed = URL(url)
            # yarl decodes the host lazily: an invalid IDNA label ("xn--zz--") raises only here.
            _ = parsed.host, parsed.port
        except ValueError as exc:  # UnicodeError is a ValueError
            return HttpExchange(url, method, error=f"invalid URL: {exc}", error_kind="other")
        if verify_tls and parsed.scheme == "https" and self._ssl_error is not None:
            return HttpExchange(url, method, error=self._ssl_error, error_kind="tls")

        status: int | None = None
        received: tuple[tuple[str, str], ...] = ()
        peer: str | None = None
        chunks: list[bytes] = []
        size = 0
        truncated = False
        error: str | None = None
        error_kind: HttpErrorKind | None = None
        try:
            async with asyncio.timeout(self._net.timeout):
                async with session.request(
                    method,
                    parsed,
                    headers=dict(headers),
                    data=data,
                    allow_redirects=False,
                    ssl=(self._ssl or True) if verify_tls else False,
                ) as resp:
                    status = resp.status
                    received = tuple((_decode_header(k).lower(), _decode_header(v)) for k, v in resp.raw_headers)
                    transport = resp.connection.transport if resp.connection else None
                    peername = transport.get_extra_info("peername") if transport else None
                    peer = format_peer(str(peername[0]), int(peername[1])) if peername else None
                    while True:
                        chunk = await resp.content.read(min(_READ_CHUNK, max_body - size + 1))
                        if not chunk:
                            break
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > max_body:
                            truncated = True
                            # Drop the connection rather than drain a body we will not read.
                            resp.close()
                            break
        except Exception as exc:  # noqa: BLE001 - every network failure is a fact, never a crash
            error_kind, message = classify_error(exc, self._net.timeout)
            if error_kind == "timeout" and status is not None:
                message = (
                    f"status {status} and headers arrived, then the body stalled: "
                    f"not complete within {self._net.timeout:g}s ({size} bytes read)"
                )
            error = " ".join(message.split())  # parser messages span lines; evidence is one
        body = b"".join(chunks)[:max_body]
        return HttpExchange(
            url=url,
            method=method,
            status=status,
            headers=received,
            body=body,
            body_size=len(body),
            body_truncated=truncated,
            elapsed_ms=elapsed(),
            peer=peer or self._peer_guess(parsed),
            error=error,
            error_kind=error_kind,
        )

"""The network plumbing every provider shares: the run's DNS, ``--connect-to`` and TLS trust.

HTTP goes through :class:`launchready.smoke.http.FlowHttp` (aiohttp with the probes'
``RoutingResolver`` and ``verifying_context``); SMTP connections are planned with
:func:`launchready.probes.dial.dial_plan`, so ``--nameserver`` and ``--connect-to`` apply to
mail exactly as they do to HTTP. Everything loop-bound is created lazily and dropped by
:meth:`Transport.close`, so one transport serves several ``asyncio.run`` calls in turn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from launchready.core.net import NetSettings
from launchready.probes.dial import DialPlan, dial_plan
from launchready.probes.dns import DnsProbe
from launchready.smoke.http import FlowHttp

# A receiver asking for more than this is treated as asking for this: alerts must not vanish for days.
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class PostResult:
    """What a POST got: the status (None when nothing answered) or why not, and any Retry-After."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), capped; None if absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


class Transport:
    def __init__(self, net: NetSettings) -> None:
        self.net = net
        self._dns: DnsProbe | None = None
        self._http: FlowHttp | None = None

    def _ensure_dns(self) -> DnsProbe:
        if self._dns is None:
            self._dns = DnsProbe(self.net)
        return self._dns

    def _ensure_http(self) -> FlowHttp:
        if self._http is None:
            self._http = FlowHttp(self.net, self._ensure_dns())
        return self._http

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
        http = self._ensure_http()
        async with http.session() as session:
            response = await http.send(session, "POST", url, headers=headers, data=body)
        if response.status is None:
            return PostResult(None, response.error or "no response")
        retry_after = parse_retry_after(response.header("retry-after")) if response.status in (429, 503) else None
        return PostResult(response.status, retry_after=retry_after)

    async def plan(self, host: str, port: int) -> DialPlan:
        """Where an SMTP (or any TCP) connection to ``host:port`` goes under the run's settings."""
        return await dial_plan(self.net, self._ensure_dns(), host, port)

    async def close(self) -> None:
        http, dns = self._http, self._dns
        self._http = self._dns = None
        if http is not None:
            await http.close()
        if dns is not None:
            await dns.close()

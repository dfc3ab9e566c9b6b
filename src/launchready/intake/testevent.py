"""Send one test event to a DSN, the way the Sentry SDKs do, and say whether it arrived.

There is one sending path: the audit's error-tracking probe (``probes/errortracking.py``), over the
HTTP probe with the command's network flags (``--nameserver``, ``--ca-bundle``, ``--connect-to``,
``--timeout``). The envelope and the verdict are ``core/errortracking.py``'s.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from launchready.intake.auth import parse_dsn

if TYPE_CHECKING:
    from launchready.core.net import NetSettings


@dataclass(frozen=True)
class TestEventResult:
    arrived: bool
    event_id: str
    status: int | None
    detail: str


async def _send(dsn: str, net: NetSettings) -> TestEventResult:
    from launchready.probes.dns import DnsProbe
    from launchready.probes.errortracking import ErrorTrackingProbe
    from launchready.probes.http import HttpProbe

    parsed = parse_dsn(dsn)  # ProjectError (one line) for a DSN that cannot be used
    dns = DnsProbe(net)
    http = HttpProbe(net, dns)
    try:
        delivery = await ErrorTrackingProbe(http).send_test_event(parsed)
    finally:
        await http.close()
        await dns.close()
    return TestEventResult(delivery.arrived, delivery.event_id, delivery.status, delivery.detail)


def send_test_event(dsn: str, net: NetSettings) -> TestEventResult:
    """Send the test event through the HTTP probe with ``net`` (the command's network flags)."""
    return asyncio.run(_send(dsn, net))

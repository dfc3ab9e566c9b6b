"""Error-tracking probe: send one test event to a DSN and record what came back.

The event goes through the run's HTTP probe (``--connect-to``, ``--nameserver``, ``--ca-bundle``
and the private-address rules apply as to every other request), as the envelope an SDK would
send (``core/errortracking.py``). One test event per DSN per run. Measures, never judges: a DSN
whose host does not resolve or answer is a ``DsnDelivery`` with ``status=None``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from launchready.core.errortracking import (
    AUTH_HEADER,
    ENVELOPE_CONTENT_TYPE,
    Dsn,
    DsnDelivery,
    build_test_envelope,
    delivery_verdict,
    new_event_id,
)
from launchready.core.masking import mask_credentials
from launchready.probes.flight import single_flight
from launchready.probes.http import HttpProbe

_MAX_ANSWER = 64 * 1024


class ErrorTrackingProbe:
    """``core.protocols.ErrorTracking`` over the run's HTTP probe."""

    def __init__(self, http: HttpProbe) -> None:
        self._http = http
        self._sent: dict[str, asyncio.Task[DsnDelivery]] = {}

    async def send_test_event(self, dsn: Dsn) -> DsnDelivery:
        return await single_flight(self._sent, str(dsn), lambda: self._send(dsn))

    async def _send(self, dsn: Dsn) -> DsnDelivery:
        event_id = new_event_id()
        exchange = await self._http.post(
            dsn.envelope_url,
            build_test_envelope(dsn, event_id, datetime.now(UTC)),
            headers={"Content-Type": ENVELOPE_CONTENT_TYPE, AUTH_HEADER: dsn.auth_header},
            max_body=_MAX_ANSWER,
        )
        if exchange.status is None:
            reason = mask_credentials(exchange.error or "no answer")
            return DsnDelivery(
                dsn.masked,
                dsn.envelope_url,
                event_id,
                False,
                None,
                f"could not reach {dsn.host}: {reason}",
                exchange.error_kind or "other",
            )
        refusal = exchange.header("x-sentry-error")
        arrived, detail = delivery_verdict(
            event_id, exchange.status, exchange.body, mask_credentials(refusal) if refusal else None
        )
        return DsnDelivery(dsn.masked, dsn.envelope_url, event_id, arrived, exchange.status, detail)

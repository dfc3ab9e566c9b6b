"""The regional probes' side of the API: their assignment and their batched results (API token required).

``GET /api/v1/probe/assignment?region=eu`` answers the checks that list the region (as their
``[[monitor.checks]]`` entries, so the probe runs them with the same check runner) and the
server's clock; ``POST /api/v1/probe/results`` takes a batch
``{"region", "results": [{"check", "at", "ok", "latency_ms", "status_code", "reason", "evidence"}],
"dropped", "clock_offset_s"}``, writes it, judges the quorum and records the probe as heard
(a probe that was silent flips back up). Every answer carries ``server_time`` so the probe
measures its clock offset on each exchange; ``assignment`` is a digest of the assignment, so a
probe notices a changed config at its next push.

Smoke checks are never assigned: their flows and secrets stay on the server.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from launchready.config.sections.monitor import MonitorConfig
from launchready.core.masking import mask_credentials
from launchready.monitor.store.regions import (
    FlipRouting,
    RegionalCheck,
    ingest_results,
    probe_seen,
    region_rows,
    regional_checks,
)
from launchready.monitor.store.repository import FlipRecord, ResultRecord
from launchready.monitor.store.schema import probes
from launchready.monitor.web import auth
from launchready.monitor.web.bodies import read_json

RESULTS_BODY_LIMIT = 4 * 1024 * 1024
BATCH_LIMIT = 2000
_REASON_CHARS = 500
_EVIDENCE_CHARS = 500
# A probe's result stamped further than this in the future (after its offset correction) is refused.
_FUTURE_SLACK_S = 300.0


def assignment_for(monitor: MonitorConfig, region: str) -> list[dict[str, Any]]:
    """The ``[[monitor.checks]]`` entries a probe in ``region`` runs (URL checks listing it)."""
    return [
        check.model_dump(mode="json", exclude_none=True)
        for check in monitor.checks
        if region in check.regions and not check.paused and check.url is not None
    ]


def assignment_digest(checks: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(list(checks), sort_keys=True).encode()).hexdigest()[:16]


class ProbeApi:
    def __init__(
        self,
        engine: Engine,
        monitor: MonitorConfig,
        routing: FlipRouting,
        *,
        clock: Callable[[], float] = time.time,
        on_flip: Callable[[FlipRecord], None] | None = None,
    ) -> None:
        self.engine = engine
        self.monitor = monitor
        self.routing = routing
        self.clock = clock
        self.on_flip = on_flip
        self.specs: dict[str, RegionalCheck] = regional_checks(monitor)

    async def _token(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        now = self.clock()

        def find() -> str | None:
            with self.engine.begin() as conn:
                return auth.token_name(conn, token.strip(), now)

        return await run_in_threadpool(find)

    async def assignment(self, request: Request) -> Response:
        if await self._token(request) is None:
            return _unauthorized()
        region = request.query_params.get("region", "")
        if not _region_ok(region):
            return JSONResponse(
                {"error": "query parameter region: letters, digits, _ or - (at most 64)"}, status_code=400
            )
        checks = assignment_for(self.monitor, region)
        return JSONResponse(
            {
                "region": region,
                "checks": checks,
                "assignment": assignment_digest(checks),
                # Often enough that a probe with nothing to send is never taken for a silent one.
                "report_every_s": max(1.0, self.monitor.probe_silence / 4),
                "server_time": self.clock(),
            }
        )

    async def results(self, request: Request) -> Response:
        token = await self._token(request)
        if token is None:
            return _unauthorized()
        payload, refused = await read_json(request, RESULTS_BODY_LIMIT, "body larger than 4 MB: send smaller batches")
        if refused is not None:
            return refused
        now = self.clock()
        problem, batch = parse_batch(payload, now)
        if problem is not None or batch is None:
            return JSONResponse({"error": problem}, status_code=400)
        region, records, dropped, offset = batch

        def write(conn: Connection) -> tuple[list[FlipRecord], int]:
            flips, ignored = ingest_results(
                conn, records, self.specs, self.routing, regional_notice=self.monitor.regional_notice
            )
            came_back = probe_seen(
                conn,
                region,
                now=now,
                token_name=token,
                clock_offset_s=offset,
                received=len(records) - ignored,
                dropped=dropped,
                routing=self.routing,
            )
            if came_back is not None:
                flips.append(came_back)
            return flips, ignored

        def run() -> tuple[list[FlipRecord], int]:
            with self.engine.begin() as conn:
                return write(conn)

        flips, ignored = await run_in_threadpool(run)
        for flip in flips:
            if self.on_flip is not None:
                self.on_flip(flip)
        checks = assignment_for(self.monitor, region)
        return JSONResponse(
            {
                "accepted": len(records) - ignored,
                "ignored": ignored,
                "assignment": assignment_digest(checks),
                "server_time": self.clock(),
            }
        )

    async def regions(self, request: Request) -> Response:
        """Each check's regions (state, last result, last latency) and each probe's last report."""
        if await self._token(request) is None:
            return _unauthorized()

        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                rows = region_rows(conn)
                reporting = conn.execute(select(probes).order_by(probes.c.region)).all()
            checks: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                checks.setdefault(row.check_name, []).append(
                    {
                        "region": row.region,
                        "state": row.state,
                        "last_result_at": row.last_result_at,
                        "latency_ms": row.last_latency_ms,
                        "reason": row.last_reason,
                    }
                )
            return {
                "checks": checks,
                "probes": [
                    {
                        "region": p.region,
                        "state": p.state,
                        "last_seen_at": p.last_seen_at,
                        "clock_offset_s": p.clock_offset_s,
                        "results_received": p.results_received,
                        "results_dropped": p.results_dropped,
                    }
                    for p in reporting
                ],
            }

        return JSONResponse(await run_in_threadpool(read))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v1/regions", self.regions, methods=["GET"]),
            Route("/api/v1/probe/assignment", self.assignment, methods=["GET"]),
            Route("/api/v1/probe/results", self.results, methods=["POST"]),
        ]


def _region_ok(region: Any) -> bool:
    if not isinstance(region, str) or not 0 < len(region) <= 64:
        return False
    return region[0].isalnum() and all(ch.isalnum() or ch in "_-" for ch in region) and region.isascii()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return mask_credentials(value)[:limit]


def parse_batch(
    payload: Any, now: float
) -> tuple[str | None, tuple[str, list[ResultRecord], int, float | None] | None]:
    """(problem, (region, records, dropped, clock offset)): one line naming the bad field, or the batch."""
    if not isinstance(payload, Mapping):
        return "the body must be a JSON object with region and results", None
    region = payload.get("region")
    if not _region_ok(region):
        return "field 'region': letters, digits, _ or - (at most 64)", None
    assert isinstance(region, str)
    items = payload.get("results")
    if not isinstance(items, list):
        return "field 'results' must be a list", None
    if len(items) > BATCH_LIMIT:
        return f"field 'results': at most {BATCH_LIMIT} per batch", None
    dropped = payload.get("dropped", 0)
    if isinstance(dropped, bool) or not isinstance(dropped, int) or dropped < 0:
        return "field 'dropped' must be a count", None
    offset = _number(payload.get("clock_offset_s")) if payload.get("clock_offset_s") is not None else None
    records: list[ResultRecord] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            return f"results[{index}] must be an object", None
        check = item.get("check")
        at = _number(item.get("at"))
        ok = item.get("ok")
        if not isinstance(check, str) or not check:
            return f"results[{index}].check must be a check name", None
        if at is None or at <= 0 or at > now + _FUTURE_SLACK_S:
            return f"results[{index}].at must be a Unix time in seconds, not in the future", None
        if not isinstance(ok, bool):
            return f"results[{index}].ok must be true or false", None
        latency = _number(item.get("latency_ms")) if item.get("latency_ms") is not None else None
        status = item.get("status_code")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            return f"results[{index}].status_code must be an integer", None
        records.append(
            ResultRecord(
                check_name=check[:200],
                at=at,
                ok=ok,
                latency_ms=latency,
                status_code=status,
                reason=_text(item.get("reason"), _REASON_CHARS),
                evidence=_text(item.get("evidence"), _EVIDENCE_CHARS),
                region=region,
            )
        )
    return None, (region, records, dropped, offset)


def _unauthorized() -> Response:
    return JSONResponse(
        {"error": "an API token is required (Authorization: Bearer <token>)"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )

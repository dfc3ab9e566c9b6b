"""The intake's HTTP endpoints (a Starlette router factory the monitor's web app mounts).

``POST /api/<project_id>/envelope/`` and the legacy ``/api/<project_id>/store/`` speak the
Sentry protocol; ``POST /api/<project_id>/logs/`` takes JSON lines (one log record per line)
authenticated the same way. Item types: ``event`` (grouped), ``transaction`` (kept as a latency
sample: name, duration, status), ``session``/``sessions`` (counted per release and status),
``check_in`` (fed to the heartbeat of the same name), ``attachment`` (kept up to the configured
size, text only; bigger ones dropped); any other type is skipped.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from launchready.intake.auth import key_from_auth_header, key_from_dsn_header
from launchready.intake.body import decode_body, read_capped
from launchready.intake.checkins import CheckIn
from launchready.intake.envelope import Envelope, Item, parse_envelope, parse_json_object
from launchready.intake.errors import Rejected
from launchready.intake.ingest import (
    Attachment,
    GroupChange,
    SessionCount,
    Transaction,
    Work,
    prepare_event,
    write_work_retrying,
)
from launchready.intake.logs import LogGrouper, record_from_line
from launchready.intake.projects import Project, ProjectKeys
from launchready.intake.ratelimit import KeyRateLimiter
from launchready.intake.scrub import Scrubber
from launchready.intake.settings import IntakeSettings

OnGroupEvent = Callable[[Sequence[GroupChange]], None]
_log = logging.getLogger(__name__)
_RECENT_IDS = 20_000  # event ids remembered to drop an SDK's resend of an event already stored
_BATCH_MAX = 500
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "content-type, content-encoding, x-sentry-auth, authorization, sentry-trace, baggage",
    "Access-Control-Expose-Headers": "x-sentry-error, x-sentry-rate-limits, retry-after",
}


class BatchWriter:
    """Group commit: requests that arrive while a batch is being written share the next transaction.

    A request's response waits for its own commit, so a 200 means stored; under load many
    requests share one transaction, which is what makes thousands of events per second per core.
    """

    def __init__(self, engine: Engine, settings: IntakeSettings, on_group_event: OnGroupEvent | None) -> None:
        self._engine = engine
        self._settings = settings
        self._on_group_event = on_group_event
        self._pending: list[tuple[Work, asyncio.Future[list[GroupChange]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, work: Work) -> list[GroupChange]:
        future: asyncio.Future[list[GroupChange]] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:_BATCH_MAX], self._pending[_BATCH_MAX:]
            works = [w for w, _ in batch]
            try:
                changes = await anyio.to_thread.run_sync(write_work_retrying, self._engine, works, self._settings)
            except Exception as exc:  # the store refused: every request of the batch gets a 503
                for _, future in batch:
                    if not future.done():
                        future.set_exception(Rejected(503, f"the store refused the write: {type(exc).__name__}"))
                continue
            by_event: dict[str, list[GroupChange]] = {}
            for change in changes:
                by_event.setdefault(change.event_id, []).append(change)
            for work, future in batch:
                if not future.done():
                    future.set_result([c for e in work.events for c in by_event.get(e.event_id, [])])
            if self._on_group_event is not None and changes:
                try:
                    self._on_group_event(changes)
                except Exception:  # a failing listener must not stall the writer; the data is stored
                    _log.exception("on_group_event listener failed")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    # Header values are Latin-1 on the wire: the reason goes out as plain ASCII there.
    header = message.encode("ascii", "replace").decode("ascii")[:300]
    return JSONResponse(
        {"detail": message}, status_code=status, headers={**_CORS, "X-Sentry-Error": header, **(headers or {})}
    )


def _timestamp(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _str_or_none(value: Any, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


class IntakeService:
    def __init__(
        self,
        engine: Engine,
        settings: IntakeSettings,
        on_group_event: OnGroupEvent | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.keys = ProjectKeys(engine)
        self.limiter = KeyRateLimiter(settings.rate_per_second, settings.rate_burst)
        self.scrubber = Scrubber(
            max_depth=settings.max_json_depth,
            string_max_chars=settings.string_max_chars,
            request_body_max_chars=settings.request_body_max_chars,
        )
        self.writer = BatchWriter(engine, settings, on_group_event)
        self.log_grouper = LogGrouper(self.scrubber)
        self.dropped: dict[str, int] = {}
        self._recent_ids: OrderedDict[tuple[int, str], None] = OrderedDict()

    def _first_time(self, project_id: int, event_id: str) -> bool:
        """False for an event id this project sent recently (an SDK retrying after a timeout)."""
        key = (project_id, event_id)
        if key in self._recent_ids:
            return False
        self._recent_ids[key] = None
        if len(self._recent_ids) > _RECENT_IDS:
            self._recent_ids.popitem(last=False)
        return True

    def _drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def _authorise(self, key: str | None, project_id: int, now: float) -> Project:
        if not key:
            raise Rejected(401, "no sentry_key (X-Sentry-Auth header, ?sentry_key= or the envelope's dsn)")
        project = self.keys.lookup(key, now)
        if project is None or project.id != project_id:
            raise Rejected(403, "unknown public key for this project")
        return project

    def _admit(self, key: str | None, project_id: int, now: float) -> Project:
        """The key's project, once the key is known for it and within its rate limit."""
        project = self._authorise(key, project_id, now)
        assert key is not None  # _authorise refuses a missing key
        self._limit(key, now)
        return project

    def _limit(self, key: str, now: float) -> None:
        wait = self.limiter.acquire(key, now)
        if wait:
            seconds = str(int(wait))
            raise Rejected(429, f"rate limit for this key: retry in {seconds} s").with_headers(
                {"Retry-After": seconds, "X-Sentry-Rate-Limits": f"{seconds}::key"}
            )

    async def _body(self, request: Request, limit: int, decompressed: int) -> bytes:
        raw = await read_capped(request.stream(), request.headers.get("content-length"), limit)
        return decode_body(raw, request.headers.get("content-encoding"), decompressed)

    def _header_key(self, request: Request) -> str | None:
        return (
            key_from_auth_header(request.headers.get("x-sentry-auth"))
            or key_from_auth_header(request.headers.get("authorization"))
            or request.query_params.get("sentry_key")
        )

    async def _guarded(self, request: Request, handler: Callable[[Request], Any]) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=200, headers=_CORS)
        try:
            response: Response = await handler(request)
            return response
        except Rejected as exc:
            return _error(exc.status, exc.message, getattr(exc, "headers", None))

    async def envelope(self, request: Request) -> Response:
        return await self._guarded(request, self._envelope)

    async def store(self, request: Request) -> Response:
        return await self._guarded(request, self._store)

    async def logs(self, request: Request) -> Response:
        return await self._guarded(request, self._logs)

    async def _envelope(self, request: Request) -> Response:
        project_id = int(request.path_params["project_id"])
        now = self.clock()
        key = self._header_key(request)
        # Authenticate (and rate-limit) before reading a byte of the body when a header names the key.
        project = self._admit(key, project_id, now) if key else None
        body = await self._body(request, self.settings.envelope_max_bytes, self.settings.envelope_max_decompressed)
        envelope = parse_envelope(body, self.settings.max_items)
        if project is None:
            project = self._admit(key_from_dsn_header(envelope.headers.get("dsn")), project_id, now)
        work, event_id = self._work_from_envelope(envelope, project, now, request)
        if work.events or work.transactions or work.sessions or work.attachments or work.checkins:
            await self.writer.submit(work)
        return JSONResponse({"id": event_id}, headers=_CORS)

    async def _store(self, request: Request) -> Response:
        project_id = int(request.path_params["project_id"])
        now = self.clock()
        project = self._admit(self._header_key(request), project_id, now)
        body = await self._body(request, self.settings.store_max_bytes, self.settings.store_max_decompressed)
        if body.lstrip()[:1] not in (b"{", b""):
            # Old SDKs (raven) send the store body as base64 of zlib-compressed JSON.
            try:
                packed = base64.b64decode(body, validate=False)
            except binascii.Error:
                raise Rejected(400, "store body is neither JSON nor base64") from None
            body = decode_body(packed, "deflate", self.settings.store_max_decompressed)
        data = parse_json_object(body, "event")
        work = Work()
        event = prepare_event(data, project.id, now, self.scrubber, len(body))
        if data.get("type") == "transaction":
            self._add_transaction(work, data, project, now)
        elif self._first_time(project.id, event.event_id):
            work.events.append(event)
        else:
            self._drop("event id seen already")
        await self.writer.submit(work)
        return JSONResponse({"id": event.event_id}, headers=_CORS)

    async def _logs(self, request: Request) -> Response:
        project_id = int(request.path_params["project_id"])
        now = self.clock()
        project = self._admit(self._header_key(request), project_id, now)
        body = await self._body(request, self.settings.envelope_max_bytes, self.settings.envelope_max_decompressed)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Rejected(400, f"log lines are not valid UTF-8 (byte {exc.start})") from None
        records = [record_from_line(line) for line in text.splitlines() if line.strip()]
        events = self.log_grouper.prepare(project.id, records, now)
        if events:
            await self.writer.submit(Work(events=events))
        return JSONResponse({"lines": len(records), "grouped": len(events)}, headers=_CORS)

    def _item_json(self, item: Item, what: str) -> dict[str, Any]:
        if len(item.payload) > self.settings.event_max_bytes:
            raise Rejected(413, f"{what} item is above the {self.settings.event_max_bytes}-byte limit")
        return parse_json_object(item.payload, f"{what} item")

    def _add_transaction(self, work: Work, data: dict[str, Any], project: Project, now: float) -> None:
        start, end = _timestamp(data.get("start_timestamp")), _timestamp(data.get("timestamp"))
        if start is None or end is None or end < start:
            self._drop("transaction without timestamps")
            return
        contexts = data.get("contexts")
        trace = contexts.get("trace") if isinstance(contexts, dict) else None
        work.transactions.append(
            Transaction(
                project_id=project.id,
                received_at=now,
                name=_str_or_none(data.get("transaction")) or "<unnamed>",
                duration_ms=(end - start) * 1000.0,
                status=_str_or_none(trace.get("status"), 40) if isinstance(trace, dict) else None,
                environment=_str_or_none(data.get("environment"), 100),
                release=_str_or_none(data.get("release")),
            )
        )

    def _add_session(self, work: Work, item: Item, data: dict[str, Any], project: Project, now: float) -> None:
        attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
        assert isinstance(attrs, dict)
        release = _str_or_none(attrs.get("release")) or ""
        environment = _str_or_none(attrs.get("environment"), 100) or ""
        minute = int(now // 60)
        if item.type == "session":
            status = _str_or_none(data.get("status"), 20) or "ok"
            work.sessions.append(SessionCount(project.id, minute, release, environment, status, 1))
            return
        aggregates = data.get("aggregates")
        for bucket in aggregates if isinstance(aggregates, list) else []:
            if not isinstance(bucket, dict):
                continue
            for status in ("exited", "errored", "crashed", "abnormal"):
                count = bucket.get(status)
                if isinstance(count, int) and not isinstance(count, bool) and 0 < count < 1_000_000:
                    work.sessions.append(SessionCount(project.id, minute, release, environment, status, count))

    def _work_from_envelope(
        self, envelope: Envelope, project: Project, now: float, request: Request
    ) -> tuple[Work, str | None]:
        work = Work()
        event_id = _str_or_none(envelope.headers.get("event_id"), 36)
        for item in envelope.items:
            if item.type == "event":
                raw = self._item_json(item, "event")
                if "event_id" not in raw and event_id:
                    raw["event_id"] = event_id  # the envelope header names the event when the item does not
                event = prepare_event(raw, project.id, now, self.scrubber, len(item.payload))
                event_id = event.event_id
                if self._first_time(project.id, event.event_id):
                    work.events.append(event)
                else:
                    self._drop("event id seen already")
            elif item.type == "transaction":
                self._add_transaction(work, self._item_json(item, "transaction"), project, now)
            elif item.type in ("session", "sessions"):
                self._add_session(work, item, self._item_json(item, item.type), project, now)
            elif item.type == "check_in":
                data = self._item_json(item, "check_in")
                slug, status = data.get("monitor_slug"), data.get("status")
                if isinstance(slug, str) and isinstance(status, str):
                    duration = data.get("duration")
                    work.checkins.append(
                        CheckIn(
                            slug=slug[:200],
                            status=status,
                            duration_s=float(duration) if isinstance(duration, int | float) else None,
                            check_in_id=_str_or_none(data.get("check_in_id"), 64),
                            received_at=now,
                            remote_addr=request.client.host if request.client else None,
                        )
                    )
                    event_id = event_id or _str_or_none(data.get("check_in_id"), 64)
            elif item.type == "attachment":
                self._add_attachment(work, item, project, now, event_id)
            else:
                self._drop(f"item type {item.type[:40]}")
        return work, event_id

    def _add_attachment(self, work: Work, item: Item, project: Project, now: float, event_id: str | None) -> None:
        size = len(item.payload)
        if size > self.settings.attachment_max_bytes:
            self._drop("attachment above the size limit")
            return
        try:
            text: str | None = item.payload.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            text = self.scrubber.scrub_event({"data": text})["data"]
        work.attachments.append(
            Attachment(
                project_id=project.id,
                event_id=(event_id or "")[:32],
                filename=_str_or_none(item.headers.get("filename")) or "attachment",
                content_type=_str_or_none(item.headers.get("content_type"), 100),
                size=size,
                text=text,
                received_at=now,
            )
        )


def intake_routes(
    engine: Engine,
    settings: IntakeSettings | None = None,
    on_group_event: OnGroupEvent | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> list[BaseRoute]:
    """The intake's routes, to mount at the root of the monitor's web app (DSNs point there)."""
    service = IntakeService(engine, settings or IntakeSettings(), on_group_event, clock)
    methods = ["POST", "OPTIONS"]
    return [
        Route("/api/{project_id:int}/envelope/", service.envelope, methods=methods),
        Route("/api/{project_id:int}/store/", service.store, methods=methods),
        Route("/api/{project_id:int}/logs/", service.logs, methods=methods),
    ]

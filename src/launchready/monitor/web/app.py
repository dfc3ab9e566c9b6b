"""The monitor's web app: dashboard pages, heartbeat pings, the JSON API, /metrics and /healthz.

Store access is synchronous SQLAlchemy Core, run in Starlette's thread pool so a slow query
never stalls the event loop the scheduler and alert worker share.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from launchready.intake.routes import OnGroupEvent, intake_routes
from launchready.intake.settings import IntakeSettings
from launchready.intake.web import CsrfRules, errors_api_routes, errors_page_routes
from launchready.monitor.store.pings import (
    BODY_KEEP_BYTES,
    Routing,
    clean_body,
    no_routing,
    parse_ping_path,
    record_ping,
)
from launchready.monitor.store.regions import region_rows
from launchready.monitor.web import auth, queries
from launchready.monitor.web.bodies import read_capped, read_json
from launchready.monitor.web.charts import latency_chart
from launchready.monitor.web.metrics import StoreCollector
from launchready.monitor.web.settings import WebSettings

SESSION_COOKIE = "lr_session"
LOGIN_CSRF_COOKIE = "lr_login_csrf"
PING_BODY_LIMIT = 1024 * 1024  # read at most this much of a ping body; only the first 10 KB are kept
FORM_BODY_LIMIT = 16 * 1024
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

T = TypeVar("T")


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("launchready.monitor.web").joinpath(name)))


def _utc(at: float | None) -> str:
    return "-" if at is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


def _percent(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    # Floor, so 99.996 % never shows as a perfect 100.00 %.
    scale = 10**digits
    return f"{math.floor(value * 100 * scale) / scale:.{digits}f} %"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    # Two units at most, the smaller one left out when it is zero: "10 min", "1 h 5 min", "2 d".
    for big, big_unit, small, small_unit in ((86400, "d", 3600, "h"), (3600, "h", 60, "min"), (60, "min", 1, "s")):
        if seconds >= big:
            rest = int(seconds % big // small)
            return f"{seconds // big:.0f} {big_unit}" + (f" {rest} {small_unit}" if rest else "")
    return f"{seconds:.0f} s"


class _Web:
    """The handlers, bound to one store, one settings object, one routing callable and one clock."""

    def __init__(self, engine: Engine, settings: WebSettings, routing: Routing, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.settings = settings
        self.routing = routing
        self.clock = clock
        self.templates = Environment(
            loader=FileSystemLoader(str(_package_dir("templates"))),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # the templates ship with the package; no stat() per render
        )
        self.templates.filters.update(utc=_utc, percent=_percent, ms=_ms, duration=_duration)
        self.cache = queries.SettledHoursCache()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(StoreCollector(engine, clock))

    # -- plumbing ---------------------------------------------------------------------------

    async def read(self, work: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self.engine.connect() as conn:
                return work(conn)

        return await run_in_threadpool(run)

    async def write(self, work: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self.engine.begin() as conn:
                return work(conn)

        return await run_in_threadpool(run)

    def page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        session: auth.Session | None = getattr(request.state, "session", None)
        body = self.templates.get_template(template).render(
            title=self.settings.title,
            session=session,
            status_page=self.settings.status_page,
            path=request.url.path,
            **context,
        )
        return HTMLResponse(body, status_code=status_code, headers=_SECURITY_HEADERS)

    def secure(self, request: Request) -> bool:
        return request.url.scheme == "https"

    async def current_session(self, request: Request) -> auth.Session | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        now = self.clock()
        return await self.read(lambda conn: auth.find_session(conn, cookie, now))

    async def form(self, request: Request) -> dict[str, str] | None:
        """The urlencoded form fields (first value each), or None when the body is too big."""
        body = await read_capped(request, FORM_BODY_LIMIT)
        if body is None:
            return None
        fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {key: values[0] for key, values in fields.items()}

    async def api_token(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        now = self.clock()
        return await self.write(lambda conn: auth.token_name(conn, token.strip(), now))

    async def require_api_token(self, request: Request) -> Response | None:
        """None when the request carries a valid API token, else the 401 to send."""
        return None if await self.api_token(request) is not None else _api_unauthorized()

    async def require_user(self, request: Request) -> Response | None:
        """None when a user is signed in (the session is put on the request), else the redirect to log in."""
        session = await self.current_session(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        request.state.session = session
        return None

    def csrf_rules(self) -> CsrfRules:
        """The session's CSRF token, for pages served by other packages (the error groups)."""
        return CsrfRules(
            token_for=lambda request: str(request.state.session.csrf_token),
            is_valid=lambda request, token: auth.tokens_match(request.state.session.csrf_token, token),
        )

    # -- dashboard --------------------------------------------------------------------------

    def login_required(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            denied = await self.require_user(request)
            return denied if denied is not None else await handler(request)

        return guarded

    async def overview(self, request: Request) -> Response:
        now = self.clock()
        summaries = await self.read(
            lambda conn: queries.check_summaries(conn, now, self.settings.slo, cache=self.cache)
        )
        counts: dict[str, int] = {}
        for summary in summaries:
            counts[summary.state] = counts.get(summary.state, 0) + 1
        return self.page(request, "overview.html.j2", checks=summaries, counts=counts, slo=self.settings.slo, now=now)

    async def check_page(self, request: Request) -> Response:
        name = request.path_params["name"]
        range_label = request.query_params.get("range", "24h")
        if range_label not in queries.RANGES:
            range_label = "24h"
        now = self.clock()
        detail = await self.read(
            lambda conn: queries.check_detail(conn, name, now, self.settings.slo, range_label, self.cache)
        )
        if detail is None:
            return self.page(request, "not_found.html.j2", status_code=404, what=f"check {name}")
        # Each region's state and last latency, for a check run from several regions.
        regions = await self.read(lambda conn: region_rows(conn, name))
        chart = latency_chart(
            detail.series, detail.deploys, detail.range_start, detail.range_end, queries.RANGES[range_label][2]
        )
        return self.page(
            request,
            "check.html.j2",
            detail=detail,
            check=detail.summary,
            regions=regions if len(regions) > 1 else [],
            chart=chart,
            ranges=list(queries.RANGES),
            slo=self.settings.slo,
            now=now,
        )

    async def heartbeats_page(self, request: Request) -> Response:
        rows = await self.read(queries.heartbeat_summaries)
        base = str(request.base_url).rstrip("/")
        return self.page(request, "heartbeats.html.j2", heartbeats=rows, base=base, now=self.clock())

    async def heartbeat_page(self, request: Request) -> Response:
        name = request.path_params["name"]
        detail = await self.read(lambda conn: queries.heartbeat_detail(conn, name))
        if detail is None:
            return self.page(request, "not_found.html.j2", status_code=404, what=f"heartbeat {name}")
        base = str(request.base_url).rstrip("/")
        return self.page(request, "heartbeat.html.j2", detail=detail, hb=detail.summary, base=base, now=self.clock())

    async def status(self, request: Request) -> Response:
        if not self.settings.status_page:
            return PlainTextResponse("not found\n", status_code=404)
        states = await self.read(queries.public_states)
        request.state.session = None
        return self.page(request, "status.html.j2", states=states, now=self.clock())

    # -- login ------------------------------------------------------------------------------

    def login_page(self, request: Request, error: str | None = None, status_code: int = 200) -> Response:
        csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        next_path = _safe_next(request.query_params.get("next"))
        response = self.page(
            request, "login.html.j2", status_code=status_code, csrf=csrf, error=error, next_path=next_path
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="lax", secure=self.secure(request), path="/login"
        )
        return response

    async def login_get(self, request: Request) -> Response:
        return self.login_page(request)

    async def login_post(self, request: Request) -> Response:
        fields = await self.form(request)
        if fields is None:
            return PlainTextResponse("form too large\n", status_code=413)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
        if expected is None or not auth.tokens_match(expected, fields.get("csrf_token")):
            return self.login_page(request, "The form expired; please sign in again.", status_code=403)
        name = fields.get("username", "").strip()
        password = fields.get("password", "")
        client = request.client.host if request.client else "unknown"
        keys = auth.login_failure_keys(client, name)
        now = self.clock()
        settings = self.settings

        def attempt(conn: Connection) -> tuple[str, float | str]:
            wait = auth.login_blocked_for(
                conn, keys, now, settings.login_failure_window_s, settings.login_failure_limit
            )
            if wait > 0:
                return "blocked", wait
            if not auth.verify_password(conn, name, password):
                auth.record_login_failure(conn, keys, now, settings.login_failure_window_s)
                return "wrong", 0.0
            auth.clear_login_failures(conn, keys[1])
            return "ok", auth.open_session(conn, name, now, settings.session_ttl_s)

        outcome, value = await self.write(attempt)
        if outcome == "blocked":
            minutes = max(1, math.ceil(float(value) / 60))
            response = self.login_page(
                request, f"Too many failed sign-ins; try again in {minutes} min.", status_code=429
            )
            response.headers["Retry-After"] = str(math.ceil(float(value)))
            return response
        if outcome == "wrong":
            return self.login_page(request, "Wrong user name or password.", status_code=401)
        redirect = RedirectResponse(_safe_next(fields.get("next")), status_code=303)
        redirect.set_cookie(
            SESSION_COOKIE,
            str(value),
            max_age=int(settings.session_ttl_s),
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
            path="/",
        )
        redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return redirect

    async def logout(self, request: Request) -> Response:
        session = await self.current_session(request)
        fields = await self.form(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        if fields is None or not auth.tokens_match(session.csrf_token, fields.get("csrf_token")):
            return PlainTextResponse("CSRF token missing or wrong\n", status_code=403)
        cookie = request.cookies[SESSION_COOKIE]
        await self.write(lambda conn: auth.close_session(conn, cookie))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- pings ------------------------------------------------------------------------------

    async def ping(self, request: Request) -> Response:
        headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
        parts = [part for part in request.path_params["rest"].split("/") if part]
        address = parse_ping_path(parts, self.settings.ping_key, auth.tokens_match)
        if address is None:
            return PlainTextResponse("not found\n", status_code=404, headers=headers)
        raw = b""
        if request.method == "POST":
            # Keep the first 10 KB; read on (and discard) up to the limit so the client can
            # finish sending, then stop reading.
            received = 0
            async for chunk in request.stream():
                if len(raw) < BODY_KEEP_BYTES:
                    raw += chunk[: BODY_KEEP_BYTES - len(raw)]
                received += len(chunk)
                if received >= PING_BODY_LIMIT:
                    break
        body = clean_body(raw)
        rid = request.query_params.get("rid") or None
        if rid is not None:
            rid = rid[:200]
        now = self.clock()
        client = request.client.host if request.client else None
        outcome = await self.write(
            lambda conn: record_ping(
                conn,
                address,
                at=now,
                method=request.method,
                remote_addr=client,
                rid=rid,
                body=body,
                routing=self.routing,
            )
        )
        if outcome is None:
            return PlainTextResponse("not found\n", status_code=404, headers=headers)
        return PlainTextResponse("OK\n", headers=headers)

    # -- API, metrics, health ---------------------------------------------------------------

    async def api_checks(self, request: Request) -> Response:
        if await self.api_token(request) is None:
            return _api_unauthorized()
        now = self.clock()
        summaries = await self.read(
            lambda conn: queries.check_summaries(conn, now, self.settings.slo, cache=self.cache)
        )
        return JSONResponse({"checks": [_check_json(s) for s in summaries], "slo": self.settings.slo, "at": now})

    async def api_heartbeats(self, request: Request) -> Response:
        if await self.api_token(request) is None:
            return _api_unauthorized()
        rows = await self.read(queries.heartbeat_summaries)
        return JSONResponse({"heartbeats": [asdict(row) for row in rows]})

    async def api_deploys(self, request: Request) -> Response:
        token = await self.api_token(request)
        if token is None:
            return _api_unauthorized()
        payload, refused = await read_json(request, FORM_BODY_LIMIT, "body larger than 16 KB")
        if refused is not None:
            return refused
        problem, deploy = _deploy_fields(payload)
        if problem is not None:
            return JSONResponse({"error": problem}, status_code=400)
        now = self.clock()
        at = float(deploy.pop("at", now))
        who = deploy.pop("who", None) or f"token {token}"
        deploy_id = await self.write(lambda conn: queries.insert_deploy(conn, at=at, who=who, source="api", **deploy))
        return JSONResponse({"id": deploy_id, "at": at}, status_code=201)

    async def metrics(self, request: Request) -> Response:
        if not self.settings.metrics_public and await self.api_token(request) is None:
            return _api_unauthorized()
        body = await run_in_threadpool(generate_latest, self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def healthz(self, request: Request) -> Response:
        def probe(conn: Connection) -> None:
            conn.execute(text("SELECT 1"))

        try:
            await self.read(probe)
        except SQLAlchemyError as exc:
            return JSONResponse({"status": "store unreachable", "error": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok"})


async def _store_unavailable(request: Request, exc: Exception) -> Response:
    # A dead or full store is the monitor's own outage: say so (pingers retry on 503) rather
    # than answer 500 with a traceback.
    return PlainTextResponse(
        f"the monitor's store is unavailable ({type(exc).__name__}); try again shortly\n",
        status_code=503,
        headers={"Retry-After": "30"},
    )


def _safe_next(value: str | None) -> str:
    # Only a local path: never an open redirect to another site ("//host" or "/\host").
    if not value or not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return "/"
    return value


def _api_unauthorized() -> Response:
    return JSONResponse(
        {"error": "an API token is required (Authorization: Bearer <token>)"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _check_json(summary: queries.CheckSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "kind": summary.kind,
        "target": summary.target,
        "state": summary.state,
        "state_since": summary.state_since,
        "last_result_at": summary.last_result_at,
        "last_reason": summary.last_reason,
        "tags": list(summary.tags),
        "uptime": {w.label: w.uptime for w in summary.windows},
        "latency_p50_ms": summary.p50_ms,
        "latency_p95_ms": summary.p95_ms,
        "error_budget_left": summary.budget_left,
    }


_DEPLOY_TEXT_FIELDS = {"environment": (True, 100), "version": (True, 200), "who": (False, 200), "note": (False, 2000)}


def _deploy_fields(payload: Any) -> tuple[str | None, dict[str, Any]]:
    """(problem, fields): one line naming the bad field, or the fields to store."""
    if not isinstance(payload, Mapping):
        return "the body must be a JSON object with environment and version", {}
    unknown = sorted(set(payload) - set(_DEPLOY_TEXT_FIELDS) - {"at"})
    if unknown:
        return f"unknown field {unknown[0]!r} (known: at, environment, note, version, who)", {}
    fields: dict[str, Any] = {}
    for key, (required, longest) in _DEPLOY_TEXT_FIELDS.items():
        value = payload.get(key)
        if value is None:
            if required:
                return f"field {key!r} is required (a non-empty string)", {}
            fields[key] = None
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > longest:
            return f"field {key!r} must be a non-empty string of at most {longest} characters", {}
        fields[key] = value.strip()
    if "at" in payload:
        at = payload["at"]
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at) or at <= 0:
            return "field 'at' must be a Unix time in seconds", {}
        fields["at"] = float(at)
    return None, fields


def create_app(
    engine: Engine,
    settings: WebSettings | None = None,
    *,
    routing: Routing = no_routing,
    clock: Callable[[], float] = time.time,
    intake: IntakeSettings | None = None,
    on_error_group: OnGroupEvent | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The monitor's web app on ``engine``.

    ``routing(subject_kind, subject_name, tags, old_state, new_state)`` names the alert providers
    a heartbeat flip caused by a ping is queued for (the alert router's ``providers_for``); only
    flips into or out of ``down`` are routed at all. ``clock`` returns UTC epoch seconds.
    The error intake (Sentry SDK envelopes, store and log endpoints) is served from the same
    root, since DSNs point at it; ``on_error_group`` hears new, regressed and spiking groups.
    ``extra_routes`` are served too (the regional probes' API, ``probe_api.ProbeApi.routes()``).
    """
    web = _Web(engine, settings or WebSettings(), routing, clock)
    ping_methods = ["GET", "HEAD", "POST"]
    routes = [
        Route("/", web.login_required(web.overview)),
        Route("/checks/{name:path}", web.login_required(web.check_page)),
        Route("/heartbeats", web.login_required(web.heartbeats_page)),
        Route("/heartbeats/{name:path}", web.login_required(web.heartbeat_page)),
        Route("/status", web.status),
        Route("/login", web.login_get, methods=["GET"]),
        Route("/login", web.login_post, methods=["POST"]),
        Route("/logout", web.logout, methods=["POST"]),
        Route("/ping/{rest:path}", web.ping, methods=ping_methods),
        Route("/api/v1/checks", web.api_checks, methods=["GET"]),
        Route("/api/v1/heartbeats", web.api_heartbeats, methods=["GET"]),
        Route("/api/v1/deploys", web.api_deploys, methods=["POST"]),
        Route("/metrics", web.metrics, methods=["GET"]),
        Route("/healthz", web.healthz, methods=["GET"]),
        *intake_routes(engine, intake, on_error_group, clock=clock),
        *errors_api_routes(engine, web.require_api_token),
        *errors_page_routes(engine, web.require_user, web.csrf_rules()),
        *extra_routes,
        Mount("/static", app=StaticFiles(directory=str(_package_dir("static"))), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={SQLAlchemyError: _store_unavailable})
    app.state.web = web
    return app

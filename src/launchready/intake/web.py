"""The error groups' JSON API and pages, as Starlette route factories the monitor's app mounts.

Authentication and CSRF belong to the monitor's web layer: the factories take its checks as
callables, so these routes follow the same login, API-token and CSRF rules as every other page.

JSON API (API token): ``GET /api/v1/errors`` (``sort`` = last_seen | first_seen | count | users,
``status``, ``q`` (title or culprit), ``tag`` (``key:value``), ``limit``), ``GET /api/v1/errors/{id}``, ``POST /api/v1/errors/{id}/status``
with ``{"action": "resolve" | "resolve_next_release" | "ignore" | "unresolve"}``.
Pages (login): ``/errors`` (sortable list, search) and ``/errors/{id}`` (stack trace with in-app
frames highlighted, breadcrumbs, tags, events over time with deploy markers, status buttons).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from launchready.intake.api import SORTS, group_detail, list_groups
from launchready.intake.grouping import exceptions_of, frames_of
from launchready.intake.ingest import set_group_status

# Returns None when the request may go on, else the response to send (401, a redirect to login).
AuthCheck = Callable[[Request], Awaitable[Response | None]]
ACTIONS = ("resolve", "resolve_next_release", "ignore", "unresolve")


@dataclass(frozen=True)
class CsrfRules:
    """The monitor's CSRF rules: the token for a page's forms, and whether a submitted one is valid."""

    token_for: Callable[[Request], str]
    is_valid: Callable[[Request, str], bool]


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.query_params.get(name, default))))
    except ValueError:
        return default


def errors_api_routes(engine: Engine, require_token: AuthCheck) -> list[BaseRoute]:
    async def list_endpoint(request: Request) -> Response:
        if (denied := await require_token(request)) is not None:
            return denied
        sort = request.query_params.get("sort", "last_seen")
        if sort not in SORTS:
            return JSONResponse({"detail": f"sort must be one of {', '.join(SORTS)}"}, status_code=400)

        def read() -> list[dict[str, Any]]:
            with engine.connect() as conn:
                return list_groups(
                    conn,
                    sort=sort,
                    status=request.query_params.get("status") or None,
                    query=request.query_params.get("q") or None,
                    tag=request.query_params.get("tag") or None,
                    limit=_int_param(request, "limit", 100, 1, 1000),
                )

        return JSONResponse(await anyio.to_thread.run_sync(read))

    async def detail_endpoint(request: Request) -> Response:
        if (denied := await require_token(request)) is not None:
            return denied
        group_id = int(request.path_params["group_id"])

        def read() -> dict[str, Any] | None:
            with engine.connect() as conn:
                return group_detail(conn, group_id)

        detail = await anyio.to_thread.run_sync(read)
        if detail is None:
            return JSONResponse({"detail": f"no error group {group_id}"}, status_code=404)
        return JSONResponse(detail)

    async def status_endpoint(request: Request) -> Response:
        if (denied := await require_token(request)) is not None:
            return denied
        group_id = int(request.path_params["group_id"])
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"detail": "body is not JSON"}, status_code=400)
        action = body.get("action") if isinstance(body, dict) else None
        if action not in ACTIONS:
            return JSONResponse({"detail": f"action must be one of {', '.join(ACTIONS)}"}, status_code=400)

        def write() -> bool:
            with engine.begin() as conn:
                return set_group_status(conn, group_id, str(action), time.time())

        if not await anyio.to_thread.run_sync(write):
            return JSONResponse({"detail": f"no error group {group_id}"}, status_code=404)
        return JSONResponse({"id": group_id, "action": action})

    return [
        Route("/api/v1/errors", list_endpoint, methods=["GET"]),
        Route("/api/v1/errors/{group_id:int}", detail_endpoint, methods=["GET"]),
        Route("/api/v1/errors/{group_id:int}/status", status_endpoint, methods=["POST"]),
    ]


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("launchready.intake", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["css"] = (resources.files("launchready.intake") / "templates" / "errors.css").read_text("utf-8")
    return env


def _stack(sample: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The sample event's exceptions, innermost frame first (as people read a trace on a page)."""
    if not sample:
        return []
    out = []
    for exception in reversed(exceptions_of(sample)):
        frames = []
        for frame in reversed(frames_of(exception)):
            frames.append(
                {
                    "where": frame.get("module") or frame.get("filename") or "?",
                    "function": frame.get("function") or "?",
                    "lineno": frame.get("lineno"),
                    "in_app": frame.get("in_app") is True,
                    "context_line": (frame.get("context_line") or "").rstrip(),
                    "vars": frame.get("vars") if isinstance(frame.get("vars"), dict) else {},
                }
            )
        out.append({"type": exception.get("type") or "Error", "value": exception.get("value") or "", "frames": frames})
    return out


def _breadcrumbs(sample: dict[str, Any] | None) -> list[dict[str, Any]]:
    crumbs = (sample or {}).get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
    return [c for c in values if isinstance(c, dict)][-50:] if isinstance(values, list) else []


def _tags(sample: dict[str, Any] | None) -> list[tuple[str, str]]:
    tags = (sample or {}).get("tags")
    if isinstance(tags, dict):
        return [(str(k), str(v)) for k, v in tags.items()][:50]
    if isinstance(tags, list):
        return [(str(p[0]), str(p[1])) for p in tags if isinstance(p, list) and len(p) == 2][:50]
    return []


def events_chart(per_minute: list[dict[str, Any]], deploys: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """Hourly bars over the last 48 hours and deploy markers, as SVG coordinates (drawn server-side)."""
    hours = 48
    end = int(now // 3600) + 1
    start = end - hours
    buckets = [0] * hours
    for point in per_minute:
        hour = int(point["minute"] // 3600)
        if start <= hour < end:
            buckets[hour - start] += int(point["count"])
    width, height = 720, 120
    peak = max(buckets) or 1
    bar = width / hours
    bars = [
        {
            "x": round(i * bar, 1),
            "y": round(height - n / peak * height, 1),
            "w": round(bar - 1, 1),
            "h": round(n / peak * height, 1),
            "n": n,
        }
        for i, n in enumerate(buckets)
    ]
    markers = []
    for deploy in deploys:
        at = datetime.fromisoformat(str(deploy["at"]).replace("Z", "+00:00")).timestamp()
        if start * 3600 <= at < end * 3600:
            x = round((at / 3600 - start) * bar, 1)
            # Labels near the right edge are drawn leftwards so they stay inside the chart.
            markers.append({"x": x, "label": deploy["version"], "anchor": "end" if x > width - 60 else "start"})
    return {"width": width, "height": height, "bars": bars, "markers": markers, "peak": peak}


def errors_page_routes(engine: Engine, require_user: AuthCheck, csrf: CsrfRules) -> list[BaseRoute]:
    env = _environment()
    list_template = env.get_template("errors_list.html.j2")
    group_template = env.get_template("error_group.html.j2")

    async def list_page(request: Request) -> Response:
        if (denied := await require_user(request)) is not None:
            return denied
        sort = request.query_params.get("sort", "last_seen")
        sort = sort if sort in SORTS else "last_seen"
        query = request.query_params.get("q") or None
        status = request.query_params.get("status") or None
        tag = request.query_params.get("tag") or None

        def read() -> list[dict[str, Any]]:
            with engine.connect() as conn:
                return list_groups(conn, sort=sort, status=status, query=query, tag=tag, limit=200)

        groups = await anyio.to_thread.run_sync(read)
        html = list_template.render(
            groups=groups, sort=sort, q=query or "", status=status or "", tag=tag or "", sorts=list(SORTS)
        )
        return HTMLResponse(html)

    async def group_page(request: Request) -> Response:
        if (denied := await require_user(request)) is not None:
            return denied
        group_id = int(request.path_params["group_id"])

        def read() -> dict[str, Any] | None:
            with engine.connect() as conn:
                return group_detail(conn, group_id, minutes=48 * 60)

        detail = await anyio.to_thread.run_sync(read)
        if detail is None:
            return HTMLResponse("<h1>No such error group</h1>", status_code=404)
        sample = detail["sample_event"] if isinstance(detail["sample_event"], dict) else None
        html = group_template.render(
            g=detail,
            stack=_stack(sample),
            breadcrumbs=_breadcrumbs(sample),
            tags=_tags(sample),
            tag_counts=detail["tags"],
            chart=events_chart(detail["per_minute"], detail["deploys"], time.time()),
            csrf_token=csrf.token_for(request),
            actions=ACTIONS,
        )
        return HTMLResponse(html)

    async def status_form(request: Request) -> Response:
        if (denied := await require_user(request)) is not None:
            return denied
        group_id = int(request.path_params["group_id"])
        # A urlencoded form, read as such (no multipart parser needed for two fields).
        body = await request.body()
        if len(body) > 4096:
            return HTMLResponse("<h1>Form too large</h1>", status_code=413)
        form = parse_qs(body.decode("utf-8", "replace"))
        token = (form.get("csrf_token") or [""])[0]
        action = (form.get("action") or [""])[0]
        if not token or not csrf.is_valid(request, token):
            return HTMLResponse("<h1>Invalid or missing CSRF token</h1>", status_code=403)
        if action not in ACTIONS:
            return HTMLResponse("<h1>Unknown action</h1>", status_code=400)

        def write() -> bool:
            with engine.begin() as conn:
                return set_group_status(conn, group_id, str(action), time.time())

        if not await anyio.to_thread.run_sync(write):
            return HTMLResponse("<h1>No such error group</h1>", status_code=404)
        return RedirectResponse(f"/errors/{group_id}", status_code=303)

    return [
        Route("/errors", list_page, methods=["GET"]),
        Route("/errors/{group_id:int}", group_page, methods=["GET"]),
        Route("/errors/{group_id:int}/status", status_form, methods=["POST"]),
    ]

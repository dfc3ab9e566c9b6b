"""The error groups' JSON API and pages, served on loopback with the intake."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import sentry_sdk
from sqlalchemy import Engine, insert
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from launchready.intake.projects import Project, add_project
from launchready.intake.routes import intake_routes
from launchready.intake.web import CsrfRules, errors_api_routes, errors_page_routes
from launchready.monitor.store.schema import deploys
from tests.intakeutil import serve, store_engine

TOKEN = "test-api-token"
CSRF = "csrf-for-this-session"


async def require_token(request: Request) -> Response | None:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return JSONResponse({"detail": "API token required"}, status_code=401)
    return None


async def require_user(request: Request) -> Response | None:
    if request.cookies.get("session") != "ann":
        return Response(status_code=303, headers={"Location": "/login"})
    return None


CSRF_RULES = CsrfRules(token_for=lambda request: CSRF, is_valid=lambda request, token: token == CSRF)


def _checkout(cart: str) -> None:
    raise LookupError(f"cart {cart} vanished")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Engine, Project]]:
    with store_engine("sqlite", tmp_path) as engine:
        with engine.begin() as conn:
            project = add_project(conn, "shop", time.time())
            conn.execute(
                insert(deploys).values(at=time.time() - 30, environment="production", version="v9", source="api")
            )
        routes = (
            intake_routes(engine)
            + errors_api_routes(engine, require_token)
            + errors_page_routes(engine, require_user, CSRF_RULES)
        )
        with serve(routes) as base:
            client = sentry_sdk.Client(dsn=project.dsn(base), default_integrations=False, environment="production")
            with sentry_sdk.new_scope() as scope:
                scope.set_client(client)
                scope.add_breadcrumb(category="http", message="GET /cart/<b>7</b>", level="info")
                scope.set_tag("tenant", "acme")
                for cart in ("c1", "c2", "c3"):
                    try:
                        _checkout(cart)
                    except LookupError as exc:
                        sentry_sdk.capture_exception(exc)
                sentry_sdk.capture_message("a lone message")
            client.close(timeout=10)
            yield base, engine, project


def _request(
    base: str, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text


def test_json_api(served: tuple[str, Engine, Project]) -> None:
    base, _, _ = served
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert _request(base, "GET", "/api/v1/errors")[0] == 401
    status, _, text = _request(base, "GET", "/api/v1/errors?sort=count", headers=auth)
    groups = json.loads(text)
    assert status == 200 and [g["count"] for g in groups] == [3, 1]
    assert _request(base, "GET", "/api/v1/errors?sort=bogus", headers=auth)[0] == 400
    status, _, text = _request(base, "GET", "/api/v1/errors?q=vanished", headers=auth)
    assert [g["title"] for g in json.loads(text)] == ["LookupError: cart c1 vanished"]
    status, _, text = _request(base, "GET", "/api/v1/errors?tag=tenant:acme", headers=auth)
    assert sorted(g["count"] for g in json.loads(text)) == [1, 3]
    status, _, text = _request(base, "GET", "/api/v1/errors?tag=tenant:other", headers=auth)
    assert json.loads(text) == []
    group_id = groups[0]["id"]
    status, _, text = _request(base, "GET", f"/api/v1/errors/{group_id}", headers=auth)
    detail = json.loads(text)
    assert detail["first_deploy"]["version"] == "v9" and sum(p["count"] for p in detail["per_minute"]) == 3
    assert detail["sample_event"]["exception"]["values"][-1]["type"] == "LookupError"
    assert detail["tags"]["tenant"] == [{"value": "acme", "count": 3}]
    assert detail["tags"]["environment"] == [{"value": "production", "count": 3}]
    status, _, _ = _request(
        base, "POST", f"/api/v1/errors/{group_id}/status", body=b'{"action": "ignore"}', headers=auth
    )
    assert status == 200
    status, _, text = _request(base, "GET", "/api/v1/errors?status=ignored", headers=auth)
    assert [g["id"] for g in json.loads(text)] == [group_id]
    assert _request(base, "POST", f"/api/v1/errors/{group_id}/status", body=b'{"action": "x"}', headers=auth)[0] == 400
    assert _request(base, "GET", "/api/v1/errors/999", headers=auth)[0] == 404


def test_pages(served: tuple[str, Engine, Project]) -> None:
    base, _, _ = served
    login = {"Cookie": "session=ann"}
    assert _request(base, "GET", "/errors")[0] == 303
    status, _, page = _request(base, "GET", "/errors?sort=count", headers=login)
    assert status == 200 and "LookupError: cart c1 vanished" in page and "a lone message" in page
    group_id = page.split('href="/errors/')[1].split('"')[0]
    status, _, page = _request(base, "GET", f"/errors/{group_id}", headers=login)
    assert status == 200
    assert 'class="frame in-app"' in page and "_checkout" in page  # in-app frames highlighted
    assert "GET /cart/&lt;b&gt;7&lt;/b&gt;" in page  # breadcrumbs, escaped
    assert "tenant" in page and "acme</a> (3)" in page
    assert 'class="deploy"' in page and "v9" in page  # the deploy marker on the chart
    form = {"Cookie": "session=ann", "Content-Type": "application/x-www-form-urlencoded"}
    bad = urlencode({"csrf_token": "forged", "action": "resolve"}).encode()
    assert _request(base, "POST", f"/errors/{group_id}/status", body=bad, headers=form)[0] == 403
    good = urlencode({"csrf_token": CSRF, "action": "resolve"}).encode()
    status, headers, _ = _request(base, "POST", f"/errors/{group_id}/status", body=good, headers=form)
    assert status == 303 and headers["location"] == f"/errors/{group_id}"
    status, _, page = _request(base, "GET", "/errors?status=resolved", headers=login)
    assert "a lone message" not in page and f'/errors/{group_id}"' in page

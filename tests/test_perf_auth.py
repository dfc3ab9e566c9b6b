"""Authenticated load: config errors, the request lines, and a login that stops working mid-run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from test_perf_generator import endpoint, serve

from launchready.config.model import Config
from launchready.perf.errors import PerfError
from launchready.perf.generator import LoadSettings, run_load
from launchready.perf.http1 import Endpoint, auth_failure, build_request
from launchready.perf.plan import plan

FLOWS = """\
flows:
  login:
    steps:
      - request: {method: POST, url: /login, form: {email: a@example.com, password: "${env:PW}"}}
        capture:
          token: {json: $.token}
  health:
    steps:
      - request: GET /health
"""


def config(tmp_path: Path, perf: dict[str, object], *, flows: bool = True) -> Config:
    data: dict[str, object] = {
        "domain": "example.com",
        "environments": {"production": {"base_url": "https://app.example.com"}},
        "perf": perf,
    }
    if flows:
        (tmp_path / "smoke.yaml").write_text(FLOWS, encoding="utf-8")
        (tmp_path / "smoke.env").write_text("PW=correct-horse-battery\n", encoding="utf-8")
        data["smoke"] = {"files": [str(tmp_path / "smoke.yaml")], "env_file": str(tmp_path / "smoke.env")}
    return Config.model_validate(data)


def test_login_flow_from_the_endpoint_or_the_table(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        {
            "login_flow": "login",
            "auth_header": "Authorization: Bearer ${token}",
            "endpoints": [
                {"name": "feed", "path": "/feed"},
                {"name": "home", "path": "/", "anonymous": True},
                {"name": "health", "path": "/health", "login_flow": "health"},
            ],
        },
    )
    feed, home, health = plan(cfg)
    assert (
        feed.login is not None
        and feed.login.flow == "login"
        and feed.login.auth_header == "Authorization: Bearer ${token}"
    )
    assert home.login is None
    # An endpoint with its own flow does not inherit the table's header (its variables belong to another flow).
    assert health.login is not None and health.login.flow == "health" and health.login.auth_header is None
    # An ad-hoc --url logs in as the table says.
    [adhoc] = plan(cfg, urls=("/v1/me",))
    assert adhoc.login is not None and adhoc.login.flow == "login"


@pytest.mark.parametrize(
    "perf, message",
    [
        ({"auth_header": "Bearer x", "login_flow": "login"}, 'expected "Name: value"'),
        ({"auth_header": "Host: evil.example", "login_flow": "login"}, "Host is set by the load client itself"),
        ({"auth_header": "Authorization: Bearer ${token}"}, "auth_header needs login_flow"),
        (
            {"endpoints": [{"name": "a", "path": "/", "auth_header": "X-Token: ${token}"}]},
            "endpoint a: auth_header needs login_flow",
        ),
        (
            {"endpoints": [{"name": "a", "path": "/", "anonymous": True, "login_flow": "login"}]},
            "anonymous = true cannot go with",
        ),
        ({"login_flow": "bad name!"}, "should match pattern"),
    ],
)
def test_config_errors(tmp_path: Path, perf: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config(tmp_path, perf)


@pytest.mark.parametrize(
    "perf, flows, message",
    [
        ({"login_flow": "logn"}, True, r"perf.login_flow: no smoke flow named 'logn' \(known: health, login\)"),
        (
            {"endpoints": [{"name": "a", "path": "/", "login_flow": "nope"}]},
            True,
            r"perf.endpoints\[0\] \(a\) login_flow: no smoke flow named 'nope'",
        ),
        ({"login_flow": "login"}, False, r"perf.login_flow = 'login': no smoke flows declared"),
        (
            {"login_flow": "login", "auth_header": "Authorization: Bearer ${tokn}"},
            True,
            r"perf.auth_header: \$\{tokn\} is not a variable or capture of flow 'login' \(known: base_url, token\)",
        ),
        (
            {"login_flow": "login", "auth_header": "X-Api-Key: ${env:NOT_SET_ANYWHERE_42}"},
            True,
            r"perf.auth_header: \$\{env:NOT_SET_ANYWHERE_42\} is not set",
        ),
    ],
)
def test_names_are_checked_against_the_flows_before_any_request(
    tmp_path: Path, perf: dict[str, object], flows: bool, message: str
) -> None:
    cfg = config(tmp_path, {"endpoints": [{"name": "feed", "path": "/feed"}], **perf}, flows=flows)
    with pytest.raises(PerfError, match=message):
        plan(cfg)


def test_extra_request_lines_and_no_header_injection() -> None:
    request = build_request(
        "GET", "app.example.com", 443, True, "/feed", "ua", [("Cookie", "session=abc"), ("Authorization", "Bearer t")]
    )
    assert request.endswith(b"Accept-Encoding: identity\r\nCookie: session=abc\r\nAuthorization: Bearer t\r\n\r\n")
    with pytest.raises(ValueError, match="line break"):
        build_request("GET", "h", 80, False, "/", "ua", [("X-A", "v\r\nHost: evil")])


def test_what_counts_as_a_lost_login() -> None:
    assert auth_failure(401, None) == "auth lost: HTTP 401"
    assert auth_failure(403, None) == "auth lost: HTTP 403"
    assert auth_failure(303, "/login?next=/feed&token=secret") == "auth lost: HTTP 303 to /login"
    assert auth_failure(302, "https://id.example.com/signin") == "auth lost: HTTP 302 to https://id.example.com/signin"
    assert auth_failure(302, "/users/sign_in") is not None
    # A redirect elsewhere (the home page sending members to their dashboard) is not a lost login.
    assert auth_failure(303, "/dashboard") is None
    assert auth_failure(301, "/authors") is None
    assert auth_failure(200, None) is None and auth_failure(404, None) is None


def test_a_login_that_stops_working_mid_run_counts_as_errors() -> None:
    served = 0

    async def sessions(request: web.Request) -> web.StreamResponse:
        nonlocal served
        if request.headers.get("Cookie") != "session=s3cr3t-value":
            raise web.HTTPSeeOther("/login")
        served += 1
        if served > 20:  # the session store "evicts" the session
            raise web.HTTPSeeOther("/login?next=/feed")
        return web.Response(text="feed")

    async def main() -> tuple[dict[str, int], int, list[str], dict[str, int]]:
        async with serve(sessions) as port:
            plain = endpoint(port, "/feed")
            request = build_request("GET", "lab.test", port, False, "/feed", "t", [("Cookie", "session=s3cr3t-value")])
            authed = Endpoint(
                "ep",
                plain.url,
                plain.host,
                port,
                False,
                "GET",
                request,
                plain.dial,
                authenticated=True,
                auth="cookies session=s3cr…",
            )
            settings = LoadSettings(rate=40, duration_s=1.0, warmup_s=0.0)
            result = await run_load([authed], settings)
            stats = result.endpoints["ep"]
            anonymous = (await run_load([plain], settings)).endpoints["ep"]
            return stats.statuses, stats.auth_lost, stats.error_samples, anonymous.statuses

    statuses, lost, samples, anonymous = asyncio.run(main())
    assert statuses == {"200": 20, "303": 20}
    assert lost == 20 and samples == ["auth lost: HTTP 303 to /login"]
    # Without a login the redirect is just a status (the endpoint is not declared as authenticated).
    assert anonymous == {"303": 40}

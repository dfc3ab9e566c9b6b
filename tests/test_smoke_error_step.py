"""The smoke flows' `error` step: trigger an error in the lab's app (which reports it with the
official sentry-sdk), then poll the monitor's error API until the event arrives; a timeout or a
refused API is a failed step, never a crash."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from launchready.config.model import Config
from launchready.intake.projects import add_project
from launchready.intake.routes import intake_routes
from launchready.intake.web import errors_api_routes
from launchready.lab.lab import Lab
from launchready.smoke.errors import SmokeError
from launchready.smoke.plan import execute, plan_smoke
from launchready.smoke.results import SmokeRun
from tests.intakeutil import serve, store_engine

TOKEN = secrets.token_hex(16)

FLOW = """
flows:
  errors-arrive:
    description: A deliberate error in the app reaches the error tracker.
    steps:
      - error:
          trigger: GET https://api.marketlab.test/v1/members
          monitor: ${monitor}
          token: ${env:MONITOR_TOKEN}
          title: "KeyError"
          timeout: TIMEOUT
        expect:
          json: {"$.first_release": "marketlab@2.0.0"}
        capture:
          group: {json: $.id}
vars:
  monitor: MONITOR_URL_HERE
"""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with store_engine("sqlite", tmp_path) as e:
        yield e


async def _bearer(request: Request) -> Response | None:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return JSONResponse({"detail": "token required"}, status_code=401)
    return None


def _run(lab: Lab, tmp_path: Path, monitor: str, *, timeout: float, token: str = TOKEN) -> SmokeRun:
    flow_file = tmp_path / "errors.yaml"
    flow_file.write_text(FLOW.replace("MONITOR_URL_HERE", monitor).replace("TIMEOUT", str(timeout)), encoding="utf-8")
    data = tomllib.loads(lab.config_toml())
    data["smoke"]["files"] = [str(flow_file)]
    plan = plan_smoke(Config.model_validate(data), "production", environ={"MONITOR_TOKEN": token})
    return asyncio.run(execute(plan, lab.net_settings()))


def test_the_error_step_sees_the_triggered_error_arrive(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        project = add_project(conn, "marketlab", time.time())
    routes = [*intake_routes(engine), *errors_api_routes(engine, _bearer)]
    with serve(routes) as monitor, Lab(faults=["new-error-after-deploy"], error_dsn=project.dsn(monitor)) as lab:
        lab.seed_members(2)
        lab.deploy("2.0.0")
        run = _run(lab, tmp_path, monitor, timeout=20)
        [flow] = run.flows
        assert flow.passed, flow.reason
        [step] = flow.steps
        assert step.kind == "error" and "answered 500" in step.request
        # Wrong token: the API refuses, the step fails and says what to check; the token is masked.
        refused = _run(lab, tmp_path, monitor, timeout=5, token="wrong-token-0123456789")
        assert not refused.passed
        failure = refused.flows[0].failed_step
        assert failure is not None and "answered 401" in (failure.failure or "")
        assert "wrong-token-0123456789" not in json.dumps([str(s) for s in refused.flows[0].steps])


def test_an_error_that_never_arrives_is_a_failed_step_after_the_timeout(engine: Engine, tmp_path: Path) -> None:
    routes = [*intake_routes(engine), *errors_api_routes(engine, _bearer)]
    # The app reports nowhere (no DSN): the error happens, nothing arrives.
    with serve(routes) as monitor, Lab(faults=["new-error-after-deploy"]) as lab:
        lab.seed_members(1)
        lab.deploy("2.0.0")
        run = _run(lab, tmp_path, monitor, timeout=1)
    step = run.flows[0].failed_step
    assert step is not None and step.kind == "error"
    assert "no error with a title containing 'KeyError' arrived" in (step.failure or "")
    assert "within 1s" in (step.failure or "")


def test_an_error_step_without_a_token_is_refused_before_any_request(tmp_path: Path) -> None:
    from launchready.smoke.loader import load_flow_files

    path = tmp_path / "bad.yaml"
    path.write_text(
        "flows:\n  f:\n    steps:\n      - error:\n          trigger: GET /boom\n"
        "          monitor: https://monitor.example.com\n          title: ZeroDivisionError\n",
        encoding="utf-8",
    )
    with pytest.raises(SmokeError, match=r"bad\.yaml:4: .*token"):
        load_flow_files([path])

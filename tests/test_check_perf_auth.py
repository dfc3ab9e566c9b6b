"""perf.load with a smoke-flow login, against the lab: 200s with the flow's session, redirects without
it, a failing login stops the load, the cookie is masked in every report, config errors are one line."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from perfutil import perf_config
from rich.console import Console
from test_check_lab import run_check

from launchready.checks.perf.load import judge
from launchready.cli.main import main
from launchready.core.errors import CouldNotRun
from launchready.core.masking import mask_secret
from launchready.lab.lab import Lab
from launchready.perf import report
from launchready.perf.generator import EndpointStats, LoadResult, LoadSettings, SelfWatch
from launchready.perf.histogram import Histogram
from launchready.perf.plan import PlannedEndpoint, plan
from launchready.perf.session import log_in_for, measure, settings_for

MEMBER_FEED = "https://app.marketlab.test/feed"
MEMBER = [{"name": "member-feed", "path": "/feed", "login_flow": "login"}]


def test_judge_says_when_the_login_was_lost() -> None:
    stats = EndpointStats("member-feed", MEMBER_FEED, auth="login flow 'login': cookies session=abcd…(43 chars)")
    for _ in range(10):
        stats.latency.record(3000)
    stats.ok, stats.errors, stats.auth_lost = 10, 30, 30
    stats.error_samples = ["auth lost: HTTP 303 to /login"]
    result = LoadResult(
        LoadSettings(rate=20, duration_s=2),
        {"member-feed": stats},
        stats.latency,
        [Histogram()],
        [0],
        2,
        SelfWatch([0.1]),
        40,
    )
    lost, errors = judge(result, [PlannedEndpoint("member-feed", MEMBER_FEED, "GET", 1, 300.0, 0.01)])
    assert lost.id == "perf.load.auth-lost" and errors.id == "perf.load.error-rate-over-budget"
    assert "30 of 40 logged-in requests were turned away" in lost.title
    assert "e.g. auth lost: HTTP 303 to /login" in lost.evidence
    assert lost.impact.value == "login"


def test_the_flow_session_authenticates_every_request_and_is_masked_everywhere(lab: Lab) -> None:
    cfg = perf_config(lab, endpoints=MEMBER)
    planned = plan(cfg)
    settings = settings_for(cfg, duration_s=1.0, warmup_s=0.2)

    async def run() -> tuple[str, LoadResult]:
        logins = await log_in_for(planned, lab.net_settings())
        [(name, value)] = logins["login"].session.cookies_for(MEMBER_FEED)
        assert name == "session"
        return value, await measure(planned, lab.net_settings(), settings, logins=logins)

    cookie, result = asyncio.run(run())
    stats = result.endpoints["member-feed"]
    assert stats.statuses == {"200": 20} and stats.auth_lost == 0
    findings = judge(result, planned)
    terminal = io.StringIO()
    report.render_terminal(result, planned, findings, Console(file=terminal, width=200, force_terminal=False))
    outputs = {
        "terminal": terminal.getvalue(),
        "json": json.dumps(json.loads(report.render_json(result, planned, findings)), ensure_ascii=False),
        "html": report.render_html(result, planned, findings),
    }
    shown = f"cookies session={mask_secret(cookie)}"
    for kind, text in outputs.items():
        assert cookie not in text and cookie[:12] not in text, kind
        assert shown in text, kind
    assert json.loads(outputs["json"])["endpoints"][0]["auth"] == f"login flow 'login': {shown}"


def _config_file(lab: Lab, tmp_path: Path, perf: str) -> Path:
    from perfutil import lab_toml_without_perf

    path = tmp_path / "launchready.toml"
    path.write_text(
        lab_toml_without_perf(lab) + "\n[perf]\nrate = 20.0\nduration_s = 1.0\nwarmup_s = 0.2\n" + perf,
        encoding="utf-8",
    )
    return path


def test_without_the_login_the_feed_only_redirects_and_that_is_said(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config_file(lab, tmp_path, 'endpoints = [{ name = "anonymous-feed", path = "/feed" }]\n')
    with pytest.raises(SystemExit) as done:
        main(["load", "-c", str(path), *lab.cli_args(), "--format", "json", "-q"])
    data = json.loads(capsys.readouterr().out)
    [endpoint] = data["endpoints"]
    assert endpoint["auth"] is None and endpoint["statuses"] == {"303": 20}
    # Fast and error-free, but it measured the redirect to /login: said so, and the run fails.
    [finding] = [f for f in data["findings"] if f["severity"] != "info"]
    assert finding["id"] == "perf.load.login-page-measured" and done.value.code == 1
    assert "20 of 20 responses were 401/403 or a redirect to a login page" in finding["title"]


def test_config_errors_are_one_line_with_exit_2(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_header = _config_file(
        lab,
        tmp_path,
        'login_flow = "login"\nauth_header = "Bearer abc"\nendpoints = [{ name = "f", path = "/feed" }]\n',
    )
    with pytest.raises(SystemExit) as done:
        main(["load", "-c", str(bad_header), *lab.cli_args(), "-q"])
    err = capsys.readouterr().err
    line = bad_header.read_text(encoding="utf-8").splitlines().index('auth_header = "Bearer abc"') + 1
    assert done.value.code == 2 and err.count("\n") == 1
    assert f"launchready.toml:{line}" in err and "perf.auth_header" in err

    unknown = _config_file(lab, tmp_path, 'endpoints = [{ name = "f", path = "/feed", login_flow = "sign-in" }]\n')
    with pytest.raises(SystemExit) as done:
        main(["load", "-c", str(unknown), *lab.cli_args(), "-q"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1
    assert (
        "perf.endpoints[0] (f) login_flow: no smoke flow named 'sign-in' (known: checkout, directory-api, invite, login, password-reset, signup)"
        in err
    )


def test_a_failing_login_flow_stops_the_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Lab(faults=["dashboard-loses-auth"]) as broken:
        path = _config_file(
            broken, tmp_path, 'endpoints = [{ name = "member-feed", path = "/feed", login_flow = "login" }]\n'
        )
        with pytest.raises(SystemExit) as done:
            main(["load", "-c", str(path), *broken.cli_args(), "--format", "json"])
        out, err = capsys.readouterr()
        outcomes = run_check("perf.load", broken, config=perf_config(broken, endpoints=MEMBER))
    assert done.value.code == 1 and out == ""
    [line] = [x for x in err.splitlines() if "login flow" in x]
    assert line.startswith(
        "launchready: load not run: login flow 'login' (perf.endpoints[0] (member-feed) login_flow) failed at step 'dashboard'"
    )
    assert "expected status equals 200, got 303" in line
    assert "generator" not in err  # nothing was measured
    # In an audit the load check could not run (app.smoke reports the broken login itself).
    [outcome] = outcomes.values()
    assert isinstance(outcome, CouldNotRun) and "login flow 'login'" in str(outcome)

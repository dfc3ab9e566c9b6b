"""The dashboard in Debian's Chromium over the DevTools protocol: sign in through the form, see a
check go down, see a deploy marker on its chart; screenshots at 1280 px and 390 px wide."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from report_browser import chromium_or_skip, shots_dir
from sqlalchemy import Engine, update

from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.schema import checks
from launchready.monitor.web import WebSettings, create_app
from launchready.monitor.web.auth import add_api_token
from launchready.perf.chromium import _Cdp, _launch
from tests.monitor_web_support import Browser, ServedApp, serve, store_engine
from tests.test_monitor_web import HB_UUID, NOW, PASSWORD, Clock, seed


@pytest.fixture
def chromium() -> str:
    return chromium_or_skip()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with store_engine("sqlite", tmp_path) as engine:
        yield engine


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return shots_dir(tmp_path)


class Page:
    def __init__(self, cdp: _Cdp, session: str) -> None:
        self.cdp = cdp
        self.session = session

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.cdp.send(method, params, self.session)

    async def load_event(self) -> None:
        while True:
            event = await self.cdp.events.get()
            if event.get("method") == "Page.loadEventFired" and event.get("sessionId") == self.session:
                return

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})
        await self.load_event()

    async def js(self, expression: str) -> Any:
        reply = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def screenshot(self, path: Path, width: int) -> None:
        mobile = width < 600
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile},
        )
        height = await self.js("Math.ceil(document.documentElement.scrollHeight)")
        shot = await self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(shot["data"]))


async def drive(binary: str, served: ServedApp, engine: Engine, shots: Path) -> dict[str, Any]:
    profile = tempfile.mkdtemp(prefix="monweb-chromium-")
    proc, ws_url = await _launch(binary, profile, [])
    seen: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url, max_msg_size=0) as ws:
            cdp = _Cdp(ws)
            try:
                target = await cdp.send("Target.createTarget", {"url": "about:blank"})
                attached = await cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
                page = Page(cdp, attached["sessionId"])
                await page.send("Page.enable")
                await page.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                )
                await page.goto(f"{served.base}/")
                seen["login_url"] = await page.js("location.pathname")
                await page.screenshot(shots / "login-390.png", 390)
                await page.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                )
                # Sign in as a person would: type into the fields and submit the form.
                await page.js(
                    "document.querySelector('input[name=username]').value = 'ada';"
                    f"document.querySelector('input[name=password]').value = {json.dumps(PASSWORD)};"
                    "document.querySelector('form').submit(); true"
                )
                await page.load_event()
                seen["after_login"] = await page.js("location.pathname")
                seen["www_state_before"] = await page.js(
                    "document.querySelector('a[href=\"/checks/www\"]').closest('tr').querySelector('.state').textContent"
                )
                # The scheduler flips www down (as it would after failures_before_down failures).
                with engine.begin() as conn:
                    conn.execute(
                        update(checks)
                        .where(checks.c.name == "www")
                        .values(state="down", state_since=NOW - 120, last_reason="[RESPONSE_TIME] < 300 failed: 2.4 s")
                    )
                    record_flip(
                        conn,
                        subject_kind="check",
                        subject_name="www",
                        old_state="up",
                        new_state="down",
                        at=NOW - 120,
                        reason="[RESPONSE_TIME] < 300 failed: 2.4 s",
                        providers=[],
                    )
                await page.goto(f"{served.base}/")
                seen["www_state_after"] = await page.js(
                    "document.querySelector('a[href=\"/checks/www\"]').closest('tr').querySelector('.state').textContent"
                )
                seen["down_rows"] = await page.js("document.querySelectorAll('tr.row-down').length")
                await page.screenshot(shots / "overview-1280.png", 1280)
                await page.screenshot(shots / "overview-390.png", 390)
                await page.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                )
                await page.goto(f"{served.base}/checks/api-health")
                seen["deploy_markers"] = await page.js("document.querySelectorAll('svg.chart g.deploy').length")
                seen["deploy_titles"] = await page.js(
                    "Array.from(document.querySelectorAll('svg.chart g.deploy title')).map(t => t.textContent)"
                )
                seen["marker_box"] = await page.js(
                    "(() => { const r = document.querySelector('svg.chart g.deploy line').getBoundingClientRect();"
                    " return [r.width, r.height]; })()"
                )
                seen["incident_deploy"] = await page.js(
                    "document.querySelector('table.rows tbody tr td:last-child').textContent"
                )
                await page.screenshot(shots / "check-1280.png", 1280)
                await page.screenshot(shots / "check-390.png", 390)
                await page.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                )
                await page.goto(f"{served.base}/heartbeats")
                await page.screenshot(shots / "heartbeats-1280.png", 1280)
                await page.screenshot(shots / "heartbeats-390.png", 390)
                await page.goto(f"{served.base}/heartbeats/nightly-backup")
                seen["pings_listed"] = await page.js("document.querySelectorAll('details.ping').length")
                await page.screenshot(shots / "heartbeat-390.png", 390)
                await page.goto(f"{served.base}/status")
                await page.screenshot(shots / "status-390.png", 390)
                seen["overflow_390"] = await page.js("document.documentElement.scrollWidth > window.innerWidth")
            finally:
                await cdp.close()
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return seen


def test_dashboard_in_chromium(chromium: str, engine: Engine, shots: Path) -> None:
    seed(engine)
    token = add_api_token(engine, "ci", NOW)
    settings = WebSettings(status_page=True)
    with serve(create_app(engine, settings, clock=Clock())) as served:
        deploy = Browser(served).post(
            "/api/v1/deploys",
            body=json.dumps({"environment": "production", "version": "v1.6.0", "who": "release-bot"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert deploy.status == 201
        pinger = Browser(served)
        for path in (f"/ping/{HB_UUID}/start?rid=a", f"/ping/{HB_UUID}/0?rid=a", f"/ping/{HB_UUID}/start"):
            assert pinger.get(path).status == 200
        seen = asyncio.run(asyncio.wait_for(drive(chromium, served, engine, shots), 120))
    assert seen["login_url"] == "/login" and seen["after_login"] == "/"
    assert (seen["www_state_before"], seen["www_state_after"]) == ("up", "down")
    assert seen["down_rows"] == 2
    assert seen["deploy_markers"] == 2
    assert any("v1.6.0" in title for title in seen["deploy_titles"])
    assert seen["marker_box"][1] > 100  # the marker spans the plot's height
    assert "v1.5.0-bad" in seen["incident_deploy"]
    assert seen["overflow_390"] is False
    assert seen["pings_listed"] == 3
    for name in (
        "login-390",
        "overview-1280",
        "overview-390",
        "check-1280",
        "check-390",
        "heartbeats-1280",
        "heartbeats-390",
        "heartbeat-390",
        "status-390",
    ):
        assert (shots / f"{name}.png").stat().st_size > 5000

"""A report page in Debian's Chromium over the DevTools protocol: how wide it lays out at a phone's
and a desktop's width, how large its chart text is on screen, and screenshots to look at."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from launchready.perf.chromium import _Cdp, _launch, find_chromium

PHONE, DESKTOP = 390, 1280

# What the page says about its own layout: wider than the viewport means a reader scrolls the
# whole page sideways; the chart text's on-screen height is what a reader sees of the ticks.
_LAYOUT = """(() => {
  const texts = [...document.querySelectorAll('svg .chart-text')].map(t => t.getBoundingClientRect().height);
  const charts = [...document.querySelectorAll('figure.chart svg')].map(s => s.getBoundingClientRect().width);
  return {
    documentWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth,
    chartTextMinPx: texts.length ? Math.min(...texts) : null,
    chartWidths: charts,
    overflowing: [...document.querySelectorAll('body *')]
      .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className : ''))
      .slice(0, 10),
  };
})()"""


@dataclass(frozen=True)
class Layout:
    width: int
    document_width: int
    viewport_width: int
    chart_text_min_px: float | None
    chart_widths: tuple[float, ...]
    overflowing: tuple[str, ...]
    screenshot: Path


def chromium_or_skip() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required when CI is set (apt-get install chromium)")
        print("skipping the browser test: Chromium is not installed")
        pytest.skip("Chromium is not installed")
    return binary


def shots_dir(tmp_path: Path) -> Path:
    """Set LAUNCHREADY_SCREENSHOT_DIR to keep the screenshots for a person to look at."""
    kept = os.environ.get("LAUNCHREADY_SCREENSHOT_DIR")
    directory = Path(kept) if kept else tmp_path / "shots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def lay_out(binary: str, page: Path, shots: Path, widths: tuple[int, ...] = (PHONE, DESKTOP)) -> list[Layout]:
    return asyncio.run(asyncio.wait_for(_lay_out(binary, page, shots, widths), 90))


async def _lay_out(binary: str, page: Path, shots: Path, widths: tuple[int, ...]) -> list[Layout]:
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    proc, ws_url = await _launch(binary, profile, [])
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url, max_msg_size=0) as ws:
            cdp = _Cdp(ws)
            target = await cdp.send("Target.createTarget", {"url": "about:blank"})
            attached = await cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            session = attached["sessionId"]

            async def send(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
                return await cdp.send(method, params, session)

            async def js(expression: str) -> Any:
                reply = await send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
                if "exceptionDetails" in reply:
                    raise AssertionError(f"{expression}: {reply['exceptionDetails']}")
                return reply["result"].get("value")

            await send("Page.enable")
            out: list[Layout] = []
            for width in widths:
                await send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
                )
                await send("Page.navigate", {"url": page.resolve().as_uri()})
                while True:
                    event = await cdp.events.get()
                    if event.get("method") == "Page.loadEventFired" and event.get("sessionId") == session:
                        break
                facts = await js(_LAYOUT)
                height = await js("Math.ceil(document.documentElement.scrollHeight)")
                shot = await send(
                    "Page.captureScreenshot",
                    {
                        "format": "png",
                        "captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                    },
                )
                path = shots / f"{page.stem}-{width}.png"
                path.write_bytes(base64.b64decode(shot["data"]))
                # Each chart alone at twice the scale, for a person to read its ticks.
                boxes = await js(
                    "[...document.querySelectorAll('figure.chart')].map(f => {"
                    "const r = f.getBoundingClientRect();"
                    "return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; })"
                )
                for i, box in enumerate(boxes):
                    chart = await send(
                        "Page.captureScreenshot",
                        {"format": "png", "captureBeyondViewport": True, "clip": {**box, "scale": 2}},
                    )
                    (shots / f"{page.stem}-{width}-chart{i + 1}.png").write_bytes(base64.b64decode(chart["data"]))
                out.append(
                    Layout(
                        width,
                        facts["documentWidth"],
                        facts["viewportWidth"],
                        facts["chartTextMinPx"],
                        tuple(facts["chartWidths"]),
                        tuple(facts["overflowing"]),
                        path,
                    )
                )
            return out
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        shutil.rmtree(profile, ignore_errors=True)

"""`launchready load` reports against a real loopback server with one healthy, one failing (500)
and one slow endpoint: every format says pass or fail first (with the generator's verdict), the
target, the date and the settings; the failing endpoint shows its errors and statuses, never a
0.0 ms latency; the plots draw the p95 budget; the HTML page fits a 390 px phone in Chromium."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp import web
from report_browser import DESKTOP, PHONE, chromium_or_skip, lay_out, shots_dir
from serveutil import LoopThread

from launchready.cli.main import main

SLOW_S = 0.35  # over the default 300 ms p95 budget on every request
SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Reports:
    origin: str
    exit_codes: dict[str, int]
    text: dict[str, str]  # format -> the report as written
    html_path: Path


def _app() -> web.Application:
    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def fail(_: web.Request) -> web.Response:
        return web.Response(status=500, text="internal error")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(SLOW_S)
        return web.Response(text="slow")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/fail", fail)
    app.router.add_get("/slow", slow)
    return app


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    loop = LoopThread()

    async def start() -> tuple[web.AppRunner, int]:
        runner = web.AppRunner(_app(), access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, runner.addresses[0][1]

    runner, port = loop.call(start())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call(runner.cleanup())
        loop.close()


def _config(directory: Path, origin: str, growth: str = "") -> Path:
    path = directory / "launchready.toml"
    path.write_text(
        'domain = "shop.test"\n'
        f'[environments.local]\nbase_url = "{origin}"\n'
        "[perf]\nrate = 40.0\nduration_s = 0.5\nwarmup_s = 0.1\n"
        'endpoints = [{ name = "ok", path = "/ok" }, { name = "fail", path = "/fail" }, '
        '{ name = "slow", path = "/slow" }]\n' + growth,
        encoding="utf-8",
    )
    return path


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(args)
    return int(done.value.code or 0)


@pytest.fixture(scope="module")
def reports(origin: str, tmp_path_factory: pytest.TempPathFactory) -> Reports:
    directory = tmp_path_factory.mktemp("load-report")
    config = _config(directory, origin)
    codes, texts = {}, {}
    for fmt, suffix in (("terminal", "txt"), ("json", "json"), ("md", "md"), ("html", "html")):
        out = directory / f"load.{suffix}"
        codes[fmt] = _run(["load", "-c", str(config), "--format", fmt, "-o", str(out), "-q"])
        texts[fmt] = out.read_text(encoding="utf-8")
    return Reports(origin, codes, texts, directory / "load.html")


def _fail_requests(report: Reports) -> int:
    [endpoint] = [e for e in json.loads(report.text["json"])["endpoints"] if e["name"] == "fail"]
    return int(endpoint["requests"])


def test_every_format_says_fail_first_then_target_date_and_settings(reports: Reports) -> None:
    assert set(reports.exit_codes.values()) == {1}
    origin = reports.origin

    lines = reports.text["terminal"].splitlines()
    assert lines[0].startswith("FAIL") and re.search(r"load test: \d problems over budget", lines[0])
    assert lines[1].startswith("generator: healthy") or lines[1].startswith(("GENERATOR-BOUND", "POOL-BOUND"))
    head = "\n".join(lines[:12])
    assert re.search(rf"target: {re.escape(origin)} · started \d{{4}}-\d\d-\d\d \d\d:\d\d UTC", head)
    assert "settings: 40 req/s for 0.5 s after a 0.1 s warm-up; 64 connections per pool, 1 process, timeout" in head
    assert "budgets: p95 under 300 ms and at most 1.0% errors, every endpoint" in head
    assert "fail: 100.0% of requests failed (budget 1.0%): 500 ×" in head and "slow: p95" in head

    data = json.loads(reports.text["json"])
    assert list(data)[:4] == ["report_version", "kind", "outcome", "health"]
    assert data["outcome"]["result"] == "fail" and data["outcome"]["headline"].startswith("FAIL")
    assert data["health"]["verdict"] in ("healthy", "generator-bound", "pool-bound")
    assert any(r.startswith("fail: 100.0% of requests failed") for r in data["outcome"]["reasons"])
    assert data["target"] == [origin]
    assert datetime.fromisoformat(data["started"]).utcoffset() is not None
    assert {k: data["settings"][k] for k in ("rate", "duration_s", "warmup_s", "connections", "workers")} == {
        "rate": 40.0,
        "duration_s": 0.5,
        "warmup_s": 0.1,
        "connections": 64,
        "workers": 1,
    }
    assert {e["name"]: e["budget"]["p95_ms"] for e in data["endpoints"]} == {"ok": 300.0, "fail": 300.0, "slow": 300.0}

    md = reports.text["md"]
    assert md.index("## Load test: FAIL") < md.index("## The run") < md.index("## Endpoints")
    assert f"- **Target:** `{origin}`" in md and re.search(r"- \*\*Started:\*\* \d{4}-\d\d-\d\d \d\d:\d\d UTC", md)
    assert "- **Settings:** 40 req/s for 0.5 s after a 0.1 s warm-up" in md and "- **Budgets:** p95 under 300 ms" in md
    assert re.search(r"\n- Generator: (healthy|generator-bound|pool-bound)", md.split("## The run")[0])

    page = reports.text["html"]
    assert page.index('<section class="banner ') < page.index("<h2>")
    assert re.search(r'<p class="verdict">FAIL( \(TENTATIVE\))?</p>', page)
    assert f'<strong>Target:</strong> <code class="mono">{origin}</code>' in page
    assert "<strong>Settings:</strong> 40 req/s for 0.5 s after a 0.1 s warm-up" in page


class _Rows(HTMLParser):
    """The cells of every table row, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_the_failing_endpoint_shows_its_errors_and_statuses_never_zero_latency(reports: Reports) -> None:
    n = _fail_requests(reports)
    assert n > 0
    failure = f"no successful responses: {n} errors (500 × {n})"

    [endpoint] = [e for e in json.loads(reports.text["json"])["endpoints"] if e["name"] == "fail"]
    assert (endpoint["ok"], endpoint["errors"]) == (0, n)
    assert endpoint["error_statuses"] == {"500": n} and endpoint["failure"] == failure
    assert endpoint["latency_ms"] is None

    terminal = reports.text["terminal"]
    [row] = [line for line in terminal.splitlines() if line.lstrip().startswith("fail ")]
    assert f"{n} (100.0%): 500 × {n}" in row and "0.0 " not in row and "–" in row
    assert f"fail: {failure}" in terminal

    [md_row] = [line for line in reports.text["md"].splitlines() if line.startswith("| `fail` |")]
    assert f"| {n} (100.0%): 500 × {n} | – | – | – | – | – |" in md_row
    assert failure in reports.text["md"]

    rows = _Rows()
    rows.feed(reports.text["html"])
    [cells] = [r for r in rows.rows if r and r[0] == "fail"]
    assert cells[2] == f"{n} (100.0%): 500 × {n}"
    assert cells[3:8] == ["–"] * 5 and "0.0" not in cells
    assert failure in reports.text["html"]


def _svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", page, flags=re.S)]


def _value_at(svg: ET.Element, y: float) -> float:
    """The y axis's value at pixel row ``y``, read back from the chart's own tick labels."""
    ticks = [
        (float(t.get("y", "0")), float(t.text or "0"))
        for t in svg.iter(f"{SVG}text")
        if t.get("text-anchor") == "end" and re.fullmatch(r"[0-9.]+", t.text or "")
    ]
    (y0, v0), (y1, v1) = ticks[0], ticks[-1]
    return v0 + (y - y0) * (v1 - v0) / (y1 - y0)


def test_the_latency_plots_draw_the_p95_budget(reports: Reports) -> None:
    page = reports.text["html"]
    charts = _svgs(page)
    assert [c.findtext(f"{SVG}title") for c in charts] == ["Latency over time", "Latency by percentile"]
    for svg in charts:
        [budget] = [line for line in svg.iter(f"{SVG}line") if line.get("class") == "chart-threshold"]
        assert budget.findtext(f"{SVG}title") == "p95 budget 300 ms"
        assert budget.get("y1") == budget.get("y2")
        assert _value_at(svg, float(budget.get("y1", "0"))) == pytest.approx(300, abs=1)
        # The slow endpoint's line sits above it; the failing endpoint has no line at 0 ms.
        names = [p.findtext(f"{SVG}title") for p in svg.iter(f"{SVG}polyline")]
        assert "fail" not in names
    assert {p.findtext(f"{SVG}title") for p in charts[1].iter(f"{SVG}polyline")} == {"all", "ok", "slow"}
    # The legend is HTML beside each chart and names every series and the budget.
    legends = re.findall(r'<ul class="chart-legend">(.*?)</ul>', page, flags=re.S)
    assert len(legends) == 2
    for name in ("p50", "p99", "max", "p95 budget 300 ms"):
        assert f"</span>{name}</li>" in legends[0]
    for name in ("all", "ok", "slow", "p95 budget 300 ms"):
        assert f"</span>{name}</li>" in legends[1]
    assert "Not drawn (no successful responses): " in page


def _png_width(path: Path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int(struct.unpack(">I", data[16:20])[0])


def test_the_html_report_fits_a_phone_and_a_desktop_in_chromium(reports: Reports, tmp_path: Path) -> None:
    binary = chromium_or_skip()
    phone, desktop = lay_out(binary, reports.html_path, shots_dir(tmp_path))
    # Nothing makes the page wider than the screen: the table scrolls inside its own frame.
    assert phone.document_width <= phone.viewport_width == PHONE
    assert phone.overflowing == ()
    assert desktop.document_width <= desktop.viewport_width == DESKTOP
    # The charts shrink with the screen, their text stays readable (about 10 px on the phone).
    assert all(width <= PHONE for width in phone.chart_widths) and len(phone.chart_widths) == 2
    assert phone.chart_text_min_px is not None and phone.chart_text_min_px >= 9
    assert _png_width(phone.screenshot) == PHONE and _png_width(desktop.screenshot) == DESKTOP


def test_growth_reports_say_fail_and_name_the_endpoint_without_a_success(origin: str, tmp_path: Path) -> None:
    seed = f"{sys.executable} -c pass {{n}}"
    growth = (
        f'[perf.growth]\nseed = "{seed}"\nsizes = [1, 2]\nrate = 20.0\nduration_s = 0.2\nendpoints = ["ok", "fail"]\n'
    )
    config = _config(tmp_path, origin, growth)
    out = {}
    for fmt in ("terminal", "json", "html"):
        path = tmp_path / f"growth.{fmt}"
        assert _run(["load", "--growth", "-c", str(config), "--format", fmt, "-o", str(path), "-q"]) == 1
        out[fmt] = path.read_text(encoding="utf-8")

    lines = out["terminal"].splitlines()
    assert lines[0].startswith("FAIL  growth test: 2 measurements without a successful response")
    assert re.match(r"  - fail: no successful responses at 1 members: \d+ errors \(500 × \d+\)", lines[1])
    assert lines[3].startswith(f"target: {origin} · started ")
    assert lines[4].startswith("settings: 20 req/s for 0.2 s after a 0.1 s warm-up per size and endpoint")
    assert not any(re.search(r"\b0\.0 ms", line) for line in lines)

    data = json.loads(out["json"])
    assert data["outcome"]["result"] == "fail" and data["target"] == [origin]
    [fail] = [e for e in data["endpoints"] if e["name"] == "fail"]
    for point in fail["points"]:
        assert point["p95_ms"] is None and point["ok"] == 0
        assert point["error_statuses"] == {"500": point["errors"]} and point["errors"] > 0

    page = out["html"]
    assert page.index('<p class="verdict">FAIL</p>') < page.index("<h2>")
    rows = _Rows()
    rows.feed(page)
    failing = [r for r in rows.rows if len(r) == 6 and r[4] == "0"]
    assert len(failing) == 2 and all(r[1:4] == ["–", "–", "–"] and "500 ×" in r[5] for r in failing)

"""The generator judges its own health: a full pool or a late generator is never blamed on the server.

Real loopback servers with injected, known delays; the verdicts are about queueing the tests
cause on purpose (hundreds of milliseconds), far above any scheduling noise of a busy machine.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from perfutil import FEED_URL, lab_toml_without_perf, perf_table
from rich.console import Console
from test_perf_generator import endpoint, serve

from launchready.checks.perf.load import judge
from launchready.cli.main import main
from launchready.core.finding import Finding
from launchready.lab.lab import Lab
from launchready.perf.generator import EndpointStats, LoadResult, LoadSettings, SelfWatch, run_load
from launchready.perf.growth import GrowthSeries, SizePoint
from launchready.perf.histogram import Histogram
from launchready.perf.plan import PlannedEndpoint
from launchready.perf.report import (
    GrowthRun,
    growth_document,
    load_document,
    render_growth_html,
    render_json,
    render_terminal,
)
from launchready.perf.workers import default_workers, run_workers
from launchready.report.model import plain


async def fifty_ms(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(0.05)
    return web.Response(text="ok")


def constant_server_run(rate: float, connections: int) -> LoadResult:
    async def main() -> LoadResult:
        async with serve(fifty_ms) as port:
            settings = LoadSettings(rate=rate, duration_s=1.5, connections=connections, timeout_s=5, drain_s=5)
            return await run_load([endpoint(port)], settings)

    return asyncio.run(main())


def planned(url: str = "http://lab.test/", p95_ms: float = 300.0) -> list[PlannedEndpoint]:
    return [PlannedEndpoint("ep", url, "GET", 1, p95_ms, 0.01)]


def ids(findings: list[Finding]) -> list[str]:
    return [f.id for f in findings]


@pytest.mark.alone
def test_a_full_pool_is_reported_as_the_generator_limit_with_the_connections_needed() -> None:
    # 4 connections to a constant 50 ms server carry 80 req/s; 120 are asked: the queue is the pool's.
    result = constant_server_run(rate=120, connections=4)
    stats = result.endpoints["ep"]
    health = result.health(300)
    assert health.verdict == "pool-bound"
    assert health.wait_p99_ms > 100
    [pool] = health.pools
    # Little's law: 120 req/s x ~50 ms on the wire = 6 connections busy on average.
    assert pool.connections == 4 and 6 <= pool.needed <= 9 and pool.too_small
    assert pool.waited == stats.pool_waited > 0
    # The server's own time stays ~50 ms; the open-model latency includes the queue.
    assert 45 <= stats.wire.percentile(50) / 1000 <= 150
    assert stats.latency.percentile(95) > 4 * stats.wire.percentile(95)
    assert result.served_short is not None and "of the 120 asked" in result.served_short

    findings = judge(result, planned(p95_ms=300))
    assert ids(findings) == ["perf.load.p95-over-budget", "perf.load.pool-too-small"]
    over, pool_finding = findings
    assert over.confidence.value == "tentative"
    assert any(line.startswith("tentative: the run was pool-bound") for line in over.evidence)
    assert f"{pool.needed} connections needed by Little's law, 4 allowed" in pool_finding.title
    assert any("set perf.connections to at least" in line for line in pool_finding.evidence)

    report = json.loads(render_json(result, planned(p95_ms=300), findings))
    assert list(report)[:4] == ["report_version", "kind", "outcome", "health"]
    assert report["outcome"]["result"] == "fail" and report["outcome"]["tentative"] is True
    assert report["health"]["verdict"] == "pool-bound" and "perf.connections" in report["health"]["fix"]
    assert report["pools"][0]["needed_by_littles_law"] == pool.needed and report["pools"][0]["too_small"]
    assert report["overall"]["throughput_rps"] < 0.9 * report["overall"]["asked_rps"]
    assert report["generator"]["bottleneck"] == health.reason

    doc = load_document(result, planned(p95_ms=300), findings)
    assert doc.banner is not None and doc.banner.tone == "warn" and "TENTATIVE" in doc.banner.headline
    assert doc.sections[0].title == "Generator health"
    assert "pool-bound" in plain(doc.sections[0].blocks[0].text)  # type: ignore[union-attr]


@pytest.mark.alone
def test_a_server_stall_that_holds_every_connection_is_the_server_s_latency() -> None:
    """A 1 s stall fills a pool that is ample on average: the queue is the stall's, counted in latency."""
    started: list[float] = []

    async def stall_once(request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        if not started:
            started.append(loop.time())
        if 0.5 <= loop.time() - started[0] < 1.5:
            await asyncio.sleep(1.5 - (loop.time() - started[0]))
        return web.Response(text="ok")

    async def main() -> LoadResult:
        async with serve(stall_once) as port:
            return await run_load([endpoint(port)], LoadSettings(rate=100, duration_s=2, connections=10))

    result = asyncio.run(main())
    health = result.health(300)
    assert result.endpoints["ep"].pool_waited > 50 and health.wait_p99_ms > 300
    assert health.verdict == "healthy" and health.note is not None and "the server's stall" in health.note
    assert result.overall.percentile(99) > 800_000  # the stall stays in the headline latency


@pytest.mark.alone
def test_enough_connections_leave_the_pool_out_of_it() -> None:
    result = constant_server_run(rate=120, connections=24)
    assert result.endpoints["ep"].pool_waited == 0
    assert result.health(300).verdict != "pool-bound"
    assert "perf.load.pool-too-small" not in ids(judge(result, planned()))


def synthetic(wait_ms: float, cpu: float, latency_ms: float = 400.0) -> LoadResult:
    stats = EndpointStats("ep", "http://lab.test/", pool="http://lab.test via 127.0.0.1:80")
    watch = SelfWatch(cpu_samples=[cpu])
    for _ in range(100):
        stats.latency.record(int(latency_ms * 1000))
        stats.wire.record(2000)
        watch.wait.record(int(wait_ms * 1000))
    stats.ok = 100
    overall, second = Histogram.merged([stats.latency]), Histogram.merged([stats.latency])
    result = LoadResult(LoadSettings(rate=100, duration_s=1), {"ep": stats}, overall, [second], [0], 1, watch, 100)
    result.served = 100
    return result


def test_a_late_generator_softens_the_verdicts_and_says_why_first() -> None:
    # Requests waited 390 ms inside the generator while its pool was never full: its own loop was late.
    result = synthetic(wait_ms=390, cpu=0.6)
    health = result.health(300)
    assert health.verdict == "generator-bound" and "--workers" in (health.fix or "")
    findings = judge(result, planned())
    assert ids(findings) == ["perf.load.p95-over-budget", "perf.load.generator-bound"]
    assert findings[0].confidence.value == "tentative"
    assert "390.0 ms (p99)" in findings[1].evidence[0]
    assert "--workers N" in findings[1].remediation


def test_a_generator_starved_of_cpu_by_other_processes_says_so() -> None:
    result = synthetic(wait_ms=200, cpu=0.4)
    result.watch.starved_samples = [0.5, 0.6]
    health = result.health(300)
    assert health.verdict == "generator-bound"
    assert "waited for a CPU 55% of the time: other processes on this machine held it back" in (health.reason or "")


def test_a_healthy_generator_keeps_the_verdicts_certain() -> None:
    result = synthetic(wait_ms=1, cpu=0.3)
    assert result.health(300).healthy and result.served_short is None
    [finding] = judge(result, planned())
    assert finding.confidence.value == "certain"
    assert json.loads(render_json(result, planned(), [finding]))["health"]["verdict"] == "healthy"


def test_the_wait_bound_follows_the_tightest_budget() -> None:
    result = synthetic(wait_ms=12, cpu=0.3)
    assert result.health(300).healthy  # 12 ms is within 5 % of 300 ms
    assert result.health(100).verdict == "generator-bound"  # but not within 5 ms
    assert result.health(None).verdict == "generator-bound"


def test_merged_results_hold_exact_percentiles_not_averages() -> None:
    fast, slow = synthetic(wait_ms=1, cpu=0.3, latency_ms=10), synthetic(wait_ms=1, cpu=0.5, latency_ms=1000)
    for value in range(1, 101):  # a spread in one part, so p99 of the union is not either part's
        slow.endpoints["ep"].latency.record(value * 1000)
    slow.endpoints["ep"].ok += 100
    union = Histogram.merged([fast.endpoints["ep"].latency, slow.endpoints["ep"].latency])
    fast.merge(slow)
    merged = fast.endpoints["ep"].latency
    assert merged.counts == union.counts and merged.total == 300
    for p in (50.0, 90.0, 99.0, 99.9):
        assert merged.percentile(p) == union.percentile(p)
    assert fast.endpoints["ep"].ok == 300 and fast.served == 200 and fast.overall.total == 200
    assert fast.watch.cpu_samples == [0.3, 0.5] and fast.watch.wait.total == 200


def test_worker_processes_share_one_schedule() -> None:
    async def ok(request: web.Request) -> web.StreamResponse:
        return web.Response(text="x" * 10)

    async def main() -> LoadResult:
        async with serve(ok) as port:
            settings = LoadSettings(rate=40, duration_s=1, warmup_s=0.25, connections=8, workers=2)
            return await run_workers([endpoint(port, "/a", "a"), endpoint(port, "/b", "b")], settings, weights=[3, 1])

    result = asyncio.run(main())
    # The same requests as one process would send: 40 measured, split 3:1, ten warm-up ones left out.
    assert (result.endpoints["a"].ok, result.endpoints["b"].ok) == (30, 10)
    assert result.overall.total == 40 == sum(h.total for h in result.per_second)
    assert result.scheduled == 40 and result.settings.workers == 2 and result.settings.connections == 8
    assert len(result.watch.cpu_samples) >= 2  # each process watched itself
    assert result.watch.wait.total == 40


def test_default_workers_stay_at_one_for_rates_one_core_sends() -> None:
    assert default_workers(500) == 1
    assert 1 <= default_workers(1_000_000) <= (__import__("os").cpu_count() or 1)


def test_growth_report_is_a_document() -> None:
    series = [
        GrowthSeries(
            "feed",
            FEED_URL,
            (SizePoint(100, 10.0, 20.0, 1500.0, 20, 0), SizePoint(500, 40.0, 90.0, 7400.0, 20, 0)),
        )
    ]
    doc = growth_document(GrowthRun(series, [], 1.5))
    assert doc.banner is not None and doc.banner.headline == "PASS"
    assert [s.title for s in doc.sections] == ["The run", "Findings", "feed"]
    page = render_growth_html(GrowthRun(series, [], 1.5))
    assert page.startswith("<!DOCTYPE html>") or page.lstrip().lower().startswith("<!doctype html>")
    assert "Growth report" in page and "7400" in page and FEED_URL in page


def test_growth_html_through_the_command(lab: Lab, tmp_path: Path) -> None:
    table = perf_table(lab)
    text = lab_toml_without_perf(lab) + (
        "\n[perf]\n"
        f'endpoints = [{{ name = "feed", path = "{FEED_URL}" }}]\n'
        "[perf.growth]\n"
        f"seed = {json.dumps(table['growth']['seed'])}\nrate = 20.0\nduration_s = 1.0\nsizes = [20, 40]\n"
    )
    config = tmp_path / "launchready.toml"
    config.write_text(text, encoding="utf-8")
    page = tmp_path / "growth.html"
    with pytest.raises(SystemExit):
        main(["load", "--growth", "-c", str(config), *lab.cli_args(), "--format", "html", "-o", str(page), "-q"])
    html = page.read_text(encoding="utf-8")
    assert "<html" in html and "Growth report" in html and "feed" in html


def test_load_command_with_two_workers(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = lab_toml_without_perf(lab) + (
        f'\n[perf]\nrate = 20.0\nduration_s = 1.0\nwarmup_s = 0.5\nendpoints = [{{ name = "feed", path = "{FEED_URL}" }}]\n'
    )
    config = tmp_path / "launchready.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["load", "-c", str(config), *lab.cli_args(), "--workers", "2", "--format", "json", "-q"])
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["workers"] == 2
    assert report["overall"]["requests"] == 20 and report["overall"]["errors"] == 0
    assert report["health"]["verdict"] in ("healthy", "generator-bound", "pool-bound")
    with pytest.raises(SystemExit) as refused:
        main(["load", "-c", str(config), *lab.cli_args(), "--workers", "0", "-q"])
    assert refused.value.code == 2


def test_the_terminal_report_says_the_generator_was_the_limit_before_any_number() -> None:
    result = synthetic(wait_ms=390, cpu=0.6)
    result.served = 50  # of the 100 asked
    findings = judge(result, planned())
    console = Console(record=True, width=200)
    render_terminal(result, planned(), findings, console)
    lines = console.export_text().splitlines()
    # Pass or fail first, then the generator's limit, before any number.
    assert lines[0].startswith("FAIL (TENTATIVE)  load test: 1 problem over budget")
    assert lines[1].startswith("GENERATOR-BOUND: latency findings are tentative: requests waited inside the generator")
    assert lines[2].startswith("fix: lower --rate")
    text = "\n".join(lines)
    assert "served 50.0 req/s of 100 asked" in text and "served 50 req/s of the 100 asked (50% short)" in text
    assert "MEDIUM (tentative) perf.load.p95-over-budget" in text
    assert "pool http://lab.test via 127.0.0.1:80: 64 connections" in text

"""perf.load: budgets become findings and the exit code; the command end to end against the lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from perfutil import FEED_URL, lab_toml_without_perf, perf_table

from launchready.checks.perf.load import judge
from launchready.cli.main import main
from launchready.lab.lab import Lab
from launchready.perf.generator import EndpointStats, LoadResult, LoadSettings, SelfWatch
from launchready.perf.histogram import Histogram
from launchready.perf.plan import PlannedEndpoint

URL = "https://app.example.com/feed"


def result(latencies_ms: list[float], errors: int = 0, cpu: list[float] | None = None) -> LoadResult:
    stats = EndpointStats("feed", URL)
    for value in latencies_ms:
        stats.latency.record(int(value * 1000))
    stats.ok, stats.errors = len(latencies_ms), errors
    stats.error_samples = ["HTTP 502"] if errors else []
    watch = SelfWatch(cpu_samples=cpu or [0.1])
    return LoadResult(
        LoadSettings(rate=10, duration_s=10), {"feed": stats}, stats.latency, [Histogram()], [0], 10, watch, 10
    )


PLANNED = [PlannedEndpoint("feed", URL, "GET", 1, 300.0, 0.01)]


def test_within_budget_is_clean() -> None:
    assert judge(result([100.0] * 100), PLANNED) == []


def test_p95_over_budget() -> None:
    [finding] = judge(result([100.0] * 90 + [450.0] * 10), PLANNED)
    assert finding.id == "perf.load.p95-over-budget"
    assert finding.target == URL and "450 ms is over the 300 ms budget" in finding.title
    assert finding.confidence.value == "certain"


def test_error_rate_over_budget() -> None:
    [finding] = judge(result([50.0] * 95, errors=5), PLANNED)
    assert finding.id == "perf.load.error-rate-over-budget"
    assert "5.0% of requests failed (budget 1.0%)" in finding.title
    assert "e.g. HTTP 502" in finding.evidence


def test_a_busy_generator_says_so_and_softens_its_verdicts() -> None:
    findings = judge(result([400.0] * 100, cpu=[0.97, 0.99]), PLANNED)
    assert [f.id for f in findings] == ["perf.load.p95-over-budget", "perf.load.generator-bound"]
    assert findings[0].confidence.value == "tentative"
    assert "used 98% of a CPU core" in findings[1].evidence[0]


def _write_config(lab: Lab, tmp_path: Path, **perf: object) -> Path:
    table = perf_table(lab, **perf)
    endpoints = ", ".join(
        f'{{ name = "{e["name"]}", path = "{e["path"]}"{e.get("extra", "")} }}' for e in table["endpoints"]
    )
    text = lab_toml_without_perf(lab) + (
        "\n[perf]\n"
        f"rate = {table['rate']}\nduration_s = {table['duration_s']}\nwarmup_s = {table['warmup_s']}\n"
        f"endpoints = [{endpoints}]\n"
    )
    path = tmp_path / "launchready.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.alone
def test_load_command_reports_and_exits_by_budget(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_config(lab, tmp_path)
    with pytest.raises(SystemExit) as ok:
        main(["load", "-c", str(path), *lab.cli_args(), "--format", "json", "-q"])
    report = json.loads(capsys.readouterr().out)
    assert ok.value.code == 0
    # A busy CI machine may make the generator flag itself (an info finding); budgets must hold.
    assert report["kind"] == "load"
    assert [f["id"] for f in report["findings"] if f["severity"] != "info"] == []
    assert {e["name"] for e in report["endpoints"]} == {"feed", "search"}
    assert report["overall"]["requests"] == 40 and report["overall"]["errors"] == 0
    assert len(report["timeline"]) == 2

    tight = _write_config(lab, tmp_path, endpoints=[{"name": "feed", "path": FEED_URL, "extra": ", p95_ms = 0.01"}])
    html_path = tmp_path / "load.html"
    with pytest.raises(SystemExit) as over:
        main(["load", "-c", str(tight), *lab.cli_args(), "--format", "html", "-o", str(html_path), "-q"])
    assert over.value.code == 1
    page = html_path.read_text(encoding="utf-8")
    assert "<svg" in page and "Latency over time" in page and "p95" in page and "<script" not in page


def test_load_command_refuses_undeclared_hosts(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_config(lab, tmp_path)
    with pytest.raises(SystemExit) as refused:
        main(["load", "-c", str(path), *lab.cli_args(), "--url", "https://example.org/", "-q"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to load-test example.org" in err
    with pytest.raises(SystemExit) as capped:
        main(["load", "-c", str(path), *lab.cli_args(), "--rate", "100000", "-q"])
    assert capped.value.code == 2


def test_a_pool_too_small_for_the_rate_is_its_own_finding() -> None:
    # 100 req/s held 100 ms each on the wire need 10 connections; 4 were allowed and requests queued.
    stats = EndpointStats("feed", URL, pool="https://app.example.com via 127.0.0.1:443")
    watch = SelfWatch(cpu_samples=[0.05])
    for _ in range(1000):
        stats.latency.record(900_000)
        stats.wire.record(100_000)
        stats.pool_wait.record(800_000)
        watch.wait.record(800_000)
        watch.timer_lag.record(500)
    stats.ok = stats.pool_waited = 1000
    settings = LoadSettings(rate=100, duration_s=10, connections=4)
    loaded = LoadResult(settings, {"feed": stats}, stats.latency, [Histogram()], [0], 10, watch, 1000, served=400)
    findings = judge(loaded, PLANNED)
    assert [f.id for f in findings] == ["perf.load.p95-over-budget", "perf.load.pool-too-small"]
    assert findings[0].confidence.value == "tentative"
    assert "10 connections needed by Little's law, 4 allowed" in findings[1].title
    assert "set perf.connections to at least 13 or lower --rate" in findings[1].evidence[-1]

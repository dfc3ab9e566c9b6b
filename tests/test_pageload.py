"""`launchready pageload` and the page-load probe in real headless Chromium against the lab."""

from __future__ import annotations

import asyncio
import json

import pytest

from launchready.cli.main import main
from launchready.lab.lab import Lab
from launchready.perf.chromium import INSTALL_HINT, find_chromium, measure_page

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium): page loads cannot be measured"
)
APP = "https://app.marketlab.test/"


@needs_chromium
def test_clean_lab_page_loads_fast_under_the_mobile_profile(lab: Lab) -> None:
    assert CHROMIUM is not None
    load = asyncio.run(measure_page(APP, lab.net_settings(), binary=CHROMIUM))
    assert load.error is None and load.status == 200
    assert load.ttfb_ms is not None and load.fcp_ms is not None and load.lcp_ms is not None
    # The throttled profile adds ~560 ms per request: a two-level page cannot paint sooner.
    assert 500 < load.fcp_ms <= load.lcp_ms < 2000
    urls = {r.url for r in load.requests}
    assert APP in urls and any("/static/" in u for u in urls)
    assert load.total_bytes == sum(r.bytes for r in load.requests) > 1000


@needs_chromium
def test_pageload_command_json_and_budget_exit_code(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as over:
        main(["pageload", APP, "--json", "--budget-ms", "100", *lab.cli_args()])
    data = json.loads(capsys.readouterr().out)
    assert over.value.code == 1 and data["budget_ms"] == 100
    assert [f["id"] for f in data["findings"]] == ["perf.pageload.lcp-over-budget"]
    assert data["lcp_ms"] > 100 and data["requests"]


def test_missing_chromium_is_one_line_saying_how_to_install(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAUNCHREADY_CHROMIUM", "/nonexistent/chromium")
    assert find_chromium() is None
    with pytest.raises(SystemExit) as missing:
        main(["pageload", APP, *lab.cli_args()])
    err = capsys.readouterr().err
    assert missing.value.code == 2
    assert err == f"launchready: error: {INSTALL_HINT}\n" and "apt-get install chromium" in err


@needs_chromium
def test_unreachable_page_is_an_error_not_a_crash(lab: Lab) -> None:
    from netutil import closed_port

    from launchready.core.net import ConnectTo

    assert CHROMIUM is not None
    net = lab.net_settings(first=(ConnectTo("down.marketlab.test", 443, "127.0.0.1", closed_port()),))
    load = asyncio.run(measure_page("https://down.marketlab.test/", net, binary=CHROMIUM, timeout_s=20))
    assert load.error is not None and "ERR_CONNECTION_REFUSED" in load.error

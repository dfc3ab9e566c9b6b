"""perf.pageload's judge and when the audit runs it (Chromium present, absent, switched off)."""

from __future__ import annotations

import asyncio

import pytest

from launchready.checks.perf.pageload import judge, run
from launchready.config.model import Config
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.perf.chromium import INSTALL_HINT, PageLoad, RequestFact

URL = "https://app.example.com/"


def page(lcp: float | None, error: str | None = None) -> PageLoad:
    requests = (RequestFact(URL, 2000, "text/html", 200), RequestFact(URL + "hero.jpg", 900_000, "image/jpeg", 200))
    return PageLoad(
        URL, ttfb_ms=300, fcp_ms=900, lcp_ms=lcp, status=200, total_bytes=902_000, requests=requests, error=error
    )


def test_lcp_within_budget_is_clean() -> None:
    assert judge([page(1500.0)], 2000) == []


def test_lcp_over_budget_names_the_largest_requests() -> None:
    [finding] = judge([page(4200.0)], 2000)
    assert finding.id == "perf.pageload.lcp-over-budget"
    assert finding.title == "LCP 4.2 s on a mobile network (budget 2 s)"
    assert finding.evidence[0].startswith(f"{URL}: TTFB 300 ms, FCP 900 ms, LCP 4200 ms, 881 KiB in 2 requests")
    assert finding.evidence[1] == f"largest: {URL}hero.jpg 879 KiB (image/jpeg)"


def test_a_page_that_did_not_load_could_not_be_judged() -> None:
    with pytest.raises(CouldNotRun, match="net::ERR_CONNECTION_REFUSED"):
        judge([page(None, error="navigation failed: net::ERR_CONNECTION_REFUSED")], 2000)
    with pytest.raises(CouldNotRun, match="no Largest Contentful Paint"):
        judge([page(None)], 2000)


class _Ctx:
    def __init__(self, pageload: str) -> None:
        self.config = Config.model_validate(
            {"environments": {"production": {"base_url": URL}}, "perf": {"pageload": pageload}}
        )


@pytest.mark.parametrize(
    "mode, expected",
    [("auto", NotApplicable), ("on", CouldNotRun), ("off", NotApplicable)],
)
def test_without_chromium_auto_is_skipped_and_on_could_not_run(
    mode: str, expected: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHREADY_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(expected) as caught:
        asyncio.run(run(_Ctx(mode), "production"))  # type: ignore[arg-type]
    if mode != "off":
        assert str(caught.value) == INSTALL_HINT

"""perf.growth's judge on facts. Against the lab, tests/test_check_lab.py runs the growth test with
``feed-n-plus-one`` (the feed is caught, the indexed search beside it stays flat) and with
``search-no-index`` (the search is caught, the paginated feed stays flat)."""

from __future__ import annotations

import pytest

from launchready.checks.perf.growth import judge, likely_cause
from launchready.core.errors import CouldNotRun
from launchready.perf.growth import GrowthSeries, SizePoint, seed_argv


def series(url: str, p95: tuple[float, float], size: tuple[float, float] = (1000.0, 1000.0)) -> GrowthSeries:
    return GrowthSeries(
        "ep",
        url,
        (SizePoint(100, p95[0] / 2, p95[0], size[0], 50, 0), SizePoint(500, p95[1] / 2, p95[1], size[1], 50, 0)),
    )


def test_growth_past_the_factor_is_a_finding_naming_factor_and_cause() -> None:
    [finding] = judge([series("https://a.example/feed", (40.0, 180.0), (10_000.0, 50_000.0))], 1.5)
    assert finding.id == "perf.growth.latency-grows"
    assert "4.5x from 100 to 500 members" in finding.title
    assert "unpaginated list" in finding.remediation and "N+1" in finding.remediation


def test_flat_or_tiny_growth_is_not_a_finding() -> None:
    assert judge([series("https://a.example/x", (40.0, 55.0))], 1.5) == []
    # 3 ms -> 9 ms is 3x, but 6 ms is noise on a fast endpoint, not a launch risk.
    assert judge([series("https://a.example/x", (3.0, 9.0))], 1.5) == []
    # A tail blown up by a few outliers while the median stays put is noise, not growth.
    outliers = GrowthSeries(
        "ep", "https://a.example/x", (SizePoint(100, 2, 4, 10, 50, 0), SizePoint(500, 2, 60, 10, 50, 0))
    )
    assert judge([outliers], 1.5) == []


def test_likely_causes() -> None:
    assert "missing index" in likely_cause("https://a.example/search?q=x", 1.0)
    assert "N+1 queries or a missing index" in likely_cause("https://a.example/feed", 1.0)
    assert "unpaginated" in likely_cause("https://a.example/feed", 5.0)


def test_no_successful_response_cannot_be_judged() -> None:
    broken = GrowthSeries("ep", "https://a.example/", (SizePoint(100, 0, 0, 0, 0, 9), SizePoint(500, 1, 1, 1, 5, 0)))
    with pytest.raises(CouldNotRun, match="no successful responses at size 100"):
        judge([broken], 1.5)


def test_seed_argv_substitutes_n_without_a_shell() -> None:
    assert seed_argv("python manage.py seed --count {n} --tag 'a b'", 500) == [
        "python",
        "manage.py",
        "seed",
        "--count",
        "500",
        "--tag",
        "a b",
    ]

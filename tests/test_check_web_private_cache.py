"""web.private-cache: Cache-Control parsing and judging, then the check against the lab."""

from __future__ import annotations

import pytest

from launchready.checks.web.private_cache import CacheControl, cookie_names, judge
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Impact, Severity
from launchready.probes.http import HttpExchange

HOST = "app.shop.test"
SECRET = "s3cr3t-session-value-0123456789"


def page(path: str, status: int = 200, cache: str | None = None, cookies: tuple[str, ...] = ()) -> HttpExchange:
    headers: list[tuple[str, str]] = []
    if cache is not None:
        headers.append(("cache-control", cache))
    headers.extend(("set-cookie", c) for c in cookies)
    return HttpExchange(f"https://{HOST}{path}", "GET", status, headers=tuple(headers))


@pytest.mark.parametrize(
    ("values", "cacheable"),
    [
        (("public",), True),
        (("public, max-age=600",), True),
        (("max-age=600",), True),
        (("s-maxage=60",), True),
        (("max-age=600, s-maxage=0",), False),  # s-maxage wins for shared caches
        (("private, max-age=600",), False),
        (("public, no-store",), False),
        (('private="set-cookie, x", max-age=60',), False),
        (("max-age=0",), False),
        (("no-cache",), False),
        ((), False),
        (("Public", "Max-Age=60"), True),  # names are case-insensitive; several headers combine
        (("max-age=abc",), False),
    ],
)
def test_shared_cacheability(values: tuple[str, ...], cacheable: bool) -> None:
    assert CacheControl.parse(values).shared_cacheable is cacheable


def test_cookie_names_drop_the_values() -> None:
    assert cookie_names((f"sessionid={SECRET}; Path=/; HttpOnly", "csrftoken=abc", "sessionid=again")) == (
        "sessionid",
        "csrftoken",
    )


def test_cookie_on_a_publicly_cacheable_page_is_a_blocker_without_leaking_the_value() -> None:
    exchanges = (
        page("/", cache="private, no-store", cookies=(f"anon={SECRET}",)),
        page("/login", cache="no-store"),
        page("/dashboard", cache="public, max-age=300", cookies=(f"session={SECRET}; HttpOnly; Secure",)),
        page("/account", status=404, cache="public, max-age=300", cookies=(f"x={SECRET}",)),
    )
    [f] = judge(HOST, exchanges)
    assert f.id == "web.private-cache.shared-cacheable"
    assert f.severity is Severity.BLOCKER and f.impact is Impact.DATA_EXPOSURE
    assert f.target == f"https://{HOST}/dashboard"
    assert "Cache-Control: public, max-age=300" in f.evidence
    assert "sets cookie(s): session" in f.evidence
    assert SECRET not in " ".join(f.evidence)
    assert "Cache-Control: private, no-store" in f.remediation


def test_each_offending_page_is_its_own_finding() -> None:
    exchanges = (
        page("/", cache="max-age=60", cookies=("a=1",)),
        page("/login", cache="s-maxage=60", cookies=("b=1",)),
    )
    assert [f.target for f in judge(HOST, exchanges)] == [f"https://{HOST}/", f"https://{HOST}/login"]


def test_cacheable_pages_without_cookies_and_cookies_without_caching_pass() -> None:
    exchanges = (
        page("/", cache="public, max-age=3600"),
        page("/login", cookies=("csrftoken=x",)),
        page("/dashboard", status=302, cache="private", cookies=("session=x",)),
        page("/account", status=404),
    )
    assert judge(HOST, exchanges) == []


def test_a_failed_fetch_without_findings_is_could_not_run() -> None:
    failed = HttpExchange(f"https://{HOST}/account", "GET", error="connection reset", error_kind="reset")
    with pytest.raises(CouldNotRun, match="1 of 2 pages.*connection reset"):
        judge(HOST, (page("/"), failed))


def test_findings_are_kept_when_another_fetch_failed() -> None:
    failed = HttpExchange(f"https://{HOST}/account", "GET", error="timeout", error_kind="timeout")
    [f] = judge(HOST, (page("/", cache="public", cookies=("s=1",)), failed))
    assert f.target == f"https://{HOST}/"

"""web.https-redirect: the judging logic on HTTP exchanges, then the check against the lab."""

from __future__ import annotations

import pytest

from launchready.checks.web.https_redirect import judge
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Severity
from launchready.probes.http import HttpExchange

HOST = "shop.test"


def answer(status: int, location: str | None = None, body: bytes = b"") -> HttpExchange:
    headers = (("location", location),) if location is not None else ()
    return HttpExchange(
        f"http://{HOST}/",
        "GET",
        status,
        headers=(*headers, ("content-type", "text/html")),
        body=body,
        body_size=len(body),
    )


def ids(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.id for f in findings)


@pytest.mark.parametrize(
    "location",
    [f"https://{HOST}/", f"https://www.{HOST}/", "https://app.shop.test/start", "https://shop.test:443/"],
)
@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_to_https_on_the_site_passes(status: int, location: str) -> None:
    assert judge(HOST, answer(status, location), domain=HOST) == []


def test_www_redirecting_to_the_apex_passes() -> None:
    ex = HttpExchange(f"http://www.{HOST}/", "GET", 301, headers=(("location", f"https://{HOST}/"),))
    assert judge(f"www.{HOST}", ex, domain=HOST) == []


def test_a_page_over_plain_http_is_missing_redirect() -> None:
    [f] = judge(HOST, answer(200, body=b"<html>shop</html>"), domain=HOST)
    assert f.id == "web.https-redirect.missing"
    assert f.severity is Severity.HIGH
    assert f"GET http://{HOST}/ -> 200" in f.evidence
    assert f"server_name {HOST}; return 301 https://$host$request_uri;" in f.remediation
    assert "Always Use HTTPS" in f.remediation


def test_an_error_page_over_plain_http_is_also_missing_redirect() -> None:
    [f] = judge(HOST, answer(404), domain=HOST)
    assert f.id == "web.https-redirect.missing"
    assert "404" in f.title


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirect_is_not_permanent(status: int) -> None:
    [f] = judge(HOST, answer(status, f"https://{HOST}/"), domain=HOST)
    assert f.id == "web.https-redirect.not-permanent"
    assert f.severity is Severity.MEDIUM
    assert f"instead of {status}" in f.remediation


def test_redirect_to_plain_http_is_wrong_target() -> None:
    [f] = judge(HOST, answer(301, f"http://www.{HOST}/"), domain=HOST)
    assert f.id == "web.https-redirect.wrong-target"
    assert any("still unencrypted" in e for e in f.evidence)


def test_relative_location_stays_on_http_and_is_wrong_target() -> None:
    [f] = judge(HOST, answer(301, "/home"), domain=HOST)
    assert f.id == "web.https-redirect.wrong-target"


def test_off_site_redirect_is_wrong_target_even_when_temporary() -> None:
    findings = judge(HOST, answer(302, "https://evil.example/"), domain=HOST)
    assert ids(findings) == ["web.https-redirect.not-permanent", "web.https-redirect.wrong-target"]
    wrong = [f for f in findings if f.id.endswith("wrong-target")][0]
    assert "problem: it sends visitors off-site to evil.example" in wrong.evidence


def test_look_alike_domain_is_off_site() -> None:
    [f] = judge(HOST, answer(301, "https://notshop.test/"), domain=HOST)
    assert f.id == "web.https-redirect.wrong-target"


def test_redirect_without_location_is_wrong_target() -> None:
    [f] = judge(HOST, answer(301), domain=HOST)
    assert f.id == "web.https-redirect.wrong-target"
    assert "Location: (missing)" in f.evidence


def test_port_80_refused_is_not_a_finding() -> None:
    refused = HttpExchange(f"http://{HOST}/", "GET", error="connection refused", error_kind="refused")
    assert judge(HOST, refused, domain=HOST) == []


@pytest.mark.parametrize("kind", ["timeout", "reset", "dns", "protocol", "other"])
def test_other_failures_are_could_not_run(kind: str) -> None:
    failed = HttpExchange(f"http://{HOST}/", "GET", error=f"{kind} happened", error_kind=kind)  # type: ignore[arg-type]
    with pytest.raises(CouldNotRun, match=f"{kind} happened"):
        judge(HOST, failed, domain=HOST)

"""The lab's web front: HTTP->HTTPS redirects, HSTS, security headers, www, static assets."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from launchready.lab.client import LabClient
from launchready.lab.lab import Lab
from launchready.lab.web import HSTS

WEB_HOSTS = ("marketlab.test", "www.marketlab.test", "app.marketlab.test", "admin.marketlab.test", "api.marketlab.test")


@pytest.fixture(scope="module")
def faulty_lab() -> Iterator[Lab]:
    with Lab(["http-no-redirect", "no-hsts"]) as running:
        yield running


@pytest.fixture
def client(lab: Lab) -> LabClient:
    return LabClient.for_lab(lab)


@pytest.mark.parametrize("host", WEB_HOSTS)
def test_plain_http_redirects_to_https_keeping_path_and_query(client: LabClient, host: str) -> None:
    response = client.get(f"http://{host}/some/path?q=1&b=two%20words")
    assert response.status == 301
    assert response.header("location") == f"https://{host}/some/path?q=1&b=two%20words"
    assert response.header("strict-transport-security") is None  # meaningless over plain HTTP


def test_plain_http_redirects_every_method(client: LabClient) -> None:
    response = client.post("http://app.marketlab.test/login", form={"email": "a@b.test"})
    assert response.status == 301


def test_fault_http_no_redirect_serves_the_apex_page(faulty_lab: Lab) -> None:
    client = LabClient.for_lab(faulty_lab)
    response = client.get("http://marketlab.test/")
    assert response.status == 200
    assert "Market Lab" in response.text
    # Only the apex is broken: the other hosts still redirect.
    assert client.get("http://app.marketlab.test/").status == 301


def test_unknown_host_is_misdirected(client: LabClient) -> None:
    assert client.get("http://elsewhere.test/").status == 421
    verify_off = LabClient(
        address="127.0.0.1",
        https_port=client._ports["https"],
        http_port=client._ports["http"],
        ca_bundle=None,
        verify=False,
    )
    assert verify_off.get("https://elsewhere.test/").status == 421


@pytest.mark.parametrize("path", ["/", "/missing", "/static/app.nothing.css"])
@pytest.mark.parametrize("host", WEB_HOSTS)
def test_hsts_on_every_https_response(client: LabClient, host: str, path: str) -> None:
    response = client.get(f"https://{host}{path}")
    assert response.header("strict-transport-security") == HSTS


def test_fault_no_hsts(faulty_lab: Lab) -> None:
    client = LabClient.for_lab(faulty_lab)
    for host in WEB_HOSTS:
        assert client.get(f"https://{host}/").header("strict-transport-security") is None


def test_apex_home_page_and_security_headers(client: LabClient) -> None:
    response = client.get("https://marketlab.test/")
    assert response.status == 200
    assert response.header(
        "content-type",
    ).startswith("text/html")  # type: ignore[union-attr]
    assert 'href="/signup"' in response.text and 'href="/login"' in response.text
    csp = response.header("content-security-policy") or ""
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.header("x-content-type-options") == "nosniff"
    assert response.header("referrer-policy") == "strict-origin-when-cross-origin"
    assert "aiohttp" not in (response.header("server") or "")


def test_apex_signup_and_login_point_to_the_app(client: LabClient) -> None:
    assert client.get("https://marketlab.test/signup").header("location") == "https://app.marketlab.test/signup"
    assert client.get("https://marketlab.test/login").header("location") == "https://app.marketlab.test/login"


def test_static_assets_are_immutable_with_etag(client: LabClient) -> None:
    home = client.get("https://marketlab.test/").text
    paths = re.findall(r"(/static/app\.[0-9a-f]+\.(?:js|css))", home)
    assert {p.rsplit(".", 1)[1] for p in paths} == {"js", "css"}
    for path in paths:
        response = client.get(f"https://marketlab.test{path}")
        assert response.status == 200
        assert response.header("cache-control") == "public, max-age=31536000, immutable"
        etag = response.header("etag")
        assert etag and etag.startswith('"')
        again = client.get(f"https://marketlab.test{path}", headers={"If-None-Match": etag})
        assert again.status == 304 and again.body == b""
    # The app host serves the same assets (its pages link to them under its own origin).
    assert client.get(f"https://app.marketlab.test{paths[0]}").status == 200


def test_www_redirects_to_the_apex_keeping_the_path(client: LabClient) -> None:
    response = client.get("https://www.marketlab.test/pricing?plan=pro")
    assert response.status == 301
    assert response.header("location") == "https://marketlab.test/pricing?plan=pro"


def test_admin_serves_a_login_page(client: LabClient) -> None:
    response = client.get("https://admin.marketlab.test/")
    assert response.status == 200
    assert 'action="/login"' in response.text
    assert (
        client.post("https://admin.marketlab.test/login", form={"email": "x@y.test", "password": "nope"}).status == 401
    )


def test_api_serves_health_and_members(client: LabClient) -> None:
    assert client.get("https://api.marketlab.test/health").json() == {"status": "ok"}
    listing = client.get("https://api.marketlab.test/v1/members")
    assert listing.status == 200 and listing.json() == {"members": []}

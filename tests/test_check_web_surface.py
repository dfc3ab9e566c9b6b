"""Judge functions of the public-surface web checks, on facts (no network)."""

from __future__ import annotations

from launchready.checks.web import (
    admin_surface,
    caching,
    canonical_host,
    edge,
    headers,
    hsts,
    https_redirect,
    links,
    mixed_content,
    redirect_map,
)
from launchready.config.model import Config, RedirectEntry
from launchready.core.finding import Finding
from launchready.core.severity import Severity
from launchready.edge.data import Ranges, by_address, by_headers, parse_ranges, parse_vendors, ranges, vendors
from launchready.probes.crawl import CrawlResult, Link, Visit
from launchready.probes.http import HttpExchange

HOST = "example.com"
HTML = (("content-type", "text/html; charset=utf-8"),)


def ex(
    url: str, status: int | None = 200, headers: tuple[tuple[str, str], ...] = (), body: bytes = b"", **kw: object
) -> HttpExchange:
    return HttpExchange(url=url, method="GET", status=status, headers=headers, body=body, body_size=len(body), **kw)  # type: ignore[arg-type]


def redirect(url: str, to: str, status: int = 301) -> HttpExchange:
    return ex(url, status, (("location", to),))


def crawl(visits: list[Visit], found: list[Link] = ()) -> CrawlResult:  # type: ignore[assignment]
    return CrawlResult(
        start=(f"https://{HOST}/",), host=HOST, visits=tuple(visits), links=tuple(found), requests=len(visits)
    )


HOME = Visit(f"https://{HOST}/", 0, (ex(f"https://{HOST}/", 200, HTML),))


def link(url: str, kind: str = "a") -> Link:
    return Link(page=f"https://{HOST}/", url=url, kind=kind, tag="a href")  # type: ignore[arg-type]


# -- web.links --------------------------------------------------------------------------------


def test_links_clean_crawl_has_no_findings() -> None:
    about = Visit(f"https://{HOST}/about", 1, (ex(f"https://{HOST}/about", 200, HTML),))
    assert links.judge(HOST, crawl([HOME, about], [link(about.url)])) == []


def test_links_each_problem_is_its_own_finding() -> None:
    u = f"https://{HOST}"
    visits = [
        HOME,
        Visit(f"{u}/gone", 1, (ex(f"{u}/gone", 404),)),
        Visit(f"{u}/a", 1, (redirect(f"{u}/a", f"{u}/b"), redirect(f"{u}/b", f"{u}/c"), ex(f"{u}/c"))),
        Visit(f"{u}/tmp", 1, (redirect(f"{u}/tmp", f"{u}/c", 302), ex(f"{u}/c"))),
        Visit(f"{u}/loop", 1, (redirect(f"{u}/loop", f"{u}/loop/"), redirect(f"{u}/loop/", f"{u}/loop")), stop="loop"),
        Visit(f"{u}/q?x=1", 1, (redirect(f"{u}/q?x=1", f"{u}/c"), ex(f"{u}/c"))),
        Visit(f"{u}/down", 1, (redirect(f"{u}/down", f"http://{HOST}/c"), ex(f"http://{HOST}/c"))),
        # A temporary redirect to the login page is how apps ask for a sign-in: not a move.
        Visit(f"{u}/dash?tab=2", 1, (redirect(f"{u}/dash?tab=2", f"{u}/login", 302), ex(f"{u}/login"))),
    ]
    found = [link(v.url) for v in visits[1:]]
    ids = {f.id: f for f in links.judge(HOST, crawl(visits, found))}
    assert set(ids) == {
        "web.links.broken",
        "web.links.redirect-chain",
        "web.links.temporary-redirect",
        "web.links.redirect-loop",
        "web.links.lost-query",
        "web.links.https-downgrade",
        "web.links.served-over-http",
    }
    assert any("/gone (404) (linked from" in e for e in ids["web.links.broken"].evidence)
    assert not any("/dash" in e for e in ids["web.links.temporary-redirect"].evidence)
    assert not any("/dash" in e for e in ids["web.links.lost-query"].evidence)


def test_links_unlinked_home_404_is_not_broken() -> None:
    api_home = Visit(f"https://{HOST}/", 0, (ex(f"https://{HOST}/", 404),))
    assert links.judge(HOST, crawl([api_home])) == []


# -- web.mixed-content ------------------------------------------------------------------------


def test_mixed_content_active_and_passive() -> None:
    found = [
        link("http://cdn.example.net/app.js", "script"),
        link("http://example.com/logo.png", "img"),
        link("http://example.com/x"),
    ]
    ids = {f.id for f in mixed_content.judge(HOST, crawl([HOME], found))}
    assert ids == {"web.mixed-content.active", "web.mixed-content.passive"}
    assert mixed_content.judge(HOST, crawl([HOME], [link("https://example.com/logo.png", "img")])) == []


# -- web.headers ------------------------------------------------------------------------------

GOOD = HTML + (
    ("content-security-policy", "default-src 'self'; frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("strict-transport-security", "max-age=63072000"),
    ("set-cookie", "session=s3cr3t; Secure; HttpOnly; SameSite=Lax"),
    ("server", "nginx"),
)


def test_headers_good_page_passes_and_scores_a_plus() -> None:
    page = ex(f"https://{HOST}/", 200, GOOD)
    assert headers.judge(HOST, crawl([Visit(page.url, 0, (page,))])) == []
    rating = headers.score(page, (headers.parse_set_cookie("session=x; Secure; HttpOnly; SameSite=Lax"),))
    assert rating.score >= 100 and rating.grade == "A+"


def test_headers_bare_page_fails_each_test_and_scores_low() -> None:
    bare = HTML + (
        ("set-cookie", "sessionid=s3cr3t; Path=/"),
        ("server", "Apache/2.4.41 (Ubuntu)"),
        ("x-powered-by", "PHP/7.4.3"),
    )
    page = ex(f"https://{HOST}/", 200, bare)
    found = {f.id: f for f in headers.judge(HOST, crawl([Visit(page.url, 0, (page,))]))}
    assert set(found) == {
        "web.headers.csp-missing",
        "web.headers.framing-missing",
        "web.headers.nosniff-missing",
        "web.headers.referrer-missing",
        "web.headers.cookie-flags",
        "web.headers.version-leak",
    }
    assert found["web.headers.cookie-flags"].severity is Severity.HIGH
    # The cookie value never reaches the evidence.
    assert not any("s3cr3t" in e for f in found.values() for e in f.evidence)
    score_line = found["web.headers.csp-missing"].evidence[-1]
    assert score_line.startswith("Observatory-style score: 0/100 (F)")


def test_grade_boundaries_follow_the_observatory() -> None:
    assert [headers.grade(p) for p in (100, 90, 85, 80, 70, 65, 60, 50, 45, 40, 30, 25, 24)] == [
        "A+",
        "A",
        "A-",
        "B+",
        "B",
        "B-",
        "C+",
        "C",
        "C-",
        "D+",
        "D",
        "D-",
        "F",
    ]


# -- web.caching ------------------------------------------------------------------------------


def _asset(path: str, cache: str | None, etag: bool = True) -> tuple[Visit, Link]:
    hdrs: tuple[tuple[str, str], ...] = (("content-type", "text/css"),)
    if cache:
        hdrs += (("cache-control", cache),)
    if etag:
        hdrs += (("etag", '"x"'),)
    url = f"https://{HOST}{path}"
    return Visit(url, 1, (ex(url, 200, hdrs),)), link(url, "style")


def test_caching_asset_problems() -> None:
    pairs = [
        _asset("/ok.css", "public, max-age=31536000, immutable"),
        _asset("/nostore.css", "no-store", etag=False),
        _asset("/short.css", "max-age=600"),
        _asset("/novalidator.css", "max-age=2592000", etag=False),
    ]
    stale_url = f"https://{HOST}/pricing"
    stale = Visit(stale_url, 1, (ex(stale_url, 200, HTML + (("cache-control", "public, max-age=86400"),)),))
    result = crawl([HOME, *(v for v, _ in pairs), stale], [lk for _, lk in pairs] + [link(stale_url)])
    found = {f.id: f for f in caching.judge(HOST, result)}
    assert set(found) == {
        "web.caching.asset-uncacheable",
        "web.caching.asset-short-lived",
        "web.caching.asset-no-validator",
        "web.caching.html-stale",
    }
    assert any("/nostore.css" in e for e in found["web.caching.asset-uncacheable"].evidence)


# -- web.canonical-host -----------------------------------------------------------------------


def test_canonical_host_cases() -> None:
    apex, www = f"https://{HOST}/", f"https://www.{HOST}/"
    serve_apex = (ex(apex, 200, HTML),)
    assert canonical_host.judge(HOST, serve_apex, (redirect(www, apex), ex(apex))) == []
    both = canonical_host.judge(HOST, serve_apex, (ex(www, 200, HTML),))
    assert [f.id for f in both] == ["web.canonical-host.both-serve"]
    temp = canonical_host.judge(HOST, serve_apex, (redirect(www, apex, 302), ex(apex)))
    assert [f.id for f in temp] == ["web.canonical-host.not-permanent"]
    hops = canonical_host.judge(
        HOST, serve_apex, (redirect(www, f"http://{HOST}/"), redirect(f"http://{HOST}/", apex), ex(apex))
    )
    assert [f.id for f in hops] == ["web.canonical-host.multi-hop"]


# -- web.redirect-map -------------------------------------------------------------------------


def test_redirect_map_lists_broken_entries_with_their_source() -> None:
    u = f"https://{HOST}"
    good = RedirectEntry(old="/a", new="/b", source="redirects.csv:2")
    missing = RedirectEntry(old="/c", new="/d", source="redirects.csv:3")
    temporary = RedirectEntry(old="/e", new="/f", source="launchready.toml:9")
    results = [
        (good, Visit(f"{u}/a", 0, (redirect(f"{u}/a", f"{u}/b?x=1"), ex(f"{u}/b?x=1")))),
        (missing, Visit(f"{u}/c", 0, (ex(f"{u}/c", 404),))),
        (temporary, Visit(f"{u}/e", 0, (redirect(f"{u}/e", f"{u}/f", 302), ex(f"{u}/f")))),
    ]
    [finding] = redirect_map.judge(HOST, results)
    assert finding.id == "web.redirect-map.broken"
    assert "redirects.csv:3: /c -> /d (301): answers 404 instead of redirecting" in finding.evidence
    assert "launchready.toml:9: /e -> /f (301): answers 302, expected 301" in finding.evidence
    assert not any("redirects.csv:2" in e for e in finding.evidence)


# -- web.admin-surface ------------------------------------------------------------------------


def test_admin_surface_open_only_without_login() -> None:
    u = f"https://admin.{HOST}/"
    login_form = ex(u, 200, HTML, body=b'<form><input name="password" type="password"></form>')
    assert admin_surface.judge(u, [Visit(u, 0, (login_form,))]) == []
    to_login = Visit(u, 0, (redirect(u, f"{u}login", 302), ex(f"{u}login", 200, HTML, body=b"<p>sso</p>")))
    assert admin_surface.judge(u, [to_login]) == []
    [finding] = admin_surface.judge(u, [Visit(u, 0, (ex(u, 200, HTML, body=b"<h1>Members</h1>"),))])
    assert finding.id == "web.admin-surface.open"


# -- web.edge ---------------------------------------------------------------------------------


def test_edge_data_ships_sources_and_detects_vendors() -> None:
    assert {r.vendor for r in ranges()} >= {"Cloudflare", "Fastly"}
    assert all(r.retrieved and r.sources for r in ranges())
    assert (by_headers((("cf-ray", "8a1-AMS"),), vendors()) or ("",))[0] == "Cloudflare"
    assert (by_headers((("server", "Vercel"),), vendors()) or ("",))[0] == "Vercel"
    assert by_headers((("server", "nginx"),), vendors()) is None
    assert by_address("104.16.1.1", ranges())[0] == "Cloudflare"  # type: ignore[index]
    assert by_address("151.101.1.1", ranges())[0] == "Fastly"  # type: ignore[index]
    assert by_address("127.0.0.1", ranges()) is None


def test_edge_data_parsers() -> None:
    parsed = parse_ranges(
        '{"vendor": "X", "sources": ["https://x"], "retrieved": "2025-01-01", "prefixes": ["10.0.0.0/8"]}'
    )
    assert isinstance(parsed, Ranges) and by_address("10.1.2.3", (parsed,)) is not None
    [vendor] = parse_vendors('{"vendors": [{"name": "Y", "rules": [{"header": "X-Y", "contains": "z"}]}]}')
    assert by_headers((("x-y", "aZb"),), (vendor,)) == ("Y", "x-y: aZb")


def test_edge_no_cdn_and_exposed_origin() -> None:
    body = b"<html><title>Shop</title>home</html>"
    fronted = edge.detect(HOST, ("104.16.1.1",), ex(f"https://{HOST}/", 200, HTML, body=body), vendors(), ranges())
    assert fronted.vendor == "Cloudflare"
    origin = edge.detect(
        f"origin.{HOST}", ("203.0.113.9",), ex(f"https://origin.{HOST}/", 200, HTML, body=body), vendors(), ranges()
    )
    other = edge.detect(f"mail.{HOST}", ("203.0.113.9",), ex(f"https://mail.{HOST}/", 404), vendors(), ranges())
    [exposed] = edge.judge(HOST, [fronted], [origin, other])
    assert exposed.id == "web.edge.exposed-origin"
    assert "origin.example.com" in exposed.evidence[0]
    bare = edge.detect(HOST, ("203.0.113.9",), ex(f"https://{HOST}/", 200, HTML, body=body), vendors(), ranges())
    assert [f.id for f in edge.judge(HOST, [bare], [origin])] == ["web.edge.no-cdn"]


def test_edge_lab_signature_counts_only_when_the_lab_opts_in() -> None:
    lab_header = (("x-launchready-lab-edge", "1"),)
    assert all(not v.lab_only for v in vendors())
    assert by_headers(lab_header, vendors()) is None
    assert (by_headers(lab_header, vendors(include_lab=True)) or ("",))[0] == "launchready lab edge (lab only)"
    page = ex(f"https://{HOST}/", 200, HTML + lab_header, body=b"<html>home</html>")
    real_site = edge.detect(HOST, ("203.0.113.9",), page, vendors(), ranges())
    assert real_site.vendor is None
    assert [f.id for f in edge.judge(HOST, [real_site], [])] == ["web.edge.no-cdn"]
    lab_site = edge.detect(HOST, ("203.0.113.9",), page, vendors(include_lab=True), ranges())
    assert lab_site.vendor == "launchready lab edge (lab only)"
    assert Config.model_validate({"domain": HOST}).web.lab_edge is False


# -- web.hsts and web.https-redirect additions ------------------------------------------------


def test_hsts_preload_eligibility_on_the_apex() -> None:
    page = ex(f"https://{HOST}/", 200, (("strict-transport-security", "max-age=15552000; preload"),))
    plain = redirect(f"http://{HOST}/", f"https://www.{HOST}/")
    found = hsts.judge(HOST, page, plain=plain, apex=True)
    [finding] = [f for f in found if f.id == "web.hsts.preload-ineligible"]
    assert any("includeSubDomains is missing" in e for e in finding.evidence)
    assert any("same host first" in e for e in finding.evidence)
    good = ex(f"https://{HOST}/", 200, (("strict-transport-security", "max-age=63072000; includeSubDomains; preload"),))
    assert hsts.judge(HOST, good, plain=redirect(f"http://{HOST}/", f"https://{HOST}/"), apex=True) == []


def test_hsts_only_on_plain_http() -> None:
    page = ex(f"https://{HOST}/", 200)
    plain = ex(f"http://{HOST}/", 200, (("strict-transport-security", "max-age=63072000"),))
    assert [f.id for f in hsts.judge(HOST, page, plain=plain)] == ["web.hsts.http-only"]


def test_https_redirect_must_keep_path_and_query() -> None:
    url = f"http://{HOST}{https_redirect.PROBE_PATH}"
    kept = redirect(url, f"https://{HOST}{https_redirect.PROBE_PATH}")
    assert https_redirect.judge_path(HOST, kept) == []
    [finding] = https_redirect.judge_path(HOST, redirect(url, f"https://{HOST}/"))
    assert finding.id == "web.https-redirect.drops-path"
    assert "lost: path and query" in finding.evidence


def test_hsts_preload_follows_hstspreload_org_rules() -> None:
    header = "max-age=63072000; includeSubDomains; preload"
    first = redirect(f"http://{HOST}/", f"https://{HOST}/")
    page = ex(f"https://{HOST}/", 200, (("strict-transport-security", header),))

    def problems(found: list[Finding]) -> list[str]:
        [finding] = [f for f in found if f.id == "web.hsts.preload-ineligible"]
        return [e for e in finding.evidence if e.startswith("preload: ")]

    # Every redirect of the apex's chain must stay on HTTPS, not only the first.
    back_to_http = redirect(f"https://{HOST}/", f"http://www.{HOST}/")
    chain = (first, back_to_http, ex(f"http://www.{HOST}/", 200))
    found = hsts.judge(HOST, page, plain=first, apex=True, chain=chain)
    assert problems(found) == [
        f"preload: the redirect chain from http://{HOST}/ leaves HTTPS: https://{HOST}/ -> http://www.{HOST}/"
    ]
    clean = (first, redirect(f"https://{HOST}/", f"https://www.{HOST}/"), ex(f"https://www.{HOST}/", 200))
    assert hsts.judge(HOST, page, plain=first, apex=True, chain=clean) == []
    # A redirect off the audited site is not followed: where it points decides.
    off = (first, redirect(f"https://{HOST}/", "http://elsewhere.test/"))
    assert any("leaves HTTPS" in p for p in problems(hsts.judge(HOST, page, plain=first, apex=True, chain=off)))

    # More than one Strict-Transport-Security header is rejected.
    twice = ex(f"https://{HOST}/", 200, (("strict-transport-security", header), ("strict-transport-security", header)))
    assert problems(hsts.judge(HOST, twice, plain=first, apex=True)) == [
        "preload: 2 Strict-Transport-Security headers sent; hstspreload.org requires exactly one"
    ]

    # Only a registrable domain can be preloaded: a subdomain audited as the domain is not eligible.
    sub = f"app.{HOST}"
    sub_page = ex(f"https://{sub}/", 200, (("strict-transport-security", header),))
    found = hsts.judge(sub, sub_page, plain=redirect(f"http://{sub}/", f"https://{sub}/"), apex=True)
    [line] = problems(found)
    assert "not eligible" in line and f"preload the registrable domain {HOST}" in line
    # The registrable domain under a multi-label public suffix is eligible.
    co_uk = ex("https://example.co.uk/", 200, (("strict-transport-security", header),))
    plain_co_uk = redirect("http://example.co.uk/", "https://example.co.uk/")
    assert hsts.judge("example.co.uk", co_uk, plain=plain_co_uk, apex=True) == []

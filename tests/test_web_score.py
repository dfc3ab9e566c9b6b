"""The Observatory-style header score, its new findings (SRI, CORS), per-member caching, key pages
on every host, and host facts in the reports. Facts only, no network."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import jsonschema
from report_samples import sample_run

from launchready.checks.web import headers, links, private_cache
from launchready.checks.web.crawled import optional_starts, start_urls
from launchready.checks.web.observatory import (
    Cookie,
    Modifier,
    Script,
    cookies_modifier,
    corp_modifier,
    cors_modifier,
    csp_modifier,
    redirection_modifier,
    referrer_modifier,
    score,
    sri_modifier,
)
from launchready.config.sections.web import WebConfig
from launchready.core.facts import FactBook
from launchready.core.severity import Confidence, Severity
from launchready.probes.crawl import CrawlResult, Link, Visit, extract_links_detailed
from launchready.probes.http import HttpExchange
from launchready.report.html import render_html
from launchready.report.json_report import load_schema, render_json
from launchready.report.markdown import render_markdown

HOST = "example.com"
HTML = (("content-type", "text/html; charset=utf-8"),)


def ex(url: str, status: int | None = 200, hdrs: tuple[tuple[str, str], ...] = ()) -> HttpExchange:
    return HttpExchange(url=url, method="GET", status=status, headers=hdrs)


def page(*hdrs: tuple[str, str], url: str = f"https://{HOST}/") -> HttpExchange:
    return ex(url, 200, HTML + hdrs)


def cookie(name: str, secure: bool = True, httponly: bool = True, samesite: str | None = "Lax") -> Cookie:
    return Cookie(name, secure, httponly, samesite)


# -- the scorer, test by test ------------------------------------------------------------------


def test_csp_results_follow_the_rubric() -> None:
    assert csp_modifier(None) == Modifier("csp-not-implemented", -25)
    assert csp_modifier(";") == Modifier("csp-header-invalid", -25)
    assert csp_modifier("frame-ancestors 'none'").points == -20  # scripts and objects unrestricted
    assert csp_modifier("default-src 'self' 'unsafe-inline'").test == "csp-implemented-with-unsafe-inline"
    assert csp_modifier("default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-abc'").points == 5
    assert csp_modifier("default-src 'self'; script-src https:").points == -20
    assert (
        csp_modifier("default-src 'self'; connect-src http://api.example.com").test
        == "csp-implemented-with-insecure-scheme"
    )
    assert (
        csp_modifier("default-src 'self'; img-src http:").test
        == "csp-implemented-with-insecure-scheme-in-passive-content-only"
    )
    assert csp_modifier("default-src 'self' 'unsafe-eval'").points == -10
    assert csp_modifier("default-src 'self'; style-src 'self' 'unsafe-inline'").points == 0
    assert csp_modifier("default-src 'none'; form-action 'self'").points == 10
    assert csp_modifier("default-src 'none'").points == 5  # form-action not restricted
    assert csp_modifier("default-src 'self'; object-src 'none'").points == 5


def test_cookie_results_take_the_worst_case() -> None:
    assert cookies_modifier((), hsts=True).test == "cookies-not-found"
    assert cookies_modifier((cookie("session"),), hsts=True).points == 5
    assert cookies_modifier((cookie("session", samesite=None),), hsts=True).points == 0
    assert cookies_modifier((cookie("session", secure=False),), hsts=False).points == -40
    assert cookies_modifier((cookie("session", secure=False),), hsts=True).points == -10
    assert cookies_modifier((cookie("prefs", secure=False),), hsts=True).points == -5
    assert cookies_modifier((cookie("prefs", secure=False),), hsts=False).points == -20
    assert (
        cookies_modifier((cookie("sessionid", httponly=False), cookie("prefs", secure=False)), hsts=False).points == -30
    )
    # The Observatory counts only names containing "login" or "sess" as session cookies.
    assert cookies_modifier((cookie("sid", httponly=False),), hsts=True).points == 5
    assert cookies_modifier((cookie("auth_token", httponly=False),), hsts=True).points == 5
    assert cookies_modifier((cookie("LoginState", httponly=False),), hsts=True).points == -30
    # SameSite=None needs Secure; a bare SameSite is invalid too.
    assert cookies_modifier((cookie("prefs", samesite="None"),), hsts=True).points == 5
    assert (
        cookies_modifier((cookie("prefs", secure=False, samesite="None"),), hsts=True).test
        == "cookies-samesite-flag-invalid"
    )
    assert cookies_modifier((cookie("prefs", samesite=""),), hsts=True).test == "cookies-samesite-flag-invalid"
    assert (
        cookies_modifier((cookie("csrftoken", samesite=None),), hsts=True).test
        == "cookies-anticsrf-without-samesite-flag"
    )
    assert cookies_modifier((cookie("prefs", samesite="Sometimes"),), hsts=True).test == "cookies-samesite-flag-invalid"


def test_cors_sri_corp_referrer_and_redirection() -> None:
    # "*" is public access: browsers never send credentials to it, so the Observatory does not penalise it.
    star = page(("access-control-allow-origin", "*"))
    assert cors_modifier(star).test.endswith("public-access") and cors_modifier(star).points == 0
    star_creds = page(("access-control-allow-origin", "*"), ("access-control-allow-credentials", "true"))
    assert cors_modifier(star_creds).test.endswith("public-access")
    creds = page(("access-control-allow-origin", "null"), ("access-control-allow-credentials", "true"))
    assert cors_modifier(creds).test.endswith("restricted-access")
    exact = page(("access-control-allow-origin", "https://partner.test"), ("access-control-allow-credentials", "true"))
    assert cors_modifier(exact).test.endswith("restricted-access")

    site = (HOST,)
    assert sri_modifier((), same_site=site).points == 0
    assert sri_modifier((Script(f"https://{HOST}/a.js", False),), same_site=site).points == 0
    assert sri_modifier((Script(f"https://cdn.{HOST}/a.js", True),), same_site=site).points == 5
    assert sri_modifier((Script("https://cdn.other.test/a.js", True),), same_site=site).points == 5
    assert sri_modifier((Script("https://cdn.other.test/a.js", False),), same_site=site).points == -5
    assert sri_modifier((Script("http://cdn.other.test/a.js", True),), same_site=site).points == -20
    mixed = (Script("https://cdn.other.test/a.js", False), Script("http://cdn.other.test/b.js", False))
    assert sri_modifier(mixed, same_site=site).points == -50

    assert [corp_modifier(v).points for v in (None, "same-origin", "same-site", "cross-origin", "bogus")] == [
        0,
        10,
        10,
        0,
        -5,
    ]
    assert [
        referrer_modifier(v).points for v in (None, "no-referrer", "origin", "no-referrer-when-downgrade", "x")
    ] == [0, 5, -5, -5, -5]
    # The last value a browser recognises wins.
    assert referrer_modifier("unsafe-url, strict-origin-when-cross-origin").points == 5

    plain = f"http://{HOST}/"

    def to(url: str) -> HttpExchange:
        return ex(plain, 301, (("location", url),))

    def points(hops: tuple[HttpExchange, ...], end: str | None = None) -> int | None:
        result = redirection_modifier(hops, end)
        return None if result is None else result.points

    assert redirection_modifier(None) is None
    assert redirection_modifier((ex(plain, None),)) == Modifier("redirection-not-needed-no-http", 0)
    assert points((ex(plain, 200),)) == -20
    assert points((to(f"https://{HOST}/"), ex(f"https://{HOST}/"))) == 0
    assert points((to(f"https://www.{HOST}/"), ex(f"https://www.{HOST}/"))) == -5
    hops = (
        to(f"http://www.{HOST}/"),
        ex(f"http://www.{HOST}/", 301, (("location", f"https://www.{HOST}/"),)),
        ex(f"https://www.{HOST}/"),
    )
    assert points(hops) == -10
    assert points((to(f"http://www.{HOST}/"), ex(f"http://www.{HOST}/"))) == -20
    # A redirect off the site is not followed: where it points decides.
    assert points((to("https://elsewhere.test/"),), "https://elsewhere.test/") == -5


def test_score_hand_computed_examples() -> None:
    # 1. A careful site: no penalty, so every bonus counts.
    good = page(
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
        ("strict-transport-security", "max-age=63072000"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-resource-policy", "same-origin"),
    )
    s = score(
        good,
        (cookie("session"),),
        redirect_hops=(ex(f"http://{HOST}/", 301, (("location", f"https://{HOST}/"),)), good),
    )
    # 100 + csp 10 + cookies 5 + referrer 5 + framing via CSP 5 + CORP 10 = 135, the Observatory's maximum.
    assert (s.score, s.grade) == (135, "A+")

    # 2. Penalties take it below 90: the bonuses no longer count.
    meh = page(
        ("content-security-policy", "default-src 'self'; frame-ancestors 'none'"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-resource-policy", "same-origin"),
    )
    s = score(meh)
    # 100 - HSTS 20 - nosniff 5 = 75 (B); the +5 CSP, +5 referrer, +5 framing and +10 CORP are not added.
    assert (s.score, s.grade) == (75, "B")
    assert s.lines[:2] == ("hsts-not-implemented -20", "x-content-type-options-not-implemented -5")

    # 3. Exactly 90 after penalties: bonuses count.
    ninety = page(
        ("content-security-policy", "default-src 'self'; object-src 'none'"),
        ("strict-transport-security", "max-age=86400"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
    )
    s = score(ninety)
    # 100 - HSTS short 10 = 90, + CSP no-unsafe 5 = 95 (A).
    assert (s.score, s.grade) == (95, "A")

    # 4. Everything wrong floors at 0; an invalid certificate counts as no HSTS.
    bad = page(("access-control-allow-origin", "*"))
    s = score(
        bad,
        (cookie("sessionid", secure=False, httponly=False, samesite=None),),
        scripts=(Script("http://cdn.x.test/a.js", False),),
        tls_valid=False,
    )
    assert (s.score, s.grade) == (0, "F")
    assert "hsts-invalid-cert -20" in s.lines
    assert "sri-not-implemented-and-external-scripts-not-loaded-securely -50" in s.lines
    assert s.text().startswith("Observatory-style score: 0/100 (F); ")


# -- web.headers: the new findings and the host fact --------------------------------------------


def _crawl(home: HttpExchange, found: tuple[Link, ...] = (), extra: tuple[Visit, ...] = ()) -> CrawlResult:
    return CrawlResult(
        start=(home.url,), host=HOST, visits=(Visit(home.url, 0, (home,)), *extra), links=found, requests=1
    )


GOOD = (
    ("content-security-policy", "default-src 'self'; frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("strict-transport-security", "max-age=63072000"),
)


def test_third_party_script_without_integrity_is_a_finding_site_scripts_are_not() -> None:
    home = page(*GOOD)
    found = (
        Link(home.url, "https://cdn.widgets.test/w.js", "script", "script src"),
        Link(home.url, "https://cdn.pinned.test/p.js", "script", "script src", integrity=True),
        Link(home.url, f"https://static.{HOST}/app.js", "script", "script src"),
    )
    [finding] = headers.judge(HOST, _crawl(home, found))
    assert finding.id == "web.headers.sri-missing"
    assert finding.severity is Severity.LOW
    assert '<script src="https://cdn.widgets.test/w.js"> without integrity' in finding.evidence
    assert not any("pinned" in e or "static." in e for e in finding.evidence)
    plain = (Link(home.url, "http://cdn.widgets.test/w.js", "script", "script src"),)
    [finding] = headers.judge(HOST, _crawl(home, plain))
    assert finding.severity is Severity.MEDIUM


def test_cors_wildcard_with_credentials_or_sessions_is_high() -> None:
    wildcard = page(*GOOD, ("access-control-allow-origin", "*"), ("access-control-allow-credentials", "true"))
    [finding] = headers.judge(HOST, _crawl(wildcard))
    assert finding.id == "web.headers.cors-credentials"
    assert finding.severity is Severity.HIGH
    assert "Access-Control-Allow-Credentials: true" in finding.evidence
    # A public page open to every origin, without cookies, is fine.
    assert headers.judge(HOST, _crawl(page(*GOOD, ("access-control-allow-origin", "*")))) == []
    with_session = page(
        *GOOD, ("access-control-allow-origin", "*"), ("set-cookie", "session=s3cr3t; Secure; HttpOnly; SameSite=Lax")
    )
    [finding] = headers.judge(HOST, _crawl(with_session))
    assert "the host sets session cookie(s): session" in finding.evidence
    assert not any("s3cr3t" in e for e in finding.evidence)


def test_assess_returns_the_score_even_without_findings() -> None:
    findings, rating = headers.assess(HOST, _crawl(page(*GOOD)))
    assert findings == []
    assert rating is not None and rating.summary == "115 (A+)"
    # No HTML page (an API host): no score.
    api = ex(f"https://{HOST}/", 404, (("content-type", "application/json"),))
    assert headers.assess(HOST, _crawl(api)) == ([], None)


def test_the_home_page_is_scored_before_other_start_pages() -> None:
    key = page(url=f"https://{HOST}/pricing")
    home = page(*GOOD)
    result = CrawlResult(
        start=(home.url, key.url),
        host=HOST,
        visits=(Visit(key.url, 0, (key,)), Visit(home.url, 0, (home,))),
        links=(),
        requests=2,
    )
    assert headers.assess(HOST, result)[1] == headers.assess(HOST, _crawl(home))[1]


# -- web.private-cache: per-member HTML without Set-Cookie --------------------------------------


def test_vary_cookie_on_a_publicly_cacheable_page_is_a_blocker() -> None:
    url = f"https://{HOST}/pricing"
    personal = page(("cache-control", "public, max-age=600"), ("vary", "Accept-Encoding, Cookie"), url=url)
    finding = private_cache.judge_personalised(personal)
    assert finding is not None
    assert finding.id == "web.private-cache.personalised-shared-cacheable"
    assert finding.severity is Severity.BLOCKER and finding.confidence is Confidence.FIRM
    assert finding.target == url
    assert "Vary: Accept-Encoding, Cookie" in finding.evidence
    auth = page(("cache-control", "s-maxage=60"), ("vary", "Authorization"), url=url)
    assert private_cache.judge_personalised(auth) is not None
    [once] = private_cache.judge(HOST, (personal, personal))  # the same URL fetched twice is judged once
    assert once.target == url


def test_vary_cookie_is_fine_when_private_or_not_html_or_set_cookie() -> None:
    url = f"https://{HOST}/pricing"
    for hdrs in (
        (("cache-control", "private, max-age=600"), ("vary", "Cookie")),
        (("cache-control", "no-store"), ("vary", "Cookie")),
        (("cache-control", "public, max-age=600"), ("vary", "Accept-Encoding")),
        (("cache-control", "public, max-age=600"),),
        (("cache-control", "public, max-age=600"), ("vary", "*")),
    ):
        assert private_cache.judge_personalised(page(*hdrs, url=url)) is None, hdrs
    json_answer = ex(
        url, 200, (("content-type", "application/json"), ("cache-control", "public, max-age=60"), ("vary", "Cookie"))
    )
    assert private_cache.judge_personalised(json_answer) is None
    # With Set-Cookie it is judge_one's blocker, not this one.
    cookie_page = page(("cache-control", "public"), ("vary", "Cookie"), ("set-cookie", "s=1"), url=url)
    assert private_cache.judge_personalised(cookie_page) is None
    assert [f.id for f in private_cache.judge(HOST, (cookie_page,))] == ["web.private-cache.shared-cacheable"]


# -- key pages on every host --------------------------------------------------------------------


def _ctx(key_pages: tuple[str, ...]) -> Any:
    config = SimpleNamespace(web=WebConfig(key_pages=key_pages))
    return SimpleNamespace(domain=HOST, config=config)


def test_key_pages_start_the_crawl_on_every_host_and_are_optional_off_the_main_site() -> None:
    ctx = _ctx(("/pricing", "/settings"))
    for host in (HOST, f"www.{HOST}", f"app.{HOST}"):
        assert start_urls(ctx, host) == (f"https://{host}/", f"https://{host}/pricing", f"https://{host}/settings")
    assert optional_starts(ctx, HOST) == frozenset()
    assert optional_starts(ctx, f"www.{HOST}") == frozenset()
    assert optional_starts(ctx, f"app.{HOST}") == {f"https://app.{HOST}/pricing", f"https://app.{HOST}/settings"}


def test_a_key_page_missing_on_another_host_is_not_broken_unless_linked() -> None:
    app = f"app.{HOST}"
    home, missing = ex(f"https://{app}/", 200, HTML), ex(f"https://{app}/pricing", 404)
    result = CrawlResult(
        start=(home.url, missing.url),
        host=app,
        visits=(Visit(home.url, 0, (home,)), Visit(missing.url, 0, (missing,))),
        links=(),
        requests=2,
    )
    assert links.judge(app, result, optional=frozenset({missing.url})) == []
    assert [f.id for f in links.judge(app, result)] == ["web.links.broken"]
    linked = CrawlResult(
        start=result.start,
        host=app,
        visits=result.visits,
        links=(Link(home.url, missing.url, "a", "a href"),),
        requests=2,
    )
    assert [f.id for f in links.judge(app, linked, optional=frozenset({missing.url}))] == ["web.links.broken"]


def test_the_crawl_records_integrity_on_scripts() -> None:
    html = '<script src="/a.js"></script><script src="https://cdn.test/b.js" integrity="sha384-x"></script><img src="/i.png" integrity="x">'
    found, _ = extract_links_detailed(f"https://{HOST}/", html)
    assert [(url, integrity) for url, _, _, integrity in found] == [
        (f"https://{HOST}/a.js", False),
        ("https://cdn.test/b.js", True),
        (f"https://{HOST}/i.png", False),
    ]


# -- host facts: collected per run, rendered generically ----------------------------------------


def test_fact_book_keeps_one_value_per_host_and_name_in_host_order() -> None:
    book = FactBook()
    book.add("b.test", "Header score (Observatory v6)", "80 (B+)", check_id="web.headers")
    book.add("a.test", "Header score (Observatory v6)", "90 (A)", check_id="web.headers", detail=("x -5",))
    book.add("a.test", "Header score (Observatory v6)", "95 (A)", check_id="web.headers")
    facts = book.collected(("b.test", "a.test"))
    assert [(f.host, f.value) for f in facts] == [("b.test", "80 (B+)"), ("a.test", "95 (A)")]


def test_reports_show_host_facts_and_json_validates() -> None:
    book = FactBook()
    book.add(
        "example.com",
        "Header score (Observatory v6)",
        "70 (B)",
        check_id="web.headers",
        detail=("hsts-not-implemented -20", "<b>x</b>"),
    )
    run = sample_run().model_copy(update={"host_facts": book.collected()})
    markdown = render_markdown(run)
    assert "## Host facts" in markdown
    assert "| `example.com` | Header score (Observatory v6) | **70 (B)** |" in markdown
    html = render_html(run)
    assert 'id="host-facts"' in html and "<strong>70 (B)</strong>" in html and "<b>x</b>" not in html
    document = json.loads(render_json(run))
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    assert document["host_facts"][0]["value"] == "70 (B)"
    # Without facts nothing changes.
    assert "## Host facts" not in render_markdown(sample_run())
    assert json.loads(render_json(sample_run()))["host_facts"] == []

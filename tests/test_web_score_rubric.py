"""The header score against the MDN HTTP Observatory v6 rubric: header sets with the score and grade the
Observatory gives them, worked out by hand from its scoring table (start at 100, add every penalty, add
the bonuses only when the result is at least 90, floor at 0; grade by the lower multiple of 5).

Each expected value is written out from the rubric, never computed by the code under test. Every row
also gets a clean http -> https redirect on the same host (redirection 0) unless it tests redirection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from launchready.checks.web.observatory import Cookie, Script, score
from launchready.probes.http import HttpExchange

HOST = "example.com"
HTML = (("content-type", "text/html; charset=utf-8"),)
# A careful baseline: HSTS two years, nosniff, XFO DENY, CSP restricting scripts and objects (+5).
GOOD = (
    ("strict-transport-security", "max-age=63072000"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", "default-src 'self'"),
)


def without(name: str, headers: tuple[tuple[str, str], ...] = GOOD) -> tuple[tuple[str, str], ...]:
    return tuple(h for h in headers if h[0] != name)


def replaced(name: str, value: str) -> tuple[tuple[str, str], ...]:
    return (*without(name), (name, value))


@dataclass(frozen=True)
class Row:
    why: str
    headers: tuple[tuple[str, str], ...]
    expected: int
    grade: str
    cookies: tuple[Cookie, ...] = ()
    scripts: tuple[Script, ...] = ()
    redirect: str = "same-host"  # "same-host", "off-host" or "none" (port 80 serves the page)
    results: tuple[str, ...] = field(default=())  # Observatory results the score must contain


def secure(name: str, *, httponly: bool = True, samesite: str | None = "Lax") -> Cookie:
    return Cookie(name, True, httponly, samesite)


ROWS = (
    # 100 - csp 25 - hsts 20 - nosniff 5 - xfo 20
    Row("nothing set", (), 30, "D", results=("csp-not-implemented", "hsts-not-implemented")),
    # 100 - csp 25 - nosniff 5 - xfo 20; 15552000 is the Observatory's six months
    Row(
        "HSTS exactly 15552000",
        (("strict-transport-security", "max-age=15552000"),),
        50,
        "C",
        results=("hsts-implemented-max-age-at-least-six-months",),
    ),
    # 100 - csp 25 - hsts short 10 - nosniff 5 - xfo 20
    Row(
        "HSTS one second short of six months",
        (("strict-transport-security", "max-age=15551999"),),
        40,
        "D+",
        results=("hsts-implemented-max-age-less-than-six-months",),
    ),
    # 100 - csp 25
    Row("no CSP, XFO DENY", without("content-security-policy"), 75, "B"),
    Row(
        "no CSP, XFO sameorigin (any case)",
        (("strict-transport-security", "max-age=63072000"), ("x-content-type-options", "nosniff"),
         ("x-frame-options", "sameorigin")),
        75,
        "B",
    ),
    # 100 + csp 5; XFO SAMEORIGIN and ALLOW-FROM are 0
    Row(
        "XFO SAMEORIGIN", replaced("x-frame-options", "SAMEORIGIN"), 105, "A+", results=("x-frame-options-sameorigin-or-deny",)
    ),
    Row(
        "XFO ALLOW-FROM",
        replaced("x-frame-options", "ALLOW-FROM https://partner.test/"),
        105,
        "A+",
        results=("x-frame-options-allow-from-origin",),
    ),
    # 100 - xfo invalid 20 = 80: bonuses not counted
    Row("XFO invalid", replaced("x-frame-options", "ALLOWALL"), 80, "B+", results=("x-frame-options-header-invalid",)),
    # 100 + csp 5 + frame-ancestors 5
    Row(
        "CSP frame-ancestors instead of XFO",
        (*without("x-frame-options", without("content-security-policy")),
         ("content-security-policy", "default-src 'self'; frame-ancestors 'none'")),
        110,
        "A+",
        results=("x-frame-options-implemented-via-csp",),
    ),
    # frame-ancestors wins over an invalid XFO
    Row(
        "CSP frame-ancestors beside an invalid XFO",
        (*without("x-frame-options", without("content-security-policy")),
         ("x-frame-options", "ALLOWALL"),
         ("content-security-policy", "default-src 'self'; frame-ancestors 'self'")),
        110,
        "A+",
        results=("x-frame-options-implemented-via-csp",),
    ),
    # 100 + csp 10 + cookies 5 + referrer 5 + frame-ancestors 5 + corp 10 + coop 10 + coep 10
    Row(
        "everything the rubric rewards",
        (*without("content-security-policy"),
         ("content-security-policy", "default-src 'none'; script-src 'self'; form-action 'self'; frame-ancestors 'none'"),
         ("referrer-policy", "no-referrer"),
         ("cross-origin-resource-policy", "same-origin"),
         ("cross-origin-opener-policy", "same-origin"),
         ("cross-origin-embedder-policy", "require-corp")),
        155,
        "A+",
        cookies=(secure("session"),),
    ),
    # ACAO * is public access, 0 even with credentials and a session cookie: 100 + csp 5 + cookies 5
    Row(
        "ACAO * with credentials",
        (*GOOD, ("access-control-allow-origin", "*"), ("access-control-allow-credentials", "true")),
        110,
        "A+",
        cookies=(secure("sessionid"),),
        results=("cross-origin-resource-sharing-implemented-with-public-access",),
    ),
    # session cookie without Secure, HSTS protects it: 100 - 10 = 90, + csp 5
    Row(
        "session cookie without Secure under HSTS",
        GOOD,
        95,
        "A",
        cookies=(Cookie("sessionid", False, True, "Lax"),),
        results=("cookies-session-without-secure-flag-but-protected-by-hsts",),
    ),
    # 100 - hsts 20 - session cookie without Secure 40
    Row(
        "session cookie without Secure, no HSTS",
        without("strict-transport-security"),
        40,
        "D+",
        cookies=(Cookie("sessionid", False, True, "Lax"),),
        results=("cookies-session-without-secure-flag",),
    ),
    # "sid" is not a session name to the Observatory: all Secure and SameSite, +5; 100 + csp 5 + 5
    Row("sid without HttpOnly is not a session cookie", GOOD, 110, "A+", cookies=(secure("sid", httponly=False),)),
    # 100 - session without HttpOnly 30
    Row(
        "PHPSESSID without HttpOnly",
        GOOD,
        70,
        "B",
        cookies=(secure("PHPSESSID", httponly=False),),
        results=("cookies-session-without-httponly-flag",),
    ),
    # SameSite=None without Secure is invalid (-20) and worse than the HSTS-protected -5
    Row(
        "SameSite=None without Secure",
        GOOD,
        80,
        "B+",
        cookies=(Cookie("prefs", False, False, "None"),),
        results=("cookies-samesite-flag-invalid",),
    ),
    # anti-CSRF token without SameSite: -20
    Row(
        "csrftoken without SameSite",
        GOOD,
        80,
        "B+",
        cookies=(secure("csrftoken", samesite=None),),
        results=("cookies-anticsrf-without-samesite-flag",),
    ),
    # 100 + csp 5 + coop 10 + coep 10
    Row(
        "COOP same-origin-allow-popups, COEP credentialless",
        (*GOOD, ("cross-origin-opener-policy", "same-origin-allow-popups"),
         ("cross-origin-embedder-policy", "credentialless")),
        125,
        "A+",
    ),
    # COOP tokens are case-sensitive: -5 = 95, + csp 5 + coep 10 (parameters are allowed)
    Row(
        "COOP in the wrong case, COEP with report-to",
        (*GOOD, ("cross-origin-opener-policy", "Same-Origin"),
         ("cross-origin-embedder-policy", 'require-corp; report-to="coep"')),
        110,
        "A+",
        results=("coop-header-invalid", "coep-implemented-with-require-corp"),
    ),
    # COOP unsafe-none 0, COEP invalid -5: 95 + csp 5
    Row(
        "COOP unsafe-none, COEP invalid",
        (*GOOD, ("cross-origin-opener-policy", "unsafe-none"), ("cross-origin-embedder-policy", "isolate")),
        100,
        "A+",
    ),
    # two COOP headers are invalid: 100 - csp 25 - coop 5
    Row(
        "COOP sent twice, no CSP",
        (*without("content-security-policy"), ("cross-origin-opener-policy", "same-origin"),
         ("cross-origin-opener-policy", "same-origin")),
        70,
        "B",
        results=("coop-header-invalid",),
    ),
    # referrer unsafe -5: 95 + csp 5
    Row("Referrer-Policy unsafe", (*GOOD, ("referrer-policy", "origin-when-cross-origin")), 100, "A+"),
    Row("Referrer-Policy unrecognised", (*GOOD, ("referrer-policy", "foo")), 100, "A+"),
    # two headers are one list: the last recognised value (private) wins, 100 + csp 5 + referrer 5
    Row(
        "Referrer-Policy sent twice",
        (*GOOD, ("referrer-policy", "unsafe-url"), ("referrer-policy", "strict-origin-when-cross-origin")),
        110,
        "A+",
        results=("referrer-policy-private",),
    ),
    # CSP unsafe-inline -20
    Row("CSP unsafe-inline", replaced("content-security-policy", "default-src 'self' 'unsafe-inline'"), 80, "B+"),
    # CSP unsafe-eval -10: 90, no bonus left
    Row("CSP unsafe-eval", replaced("content-security-policy", "default-src 'self' 'unsafe-eval'"), 90, "A"),
    # two HSTS headers are invalid: -20
    Row(
        "HSTS sent twice",
        (*GOOD, ("strict-transport-security", "max-age=63072000")),
        80,
        "B+",
        results=("hsts-header-invalid",),
    ),
    # third-party script over https without SRI -5: 95 + csp 5
    Row("external script without SRI", GOOD, 100, "A+", scripts=(Script("https://cdn.other.test/a.js", False),)),
    # third-party script over http without SRI -50
    Row("external script over http", GOOD, 50, "C", scripts=(Script("http://cdn.other.test/a.js", False),)),
    # first redirect to another host -5: 95 + csp 5
    Row("redirect off host first", GOOD, 100, "A+", redirect="off-host", results=("redirection-off-host-from-http",)),
    # port 80 serves the page: -20
    Row("no redirect to https", GOOD, 80, "B+", redirect="none", results=("redirection-missing",)),
    # 100 - nosniff 5 - hsts short 10
    Row(
        "A- at 85",
        (*without("x-content-type-options", without("strict-transport-security")),
         ("strict-transport-security", "max-age=86400")),
        85,
        "A-",
    ),
    # 100 - csp 25 - hsts short 10
    Row(
        "B- at 65",
        (*without("content-security-policy", without("strict-transport-security")),
         ("strict-transport-security", "max-age=86400")),
        65,
        "B-",
    ),
    # 100 - csp 25 - hsts 20 - referrer 5 - coop 5
    Row(
        "C- at 45",
        (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
         ("referrer-policy", "unsafe-url"), ("cross-origin-opener-policy", "bogus")),
        45,
        "C-",
    ),
    # 100 - csp 25 - hsts 20 - nosniff 5 - xfo 20 - referrer 5
    Row("D- at 25", (("referrer-policy", "unsafe-url"),), 25, "D-"),
    # and - coep 5
    Row("F at 20", (("referrer-policy", "unsafe-url"), ("cross-origin-embedder-policy", "x")), 20, "F"),
    # every penalty at once floors at 0
    Row(
        "everything wrong",
        (),
        0,
        "F",
        cookies=(Cookie("sessionid", False, False, None),),
        scripts=(Script("http://cdn.other.test/a.js", False),),
        redirect="none",
    ),
)  # fmt: skip


def hops(kind: str, page: HttpExchange) -> tuple[HttpExchange, ...]:
    plain = f"http://{HOST}/"
    if kind == "none":
        return (HttpExchange(url=plain, method="GET", status=200, headers=HTML),)
    target = f"https://{HOST}/" if kind == "same-host" else f"https://www.{HOST}/"
    first = HttpExchange(url=plain, method="GET", status=301, headers=(("location", target),))
    return (first, page)


def test_the_table_is_big_enough() -> None:
    assert len(ROWS) >= 20
    assert len({r.why for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.why)
def test_score_and_grade_match_the_observatory(row: Row) -> None:
    page = HttpExchange(url=f"https://{HOST}/", method="GET", status=200, headers=HTML + row.headers)
    result = score(page, row.cookies, scripts=row.scripts, redirect_hops=hops(row.redirect, page), same_site=(HOST,))
    assert (result.score, result.grade) == (row.expected, row.grade), result.text()
    tests = {m.test for m in result.modifiers}
    for expected in row.results:
        assert expected in tests, result.text()

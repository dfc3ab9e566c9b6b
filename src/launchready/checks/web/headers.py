"""web.headers: HTML pages send the browser security headers, cookies carry their flags, no versions leak.

Also computes a per-host score comparable to the Mozilla HTTP Observatory's (rubric in
docs/web-score.md and in :func:`score`), shown in the evidence of every finding on the host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from launchready.checks.web.crawled import crawl_host
from launchready.checks.web.hsts import MIN_MAX_AGE, parse_hsts
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.probes.crawl import CrawlResult
from launchready.probes.http import HttpExchange

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_MDN_CSP = "https://developer.mozilla.org/en-US/docs/Web/HTTP/CSP"
_MDN_XFO = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Frame-Options"
_MDN_XCTO = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Content-Type-Options"
_MDN_REFERRER = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Referrer-Policy"
_MDN_COOKIES = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies"
_OBSERVATORY = "https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring"
_OWASP_HEADERS = "https://owasp.org/www-project-secure-headers/"

CSP_START = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "upgrade-insecure-requests"
)
_SAFE_REFERRERS = frozenset(
    {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin", "origin", "origin-when-cross-origin"}
)
_UNSAFE_REFERRERS = frozenset({"unsafe-url", "no-referrer-when-downgrade"})
_SESSIONISH = re.compile(r"sess|sid|auth|token|login|remember|jwt", re.IGNORECASE)
_VERSION = re.compile(r"\d+\.\d+")

META = CheckMeta(
    id="web.headers",
    title="HTML pages send security headers and cookies carry Secure/HttpOnly/SameSite",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Reads the first HTML page the crawl fetched on each host (normally the home page) for "
            "Content-Security-Policy, X-Content-Type-Options: nosniff, X-Frame-Options or CSP frame-ancestors, "
            "and Referrer-Policy; every Set-Cookie seen on the host for Secure, HttpOnly and SameSite; and "
            "Server / X-Powered-By for version numbers. It scores the host out of 100 with a subset of the "
            "Mozilla Observatory v6 rubric (docs/web-score.md) and shows the score and grade in the evidence."
        ),
        why=(
            "Missing headers turn small bugs into account takeovers: without a CSP one injected script can "
            "read every member's session; without frame protection the sign-up page can be framed for "
            "clickjacking; a cookie without Secure or HttpOnly leaks the session to a café Wi-Fi or to a "
            "script. Version numbers in Server tell attackers which published exploit to try first."
        ),
        fix=(
            "Add the headers once, at the edge or in the framework (helmet for Express, SecurityMiddleware for "
            "Django, secure_headers for Rails, or nginx `add_header ... always;`), set every cookie with "
            "`Secure; HttpOnly; SameSite=Lax`, and turn version banners off (nginx `server_tokens off;`)."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.headers.csp-missing",
            title="No Content-Security-Policy on HTML pages",
            severity=Severity.MEDIUM,
            impact=Impact.DATA_EXPOSURE,
            remediation=(
                f"Start with `Content-Security-Policy: {CSP_START}` (add the script/style/image hosts you use, "
                "try it first as Content-Security-Policy-Report-Only). nginx: `add_header Content-Security-Policy "
                '"..." always;`; Express: helmet.contentSecurityPolicy(); Django: django-csp.'
            ),
            references=(_MDN_CSP, _OBSERVATORY),
        ),
        FindingSpec(
            id="web.headers.framing-missing",
            title="Pages can be framed by other sites (clickjacking)",
            severity=Severity.MEDIUM,
            impact=Impact.LOGIN,
            remediation=(
                "Send `Content-Security-Policy: frame-ancestors 'none'` (or 'self'), plus `X-Frame-Options: DENY` "
                'for old browsers: nginx `add_header X-Frame-Options "DENY" always;`.'
            ),
            references=(_MDN_XFO, _OBSERVATORY),
        ),
        FindingSpec(
            id="web.headers.nosniff-missing",
            title="No X-Content-Type-Options: nosniff",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation='Send `X-Content-Type-Options: nosniff` on every response: nginx `add_header X-Content-Type-Options "nosniff" always;`.',
            references=(_MDN_XCTO, _OBSERVATORY),
        ),
        FindingSpec(
            id="web.headers.referrer-missing",
            title="No Referrer-Policy (or an unsafe one)",
            severity=Severity.LOW,
            impact=Impact.DATA_EXPOSURE,
            remediation=(
                "Send `Referrer-Policy: strict-origin-when-cross-origin` so URLs with tokens (password reset, "
                "invites) never leak to other sites in full."
            ),
            references=(_MDN_REFERRER, _OBSERVATORY),
        ),
        FindingSpec(
            id="web.headers.cookie-flags",
            title="Cookies are set without Secure, HttpOnly or SameSite",
            severity=Severity.MEDIUM,
            impact=Impact.LOGIN,
            remediation=(
                "Set cookies with `Secure; HttpOnly; SameSite=Lax` (Django: SESSION_COOKIE_SECURE=True, "
                "CSRF_COOKIE_SECURE=True; Express: cookie: {secure: true, httpOnly: true, sameSite: 'lax'}; "
                "Rails: config.force_ssl = true)."
            ),
            references=(_MDN_COOKIES, _OBSERVATORY),
        ),
        FindingSpec(
            id="web.headers.version-leak",
            title="Server or X-Powered-By reveals software versions",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=(
                "Hide versions: nginx `server_tokens off;`, Apache `ServerTokens Prod`, Express "
                "`app.disable('x-powered-by')`, PHP `expose_php = Off`; or strip the headers at the edge."
            ),
            references=(_OWASP_HEADERS,),
        ),
    ),
    references=(_OBSERVATORY, _OWASP_HEADERS, _MDN_CSP),
    probes=("http", "crawl"),
)


@dataclass(frozen=True)
class Cookie:
    name: str
    secure: bool
    httponly: bool
    samesite: str | None


def parse_set_cookie(header: str) -> Cookie:
    """Name and flags only: the value is a secret and is dropped here."""
    name_value, *attributes = header.split(";")
    name = name_value.split("=", 1)[0].strip()
    flags = {a.split("=", 1)[0].strip().lower(): (a.split("=", 1)[1].strip() if "=" in a else "") for a in attributes}
    return Cookie(
        name=name,
        secure="secure" in flags,
        httponly="httponly" in flags,
        samesite=flags.get("samesite") or None,
    )


def csp_directives(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in value.split(";"):
        name, _, rest = part.strip().partition(" ")
        if name:
            out.setdefault(name.lower(), rest.strip())
    return out


@dataclass(frozen=True)
class Score:
    score: int
    grade: str
    lines: tuple[str, ...]  # "test: modifier (reason)"

    def text(self) -> str:
        return f"Observatory-style score: {self.score}/100 ({self.grade}); " + ", ".join(self.lines)


_GRADES = ((100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B"), (65, "B-"), (60, "C+"), (50, "C"), (45, "C-"), (40, "D+"), (30, "D"), (25, "D-"))


def grade(points: int) -> str:
    for floor, letter in _GRADES:
        if points >= floor:
            return letter
    return "F"


def score(page: HttpExchange, cookies: tuple[Cookie, ...]) -> Score:
    """A subset of the Observatory v6 rubric: CSP, cookies, Referrer-Policy, HSTS, nosniff, framing.

    Start at 100, apply penalties; bonuses count only when the penalised score is at least 90.
    (Not covered: SRI, CORS, CORP/COOP, redirection; web.https-redirect judges the redirect.)
    """
    penalties: list[tuple[str, int]] = []
    bonuses: list[tuple[str, int]] = []
    csp_value = page.header("content-security-policy")
    if csp_value is None:
        penalties.append(("csp not implemented", -25))
    else:
        d = csp_directives(csp_value)
        scripts = d.get("script-src", d.get("default-src", ""))
        if "'unsafe-inline'" in scripts and "'nonce-" not in scripts and "'strict-dynamic'" not in scripts:
            penalties.append(("csp allows unsafe-inline scripts", -20))
        elif "'unsafe-eval'" in scripts:
            penalties.append(("csp allows unsafe-eval", -10))
        elif d.get("default-src", "").strip() == "'none'":
            bonuses.append(("csp default-src 'none'", 10))
    if cookies:
        if any(not c.secure and _SESSIONISH.search(c.name) for c in cookies):
            penalties.append(("session cookie without Secure", -40))
        elif any(not c.httponly and _SESSIONISH.search(c.name) for c in cookies):
            penalties.append(("session cookie without HttpOnly", -30))
        elif any(not c.secure for c in cookies):
            penalties.append(("cookie without Secure", -20))
        elif all(c.samesite for c in cookies):
            bonuses.append(("cookies Secure, HttpOnly sessions, SameSite", 5))
    referrer = (page.header("referrer-policy") or "").split(",")[-1].strip().lower()
    if referrer in _UNSAFE_REFERRERS:
        penalties.append(("unsafe Referrer-Policy", -5))
    elif referrer in _SAFE_REFERRERS:
        bonuses.append(("private Referrer-Policy", 5))
    hsts_value = page.header("strict-transport-security")
    if page.url.startswith("https://"):
        policy = parse_hsts(hsts_value) if hsts_value else None
        if hsts_value is None:
            penalties.append(("HSTS not implemented", -20))
        elif isinstance(policy, str):
            penalties.append(("HSTS invalid", -20))
        elif policy is not None and policy.max_age < MIN_MAX_AGE:
            penalties.append(("HSTS max-age under 6 months", -10))
    if (page.header("x-content-type-options") or "").strip().lower() != "nosniff":
        penalties.append(("X-Content-Type-Options missing", -5))
    frame_ancestors = csp_value is not None and "frame-ancestors" in csp_directives(csp_value)
    if frame_ancestors:
        bonuses.append(("framing blocked by CSP frame-ancestors", 5))
    elif (page.header("x-frame-options") or "").strip().upper() not in ("DENY", "SAMEORIGIN"):
        penalties.append(("X-Frame-Options missing", -20))
    points = 100 + sum(p for _, p in penalties)
    if points >= 90:
        points += sum(b for _, b in bonuses)
    points = max(points, 0)
    lines = tuple(f"{name} {value:+d}" for name, value in penalties) + tuple(
        f"{name} {value:+d}" for name, value in bonuses
    )
    return Score(points, grade(points), lines)


def _page_for(host: str, result: CrawlResult) -> HttpExchange | None:
    """The first HTML page served with 200 on the host: the home page when it serves one."""
    candidates = [v.final for v in result.visits]
    for exchange in candidates:
        ctype = (exchange.header("content-type") or "").lower()
        if exchange.status == 200 and "text/html" in ctype and (urlsplit(exchange.url).hostname or "") == host:
            return exchange
    return None


def _host_cookies(host: str, result: CrawlResult) -> tuple[Cookie, ...]:
    seen: dict[str, Cookie] = {}
    for visit in result.visits:
        for hop in visit.hops:
            if (urlsplit(hop.url).hostname or "") != host:
                continue
            for header in hop.header_all("set-cookie"):
                cookie = parse_set_cookie(header)
                seen.setdefault(cookie.name, cookie)
    return tuple(seen.values())


def judge(host: str, result: CrawlResult) -> list[Finding]:
    page = _page_for(host, result)
    home = result.visit(f"https://{host}/")
    first = page or (home.hops[0] if home is not None else None)
    if first is None or first.status is None:
        return []
    cookies = _host_cookies(host, result)
    findings: list[tuple[str, list[str], str | None]] = []
    if page is not None:
        base = f"GET {page.url} -> {page.status} ({page.header('content-type')})"
        csp = page.header("content-security-policy")
        if csp is None:
            findings.append(("csp-missing", [base, "Content-Security-Policy: (absent)"], None))
        xfo = page.header("x-frame-options")
        if (csp is None or "frame-ancestors" not in csp_directives(csp)) and (xfo or "").strip().upper() not in (
            "DENY",
            "SAMEORIGIN",
        ):
            findings.append(("framing-missing", [base, f"X-Frame-Options: {xfo or '(absent)'}", "CSP frame-ancestors: (absent)"], None))
        if (page.header("x-content-type-options") or "").strip().lower() != "nosniff":
            findings.append(("nosniff-missing", [base, f"X-Content-Type-Options: {page.header('x-content-type-options') or '(absent)'}"], None))
        referrer = page.header("referrer-policy")
        last = (referrer or "").split(",")[-1].strip().lower()
        if referrer is None or last in _UNSAFE_REFERRERS:
            findings.append(("referrer-missing", [base, f"Referrer-Policy: {referrer or '(absent)'}"], None))
    weak = [c for c in cookies if not (c.secure and c.httponly and c.samesite)]
    if weak:
        lines = [
            f"cookie {c.name}: " + ", ".join(
                f for f, missing in (("no Secure", not c.secure), ("no HttpOnly", not c.httponly), ("no SameSite", not c.samesite)) if missing
            )
            for c in weak
        ]
        session_exposed = any(_SESSIONISH.search(c.name) and not (c.secure and c.httponly) for c in weak)
        findings.append(("cookie-flags", lines, "high" if session_exposed else None))
    leaks = [
        f"{name}: {value}"
        for name in ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version")
        for value in first.header_all(name)
        if _VERSION.search(value)
    ]
    if leaks:
        findings.append(("version-leak", [f"GET {first.url} -> {first.status}", *leaks], None))
    if not findings:
        return []
    rating = score(page, cookies).text() if page is not None else None
    out: list[Finding] = []
    for finding_id, evidence, severity in findings:
        if rating:
            evidence = [*evidence, rating]
        out.append(
            META.finding(finding_id, target=host, evidence=evidence, severity=Severity(severity) if severity else None)
        )
    return out


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    return judge(target, await crawl_host(ctx, target))


CHECK = Check(meta=META, run=run)

"""web.headers: HTML pages send the browser security headers, cookies carry their flags, no versions leak.

Also computes a per-host score comparable to the Mozilla HTTP Observatory's (checks/web/observatory.py,
rubric in docs/web-score.md): published as a host fact for the report's host table and repeated in
the evidence of every finding on the host.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from launchready.checks.web.crawled import crawl_host, require_answers
from launchready.checks.web.observatory import (
    SESSIONISH,
    Cookie,
    Score,
    Script,
    csp_directives,
    grade,
    parse_set_cookie,
    score,
)
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.crawl import CrawlResult, Visit, in_site
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity

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
_UNSAFE_REFERRERS = frozenset({"unsafe-url", "no-referrer-when-downgrade"})
_SESSIONISH = SESSIONISH
_VERSION = re.compile(r"\d+\.\d+")
_MDN_SRI = "https://developer.mozilla.org/en-US/docs/Web/Security/Subresource_Integrity"
_MDN_CORS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS"
_MDN_ACAO = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Access-Control-Allow-Origin"
SCORE_FACT = "Header score (Observatory v6)"
__all__ = [
    "CHECK",
    "META",
    "SCORE_FACT",
    "Cookie",
    "Score",
    "assess",
    "csp_directives",
    "grade",
    "judge",
    "parse_set_cookie",
    "score",
]

META = CheckMeta(
    id="web.headers",
    title="HTML pages send security headers and cookies carry Secure/HttpOnly/SameSite",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Reads the first HTML page the crawl fetched on each host (normally the home page) for "
            "Content-Security-Policy, X-Content-Type-Options: nosniff, X-Frame-Options or CSP frame-ancestors, "
            "and Referrer-Policy; every Set-Cookie seen on the host for Secure, HttpOnly and SameSite; and "
            "Server / X-Powered-By for version numbers; `<script src>` from other sites without Subresource "
            "Integrity; and Access-Control-Allow-Origin `*` or `null` with credentials or on a page that sets a "
            "session cookie. It scores the host with the Mozilla Observatory v6 rubric (docs/web-score.md lists "
            "each test followed) and shows the score and grade in the report's host table and in the evidence."
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
            id="web.headers.sri-missing",
            title="Scripts from other sites load without Subresource Integrity",
            severity=Severity.LOW,
            impact=Impact.DATA_EXPOSURE,
            remediation=(
                'Pin each third-party script to its content: `<script src="https://cdn.example/lib.js" '
                'integrity="sha384-..." crossorigin="anonymous"></script>` (get the hash with '
                "`curl -s URL | openssl dgst -sha384 -binary | openssl base64 -A`, or from the CDN's copy button; "
                "webpack-subresource-integrity / vite-plugin-sri do it for bundles), load it over https, or "
                "self-host it. Scripts that change under the same URL (tag managers, chat widgets) cannot be "
                "pinned: list them in your CSP script-src instead and keep them off login and payment pages."
            ),
            references=(_MDN_SRI, _OBSERVATORY),
        ),
        FindingSpec(
            id="web.headers.cors-credentials",
            title="Any website may read these pages with the visitor's session (CORS wildcard with credentials)",
            severity=Severity.HIGH,
            impact=Impact.DATA_EXPOSURE,
            remediation=(
                "Remove `Access-Control-Allow-Origin: *` (and `null`) from pages that use cookies; where another "
                "site of yours needs access, answer with that exact origin from an allow-list plus `Vary: Origin`, "
                "and send `Access-Control-Allow-Credentials: true` only for it. nginx: drop `add_header "
                "Access-Control-Allow-Origin *;` from the app's server block; Express: `cors({origin: "
                "['https://app.example.com'], credentials: true})`; Django: django-cors-headers with "
                "CORS_ALLOWED_ORIGINS (never CORS_ALLOW_ALL_ORIGINS with CORS_ALLOW_CREDENTIALS)."
            ),
            references=(_MDN_CORS, _MDN_ACAO, _OBSERVATORY),
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


def _page_for(host: str, result: CrawlResult) -> HttpExchange | None:
    """The first HTML page served with 200 on the host: the home page when it serves one."""
    home = result.visit(f"https://{host}/")
    # The home page first: key pages start the crawl too, and visits are recorded as they finish.
    candidates = ([home.final] if home is not None else []) + [v.final for v in result.visits]
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


def page_scripts(page: HttpExchange, result: CrawlResult) -> tuple[Script, ...]:
    """The ``<script src>`` tags the crawl read on ``page``."""
    return tuple(
        Script(url=link.url, integrity=link.integrity)
        for link in result.links
        if link.page == page.url and link.kind == "script" and link.tag == "script src"
    )


def _external(url: str, domain: str) -> bool:
    return not in_site(urlsplit(url).hostname or "", domain)


def judge(host: str, result: CrawlResult, *, domain: str | None = None) -> list[Finding]:
    """The findings of :func:`assess` (what the lab and unit tests compare)."""
    return assess(host, result, domain=domain)[0]


def assess(
    host: str,
    result: CrawlResult,
    *,
    domain: str | None = None,
    redirect: Visit | None = None,
    tls_valid: bool = True,
) -> tuple[list[Finding], Score | None]:
    """Findings for one host's crawl, and its Observatory-style score (None without an HTML page).

    ``domain``: the audited apex (scripts from it or its subdomains are not third-party); ``redirect``:
    ``GET http://host/`` and its in-site redirects; ``tls_valid``: the host's certificate verifies.
    """
    domain = domain or host
    page = _page_for(host, result)
    home = result.visit(f"https://{host}/")
    first = page or (home.hops[0] if home is not None else None)
    if first is None or first.status is None:
        return [], None
    cookies = _host_cookies(host, result)
    findings: list[tuple[str, list[str], str | None]] = []
    scripts: tuple[Script, ...] = ()
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
            findings.append(
                (
                    "framing-missing",
                    [base, f"X-Frame-Options: {xfo or '(absent)'}", "CSP frame-ancestors: (absent)"],
                    None,
                )
            )
        if (page.header("x-content-type-options") or "").strip().lower() != "nosniff":
            findings.append(
                (
                    "nosniff-missing",
                    [base, f"X-Content-Type-Options: {page.header('x-content-type-options') or '(absent)'}"],
                    None,
                )
            )
        referrer = page.header("referrer-policy")
        last = (referrer or "").split(",")[-1].strip().lower()
        if referrer is None or last in _UNSAFE_REFERRERS:
            findings.append(("referrer-missing", [base, f"Referrer-Policy: {referrer or '(absent)'}"], None))
        scripts = page_scripts(page, result)
        unpinned = [s for s in scripts if _external(s.url, domain) and not s.integrity]
        if unpinned:
            lines = [f'<script src="{s.url}"> without integrity' for s in unpinned]
            plain = any(s.url.startswith("http://") for s in unpinned)
            findings.append(("sri-missing", [base, *lines], "medium" if plain else None))
        cors = _cors_problem(page, cookies)
        if cors:
            findings.append(("cors-credentials", [base, *cors], None))
    weak = [c for c in cookies if not (c.secure and c.httponly and c.samesite)]
    if weak:
        lines = [
            f"cookie {c.name}: "
            + ", ".join(
                f
                for f, missing in (
                    ("no Secure", not c.secure),
                    ("no HttpOnly", not c.httponly),
                    ("no SameSite", not c.samesite),
                )
                if missing
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
    rating = None
    if page is not None:
        redirect_hops = redirect.hops if redirect is not None else None
        end = None
        if redirect is not None and redirect.stop == "off-site":
            end = redirect.final.location
        rating = score(
            page,
            cookies,
            scripts=scripts,
            redirect_hops=redirect_hops,
            redirect_end=end,
            tls_valid=tls_valid,
            same_site=(domain,),
        )
    out: list[Finding] = []
    for finding_id, evidence, severity in findings:
        if rating is not None:
            evidence = [*evidence, rating.text()]
        out.append(
            META.finding(finding_id, target=host, evidence=evidence, severity=Severity(severity) if severity else None)
        )
    return out, rating


def _cors_problem(page: HttpExchange, cookies: tuple[Cookie, ...]) -> list[str]:
    """Evidence when any origin may read the page with credentials (empty: no such problem)."""
    origin = (page.header("access-control-allow-origin") or "").strip()
    if origin not in ("*", "null"):
        return []
    credentials = (page.header("access-control-allow-credentials") or "").strip().lower() == "true"
    sessions = [c.name for c in cookies if _SESSIONISH.search(c.name)]
    if not credentials and not sessions:
        return []  # public content readable by anyone: fine for a public page
    lines = [f"Access-Control-Allow-Origin: {origin}"]
    if credentials:
        lines.append("Access-Control-Allow-Credentials: true")
    if sessions:
        lines.append(f"the host sets session cookie(s): {', '.join(sessions)}")
    return lines


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    result = await crawl_host(ctx, target)
    require_answers(result.visits, target)
    redirect = await ctx.crawl.follow_in_site(ctx.domain, f"http://{target}/")
    tls = await ctx.tls.handshake(target, 443)
    findings, rating = assess(target, result, domain=ctx.domain, redirect=redirect, tls_valid=tls.verified)
    if rating is not None:
        ctx.facts.add(target, SCORE_FACT, rating.summary, check_id=META.id, detail=rating.lines)
    return findings


CHECK = Check(meta=META, run=run)

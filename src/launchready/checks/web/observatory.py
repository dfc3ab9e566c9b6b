"""The per-host header score, comparable to the Mozilla HTTP Observatory's (rubric: docs/web-score.md).

Not a check (no CHECK): web.headers computes it from facts it already has (the host's first HTML
page, the cookies seen during the crawl, the page's script tags, the plain-HTTP redirect chain and
the TLS handshake) and publishes it as a host fact. Pure functions only: every test result is a
``Modifier`` naming the Observatory test result it stands for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from launchready.core.headers import parse_hsts
from launchready.core.http import HttpExchange

# The Observatory's "six months": its analyzer compares with 15552000 s (180 days; "a lot of sites
# use 15552000"), though its texts say 15768000.
OBSERVATORY_HSTS_MIN = 15_552_000
_GRADES = (
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
)
# Cookie names our own findings treat as sessions (web.headers); broader than the score's.
SESSIONISH = re.compile(r"sess|sid|auth|token|login|remember|jwt", re.IGNORECASE)
# The Observatory's session test counts only names containing "login" or "sess", and anti-CSRF
# tokens by "csrf": the score uses exactly these, so it matches the Observatory's number.
OBSERVATORY_SESSION = re.compile(r"login|sess", re.IGNORECASE)
_ANTICSRF = re.compile(r"csrf", re.IGNORECASE)
_SAMESITE_VALUES = frozenset({"strict", "lax", "none"})
# The Observatory keeps the worst cookie result by this order (worst last), not by points.
_COOKIE_ORDER = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)
_PRIVATE_REFERRERS = frozenset({"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"})
_UNSAFE_REFERRERS = frozenset({"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"})
_BROAD_SOURCES = frozenset({"*", "https:", "http:", "data:"})
_PASSIVE_DIRECTIVES = frozenset({"img-src", "media-src"})


def grade(points: int) -> str:
    for floor, letter in _GRADES:
        if points >= floor:
            return letter
    return "F"


@dataclass(frozen=True)
class Cookie:
    name: str
    secure: bool
    httponly: bool
    samesite: str | None  # the attribute's value as sent ("" for a bare SameSite), None when absent

    @property
    def samesite_invalid(self) -> bool:
        """Not Strict, Lax or None; or None without Secure, which browsers reject."""
        if self.samesite is None:
            return False
        value = self.samesite.strip().lower()
        return value not in _SAMESITE_VALUES or (value == "none" and not self.secure)


def parse_set_cookie(header: str) -> Cookie:
    """Name and flags only: the value is a secret and is dropped here."""
    name_value, *attributes = header.split(";")
    name = name_value.split("=", 1)[0].strip()
    flags = {a.split("=", 1)[0].strip().lower(): (a.split("=", 1)[1].strip() if "=" in a else "") for a in attributes}
    return Cookie(
        name=name,
        secure="secure" in flags,
        httponly="httponly" in flags,
        samesite=flags.get("samesite"),
    )


@dataclass(frozen=True)
class Script:
    """One ``<script src>`` on the scored page: where it loads from and whether it carries ``integrity``."""

    url: str
    integrity: bool


@dataclass(frozen=True)
class Modifier:
    test: str  # the Observatory test result, e.g. "csp-not-implemented"
    points: int

    def text(self) -> str:
        return f"{self.test} {self.points:+d}"


@dataclass(frozen=True)
class Score:
    score: int
    grade: str
    modifiers: tuple[Modifier, ...]

    @property
    def lines(self) -> tuple[str, ...]:
        """Penalties first, then bonuses (counted only when the penalised score is >= 90)."""
        ordered = sorted(self.modifiers, key=lambda m: (m.points >= 0, m.points))
        return tuple(m.text() for m in ordered if m.points)

    def text(self) -> str:
        return f"Observatory-style score: {self.score}/100 ({self.grade}); " + (", ".join(self.lines) or "no modifiers")

    @property
    def summary(self) -> str:
        return f"{self.score} ({self.grade})"


def csp_directives(value: str) -> dict[str, list[str]]:
    """Directive -> source list; the first occurrence of a directive wins (CSP3 2.2.1)."""
    out: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            out.setdefault(tokens[0].lower(), [t.lower() for t in tokens[1:]])
    return out


def _insecure(source: str) -> bool:
    return source == "http:" or source.startswith("http://")


def csp_modifier(value: str | None) -> Modifier:
    if value is None:
        return Modifier("csp-not-implemented", -25)
    d = csp_directives(value)
    if not d:
        return Modifier("csp-header-invalid", -25)
    default = d.get("default-src")
    script = d.get("script-src", default)
    objects = d.get("object-src", default)
    if script is None or objects is None:
        return Modifier("csp-implemented-with-unsafe-inline", -20)  # sources for scripts/objects not restricted
    strict = any(
        s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) or s == "'strict-dynamic'" for s in script
    )
    if ("'unsafe-inline'" in script and not strict) or "data:" in script or _BROAD_SOURCES & set(script) - {"data:"}:
        return Modifier("csp-implemented-with-unsafe-inline", -20)
    if _BROAD_SOURCES - {"data:"} & set(objects) or "data:" in objects:
        return Modifier("csp-implemented-with-unsafe-inline", -20)
    insecure = {name for name, sources in d.items() if name.endswith("-src") and any(_insecure(s) for s in sources)}
    if insecure - _PASSIVE_DIRECTIVES:
        return Modifier("csp-implemented-with-insecure-scheme", -20)
    if "'unsafe-eval'" in script:
        return Modifier("csp-implemented-with-unsafe-eval", -10)
    if insecure:
        return Modifier("csp-implemented-with-insecure-scheme-in-passive-content-only", -10)
    if default == ["'none'"] and d.get("form-action") in (["'none'"], ["'self'"]):
        return Modifier("csp-implemented-with-no-unsafe-default-src-none", 10)
    style = d.get("style-src", default) or []
    if "'unsafe-inline'" in style or "data:" in style or "https:" in style:
        return Modifier("csp-implemented-with-unsafe-inline-in-style-src-only", 0)
    return Modifier("csp-implemented-with-no-unsafe", 5)


def cookies_modifier(cookies: Iterable[Cookie], *, hsts: bool) -> Modifier:
    """The single worst cookie result (the Observatory reports one per site, worst by its own order)."""
    cookies = tuple(cookies)
    if not cookies:
        return Modifier("cookies-not-found", 0)
    points = {
        "cookies-without-secure-flag-but-protected-by-hsts": -5,
        "cookies-without-secure-flag": -20,
        "cookies-session-without-secure-flag-but-protected-by-hsts": -10,
        "cookies-samesite-flag-invalid": -20,
        "cookies-anticsrf-without-samesite-flag": -20,
        "cookies-session-without-httponly-flag": -30,
        "cookies-session-without-secure-flag": -40,
    }
    seen: set[str] = set()
    for c in cookies:
        session = bool(OBSERVATORY_SESSION.search(c.name))
        if c.samesite_invalid:
            seen.add("cookies-samesite-flag-invalid")
        if not c.secure:
            seen.add("cookies-without-secure-flag-but-protected-by-hsts" if hsts else "cookies-without-secure-flag")
        if _ANTICSRF.search(c.name) and not c.samesite:
            seen.add("cookies-anticsrf-without-samesite-flag")
        if session and not c.secure:
            seen.add(
                "cookies-session-without-secure-flag-but-protected-by-hsts"
                if hsts
                else "cookies-session-without-secure-flag"
            )
        if session and not c.httponly:
            seen.add("cookies-session-without-httponly-flag")
    if seen:
        worst = max(seen, key=_COOKIE_ORDER.index)
        return Modifier(worst, points[worst])
    if all(c.samesite for c in cookies):
        return Modifier("cookies-secure-with-httponly-sessions-and-samesite", 5)
    return Modifier("cookies-secure-with-httponly-sessions", 0)


def cors_modifier(page: HttpExchange) -> Modifier:
    """From the page's own CORS headers, as the Observatory judges them.

    ``*`` is public access (browsers never send credentials to it, so no penalty); universal
    access (-50) needs the server to *reflect* the request's Origin with credentials, which only a
    request carrying an Origin header shows, and the crawl sends none: any other value is restricted.
    """
    origin = (page.header("access-control-allow-origin") or "").strip()
    if not origin:
        return Modifier("cross-origin-resource-sharing-not-implemented", 0)
    if origin == "*":
        return Modifier("cross-origin-resource-sharing-implemented-with-public-access", 0)
    return Modifier("cross-origin-resource-sharing-implemented-with-restricted-access", 0)


def redirection_modifier(hops: tuple[HttpExchange, ...] | None, final_url: str | None = None) -> Modifier | None:
    """Judge ``GET http://host/`` and the redirects after it; None when not observed.

    ``final_url``: where the chain ends when it was not followed to the end (a redirect off the
    audited site is recorded, never followed); defaults to the last hop's URL.
    """
    if not hops:
        return None
    first = hops[0]
    if first.status is None:
        return Modifier("redirection-not-needed-no-http", 0)
    if not first.is_redirect:
        return Modifier("redirection-missing", -20)
    final = final_url or hops[-1].url
    if not final.startswith("https://") or (final_url is None and hops[-1].status is None):
        return Modifier("redirection-not-to-https", -20)
    target = urlsplit(urljoin(first.url, first.location or ""))
    if target.scheme != "https":
        return Modifier("redirection-not-to-https-on-initial-redirection", -10)
    if (target.hostname or "").lower() != (urlsplit(first.url).hostname or "").lower():
        return Modifier("redirection-off-host-from-http", -5)
    return Modifier("redirection-to-https", 0)


def referrer_modifier(value: str | None) -> Modifier:
    if value is None:
        return Modifier("referrer-policy-not-implemented", 0)
    # Browsers use the last value they recognise in a comma-separated list.
    known = [v.strip().lower() for v in value.split(",") if v.strip().lower() in _PRIVATE_REFERRERS | _UNSAFE_REFERRERS]
    if not known:
        return Modifier("referrer-policy-header-invalid", -5)
    if known[-1] in _PRIVATE_REFERRERS:
        return Modifier("referrer-policy-private", 5)
    return Modifier("referrer-policy-unsafe", -5)


def hsts_modifier(page: HttpExchange, *, tls_valid: bool) -> Modifier:
    if not page.url.startswith("https://"):
        return Modifier("hsts-not-implemented-no-https", -20)
    if not tls_valid:
        return Modifier("hsts-invalid-cert", -20)
    values = page.header_all("strict-transport-security")
    if not values:
        return Modifier("hsts-not-implemented", -20)
    # Sent twice (or folded into one comma-separated line) is invalid to the Observatory.
    policy = parse_hsts(values[0]) if len(values) == 1 and "," not in values[0] else "more than one header"
    if isinstance(policy, str):
        return Modifier("hsts-header-invalid", -20)
    if policy.max_age < OBSERVATORY_HSTS_MIN:
        return Modifier("hsts-implemented-max-age-less-than-six-months", -10)
    return Modifier("hsts-implemented-max-age-at-least-six-months", 0)


def sri_modifier(scripts: Iterable[Script], *, same_site: tuple[str, ...]) -> Modifier:
    """``same_site``: host names (and their subdomains) that count as a similar origin."""

    def external(script: Script) -> bool:
        host = (urlsplit(script.url).hostname or "").lower()
        return not any(host == s or host.endswith("." + s) for s in same_site)

    scripts = tuple(scripts)
    if not scripts:
        return Modifier("sri-not-implemented-but-no-scripts-loaded", 0)
    foreign = [s for s in scripts if external(s)]
    results: list[Modifier] = []
    for script in foreign:
        secure = script.url.startswith("https://")
        if script.integrity and not secure:
            results.append(Modifier("sri-implemented-but-external-scripts-not-loaded-securely", -20))
        elif not script.integrity and secure:
            results.append(Modifier("sri-not-implemented-but-external-scripts-loaded-securely", -5))
        elif not script.integrity:
            results.append(Modifier("sri-not-implemented-and-external-scripts-not-loaded-securely", -50))
    if results:
        return min(results, key=lambda m: m.points)
    if foreign:
        return Modifier("sri-implemented-and-external-scripts-loaded-securely", 5)
    if all(s.integrity for s in scripts):
        return Modifier("sri-implemented-and-all-scripts-loaded-securely", 5)
    return Modifier("sri-not-implemented-but-all-scripts-loaded-from-secure-origin", 0)


def nosniff_modifier(value: str | None) -> Modifier:
    if value is None:
        return Modifier("x-content-type-options-not-implemented", -5)
    if value.strip().lower() != "nosniff":
        return Modifier("x-content-type-options-header-invalid", -5)
    return Modifier("x-content-type-options-nosniff", 0)


def framing_modifier(csp: str | None, xfo: str | None) -> Modifier:
    if csp is not None and "frame-ancestors" in csp_directives(csp):
        return Modifier("x-frame-options-implemented-via-csp", 5)
    if xfo is None:
        return Modifier("x-frame-options-not-implemented", -20)
    value = xfo.strip().upper()
    if value in ("DENY", "SAMEORIGIN"):
        return Modifier("x-frame-options-sameorigin-or-deny", 0)
    if value.startswith("ALLOW-FROM"):
        return Modifier("x-frame-options-allow-from-origin", 0)
    return Modifier("x-frame-options-header-invalid", -20)


def corp_modifier(value: str | None) -> Modifier:
    if value is None:
        return Modifier("corp-not-implemented", 0)
    v = value.strip().lower()
    if v in ("same-origin", "same-site"):
        return Modifier(f"corp-implemented-with-{v}", 10)
    if v == "cross-origin":
        return Modifier("corp-implemented-with-cross-origin", 0)
    return Modifier("corp-header-invalid", -5)


def _sf_token(value: str) -> str:
    """The bare token of a structured-field item (``same-origin; report-to="x"`` -> same-origin)."""
    return value.split(";", 1)[0].strip()


def coop_modifier(values: tuple[str, ...]) -> Modifier:
    """Cross-Origin-Opener-Policy: one header whose token is a known value (case-sensitive, RFC 8941)."""
    if not values:
        return Modifier("coop-not-implemented", 0)
    token = _sf_token(values[0]) if len(values) == 1 else ""
    if token in ("same-origin", "same-origin-allow-popups", "noopener-allow-popups"):
        return Modifier(f"coop-implemented-with-{token}", 10)
    if token == "unsafe-none":
        return Modifier("coop-implemented-with-unsafe-none", 0)
    return Modifier("coop-header-invalid", -5)


def coep_modifier(values: tuple[str, ...]) -> Modifier:
    """Cross-Origin-Embedder-Policy: one header whose token is a known value (case-sensitive, RFC 8941)."""
    if not values:
        return Modifier("coep-not-implemented", 0)
    token = _sf_token(values[0]) if len(values) == 1 else ""
    if token in ("require-corp", "credentialless"):
        return Modifier(f"coep-implemented-with-{token}", 10)
    if token == "unsafe-none":
        return Modifier("coep-implemented-with-unsafe-none", 0)
    return Modifier("coep-header-invalid", -5)


def score(
    page: HttpExchange,
    cookies: tuple[Cookie, ...] = (),
    *,
    scripts: tuple[Script, ...] = (),
    redirect_hops: tuple[HttpExchange, ...] | None = None,
    redirect_end: str | None = None,
    tls_valid: bool = True,
    same_site: tuple[str, ...] = (),
) -> Score:
    """Start at 100, apply every penalty; add the bonuses only if the result is at least 90; floor 0."""
    hsts = hsts_modifier(page, tls_valid=tls_valid)
    protected = hsts.points == 0  # a valid policy of at least six months
    host = (urlsplit(page.url).hostname or "").lower()
    modifiers = [
        csp_modifier(page.header("content-security-policy")),
        cookies_modifier(cookies, hsts=protected),
        cors_modifier(page),
        # Several Referrer-Policy headers read as one list, as browsers (and the Observatory) read them.
        referrer_modifier(", ".join(page.header_all("referrer-policy")) or None),
        hsts,
        sri_modifier(scripts, same_site=same_site or (host,)),
        nosniff_modifier(page.header("x-content-type-options")),
        framing_modifier(page.header("content-security-policy"), page.header("x-frame-options")),
        corp_modifier(page.header("cross-origin-resource-policy")),
        coop_modifier(page.header_all("cross-origin-opener-policy")),
        coep_modifier(page.header_all("cross-origin-embedder-policy")),
    ]
    redirection = redirection_modifier(redirect_hops, redirect_end)
    if redirection is not None:
        modifiers.append(redirection)
    points = 100 + sum(m.points for m in modifiers if m.points < 0)
    if points >= 90:
        points += sum(m.points for m in modifiers if m.points > 0)
    points = max(points, 0)
    return Score(points, grade(points), tuple(modifiers))

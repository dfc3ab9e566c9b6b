"""web.https-redirect: plain-HTTP visitors must be sent to HTTPS with a permanent redirect."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_MDN_REDIRECTS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Redirections"
_MDN_301 = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/301"
_MDN_308 = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/308"
_RFC9110_REDIRECT = "https://www.rfc-editor.org/rfc/rfc9110#section-15.4"
_RFC6797_7_2 = "https://www.rfc-editor.org/rfc/rfc6797#section-7.2"

PERMANENT = (301, 308)
_NGINX_RETURN = "`return 301 https://$host$request_uri;`"


def _redirect_fix(host: str) -> str:
    return (
        f"Redirect every plain-HTTP request for {host} to HTTPS with a 301. nginx: "
        f"`server {{ listen 80; server_name {host}; return 301 https://$host$request_uri; }}`. "
        "Caddy does this by itself for site addresses without `http://` (remove any `http://` site block "
        "that serves content). Cloudflare: SSL/TLS > Edge Certificates > Always Use HTTPS. "
        "Heroku/Render/Vercel/Netlify: enable the platform's force-HTTPS setting."
    )


META = CheckMeta(
    id="web.https-redirect",
    title="Plain HTTP redirects to HTTPS",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Requests http://HOST/ on port 80 for every web host and looks at the answer without following "
            "it: it should be a permanent redirect (301 or 308) to https:// on the same host, or on another "
            "host of the same domain (e.g. the bare domain to www)."
        ),
        why=(
            "Visitors who type the domain, and old links, arrive over plain HTTP. If that serves the page, "
            "logins and sign-up forms travel unencrypted on café Wi-Fi and browsers mark the page 'Not secure'. "
            "A temporary redirect is not remembered by browsers and search engines, so every visit pays the "
            "unencrypted first hop and search ranking is split between two addresses."
        ),
        fix=(
            "Configure the web server, load balancer or CDN to answer every plain-HTTP request with "
            "'301 Moved Permanently' to the same path on https://. nginx: `return 301 https://$host$request_uri;` "
            "in the port-80 server block; Caddy does it automatically; Cloudflare: 'Always Use HTTPS'."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.https-redirect.missing",
            title="Plain HTTP serves the site instead of redirecting to HTTPS",
            severity=Severity.HIGH,
            impact=Impact.TRUST,
            remediation=_redirect_fix("<host>"),
            references=(_MDN_REDIRECTS, _RFC6797_7_2),
        ),
        FindingSpec(
            id="web.https-redirect.not-permanent",
            title="The HTTP-to-HTTPS redirect is temporary",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=f"Answer with 301 (or 308) instead of 302/303/307: nginx {_NGINX_RETURN}.",
            references=(_MDN_301, _MDN_308, _RFC9110_REDIRECT),
        ),
        FindingSpec(
            id="web.https-redirect.wrong-target",
            title="The HTTP redirect does not lead to HTTPS on this site",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=f"Point the redirect at https:// on the same host: nginx {_NGINX_RETURN}.",
            references=(_MDN_REDIRECTS, _RFC9110_REDIRECT),
        ),
        FindingSpec(
            id="web.https-redirect.drops-path",
            title="The HTTP-to-HTTPS redirect loses the path or query",
            severity=Severity.MEDIUM,
            impact=Impact.SIGNUP,
            remediation=f"Keep the request URI: nginx {_NGINX_RETURN} (not `return 301 https://$host/;`).",
            references=(_MDN_REDIRECTS, _RFC9110_REDIRECT),
        ),
    ),
    references=(_MDN_REDIRECTS, _RFC9110_REDIRECT, _RFC6797_7_2),
    probes=("http",),
)


def _same_site(host: str, target_host: str, domain: str) -> bool:
    """The redirect stays with the product: same host, or any host of the audited domain."""
    target_host = target_host.lower().rstrip(".")
    domain = domain.lower().rstrip(".")
    return target_host == host or target_host == domain or target_host.endswith("." + domain)


def judge(host: str, exchange: HttpExchange, *, domain: str | None = None) -> list[Finding]:
    """Judge the un-followed answer to ``GET http://host/``; ``domain`` is the audited apex."""
    domain = domain or host
    if exchange.status is None:
        if exchange.error_kind == "refused":
            # Nothing listens on 80: browsers fall back to (or start with) HTTPS, so nothing is exposed.
            return []
        raise CouldNotRun(f"GET {exchange.url} failed: {exchange.error or exchange.error_kind or 'no response'}")

    evidence = [f"GET {exchange.url} -> {exchange.status}"]
    if not exchange.is_redirect:
        ctype = exchange.header("content-type")
        if ctype:
            evidence.append(f"Content-Type: {ctype}")
        evidence.append(f"body: {exchange.body_size} bytes served over plain HTTP")
        title = None
        if not 200 <= exchange.status < 300:
            title = f"Plain HTTP answers {exchange.status} instead of redirecting to HTTPS"
        return [META.finding("missing", target=host, evidence=evidence, title=title, remediation=_redirect_fix(host))]

    findings: list[Finding] = []
    location = exchange.location
    evidence.append(f"Location: {location}" if location else "Location: (missing)")
    if exchange.status not in PERMANENT:
        findings.append(
            META.finding(
                "not-permanent",
                target=host,
                evidence=evidence,
                remediation=(
                    f"Answer with 301 Moved Permanently (or 308) instead of {exchange.status}. nginx: "
                    "`return 301 https://$host$request_uri;` (not `return 302`, and `rewrite ... permanent` "
                    "rather than `redirect`); Caddy: `redir https://{host}{uri} permanent`; Express/Django/Rails "
                    "force-SSL middleware already use 301."
                ),
            )
        )
    if not location:
        problem = "the redirect has no Location header, so browsers go nowhere"
    else:
        resolved = urlsplit(urljoin(exchange.url, location))
        if resolved.scheme != "https":
            problem = f"it redirects to {resolved.scheme}://, so the next hop is still unencrypted"
        elif not _same_site(host, resolved.hostname or "", domain):
            problem = f"it sends visitors off-site to {resolved.hostname}"
        else:
            problem = ""
    if problem:
        findings.append(
            META.finding(
                "wrong-target",
                target=host,
                evidence=[*evidence, f"problem: {problem}"],
                remediation=(
                    f"Redirect straight to HTTPS on this site: nginx `return 301 https://$host$request_uri;` in the "
                    f"port-80 server block for {host} (check no proxy rewrites it to http://; behind a load "
                    "balancer set `proxy_set_header X-Forwarded-Proto $scheme;` and trust it in the app)."
                ),
            )
        )
    return findings


# A deep URL with a query: an old link or a campaign URL typed with http://.
PROBE_PATH = "/launchready-check/deep/page?utm_source=launchready&ref=1"


def judge_path(host: str, exchange: HttpExchange) -> list[Finding]:
    """Judge the un-followed answer to ``GET http://host{PROBE_PATH}``: path and query must survive."""
    if not exchange.is_redirect or not exchange.location:
        return []  # no redirect at all is judged on the home page (missing)
    target = urlsplit(urljoin(exchange.url, exchange.location))
    wanted = urlsplit(exchange.url)
    if target.scheme != "https" or (target.path == wanted.path and target.query == wanted.query):
        return []
    lost = [
        what
        for what, kept in (("path", target.path == wanted.path), ("query", target.query == wanted.query))
        if not kept
    ]
    return [
        META.finding(
            "drops-path",
            target=host,
            evidence=[
                f"GET {exchange.url} -> {exchange.status}",
                f"Location: {exchange.location}",
                f"lost: {' and '.join(lost)}",
            ],
            remediation=(
                f"Redirect to the same path and query on https: nginx {_NGINX_RETURN} in the port-80 server block "
                f"for {host}; Caddy `redir https://{{host}}{{uri}} permanent`."
            ),
        )
    ]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    exchange = await ctx.http.fetch(f"http://{target}/")
    findings = judge(target, exchange, domain=ctx.domain)
    if exchange.is_redirect:
        findings += judge_path(target, await ctx.http.fetch(f"http://{target}{PROBE_PATH}"))
    return findings


CHECK = Check(meta=META, run=run)

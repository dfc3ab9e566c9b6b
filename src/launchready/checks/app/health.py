"""app.health: every configured environment's health route answers 2xx."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.crawl import in_site
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.masking import mask_credentials, mask_url_password
from launchready.core.net import DeclaredHosts, declared_hosts
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC9110_STATUS = "https://www.rfc-editor.org/rfc/rfc9110#section-15"
_MDN_STATUS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status"
_MDN_503 = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/503"

EXCERPT_CHARS = 300
MAX_HOPS = 5

# key=value / "key": "value" pairs whose value is a credential; health pages love to dump config.
META = CheckMeta(
    id="app.health",
    title="The application's health route answers",
    scope=Scope.ENVIRONMENT,
    doc=CheckDoc(
        what=(
            "For every environment declared in launchready.toml (production, staging...), requests its "
            "base_url plus health_path (default /health), following up to five redirects, and expects a 2xx "
            "answer. A server that does not answer at all is reported too: a dead server is a finding. "
            "Redirects are followed only to declared hosts (the audited domain and names under it, the "
            "environments' hosts, --connect-to names); one elsewhere is reported, not followed."
        ),
        why=(
            "The health route is what load balancers, uptime monitors and deploy pipelines ask before sending "
            "traffic. If it fails, the platform may pull the app out of rotation or roll back a deploy, and "
            "a failing health route usually means the database, cache or a secret is broken for real users too."
        ),
        fix=(
            "Open the health URL yourself, read the application logs for the failing dependency (database "
            "connection, migrations not run, missing environment variable) and fix it; if nothing answers, "
            "check that the app is deployed and running and that its port is exposed to the load balancer."
        ),
    ),
    findings=(
        FindingSpec(
            id="app.health.down",
            title="The health route reports the application unhealthy",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Read the application logs around the failing request, fix the dependency the health route "
                "reports (database, cache, queue, missing environment variable), then redeploy."
            ),
            references=(_RFC9110_STATUS, _MDN_STATUS, _MDN_503),
        ),
        FindingSpec(
            id="app.health.unreachable",
            title="The application does not answer at all",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Check that the app is deployed and its process is running (platform dashboard, `systemctl "
                "status`, `docker ps`), that it listens on the port the load balancer forwards to, and that "
                "DNS and the certificate for the base URL are right."
            ),
            references=(_MDN_STATUS, _RFC9110_STATUS),
        ),
    ),
    references=(_RFC9110_STATUS, _MDN_STATUS),
    probes=("http",),
)


def body_excerpt(body: bytes, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    # Mask before cutting so a secret straddling the cut is still recognised whole.
    masked = mask_credentials(text)
    return masked if len(masked) <= limit else masked[:limit] + "…"


def _chain_evidence(chain: tuple[HttpExchange, ...]) -> list[str]:
    out: list[str] = []
    for ex in chain:
        answer = str(ex.status) if ex.status is not None else f"no answer ({ex.error_kind or 'error'})"
        out.append(f"GET {mask_url_password(ex.url)} -> {answer}")
    return out


def _location_host(exchange: HttpExchange) -> str:
    try:
        return (urlsplit(urljoin(exchange.url, exchange.location or "")).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def judge(
    environment: str,
    url: str,
    chain: tuple[HttpExchange, ...],
    *,
    domain: str | None = None,
    within: DeclaredHosts | None = None,
) -> list[Finding]:
    """Judge the (followed) request chain for ``url``; the last exchange is the verdict.

    ``domain``: the audited domain; a redirect that ends on a host outside it (and not the health
    URL's own host) lands on someone else's page, whose 200 says nothing about this app.
    ``within``: the hosts the chain was allowed to follow redirects to (named in the evidence of a
    redirect that was not followed).
    """
    target = mask_url_password(url)
    if not chain:
        raise CouldNotRun(f"no request was made to {target}")
    last = chain[-1]
    evidence = [f"environment: {environment}", *_chain_evidence(chain)]
    if last.status is None:
        evidence.append(f"error: {mask_credentials(last.error or last.error_kind or 'no response')}")
        return [
            META.finding(
                "unreachable",
                target=target,
                evidence=evidence,
                remediation=(
                    f"Nothing answered {mask_url_password(last.url)} ({last.error_kind or 'error'}). Check that the "
                    f"{environment} app is deployed and running (platform dashboard, `systemctl status`, `docker ps`), "
                    "that it listens on the port the load balancer or proxy forwards to, that the firewall allows it, "
                    "and that the base URL's DNS and certificate are right."
                ),
            )
        ]
    start_host = _host(url)
    end_host = _host(last.url)
    off_site = end_host != start_host and not in_site(end_host, domain or start_host)
    if 200 <= last.status < 300 and last.error is None and not off_site:
        return []
    if off_site:
        evidence.append(f"redirected off-site to {end_host}: its answer says nothing about the {environment} app")
    undeclared = _location_host(last) if last.redirect_stop == "undeclared-host" else None
    if last.is_redirect:
        stop = {
            "loop": "a redirect loop",
            "max-hops": f"more than {MAX_HOPS} redirects",
            "private-address": f"a redirect to a private address, not followed: {mask_credentials(last.location or '')}",
            "undeclared-host": (
                f"a redirect to {mask_credentials(last.location or '')}, not followed: "
                + ((within.refusal(undeclared or "") if within else None) or f"{undeclared} is not a declared host")
            ),
        }.get(last.redirect_stop or "", "a redirect with an unusable Location")
        evidence.append(f"stopped on {stop}")
    if last.error is not None:
        # Headers arrived but the body broke off (reset, stall): a monitor sees a failure.
        evidence.append(f"response broke off: {mask_credentials(last.error)}")
    if last.body:
        evidence.append(f"body: {body_excerpt(last.body)}")
    title = f"The {environment} health route answers {last.status}"
    if off_site:
        title = f"The {environment} health route redirects off-site to {end_host}"
    elif undeclared is not None:
        title = f"The {environment} health route redirects to {undeclared}, a host the configuration does not declare"
    elif last.error is not None:
        title += " but the response broke off"
    return [
        META.finding(
            "down",
            target=target,
            evidence=evidence,
            title=title,
            remediation=(
                f"Open {mask_url_password(last.url)} and read the {environment} application logs for that request; "
                "fix the dependency it reports (database connection, pending migrations, cache, a missing "
                "environment variable), redeploy, and re-run the audit. A health route must answer 200 when the "
                "app can serve members and a non-2xx status only when it cannot."
            ),
        )
    ]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    env = ctx.config.environments.get(target)
    if env is None:
        raise NotApplicable(f"no environment named {target!r} in the configuration")
    url = str(env.base_url).rstrip("/") + env.health_path
    # A load balancer asks the app itself: a redirect to a host nobody declared (an SSO page, a
    # status page, a server the app's owner never named) is recorded, not followed.
    within = declared_hosts(ctx.net, ctx.domain, [str(e.base_url) for e in ctx.config.environments.values()])
    chain = await ctx.http.follow(url, max_hops=MAX_HOPS, within=within)
    return judge(target, url, tuple(chain), domain=ctx.domain, within=within)


CHECK = Check(meta=META, run=run)

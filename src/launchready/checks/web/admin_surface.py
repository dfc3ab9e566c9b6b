"""web.admin-surface: admin areas ask for a sign-in before showing anything."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from launchready.checks.web.crawled import require_answers
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.crawl import Visit
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_OWASP_ACCESS = "https://owasp.org/Top10/A01_2021-Broken_Access_Control/"
_OWASP_AUTH = "https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html"

_PASSWORD_INPUT = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)
_LOGIN_URL = re.compile(r"/(log-?in|sign-?in|auth|sso|oauth2?|session)(/|$)", re.IGNORECASE)

META = CheckMeta(
    id="web.admin-surface",
    title="Admin areas are not reachable without signing in",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Requests the home page of admin.* hosts and the [web] admin_paths (/admin, /wp-admin/, ...) on every "
            "web host, following redirects inside the domain. An answer of 200 with HTML that asks for no password "
            "and did not pass through a sign-in URL is an admin area open to the internet; 401, 403, 404 or a "
            "redirect to a login page is fine."
        ),
        why=(
            "An admin panel open to anyone is a full data breach waiting for the first scanner: member lists, "
            "orders, refunds and settings. Bots request /admin and admin.* on every new domain within hours of "
            "its certificate appearing in the public certificate-transparency logs."
        ),
        fix=(
            "Put the admin behind authentication (the app's login with an admin role, plus 2FA), and preferably "
            "behind an allow-list or SSO proxy (Cloudflare Access, Tailscale, an IP allow-list in nginx: "
            "`allow 203.0.113.7; deny all;`)."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.admin-surface.open",
            title="An admin area is reachable without signing in",
            severity=Severity.HIGH,
            impact=Impact.DATA_EXPOSURE,
            remediation=(
                "Require a signed-in admin on every admin route (Django: @staff_member_required; Rails: "
                "before_action :authenticate_admin!; Express: an auth middleware on the /admin router) and put the "
                "admin host behind an access proxy or IP allow-list (nginx `allow YOUR.IP; deny all;`)."
            ),
            references=(_OWASP_ACCESS, _OWASP_AUTH),
        ),
    ),
    references=(_OWASP_ACCESS, _OWASP_AUTH),
    probes=("http",),
)


def is_open(visit: Visit) -> bool:
    final = visit.final
    if final.status != 200 or "text/html" not in (final.header("content-type") or "").lower():
        return False
    if any(_LOGIN_URL.search(urlsplit(h.url).path + "/") for h in visit.hops):
        return False
    return not _PASSWORD_INPUT.search(final.body)


def judge(host: str, visits: list[Visit]) -> list[Finding]:
    opened = [v for v in visits if is_open(v)]
    if not opened:
        return []
    evidence = [
        f"GET {v.url} -> " + " -> ".join(str(h.status) for h in v.hops) + " (HTML, no password field)" for v in opened
    ]
    return [META.finding("open", target=host, evidence=evidence)]


def urls_for(host: str, paths: tuple[str, ...]) -> list[str]:
    urls = [f"https://{host}/"] if host.split(".", 1)[0] in ("admin", "administrator", "backoffice", "staff") else []
    return urls + [f"https://{host}{path}" for path in paths]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    urls = urls_for(target, ctx.config.web.admin_paths)
    visits = await asyncio.gather(*(ctx.crawl.follow_in_site(ctx.domain, url, max_hops=5) for url in urls))
    require_answers(list(visits), target)
    return judge(target, list(visits))


CHECK = Check(meta=META, run=run)

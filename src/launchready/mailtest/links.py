"""Do the message's links answer? Each absolute http(s) link, and each image, asked once.

Through the run's HTTP probe, so ``--connect-to``, ``--ca-bundle``, the run's DNS and the
private-address rule apply as everywhere else: a link whose name resolves to a private address, or
that redirects to one, is not dialled (and reported as such). Links to localhost and internal names
are already findings of their own (content.py) and are not dialled at all.

HEAD first, as mail security scanners (Microsoft Defender Safe Links, Proofpoint) do before a
member clicks; GET (first 16 KB) when HEAD is refused or fails, since many frameworks answer HEAD
with 405 or 404. Redirects are followed up to five hops. Alive: any answer below 400, and
401/403/429 (the page exists behind a login, a bot wall or a rate limit). Dead: 404, 410, any 5xx,
no answer (refused, timeout, TLS, DNS), or a redirect loop.

Bounded: at most ``max_links`` URLs per message, four at a time, all within ``budget_s`` seconds;
what was not asked in time is counted as not checked, never as dead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from yarl import URL

from launchready.core.net import NetSettings
from launchready.mailtest.content import is_local_host, shown_url
from launchready.probes.dial import redirect_refusal
from launchready.probes.http import HttpExchange, HttpProbe

MAX_LINKS = 30
MAX_HOPS = 5
CONCURRENCY = 4
BUDGET_S = 60.0
GET_BODY_BYTES = 16 * 1024
_ALIVE_ERRORS = frozenset({401, 403, 429})
# HEAD failures not worth a GET: the same GET would meet the same wall.
_NO_RETRY = frozenset({"timeout", "refused", "dns", "tls"})


@dataclass(frozen=True)
class LinkCheck:
    url: str
    image: bool
    alive: bool
    status: int | None  # the last answer's status, None when nothing answered
    detail: str  # what happened, for evidence: "404 after 1 redirect(s)", "connection refused: ..."

    def evidence(self) -> str:
        return f"{shown_url(self.url)}: {self.detail}"


@dataclass(frozen=True)
class LinkReport:
    checks: tuple[LinkCheck, ...]
    not_checked: tuple[str, ...]  # over the count limit or the time budget
    reason_not_checked: str | None = None

    @property
    def dead(self) -> tuple[LinkCheck, ...]:
        return tuple(c for c in self.checks if not c.alive)

    def to_json(self) -> dict[str, object]:
        return {
            "checked": [
                {"url": shown_url(c.url), "image": c.image, "alive": c.alive, "status": c.status, "detail": c.detail}
                for c in self.checks
            ],
            "not_checked": [shown_url(u) for u in self.not_checked],
            "reason_not_checked": self.reason_not_checked,
        }


def answers(status: int) -> bool:
    """Whether a final HTTP status means the link works (401/403/429: a page behind a wall)."""
    return status < 400 or status in _ALIVE_ERRORS


def dialable(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host) and not is_local_host(host)


async def _ask(http: HttpProbe, url: str, method: str) -> HttpExchange:
    if method == "HEAD":
        return await http.fetch(url, method="HEAD", max_body=0)
    return await http.fetch(url, max_body=GET_BODY_BYTES)


async def check_link(http: HttpProbe, net: NetSettings, url: str, *, image: bool = False) -> LinkCheck:
    current = url
    start_host = urlsplit(url).hostname
    seen = {url}
    hops = 0
    while True:
        exchange = await _ask(http, current, "HEAD")
        failed = exchange.error is not None or (exchange.status or 0) >= 400
        if failed and exchange.error_kind not in _NO_RETRY:
            exchange = await _ask(http, current, "GET")
        via = f" after {hops} redirect(s)" if hops else ""
        if exchange.error is not None:
            return LinkCheck(url, image, False, None, f"no answer{via}: {exchange.error_kind}: {exchange.error}")
        status = exchange.status or 0
        if exchange.is_redirect and exchange.location:
            try:
                target = URL(current).join(URL(exchange.location))
            except ValueError:
                return LinkCheck(url, image, False, status, f"{status}{via} to an unusable Location")
            if target.scheme not in ("http", "https") or not target.host:
                return LinkCheck(url, image, False, status, f"{status}{via} to an unusable Location")
            refusal = redirect_refusal(net, start_host, target.host)
            if refusal is not None:
                return LinkCheck(url, image, False, status, f"{status}{via} redirects to {refusal}")
            following = str(target.with_fragment(None))
            if following in seen or hops >= MAX_HOPS:
                what = "a redirect loop" if following in seen else f"more than {MAX_HOPS} redirects"
                return LinkCheck(url, image, False, status, f"{what}{via}")
            seen.add(following)
            current = following
            hops += 1
            continue
        return LinkCheck(url, image, answers(status), status, f"{status}{via}")


async def check_links(
    http: HttpProbe,
    net: NetSettings,
    links: Sequence[str],
    images: Sequence[str] = (),
    *,
    max_links: int = MAX_LINKS,
    budget_s: float = BUDGET_S,
) -> LinkReport:
    """Every dialable link and image (in message order, links first, without repeats), within the bounds."""
    wanted = list(dict.fromkeys((u, False) for u in links if dialable(u)))
    wanted += [(u, True) for u in dict.fromkeys(images) if dialable(u) and u not in {w for w, _ in wanted}]
    asked, over = wanted[:max_links], [u for u, _ in wanted[max_links:]]
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str, image: bool) -> LinkCheck:
        async with limit:
            return await check_link(http, net, url, image=image)

    tasks = [asyncio.create_task(one(u, image)) for u, image in asked]
    done: set[asyncio.Task[LinkCheck]] = set()
    if tasks:
        done, pending = await asyncio.wait(tasks, timeout=budget_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    checks = tuple(t.result() for t in tasks if t in done)
    late = [u for (u, _), t in zip(asked, tasks, strict=True) if t not in done]
    reasons = []
    if over:
        reasons.append(f"{len(over)} past the first {max_links}")
    if late:
        reasons.append(f"{len(late)} not answered within the {budget_s:g} s budget")
    return LinkReport(checks, tuple(late + over), "; ".join(reasons) or None)

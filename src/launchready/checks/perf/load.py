"""perf.load: core read endpoints hold their p95 and error-rate budgets under a constant arrival rate.

`launchready load` runs it on demand; the audit runs a short version only when the config sets
``perf.in_audit = true`` (a load test is never a side effect of a plain audit).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Impact, Severity
from launchready.perf.errors import PerfError
from launchready.perf.generator import LoadResult
from launchready.perf.plan import PlannedEndpoint, plan
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_WRK2 = "https://github.com/giltene/wrk2#acknowledgements"
_K6_OPEN = "https://grafana.com/docs/k6/latest/using-k6/scenarios/concepts/open-vs-closed/"
_WEBDEV_TTFB = "https://web.dev/articles/ttfb"
_OWASP_SESSIONS = "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html"
_LITTLE = "https://en.wikipedia.org/wiki/Little%27s_law"
# A short load inside an audit: enough samples for a p95, short enough not to dominate the audit.
AUDIT_MAX_DURATION_S = 10.0
AUDIT_MAX_WARMUP_S = 2.0

META = CheckMeta(
    id="perf.load",
    title="Core read endpoints meet their latency and error budgets under load",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Sends a constant arrival rate of requests (open model) to the read endpoints declared under "
            "[[perf.endpoints]], measures each request from its scheduled send time into lossless histograms, "
            "and compares every endpoint's p95 latency and error rate with its budget (budgets.p95_ms, "
            "budgets.error_rate, or the endpoint's own)."
        ),
        why=(
            "Launch traffic arrives whether or not the server keeps up. A p95 above 300 ms on the feed or the "
            "member directory is what members feel as a slow product, and errors under modest load turn the "
            "launch announcement into an outage. Closed-loop tools hide server stalls; this measurement does not."
        ),
        fix=(
            "Profile the slow endpoint under the same rate (database query log, APM trace): add the missing index, "
            "batch the per-row queries, paginate the list, cache what is shared, or add capacity; then run "
            "`launchready load` again until every endpoint is inside its budget."
        ),
    ),
    findings=(
        FindingSpec(
            id="perf.load.p95-over-budget",
            title="An endpoint's 95th percentile latency is over budget",
            severity=Severity.MEDIUM,
            impact=Impact.PERFORMANCE,
            remediation=(
                "Trace a slow request of this endpoint under load and remove the dominant cost (missing index, "
                "N+1 queries, unpaginated list, synchronous external call), or raise capacity; then re-run `launchready load`."
            ),
            references=(_WRK2, _K6_OPEN),
        ),
        FindingSpec(
            id="perf.load.error-rate-over-budget",
            title="An endpoint fails too many requests under load",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Read the server logs for the failing requests at this rate (timeouts, 5xx, connection limits, "
                "exhausted database pool) and fix the cause or add capacity; then re-run `launchready load`."
            ),
            references=(_K6_OPEN,),
        ),
        FindingSpec(
            id="perf.load.auth-lost",
            title="Logged-in members are sent back to the login page under load",
            severity=Severity.HIGH,
            impact=Impact.LOGIN,
            remediation=(
                "Find why valid sessions stop being accepted at this rate: a session store that evicts under "
                "memory pressure (Redis maxmemory-policy, an in-process cache per worker), sessions kept in one "
                "worker's memory behind a load balancer, a rate limiter that answers 401/403, or a session "
                "rotated on every request; keep sessions in a shared store sized for the launch and re-run `launchready load`."
            ),
            references=(_OWASP_SESSIONS,),
        ),
        FindingSpec(
            id="perf.load.login-page-measured",
            title="An endpoint loaded without a login answered like a protected page: the login wall was measured",
            severity=Severity.LOW,
            impact=Impact.PERFORMANCE,
            confidence=Confidence.FIRM,
            remediation=(
                'Load the endpoint as a member: name the smoke flow that logs in (`login_flow = "login"` on the '
                "endpoint or in [perf]), or mark a public endpoint's real URL; then re-run `launchready load`."
            ),
            references=(_K6_OPEN,),
        ),
        FindingSpec(
            id="perf.load.generator-bound",
            title="The load generator was the bottleneck: latency figures are not trustworthy",
            severity=Severity.INFO,
            impact=Impact.PERFORMANCE,
            confidence=Confidence.CERTAIN,
            remediation=(
                "Lower --rate, spread the schedule over more processes with `--workers N` (one per free core), "
                "or run `launchready load` on a machine with free CPU cores, and measure again."
            ),
            references=(_WRK2,),
        ),
        FindingSpec(
            id="perf.load.pool-too-small",
            title="The connection pool was too small for this rate and latency: requests queued inside the generator",
            severity=Severity.INFO,
            impact=Impact.PERFORMANCE,
            confidence=Confidence.CERTAIN,
            remediation=(
                "Raise perf.connections to the number Little's law gives (rate x time on the wire, plus headroom) "
                "or lower --rate, and measure again: until then the queueing is the generator's, not the server's."
            ),
            references=(_LITTLE, _WRK2),
        ),
    ),
    references=(_WRK2, _K6_OPEN, _WEBDEV_TTFB, _OWASP_SESSIONS),
    probes=("http",),
)


def _ms(us: int) -> str:
    return f"{us / 1000:.1f} ms"


def tightest_budget_ms(planned: list[PlannedEndpoint]) -> float | None:
    """The smallest p95 budget: the generator's own wait is judged against it."""
    return min((p.p95_ms for p in planned), default=None)


def judge(result: LoadResult, planned: list[PlannedEndpoint]) -> list[Finding]:
    """Budgets -> findings. When the generator or its pool was the bottleneck, they drop to tentative."""
    findings: list[Finding] = []
    health = result.health(tightest_budget_ms(planned))
    confidence = Confidence.CERTAIN if health.healthy else Confidence.TENTATIVE
    rate = f"{result.settings.rate:g} req/s for {result.settings.duration_s:g} s (open model)"
    tentative = (
        []
        if health.healthy
        else [f"tentative: the run was {health.verdict} ({health.reason}); the server's own time on the wire: "]
    )
    for p in planned:
        stats = result.endpoints[p.name]
        h = stats.latency
        summary = (
            f"{p.name}: p50 {_ms(h.percentile(50))}, p90 {_ms(h.percentile(90))}, p95 {_ms(h.percentile(95))}, "
            f"p99 {_ms(h.percentile(99))}, max {_ms(h.max_us)} over {stats.ok} ok responses"
        )
        if stats.total == 0:
            continue
        p95_ms = h.percentile(95) / 1000
        if stats.ok and p95_ms > p.p95_ms:
            wire = stats.wire
            caveat = (
                [
                    tentative[0]
                    + f"p50 {_ms(wire.percentile(50))}, p95 {_ms(wire.percentile(95))}, p99 {_ms(wire.percentile(99))}"
                ]
                if tentative
                else []
            )
            findings.append(
                META.finding(
                    "p95-over-budget",
                    target=p.url,
                    title=f"{p.name}: p95 {p95_ms:.0f} ms is over the {p.p95_ms:g} ms budget",
                    evidence=[summary, f"load: {rate}", *caveat],
                    confidence=confidence,
                )
            )
        if stats.auth_lost:
            findings.append(
                META.finding(
                    "auth-lost",
                    target=p.url,
                    title=f"{p.name}: {stats.auth_lost} of {stats.total} logged-in requests were turned away (login lost mid-run)",
                    evidence=[
                        f"{p.name}: {stats.auth_lost} responses were 401/403 or a redirect to a login page, counted as errors",
                        *(f"e.g. {s}" for s in stats.error_samples[:3] if s.startswith("auth lost")),
                        *([stats.auth] if stats.auth else []),
                        f"load: {rate}",
                    ],
                    confidence=confidence,
                )
            )
        if p.login is None and stats.login_wall * 2 > stats.total:
            findings.append(
                META.finding(
                    "login-page-measured",
                    target=p.url,
                    title=f"{p.name}: {stats.login_wall} of {stats.total} responses were 401/403 or a redirect to a login page",
                    evidence=[
                        f"{p.name}: statuses {', '.join(f'{k}: {v}' for k, v in sorted(stats.statuses.items()))}",
                        "its latency is the login wall's, not the page's: the endpoint needs a login_flow",
                    ],
                )
            )
        if stats.error_rate > p.error_rate:
            findings.append(
                META.finding(
                    "error-rate-over-budget",
                    target=p.url,
                    title=f"{p.name}: {stats.error_rate:.1%} of requests failed (budget {p.error_rate:.1%})",
                    evidence=[
                        f"{p.name}: {stats.errors} of {stats.total} requests failed",
                        *(f"e.g. {s}" for s in stats.error_samples[:3]),
                        f"load: {rate}",
                    ],
                    confidence=confidence,
                )
            )
    target = planned[0].url if len(planned) == 1 else "launchready load"
    if health.verdict == "generator-bound":
        w = result.watch
        findings.append(
            META.finding(
                "generator-bound",
                target=target,
                evidence=[
                    health.reason or "",
                    f"CPU samples: max {w.cpu_max:.0%}, mean {w.cpu_mean:.0%}",
                    f"in-generator wait p99 {health.wait_p99_ms:,.1f} ms (bound {health.bound_ms:g} ms), "
                    f"timer lag p99 {_ms(w.timer_lag.percentile(99))}",
                    *([result.served_short] if result.served_short else []),
                ],
            )
        )
    for pool in health.pools:
        # A generator short of CPU holds connections longer itself: more of them would not help.
        if pool.too_small and pool.waited and health.verdict != "generator-bound":
            findings.append(
                META.finding(
                    "pool-too-small",
                    target=target,
                    title=(
                        f"Connection pool too small for this rate and latency: {pool.needed} connections needed "
                        f"by Little's law, {pool.connections} allowed"
                    ),
                    evidence=[
                        f"{pool.name}: {pool.waited:,} of {pool.requests:,} requests waited for a free connection "
                        f"(p99 {pool.wait_p99_ms:,.1f} ms)",
                        f"Little's law: {pool.requests / (result.settings.duration_s or 1):,.0f} req/s x "
                        f"{pool.wire_mean_ms:,.1f} ms mean time on the wire = {pool.needed} connections busy on average",
                        f"fix: set perf.connections to at least {math.ceil(pool.needed * 1.25)} or lower --rate",
                    ],
                )
            )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    from launchready.perf.auth import LoginFailed
    from launchready.perf.session import measure, settings_for

    perf = ctx.config.perf
    if not perf.in_audit:
        raise NotApplicable("load tests run with `launchready load` (or set perf.in_audit = true)")
    try:
        planned = plan(ctx.config)
        settings = settings_for(
            ctx.config,
            duration_s=min(perf.duration_s, AUDIT_MAX_DURATION_S),
            warmup_s=min(perf.warmup_s, AUDIT_MAX_WARMUP_S),
            timeout_s=ctx.net.timeout,
        )
        result = await measure(planned, ctx.net, settings, dns=ctx.dns)
    except (PerfError, SmokeError, SecretsError, LoginFailed) as exc:
        # A failed login flow is app.smoke's finding; measuring the login page instead would mislead.
        raise CouldNotRun(str(exc)) from None
    return judge(result, planned)


CHECK = Check(meta=META, run=run)

"""perf.growth: an endpoint does not get slower as the data grows (100 -> 500 members)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Impact, Severity
from launchready.perf.errors import PerfError
from launchready.perf.growth import GrowthSeries
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_N_PLUS_ONE = "https://docs.djangoproject.com/en/stable/topics/db/optimization/#retrieve-everything-at-once-if-you-know-you-will-need-it"
_RAILS_N1 = "https://guides.rubyonrails.org/active_record_querying.html#eager-loading-associations"
_SQLITE_INDEX = "https://www.sqlite.org/queryplanner.html"
_PG_INDEX = "https://www.postgresql.org/docs/current/indexes-intro.html"
# Below this absolute p95 increase growth is noise on a fast endpoint, not a launch risk.
MIN_INCREASE_MS = 20.0
# Response size growing by this factor means the list is not paginated.
SIZE_GROWTH = 1.5

META = CheckMeta(
    id="perf.growth",
    title="Endpoints stay as fast with 500 members as with 100",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "For each endpoint of [perf.growth], runs the seed command (perf.growth.seed, with {n} replaced) at every "
            "size in perf.growth.sizes, then the same constant-rate load, and compares p95 latency and response size "
            "from the smallest to the largest size. A p95 growing past perf.growth.max_factor (default 1.5x) is reported "
            "with the likely cause."
        ),
        why=(
            "A feed that is fast with the ten test accounts and slow with the first few hundred real members is the "
            "classic post-launch slowdown: one query per member (N+1), a list that returns everything, or a search "
            "without an index. It gets worse every day the launch succeeds."
        ),
        fix=(
            "Load related rows in one query (select_related/prefetch_related, includes, JOIN), paginate lists "
            "(LIMIT plus a cursor), and index the columns searched or sorted on; then run the growth test again."
        ),
    ),
    findings=(
        FindingSpec(
            id="perf.growth.latency-grows",
            title="An endpoint gets slower as the number of members grows",
            severity=Severity.MEDIUM,
            impact=Impact.PERFORMANCE,
            confidence=Confidence.FIRM,
            remediation=(
                "Look at the queries this endpoint runs at the larger size (query log, EXPLAIN): batch per-row "
                "queries into one, paginate the list, add the missing index; re-run `launchready load --growth`."
            ),
            references=(_N_PLUS_ONE, _RAILS_N1, _SQLITE_INDEX, _PG_INDEX),
        ),
    ),
    references=(_N_PLUS_ONE, _SQLITE_INDEX),
    probes=("http",),
)


def likely_cause(url: str, size_factor: float) -> str:
    if size_factor >= SIZE_GROWTH:
        return (
            f"the response grew {size_factor:.1f}x with the data: an unpaginated list, and likely N+1 queries "
            "(one query per row); paginate it and load related rows in one query"
        )
    if urlsplit(url).query:
        return (
            "the response size stayed flat while latency grew on a search/filter: likely a missing index "
            "(a full scan per request); index the searched column"
        )
    return (
        "the response size stayed flat while latency grew: likely N+1 queries or a missing index behind "
        "this endpoint; check its query count and EXPLAIN at the larger size"
    )


def judge(series: list[GrowthSeries], max_factor: float, unit: str = "members") -> list[Finding]:
    """``unit`` names what the sizes count (perf.growth.unit) in titles and evidence."""
    findings: list[Finding] = []
    for s in series:
        if len(s.points) < 2:
            continue
        first, last = s.points[0], s.points[-1]
        if first.ok == 0 or last.ok == 0:
            raise CouldNotRun(f"{s.name}: no successful responses at size {first.size if first.ok == 0 else last.size}")
        factor = last.p95_ms / max(first.p95_ms, 0.001)
        # Data size moves the whole distribution; a few slow outliers on a busy machine move only
        # the tail. Requiring the median to grow too keeps scheduling noise from reading as growth.
        median_factor = last.p50_ms / max(first.p50_ms, 0.001)
        if factor <= max_factor or median_factor <= max_factor or last.p95_ms - first.p95_ms < MIN_INCREASE_MS:
            continue
        size_factor = last.mean_bytes / first.mean_bytes if first.mean_bytes else 1.0
        evidence = [
            f"size {p.size}: p50 {p.p50_ms:.1f} ms, p95 {p.p95_ms:.1f} ms, {p.mean_bytes:.0f} bytes/response"
            for p in s.points
        ]
        evidence.append(f"p95 grew {factor:.1f}x from {first.size} to {last.size} {unit} (budget {max_factor:g}x)")
        findings.append(
            META.finding(
                "latency-grows",
                target=s.url,
                title=f"{s.name}: p95 grows {factor:.1f}x from {first.size} to {last.size} {unit}",
                evidence=evidence,
                remediation=f"Likely cause: {likely_cause(s.url, size_factor)}. {META.spec('perf.growth.latency-grows').remediation}",
            )
        )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    from launchready.perf.auth import LoginFailed
    from launchready.perf.growth import SeedFailed, run_growth
    from launchready.perf.plan import plan
    from launchready.perf.session import settings_for

    perf = ctx.config.perf
    if not perf.in_audit:
        raise NotApplicable("growth tests run with `launchready load --growth` (or set perf.in_audit = true)")
    growth = perf.growth
    if growth.seed is None:
        raise NotApplicable("no perf.growth.seed command: the data size cannot be varied")
    try:
        planned = plan(ctx.config, only=growth.endpoints)
        settings = settings_for(
            ctx.config, rate=growth.rate, duration_s=growth.duration_s, warmup_s=0.5, timeout_s=ctx.net.timeout
        )
        series = await run_growth(
            planned,
            ctx.net,
            growth.seed,
            growth.sizes,
            settings,
            dns=ctx.dns,
            seed_timeout=growth.seed_timeout,
            unit=growth.unit,
        )
    except (PerfError, SmokeError, SecretsError, SeedFailed, LoginFailed) as exc:
        raise CouldNotRun(str(exc)) from None
    return judge(series, growth.max_factor, growth.unit)


CHECK = Check(meta=META, run=run)

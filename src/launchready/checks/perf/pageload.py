"""perf.pageload: the first page load on a normal mobile stays under the LCP budget (2 s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.perf.chromium import INSTALL_HINT, PageLoad

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_WEBDEV_LCP = "https://web.dev/articles/lcp"
_LIGHTHOUSE_THROTTLING = "https://github.com/GoogleChrome/lighthouse/blob/main/docs/throttling.md"
_WEBDEV_OPTIMIZE_LCP = "https://web.dev/articles/optimize-lcp"

META = CheckMeta(
    id="perf.pageload",
    title="The first page load on a mobile network is fast enough",
    scope=Scope.ENVIRONMENT,
    doc=CheckDoc(
        what=(
            "Loads each environment's pages (perf.pageload_paths, default the home page) once, cold, in headless "
            "Chromium with Lighthouse's mobile profile (150 ms RTT, 1.6 Mbps down, 750 kbps up, 4x CPU slowdown, "
            "412x823 viewport) and reports TTFB, FCP, LCP, bytes, request count and the largest requests; an LCP "
            "above budgets.lcp_ms (default 2000 ms) is a finding. Runs when Chromium is installed (perf.pageload)."
        ),
        why=(
            "Most launch visitors arrive on a phone from a social post. When the main content takes more than two "
            "or three seconds to appear, a large share of them leave before seeing the offer, and search engines "
            "rank slow pages lower (LCP is a Core Web Vital)."
        ),
        fix=(
            "Shrink what the largest content needs: compress and resize the hero image (WebP/AVIF, srcset), "
            "preload it, inline critical CSS, defer non-critical scripts, and serve static files from a CDN with "
            "long cache lifetimes; then run `launchready pageload URL` again."
        ),
    ),
    findings=(
        FindingSpec(
            id="perf.pageload.lcp-over-budget",
            title="The main content takes too long to appear on a mobile network",
            severity=Severity.MEDIUM,
            impact=Impact.PERFORMANCE,
            remediation=(
                "Make the largest element cheap: compress and resize it (WebP/AVIF, width-appropriate srcset), "
                'add `<link rel="preload">` for it, defer scripts that block rendering, and cut total bytes; '
                "then re-run `launchready pageload URL`."
            ),
            references=(_WEBDEV_LCP, _WEBDEV_OPTIMIZE_LCP, _LIGHTHOUSE_THROTTLING),
        ),
    ),
    references=(_WEBDEV_LCP, _LIGHTHOUSE_THROTTLING),
    probes=("chromium",),
)


def describe(load: PageLoad) -> list[str]:
    def ms(value: float | None) -> str:
        return f"{value:.0f} ms" if value is not None else "n/a"

    cls = f"{load.cls:.3f}" if load.cls is not None else "n/a"
    lines = [
        f"{load.url}: TTFB {ms(load.ttfb_ms)}, FCP {ms(load.fcp_ms)}, LCP {ms(load.lcp_ms)}, "
        f"{load.total_bytes / 1024:.0f} KiB in {len(load.requests)} requests (mobile profile, cold)",
    ]
    lines += [f"largest: {r.url} {r.bytes / 1024:.0f} KiB ({r.mime or 'unknown type'})" for r in load.largest[:3]]
    lines.append(f"CLS {cls}, TBT {ms(load.tbt_ms)} (Lighthouse: good below 0.1 and 200 ms)")
    if load.lcp_element:
        lines.append(f"LCP element: {load.lcp_element}")
    # The page asked the browser for cloud metadata or the LAN: said, and never fetched.
    lines += [f"not fetched: {b}" for b in load.blocked]
    return lines


def judge(loads: list[PageLoad], budget_ms: float) -> list[Finding]:
    findings: list[Finding] = []
    failed = [load for load in loads if load.error is not None]
    if failed:
        raise CouldNotRun("; ".join(f"{load.url}: {load.error}" for load in failed))
    for load in loads:
        if load.lcp_ms is None:
            raise CouldNotRun(f"{load.url}: the browser reported no Largest Contentful Paint")
        if load.lcp_ms > budget_ms:
            findings.append(
                META.finding(
                    "lcp-over-budget",
                    target=load.url,
                    title=f"LCP {load.lcp_ms / 1000:.1f} s on a mobile network (budget {budget_ms / 1000:g} s)",
                    evidence=describe(load),
                )
            )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    from launchready.perf.chromium import find_chromium, measure_page

    mode = ctx.config.perf.pageload
    if mode == "off":
        raise NotApplicable('perf.pageload = "off"')
    env = ctx.config.environments.get(target)
    if env is None:
        raise NotApplicable(f"no environment named {target!r} in the configuration")
    binary = find_chromium()
    if binary is None:
        if mode == "on":
            raise CouldNotRun(INSTALL_HINT)
        # Not asked for explicitly: an optional measurement the machine cannot make, not a gap in the audit.
        raise NotApplicable(INSTALL_HINT)
    base = str(env.base_url).rstrip("/")
    urls = [p if not p.startswith("/") else base + p for p in ctx.config.perf.pageload_paths]
    timeout_s = max(30.0, ctx.net.timeout * 3)
    loads = [await measure_page(url, ctx.net, binary=binary, timeout_s=timeout_s, dns=ctx.dns) for url in urls]
    return judge(loads, ctx.config.budgets.lcp_ms)


CHECK = Check(meta=META, run=run)

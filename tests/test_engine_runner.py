"""The runner turns every way a check can end into a result; nothing crashes the run."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from launchready.config.model import Config, Environment
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Status
from launchready.core.net import NetSettings
from launchready.core.registry import Registry
from launchready.core.severity import Impact, Severity
from launchready.engine.context import AuditContext, HostInfo, Probes, SiteMap
from launchready.engine.runner import RunnerOptions, run_checks
from launchready.probes.dns import DnsAnswer

DOC = CheckDoc(what="what this test check looks at", why="why this test check matters", fix="how to fix the test thing")


def meta(check_id: str, scope: Scope = Scope.DOMAIN, *, needs_existing_domain: bool = True) -> CheckMeta:
    return CheckMeta(
        id=check_id,
        title="a test check",
        scope=scope,
        doc=DOC,
        findings=(
            FindingSpec(
                id=f"{check_id}.bad",
                title="something bad",
                severity=Severity.HIGH,
                impact=Impact.TRUST,
                remediation="fix the bad thing",
            ),
        ),
        references=("https://www.rfc-editor.org/rfc/rfc1034",),
        needs_existing_domain=needs_existing_domain,
    )


def host(name: str, status: str = "ok") -> HostInfo:
    records = ("127.0.0.1",) if status == "ok" else ()
    return HostInfo(name, DnsAnswer(name, "A", status, records), DnsAnswer(name, "AAAA", "nodata"), "apex")  # type: ignore[arg-type]


def context(site: SiteMap, config: Config = Config()) -> AuditContext:
    # The runner never touches probes; the checks below do not either.
    return AuditContext(domain=site.domain, config=config, net=NetSettings(), probes=cast(Probes, None), site=site)


SITE = SiteMap(
    "example.test", (host("example.test"), host("www.example.test")), DnsAnswer("example.test", "MX", "nodata")
)


def run(checks: list[Check], ctx: AuditContext, timeout: float = 5.0) -> dict[str, Any]:
    results = asyncio.run(run_checks(Registry(tuple(checks)), ctx, RunnerOptions(concurrency=4, check_timeout=timeout)))
    return {f"{r.check_id}@{r.target}": r for r in results}


def test_every_ending_becomes_a_result() -> None:
    async def finds(ctx: AuditContext, target: str) -> list[Any]:
        return [CHECKS[0].meta.finding("bad", target=target, evidence=["seen"])]

    async def passes(ctx: AuditContext, target: str) -> list[Any]:
        return []

    async def cannot(ctx: AuditContext, target: str) -> list[Any]:
        raise CouldNotRun("DNS timed out")

    async def not_applicable(ctx: AuditContext, target: str) -> list[Any]:
        raise NotApplicable("no mail")

    async def hangs(ctx: AuditContext, target: str) -> list[Any]:
        await asyncio.sleep(30)
        return []

    async def crashes(ctx: AuditContext, target: str) -> list[Any]:
        raise ZeroDivisionError("oops")

    async def undeclared(ctx: AuditContext, target: str) -> list[Any]:
        return [CHECKS[0].meta.finding("bad", target=target)]  # belongs to another check

    CHECKS = [
        Check(meta("t.finds"), finds),
        Check(meta("t.passes", Scope.WEB_HOST), passes),
        Check(meta("t.cannot"), cannot),
        Check(meta("t.na"), not_applicable),
        Check(meta("t.hangs"), hangs),
        Check(meta("t.crashes"), crashes),
        Check(meta("t.undeclared"), undeclared),
        Check(meta("t.env", Scope.ENVIRONMENT), passes),
        Check(meta("t.repo", Scope.REPO), passes),
    ]
    results = run(CHECKS, context(SITE), timeout=0.2)
    assert results["t.finds@example.test"].status is Status.FAILED
    assert results["t.finds@example.test"].findings[0].evidence == ("seen",)
    assert results["t.passes@example.test"].status is Status.PASSED
    assert results["t.passes@www.example.test"].status is Status.PASSED
    assert results["t.cannot@example.test"].status is Status.ERROR
    assert results["t.cannot@example.test"].reason == "DNS timed out"
    assert results["t.na@example.test"].status is Status.SKIPPED
    assert results["t.hangs@example.test"].status is Status.ERROR
    assert "timed out" in (results["t.hangs@example.test"].reason or "")
    assert results["t.crashes@example.test"].status is Status.ERROR
    assert "ZeroDivisionError" in (results["t.crashes@example.test"].reason or "")
    assert results["t.undeclared@example.test"].status is Status.ERROR
    assert results["t.env@example.test"].status is Status.SKIPPED
    assert "no environments" in (results["t.env@example.test"].reason or "")
    assert results["t.repo@example.test"].status is Status.SKIPPED


def test_environment_scope_fans_out_per_environment() -> None:
    seen: list[str] = []

    async def record(ctx: AuditContext, target: str) -> list[Any]:
        seen.append(target)
        return []

    config = Config(
        environments={
            "production": Environment(base_url="https://app.example.test"),
            "staging": Environment(base_url="https://staging.example.test"),
        }
    )
    results = run([Check(meta("t.env", Scope.ENVIRONMENT), record)], context(SITE, config))
    assert sorted(seen) == ["production", "staging"]
    assert all(r.status is Status.PASSED for r in results.values())


def test_missing_domain_skips_checks_that_need_it() -> None:
    async def passes(ctx: AuditContext, target: str) -> list[Any]:
        return []

    # An NXDOMAIN apex needs both A and AAAA to say so.
    apex = HostInfo(
        "gone.test", DnsAnswer("gone.test", "A", "nxdomain"), DnsAnswer("gone.test", "AAAA", "nxdomain"), "apex"
    )
    site = SiteMap("gone.test", (apex,), DnsAnswer("gone.test", "MX", "nxdomain"))
    results = run(
        [Check(meta("t.web"), passes), Check(meta("t.dns", needs_existing_domain=False), passes)], context(site)
    )
    assert results["t.web@gone.test"].status is Status.SKIPPED
    assert "does not exist" in (results["t.web@gone.test"].reason or "")
    assert results["t.dns@gone.test"].status is Status.PASSED


def test_a_check_that_waits_by_design_gets_its_own_timeout() -> None:
    async def waits(ctx: AuditContext, target: str) -> list[Any]:
        await asyncio.sleep(0.3)
        return []

    checks = (Check(meta("t.waits"), waits), Check(meta("t.also"), waits))
    options = RunnerOptions(concurrency=4, check_timeout=0.1, check_timeouts={"t.waits": 5.0})
    results = {r.check_id: r for r in asyncio.run(run_checks(Registry(checks), context(SITE), options))}
    assert results["t.waits"].status is Status.PASSED
    assert results["t.also"].status is Status.ERROR
    assert results["t.also"].reason == "timed out after 0.1s"
    # An override never shortens the run's own timeout.
    assert RunnerOptions(check_timeout=60.0, check_timeouts={"t.waits": 5.0}).timeout_for("t.waits") == 60.0

"""Fan checks out over their targets, with one concurrency limit and a timeout per (check, target).

Whatever a check does (raise, hang, return junk) becomes a CheckResult: the run never crashes and
"could not run" is recorded as ERROR with a reason, never as a pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from launchready.core.check import Check, Scope, group_repeated
from launchready.core.errors import CouldNotRun, NotApplicable, NotConfigured
from launchready.core.finding import CheckResult, Finding, Status
from launchready.core.registry import Registry
from launchready.engine.context import AuditContext
from launchready.engine.progress import NullProgress, ProgressSink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunnerOptions:
    concurrency: int = 16
    check_timeout: float = 60.0
    # Longer timeouts for checks that wait by design (the mail test waits for mail): check id -> s.
    check_timeouts: Mapping[str, float] = field(default_factory=dict)

    def timeout_for(self, check_id: str) -> float:
        return max(self.check_timeout, self.check_timeouts.get(check_id, 0.0))


# What to write in launchready.toml so checks scoped to environments run.
CONFIGURE_ENVIRONMENTS = (
    'declare your deployed environments in launchready.toml: [environments.production] base_url = "https://..."'
)


@dataclass(frozen=True)
class Skip:
    """Why a check has no target; ``configure`` set: the configuration could have made it run."""

    reason: str
    configure: str | None = None


def targets_for(check: Check, ctx: AuditContext) -> list[str] | Skip:
    """The targets a check runs on, or why there are none (recorded as SKIPPED)."""
    if check.id in ctx.config.audit.not_applicable:
        return Skip("marked not applicable in launchready.toml ([audit] not_applicable)")
    if check.meta.needs_existing_domain and ctx.site.domain_missing:
        return Skip(f"{ctx.domain} does not exist in DNS (NXDOMAIN)")
    if check.meta.scope is Scope.DOMAIN:
        return [ctx.domain]
    if check.meta.scope is Scope.WEB_HOST:
        return list(ctx.site.web_hosts) or Skip("no host under the domain resolves to an address")
    if check.meta.scope is Scope.ENVIRONMENT:
        return list(ctx.config.environments) or Skip(
            "no environments declared in launchready.toml", CONFIGURE_ENVIRONMENTS
        )
    if check.meta.scope is Scope.REPO:
        return [str(ctx.repo)] if ctx.repo is not None else Skip("no repository given (--repo) or found")
    raise AssertionError(f"unhandled scope {check.meta.scope}")


def _validated(check: Check, target: str, returned: object) -> tuple[Finding, ...]:
    if not isinstance(returned, Iterable):
        raise TypeError(f"returned {type(returned).__name__}, expected a list of findings")
    findings = tuple(returned)
    for f in findings:
        if not isinstance(f, Finding):
            raise TypeError(f"returned a {type(f).__name__} among its findings")
        if f.check_id != check.id:
            raise TypeError(f"returned finding {f.id} belonging to check {f.check_id}")
        check.meta.spec(f.id)  # KeyError for an undeclared id
    return group_repeated(findings)


async def run_one(check: Check, ctx: AuditContext, target: str, options: RunnerOptions) -> CheckResult:
    started = time.perf_counter()

    def result(
        status: Status, findings: tuple[Finding, ...] = (), reason: str | None = None, configure: str | None = None
    ) -> CheckResult:
        return CheckResult(
            check_id=check.id,
            target=target,
            status=status,
            findings=findings,
            reason=reason,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            configure=configure,
        )

    timeout = options.timeout_for(check.id)
    try:
        returned = await asyncio.wait_for(check.run(ctx, target), timeout=timeout)
        findings = _validated(check, target, returned)
    except CouldNotRun as exc:
        return result(Status.ERROR, reason=str(exc) or "could not run")
    except NotConfigured as exc:
        if check.id in ctx.config.audit.not_applicable:
            return result(Status.SKIPPED, reason="marked not applicable in launchready.toml ([audit] not_applicable)")
        return result(Status.SKIPPED, reason=str(exc) or "not configured", configure=exc.configure)
    except NotApplicable as exc:
        return result(Status.SKIPPED, reason=str(exc) or "not applicable")
    except TimeoutError:
        return result(Status.ERROR, reason=f"timed out after {timeout:g}s")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in a check must not take the audit down with it
        log.debug("check %s on %s crashed", check.id, target, exc_info=True)
        return result(Status.ERROR, reason=f"internal error in the check: {type(exc).__name__}: {exc}")
    return result(Status.FAILED if findings else Status.PASSED, findings)


async def run_checks(
    registry: Registry,
    ctx: AuditContext,
    options: RunnerOptions = RunnerOptions(),
    progress: ProgressSink | None = None,
) -> tuple[CheckResult, ...]:
    progress = progress or NullProgress()
    limit = asyncio.Semaphore(options.concurrency)
    skipped: list[CheckResult] = []
    jobs: list[tuple[Check, str]] = []
    for check in registry.checks:
        targets = targets_for(check, ctx)
        if isinstance(targets, Skip):
            skipped.append(
                CheckResult(
                    check_id=check.id,
                    target=ctx.domain,
                    status=Status.SKIPPED,
                    reason=targets.reason,
                    configure=targets.configure,
                )
            )
        else:
            jobs.extend((check, t) for t in targets)

    progress.start(len(jobs) + len(skipped))
    for r in skipped:
        progress.advance(r)

    async def limited(check: Check, target: str) -> CheckResult:
        async with limit:
            outcome = await run_one(check, ctx, target, options)
        progress.advance(outcome)
        return outcome

    try:
        results = await asyncio.gather(*(limited(c, t) for c, t in jobs))
    finally:
        progress.finish()
    order = {c.id: i for i, c in enumerate(registry.checks)}
    return tuple(sorted([*results, *skipped], key=lambda r: (order[r.check_id], r.target)))

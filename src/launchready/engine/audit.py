"""One audit end to end: discovery, checks, ranking, decision. No rendering, no storage."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from launchready import __version__
from launchready.config.model import AcceptedFinding, Config
from launchready.core.check import Scope
from launchready.core.finding import Acceptance, Finding
from launchready.core.net import NetSettings
from launchready.core.protocols import MailTester
from launchready.core.registry import Registry
from launchready.core.run import AuditRun, HostSummary
from launchready.engine.context import AuditContext, Probes, SiteMap
from launchready.engine.decision import decide
from launchready.engine.discovery import discover
from launchready.engine.errors import ResolverUnreachable
from launchready.engine.progress import NullProgress, ProgressSink
from launchready.engine.ranking import rank
from launchready.engine.runner import RunnerOptions, run_checks
from launchready.probes.dns import resolver_problem
from launchready.probes.dnsmap import collect_dns_map

# The report lists at most this many hosts: the site's own names first, then mail hosts.
MAX_LISTED_HOSTS = 100


def _host_summaries(site: SiteMap) -> tuple[tuple[HostSummary, ...], int]:
    """The hosts the report lists, and how many it leaves out (MX hosts never looked up included)."""
    ordered = [h for h in site.hosts if h.found_by != "mx"] + [h for h in site.hosts if h.found_by == "mx"]
    listed = tuple(
        HostSummary(name=h.name, addresses=h.addresses, cname_chain=h.cname_chain, found_by=h.found_by)
        for h in ordered[:MAX_LISTED_HOSTS]
    )
    return listed, max(0, len(ordered) - MAX_LISTED_HOSTS) + site.mx_omitted


async def run_audit(
    domain: str,
    config: Config,
    net: NetSettings,
    registry: Registry,
    *,
    repo: Path | None = None,
    options: RunnerOptions = RunnerOptions(),
    progress: ProgressSink | None = None,
    now: datetime | None = None,
    mail_test: MailTester | None = None,
) -> AuditRun:
    progress = progress or NullProgress()
    started = datetime.now(UTC)
    probes = Probes.open(net)
    try:
        # Only checks of the domain and its web hosts judge DNS answers; a run of environment or
        # repository checks alone (dialled by --connect-to, or offline) does not need a resolver.
        needs_dns = any(c.meta.scope in (Scope.DOMAIN, Scope.WEB_HOST) for c in registry.checks)
        problem = await resolver_problem(net) if needs_dns else None
        if problem is not None:
            raise ResolverUnreachable(f"no DNS resolver reachable (offline? use --nameserver): {problem}")
        progress.phase(f"discovering hosts under {domain} ...")
        site = await discover(domain, config, probes.dns)
        progress.phase(f"{len(site.web_hosts)} web host(s): {', '.join(site.web_hosts) or 'none'}")
        ctx = AuditContext(
            domain=domain,
            config=config,
            net=net,
            probes=probes,
            site=site,
            repo=repo,
            now=now or started,
            mail_test=mail_test,
        )
        results = await run_checks(registry, ctx, options, progress)
        dns_map = None
        if not site.domain_missing:
            dns_map = await collect_dns_map(
                probes.dns,
                domain,
                tuple((h.name, h.found_by) for h in site.hosts),
                dkim_selectors=tuple(config.email.dkim_selectors),
                not_asked=site.omitted_notes,
            )
    finally:
        await probes.close()
    findings, expired = apply_acceptances(
        rank(f for r in results for f in r.findings), config.audit.accept, (now or started).date()
    )
    decision = decide(tuple(f for f in findings if f.accepted is None), results)
    accepted = sum(1 for f in findings if f.accepted is not None)
    notes = []
    if accepted:
        notes.append(f"{accepted} accepted finding(s) not counted (listed as accepted, with who and until when)")
    if expired:
        notes.append(f"{len(expired)} acceptance(s) expired and count again: {', '.join(expired[:3])}")
    if notes:
        decision = decision.model_copy(update={"reasons": (*decision.reasons, *notes)})
    hosts, hosts_omitted = _host_summaries(site)
    return AuditRun(
        tool_version=__version__,
        target=domain,
        started=started,
        finished=datetime.now(UTC),
        decision=decision,
        findings=findings,
        results=results,
        hosts=hosts,
        hosts_omitted=hosts_omitted,
        dns_map=dns_map,
        host_facts=ctx.facts.collected(tuple(h.name for h in site.hosts)),
        baseline=_is_baseline(site),
    )


def apply_acceptances(
    findings: tuple[Finding, ...], accepts: tuple[AcceptedFinding, ...], today: date
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """Mark each finding an unexpired [[audit.accept]] entry names; an acceptance past its
    ``until`` date leaves the finding open. Returns the findings and the expired entries that
    matched a finding (id@target)."""
    by_fingerprint = {a.finding: a for a in accepts}
    out: list[Finding] = []
    expired: list[str] = []
    for finding in findings:
        entry = by_fingerprint.get(finding.fingerprint)
        if entry is None:
            out.append(finding)
        elif entry.until < today:
            expired.append(finding.fingerprint)
            out.append(finding)
        else:
            acceptance = Acceptance(reason=entry.reason, by=entry.by, until=entry.until)
            out.append(finding.model_copy(update={"accepted": acceptance}))
    return tuple(out), tuple(expired)


def _is_baseline(site: SiteMap) -> bool:
    """False when the apex could not be looked up (timeouts, network errors): such a run's findings
    say more about the network than the product, so it must not become the next run's "before"."""
    apex = site.host(site.domain)
    if apex is None:
        return True
    network_failures = ("timeout", "error", "servfail")
    return not (apex.a.status in network_failures and apex.aaaa.status in network_failures)

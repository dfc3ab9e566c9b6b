"""The handover pack as one ``Document`` (report/model.py), a pure function of ``HandoverFacts``.

Sections follow the launch plan's handover: what is configured, where secrets live, how to deploy
and roll back, what to watch, risks fixed / deferred / accepted, and a ranked backlog. Every
section is always there: one that has nothing to show says why ("not configured", "no audit
stored yet") and what to do about it.

Nothing here shows a secret, not even masked: every text from a store or a run passes through
``withheld``, which first masks credentials and then replaces each masked value as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from launchready import __version__
from launchready.checks.dns.owners import KNOWN_PROVIDERS
from launchready.checks.web.edge import EDGE_FACT
from launchready.checks.web.edge import META as EDGE_META
from launchready.config.sections.owners import Owner
from launchready.core.facts import HostFact
from launchready.core.finding import CheckResult, Finding, Status
from launchready.core.masking import mask_credentials
from launchready.core.run import AuditRun, Verdict
from launchready.core.severity import Severity
from launchready.email.psl import organizational_domain
from launchready.handover.facts import DeployEnvironment, HandoverFacts, MonitorView
from launchready.report.model import (
    Banner,
    Block,
    BulletList,
    Column,
    Document,
    Paragraph,
    Section,
    Span,
    Table,
    Text,
    backticks,
)
from launchready.report.view import accepted_findings, actions, human_utc, open_findings

NO_AUDIT = "no audit stored yet — run launchready audit"
NOT_CONFIGURED = "not configured"
# What masking leaves of a secret (core/masking.py: a short prefix and the length): withheld whole.
_MASKED = re.compile(r"\S{0,12}…\(\d+ chars\)")
WITHHELD = "[withheld]"
_DNS_VALUE_LIMIT = 100
_EMAIL_CHECKS = (
    ("SPF", "email.spf"),
    ("DKIM", "email.dkim"),
    ("DMARC", "email.dmarc"),
    ("MTA-STS", "email.mta-sts"),
)
# The registration facts dns.registration records, in the order a reader looks for them.
_REGISTRATION_ORDER = (
    "Registrar",
    "Registration expires",
    "Registration status",
    "DNS host",
    "DNSSEC delegation (RDAP)",
)
_VERDICT_TONE = {Verdict.PAUSE: "bad", Verdict.SHIP_WITH_FIXES: "warn", Verdict.SHIP: "good"}
_STATE_TONE = {"set": "good", "missing": "bad", "empty": "bad", "placeholder": "warn", "not required": "muted"}


def withheld(text: str) -> str:
    """``text`` with every credential, and every value masking left a prefix of, replaced whole."""
    return _MASKED.sub(WITHHELD, mask_credentials(text))


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _code(text: str) -> Span:
    return Span(withheld(text), code=True)


def _severity(severity: Severity) -> Span:
    return Span(severity.value.upper(), strong=severity is Severity.BLOCKER, tone=severity.value)


def _not_configured(what: str, how: str) -> Paragraph:
    return Paragraph((Span(f"{what}: {NOT_CONFIGURED}.", strong=True), " ", *backticks(how)), tone="warn")


def _no_audit() -> Paragraph:
    return Paragraph(Span(NO_AUDIT, strong=True), tone="warn")


def _results(run: AuditRun, check_id: str, target: str | None = None) -> tuple[CheckResult, ...]:
    return tuple(r for r in run.results if r.check_id == check_id and (target is None or r.target == target))


def _could_not_run(results: Iterable[CheckResult]) -> tuple[CheckResult, ...]:
    return tuple(r for r in results if r.status is Status.ERROR)


def build_handover(facts: HandoverFacts) -> Document:
    run = facts.history.latest
    meta = [f"generated {human_utc(facts.generated)}"]
    if run is not None:
        meta.append(f"latest audit #{run.run_id} of {human_utc(run.started)}")
    if facts.config_path:
        meta.append(f"config {facts.config_path}")
    sections = (
        _registration(facts, run),
        _providers(facts, run),
        _hosts(facts, run),
        _email(facts, run),
        _dns_map(run),
        _secrets(facts, run),
        _deploy(facts),
        _watch(facts.monitor),
        _fixed(facts),
        _deferred(run),
        _accepted(run),
        _not_verified(run),
        _backlog(facts, run),
    )
    return Document(
        title=f"Handover: {facts.domain}",
        heading=f"Handover: {facts.domain}",
        sections=sections,
        meta=tuple(meta),
        banner=_banner(facts, run),
        footer="Names only: this document shows no secret value, not even masked.",
        tool_version=__version__,
    )


def _banner(facts: HandoverFacts, run: AuditRun | None) -> Banner:
    if facts.history.error is not None:
        return Banner("Launch state", "HISTORY UNREADABLE", withheld(facts.history.error), "bad")
    if run is None:
        return Banner("Launch state", "NO AUDIT", f"{NO_AUDIT} {facts.domain}", "warn")
    open_ = open_findings(run)
    fixed = len(facts.history.since_first.fixed) if facts.history.since_first else 0
    text = (
        f"{len(open_)} open risk(s), {len(accepted_findings(run))} accepted, {len(run.not_run)} not verified; "
        f"{fixed} fixed since the first of {facts.history.runs} stored audit(s)."
    )
    return Banner("Launch state (latest audit)", run.decision.verdict.value, text, _VERDICT_TONE[run.decision.verdict])


# -- what is configured ------------------------------------------------------------------------------


def _facts_of(run: AuditRun, host: str, check_id: str) -> dict[str, str]:
    return {f.name: f.value for f in run.host_facts if f.host == host and f.check_id == check_id}


def _registration(facts: HandoverFacts, run: AuditRun | None) -> Section:
    title = "Domain and registration"
    if run is None:
        return Section(title, (_no_audit(),))
    blocks: list[Block] = []
    results = _results(run, "dns.registration", facts.domain)
    failed = _could_not_run(results)
    if failed:
        blocks.append(
            Paragraph(f"Registration: could not run: {withheld(failed[0].reason or 'no reason given')}", "bad")
        )
    elif not results:
        blocks.append(
            Paragraph("Registration: not measured in the latest audit (dns.registration did not run).", "warn")
        )
    rows: list[tuple[Text, ...]] = [("Domain", _code(facts.domain))]
    shown = _facts_of(run, facts.domain, "dns.registration")
    for name in sorted(shown, key=lambda n: _REGISTRATION_ORDER.index(n) if n in _REGISTRATION_ORDER else 99):
        rows.append((name, withheld(shown[name])))
    expiring = [f for f in run.findings if f.id == "dns.registration.expires-soon" and f.target == facts.domain]
    for finding in expiring:
        rows.append(("Renewal", Span(withheld(finding.title), strong=True, tone=finding.severity.value)))
    blocks.insert(0, Table((Column("What", wrap=False), Column("Value")), tuple(rows)))
    return Section(title, tuple(blocks), lead="From the registry's RDAP answer in the latest audit.")


def _owner(entry: str | Owner | None) -> Text:
    return Span("nobody named", tone="bad") if entry is None else str(entry)


def _providers(facts: HandoverFacts, run: AuditRun | None) -> Section:
    title = "Providers and their owners"
    owners = facts.config.owners
    blocks: list[Block] = []
    if run is None:
        blocks.append(_no_audit())
    else:
        rows: list[tuple[Text, ...]] = []
        for fact in run.host_facts:
            if fact.host != facts.domain:
                continue
            if fact.check_id == "dns.owners" and fact.name.startswith("Provider ("):
                kind, _, name = fact.name.removeprefix("Provider (").partition("): ")
                held = fact.value.removeprefix("held by ")
                rows.append((name, kind, Span(held, tone="bad") if held == "no owner named" else held))
            elif fact.check_id == "dns.registration" and fact.name in ("Registrar", "DNS host"):
                name, _, held = fact.value.partition(" (held by ")
                rows.append((name, fact.name.lower(), held.removesuffix(")") or Span("no owner named", tone="bad")))
        if rows:
            cols = (Column("Provider"), Column("Kind", wrap=False), Column("Held by"))
            blocks.append(Table(cols, tuple((withheld_text(r[0]), r[1], r[2]) for r in rows)))
        else:
            blocks.append(Paragraph("No provider detected in the latest audit (dns.owners, dns.registration)."))
    if owners:
        rows2 = tuple((_code(key), str(value)) for key, value in sorted(owners.items()))
        blocks.append(Paragraph(Span("Owners named in launchready.toml [owners]:", strong=True)))
        blocks.append(Table((Column("Account", wrap=False), Column("Held by")), rows2))
    else:
        blocks.append(
            _not_configured(
                "[owners]",
                'name who holds each account in launchready.toml: `[owners]` `registrar = { name = "...", role = "..." }`',
            )
        )
    return Section(title, tuple(blocks), lead="Who to call when an account needs attention. Names and roles only.")


def withheld_text(text: Text) -> Text:
    return withheld(text) if isinstance(text, str) else text


def _served_by(cname_chain: tuple[str, ...], addresses: tuple[str, ...], edge: HostFact | None = None) -> str:
    if cname_chain:
        last = cname_chain[-1]
        provider = organizational_domain(last.lower().rstrip("."))
        name = KNOWN_PROVIDERS.get(provider or "", ("", provider or last))[1]
        served = f"{name} (CNAME {' → '.join(cname_chain)})"
    else:
        served = ", ".join(addresses) if addresses else "no address"
    if edge is None:
        return served
    # What web.edge saw in front of the host (a CDN/WAF by its headers or address ranges).
    how = next((line for line in edge.detail if line), "")
    return f"{served}; edge: {edge.value}" + (f" ({how})" if how and edge.value != "none detected" else "")


def _hosts(facts: HandoverFacts, run: AuditRun | None) -> Section:
    title = "Hosts and what serves them"
    if run is None:
        return Section(title, (_no_audit(),))
    environments: dict[str, list[str]] = {}
    for name, environment in facts.config.environments.items():
        host = (environment.base_url.host or "").lower()
        environments.setdefault(host, []).append(name)
    edges = {f.host.lower(): f for f in run.host_facts if f.check_id == EDGE_META.id and f.name == EDGE_FACT}
    rows = tuple(
        (
            _code(host.name),
            withheld(_served_by(host.cname_chain, host.addresses, edges.get(host.name.lower()))),
            ", ".join(environments.get(host.name.lower(), ())) or "-",
            host.found_by,
        )
        for host in run.hosts
    )
    if not rows:
        return Section(title, (Paragraph("The latest audit found no host with an address."),))
    cols = (Column("Host", wrap=False), Column("Served by"), Column("Environment", wrap=False), Column("Found by"))
    return Section(title, (Table(cols, rows),), lead="Every name the latest audit resolved, and where it points.")


def _check_state(run: AuditRun, check_id: str) -> Text:
    results = _results(run, check_id)
    if not results:
        return Span("not checked in the latest audit", tone="muted")
    failed = _could_not_run(results)
    if failed:
        return Span(f"could not run: {withheld(failed[0].reason or '')}", tone="bad")
    findings = [f for r in results for f in r.findings if f.accepted is None]
    if findings:
        worst = max(findings, key=lambda f: f.severity.rank)
        titles = "; ".join(dict.fromkeys(withheld(f.title) for f in findings))
        return (Span(f"{len(findings)} problem(s): ", tone=worst.severity.value), titles)
    if all(r.status is Status.SKIPPED for r in results):
        return Span(f"skipped: {withheld(results[0].reason or '')}", tone="muted")
    return Span("passes", tone="good")


def _published(run: AuditRun, domain: str, kind: str) -> str:
    if run.dns_map is None:
        return ""
    for record in run.dns_map.records:
        value = record.value.strip('"')
        if kind == "SPF" and record.name == domain and value.lower().startswith("v=spf1"):
            return value
        if kind == "DMARC" and record.name == f"_dmarc.{domain}" and value.lower().startswith("v=dmarc1"):
            return value
        if kind == "DKIM" and "_domainkey" in record.name:
            return record.name
    return ""


def _email(facts: HandoverFacts, run: AuditRun | None) -> Section:
    title = "Email senders and authentication"
    email = facts.config.email
    blocks: list[Block] = []
    if not email.sends_mail:
        blocks.append(Paragraph("The config says the domain sends no mail ([email] sends_mail = false)."))
    elif email.senders:
        blocks.append(Paragraph(("Approved senders: ", *_joined(_code(s) for s in email.senders))))
    else:
        blocks.append(
            _not_configured("Email senders", 'list who sends mail as the domain: `[email]` `senders = ["postmark"]`')
        )
    if run is None:
        blocks.append(_no_audit())
        return Section(title, tuple(blocks))
    rows = tuple(
        (
            kind,
            _check_state(run, check_id),
            _code(_trim(_published(run, facts.domain, kind))) if _published(run, facts.domain, kind) else "-",
        )
        for kind, check_id in _EMAIL_CHECKS
    )
    blocks.append(Table((Column("Record", wrap=False), Column("State in the latest audit"), Column("Published")), rows))
    return Section(title, tuple(blocks))


def _joined(parts: Iterable[Span]) -> tuple[str | Span, ...]:
    out: list[str | Span] = []
    for i, part in enumerate(parts):
        if i:
            out.append(", ")
        out.append(part)
    return tuple(out)


def _trim(value: str) -> str:
    return value if len(value) <= _DNS_VALUE_LIMIT else value[: _DNS_VALUE_LIMIT - 1] + "…"


def _dns_map(run: AuditRun | None) -> Section:
    title = "DNS map"
    if run is None:
        return Section(title, (_no_audit(),))
    if run.dns_map is None or not run.dns_map.records:
        return Section(title, (Paragraph("The latest audit stored no DNS map."),))
    rows = tuple((_code(r.name), r.type, _code(_trim(r.value)), r.role) for r in run.dns_map.records)
    blocks: list[Block] = [
        Paragraph(f"DNSSEC: {run.dns_map.dnssec}"),
        Table((Column("Name", wrap=False), Column("Type", wrap=False), Column("Value"), Column("Role")), rows),
    ]
    if run.dns_map.unanswered:
        blocks.append(Paragraph("Not answered (the map is incomplete there):", tone="warn"))
        blocks.append(BulletList(tuple(withheld(u) for u in run.dns_map.unanswered)))
    return Section(title, tuple(blocks), lead="Every record of the names the launch depends on, as the DNS served it.")


# -- where secrets live ---------------------------------------------------------------------------------


def _secrets(facts: HandoverFacts, run: AuditRun | None) -> Section:
    title = "Where secrets live"
    env = facts.env
    blocks: list[Block] = []
    if not env.configured:
        blocks.append(
            _not_configured(
                "Environment contract",
                'declare the variables each environment needs: `[secrets.env]` `example = ".env.example"` and '
                '`sources = { production = "deploy/production.env" }`',
            )
        )
    elif env.error is not None:
        blocks.append(Paragraph(f"The environment contract could not be read: {withheld(env.error)}", tone="bad"))
    else:
        names = list(env.required)
        columns = [Column("Variable", wrap=False), Column("Required because")]
        columns += [Column(p.environment, wrap=False) for p in env.environments]
        rows = []
        for name in names:
            row: list[Text] = [_code(name), env.required[name]]
            for presence in env.environments:
                state = presence.states.get(name, "unreadable") if presence.error is None else "unreadable"
                row.append(Span(state, tone=_STATE_TONE.get(state, "bad")))
            rows.append(tuple(row))
        blocks.append(Table(tuple(columns), tuple(rows)))
        if not env.environments:
            blocks.append(
                _not_configured(
                    "Environment sources",
                    "point the contract at each environment's variables: "
                    '`[secrets.env]` `sources = { production = "deploy/production.env" }`',
                )
            )
        for presence in env.environments:
            if presence.error is not None:
                blocks.append(
                    Paragraph(
                        f"{presence.environment}: could not read {presence.source}: {withheld(presence.error)}", "bad"
                    )
                )
            elif presence.extra:
                blocks.append(
                    Paragraph(
                        (
                            f"Also set in {presence.environment} ({presence.source}): ",
                            *_joined(_code(n) for n in presence.extra),
                        )
                    )
                )
        if env.provider_keys:
            blocks.append(Paragraph(Span("Provider keys found and how to rotate them:", strong=True)))
            key_rows = tuple(
                (_code(k.variable), k.provider, ", ".join(k.environments), backticks(withheld(k.rotate)))
                for k in env.provider_keys
            )
            cols = (Column("Variable", wrap=False), Column("Provider"), Column("Held in", wrap=False), Column("Rotate"))
            blocks.append(Table(cols, key_rows))
        elif env.environments:
            blocks.append(Paragraph("No provider key recognised in the environments' variables."))
    if run is not None:
        leaks = [f for f in run.findings if f.check_id in ("repo.secrets", "repo.deploy-secrets", "repo.env-files")]
        if leaks:
            blocks.append(Paragraph(Span("Credentials the latest audit found in the repository:", strong=True)))
            rows2 = tuple((_code(f.target), withheld(f.title), backticks(withheld(f.remediation))) for f in leaks)
            blocks.append(Table((Column("Where", wrap=False), Column("What"), Column("Rotate and remove")), rows2))
    return Section(title, tuple(blocks), lead="Names only: no value is shown here, not even masked.")


# -- deploy and roll back ---------------------------------------------------------------------------------


def _record_lines(summary: str, prefixes: tuple[str, ...]) -> list[str]:
    return [withheld(line) for line in summary.splitlines() if line.startswith(prefixes)]


def _deploy_environment(env: DeployEnvironment) -> list[Block]:
    blocks: list[Block] = [Paragraph(Span(f"Environment {env.name}", strong=True))]
    items: list[Text] = []
    if env.health_url:
        items.append(("Health route: ", _code(env.health_url)))
    if env.configured:
        items.append(
            ("Deploy: ", _code(f"launchready deploy --env {env.name}"), " runs ", _code(env.command))
            if env.command
            else ("Deploy: ", _code(f"launchready deploy --env {env.name} -- COMMAND"), " (no command in the config)")
        )
        if env.rollback:
            items.append(
                ("Roll back: ", _code(f"launchready rollback --env {env.name}"), " runs ", _code(env.rollback))
            )
        else:
            items.append(
                Span(f"Roll back: no rollback command declared ([smoke.deploy.{env.name}] rollback)", tone="bad")
            )
        if env.rollback_check:
            items.append(("Rollback check command: ", _code(env.rollback_check)))
        items.append(f"Waits {env.health_timeout:g} s for health; a command may run {env.timeout:g} s.")
    blocks.append(BulletList(tuple(items)) if items else Paragraph("-"))
    if not env.configured:
        blocks.append(
            _not_configured(
                f"Deploy gate for {env.name}",
                f'declare how it deploys and rolls back: `[smoke.deploy.{env.name}]` `command = "..."` `rollback = "..."`',
            )
        )
    if env.last is None:
        blocks.append(Paragraph(f"No deploy of {env.name} recorded yet (launchready deploy records each one).", "warn"))
    else:
        last = env.last
        smoke = _record_lines(last.summary, ("smoke after deploy:", "health after deploy:", "deploy command:"))
        tone = "good" if last.outcome == "succeeded" else "bad"
        blocks.append(
            Table(
                (Column("Last deploy", wrap=False), Column("Value")),
                (
                    ("Deploy", f"#{last.id} of {human_utc(last.started)} by {withheld(last.who)}"),
                    ("Version", _code(last.version)),
                    ("Outcome", Span(last.outcome, strong=True, tone=tone)),
                    ("Smoke result", "; ".join(smoke) or "not recorded"),
                    ("Deploys recorded", str(env.deploys)),
                ),
            )
        )
    if env.last_rollback is not None:
        rolled = env.last_rollback
        lines = _record_lines(rolled.summary, ("rollback command:", "health after rollback:", "smoke after rollback:"))
        blocks.append(
            Paragraph(
                f"Last rollback: #{rolled.id} of {human_utc(rolled.started)} ({rolled.outcome}): {'; '.join(lines)}"
            )
        )
    else:
        blocks.append(Paragraph("Last rollback: none recorded."))
    blocks.append(
        Paragraph(
            (
                "Rollback check: its result is not recorded; ",
                _code(f"launchready rollback --check --env {env.name}"),
                " verifies the rollback command, the health route and every notification target now.",
            )
        )
    )
    return blocks


def _deploy(facts: HandoverFacts) -> Section:
    title = "How to deploy and roll back"
    view = facts.deploy
    blocks: list[Block] = []
    if view.error is not None:
        blocks.append(Paragraph(f"Deploy records could not be read: {withheld(view.error)}", "bad"))
    if not view.environments:
        blocks.append(
            _not_configured(
                "Environments",
                'declare each deployed copy: `[environments.production]` `base_url = "https://..."`',
            )
        )
    for env in view.environments:
        blocks.extend(_deploy_environment(env))
    if view.flow_files:
        blocks.append(
            Paragraph(("Smoke flows run after every deploy, from: ", *_joined(_code(f) for f in view.flow_files)))
        )
    else:
        blocks.append(
            _not_configured(
                "Smoke flows", 'write flows that prove sign-up and payments work: `[smoke]` `files = ["smoke.yaml"]`'
            )
        )
    if view.notify:
        blocks.append(Paragraph(Span("Who hears about deploys:", strong=True)))
        blocks.append(BulletList(tuple(withheld(n) for n in view.notify)))
    else:
        blocks.append(
            _not_configured("Deploy notifications", "add `[[smoke.notify]]` targets so a failed deploy is heard")
        )
    return Section(
        title,
        tuple(blocks),
        lead="The deploy gate deploys, waits for health, runs the smoke flows and rolls back on failure.",
    )


# -- what to watch ------------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.2%}"


def _watch(monitor: MonitorView) -> Section:
    title = "What to watch"
    if not monitor.configured:
        return Section(
            title,
            (
                _not_configured(
                    "Monitor",
                    "add a `[monitor]` table to launchready.toml and run `launchready monitor serve`: it derives checks "
                    "from the config (health routes, TLS, mail records)",
                ),
            ),
        )
    blocks: list[Block] = []
    if monitor.checks:
        lead = (
            "No [[monitor.checks]] declared: `monitor serve` derives these from the config:"
            if monitor.derived
            else "Monitored checks:"
        )
        blocks.append(Paragraph(backticks(lead)))
        rows = tuple(
            (_code(c.name), c.kind, _code(c.target), f"every {c.interval_s:g} s", c.why or "-") for c in monitor.checks
        )
        cols = (
            Column("Check", wrap=False),
            Column("Kind", wrap=False),
            Column("Target"),
            Column("Interval", wrap=False),
            Column("Why"),
        )
        blocks.append(Table(cols, rows))
    else:
        blocks.append(Paragraph("No monitored checks: none declared and none could be derived now.", "warn"))
    if monitor.heartbeats:
        blocks.append(Paragraph(Span("Heartbeats (jobs that must ping):", strong=True)))
        blocks.append(
            Table(
                (Column("Heartbeat", wrap=False), Column("Schedule")),
                tuple((_code(n), s) for n, s in monitor.heartbeats),
            )
        )
    else:
        blocks.append(Paragraph("Heartbeats: none declared ([[monitor.heartbeats]])."))
    if monitor.alerts:
        blocks.append(Paragraph(Span("Alert routes:", strong=True)))
        rows3 = tuple(
            (
                _code(a.name),
                a.kind,
                withheld(a.destination),
                a.routes,
                ("recovery notice" if a.recovery else "no recovery notice")
                + (f", reminders every {a.reminder_every_s:g} s" if a.reminder_every_s else ""),
            )
            for a in monitor.alerts
        )
        cols3 = (
            Column("Route", wrap=False),
            Column("Kind", wrap=False),
            Column("Sends to"),
            Column("Hears about"),
            Column("Also"),
        )
        blocks.append(Table(cols3, rows3))
    else:
        blocks.append(
            Paragraph(
                (
                    Span("Alert routes: none.", strong=True),
                    " A failing check is seen only on the dashboard: add ",
                    *backticks('`[[monitor.alerts]]` with `kind = "email"`, `"slack"` or `"webhook"`.'),
                ),
                tone="warn",
            )
        )
    blocks.append(Paragraph(f"SLO: {monitor.slo:.2%} availability over 30 days."))
    store = f"Store {withheld(monitor.store)}: {monitor.store_state}."
    blocks.append(Paragraph(store, tone="" if monitor.store_state == "read" else "warn"))
    if monitor.live_checks:
        rows4 = tuple(
            (
                _code(c.name),
                Span(c.state, tone="good" if c.state == "up" else "bad" if c.state == "down" else "muted"),
                human_utc(c.since) if c.since else "-",
                _percent(c.uptime_30d),
                Span(_percent(c.budget_left), tone="bad" if c.budget_left is not None and c.budget_left < 0 else ""),
                withheld(c.last_reason or "-"),
            )
            for c in monitor.live_checks
        )
        cols4 = (
            Column("Check", wrap=False),
            Column("State", wrap=False),
            Column("Since", wrap=False),
            Column("Uptime 30 d", numeric=True),
            Column("Error budget left", numeric=True),
            Column("Last failure reason"),
        )
        blocks.append(Table(cols4, rows4))
    if monitor.live_heartbeats:
        rows5 = tuple(
            (_code(h.name), h.state, human_utc(h.last_ping) if h.last_ping else "never")
            for h in monitor.live_heartbeats
        )
        blocks.append(
            Table(
                (Column("Heartbeat", wrap=False), Column("State", wrap=False), Column("Last ping", wrap=False)), rows5
            )
        )
    return Section(
        title, tuple(blocks), lead="What the monitor checks, who it alerts, and how much error budget is left."
    )


# -- risks ----------------------------------------------------------------------------------------------------


def _finding_rows(findings: Iterable[Finding], *, fix: bool) -> tuple[tuple[Text, ...], ...]:
    rows = []
    for f in findings:
        # The id and target ride with the title: two more narrow columns would squeeze the fix on paper.
        risk = (withheld(f.title), " — ", _code(f.id), " on ", _code(f.target))
        row: list[Text] = [_severity(f.severity), risk]
        if fix:
            row.append(backticks(withheld(f.remediation)))
        rows.append(tuple(row))
    return tuple(rows)


_RISK_COLUMNS = (Column("Severity", wrap=False), Column("Risk"))


def _fixed(facts: HandoverFacts) -> Section:
    title = "Risks fixed since the first audit"
    history = facts.history
    if history.latest is None:
        return Section(title, (_no_audit(),))
    first = history.first
    if history.since_first is None or first is None:
        return Section(
            title, (Paragraph("Only one audit is stored: nothing to compare with yet. Audit again after fixing."),)
        )
    lead = f"Audit #{first.run_id} of {human_utc(first.started)} compared with the latest, #{history.latest.run_id}."
    if not history.since_first.fixed:
        return Section(title, (Paragraph("No risk of the first audit is fixed yet."),), lead=lead)
    return Section(title, (Table(_RISK_COLUMNS, _finding_rows(history.since_first.fixed, fix=False)),), lead=lead)


def _deferred(run: AuditRun | None) -> Section:
    title = "Risks deferred (still open)"
    if run is None:
        return Section(title, (_no_audit(),))
    findings = open_findings(run)
    if not findings:
        return Section(title, (Paragraph(Span("No open risk in the latest audit.", tone="good")),))
    return Section(
        title,
        (Table((*_RISK_COLUMNS, Column("Fix")), _finding_rows(findings, fix=True)),),
        lead="Open in the latest audit, worst first, each with its fix.",
    )


def _accepted(run: AuditRun | None) -> Section:
    title = "Risks accepted"
    if run is None:
        return Section(title, (_no_audit(),))
    findings = accepted_findings(run)
    if not findings:
        return Section(title, (Paragraph(backticks("None accepted (`[[audit.accept]]` in launchready.toml).")),))
    rows = tuple(
        (
            _severity(f.severity),
            withheld(f.title),
            _code(f.fingerprint),
            f.accepted.by if f.accepted else "",
            f.accepted.reason if f.accepted else "",
            f.accepted.until.isoformat() if f.accepted else "",
        )
        for f in findings
    )
    cols = (
        Column("Severity", wrap=False),
        Column("Risk"),
        Column("Finding", wrap=False),
        Column("Accepted by"),
        Column("Why"),
        Column("Until", wrap=False),
    )
    return Section(title, (Table(cols, rows),), lead="Reported but not counted, until the date given.")


def _not_verified(run: AuditRun | None) -> Section:
    title = "Not verified"
    if run is None:
        return Section(title, (_no_audit(),))
    rows: list[tuple[Text, ...]] = [
        (_code(r.check_id), _code(r.target), Span("could not run", tone="bad"), withheld(r.reason or ""))
        for r in run.not_run
    ]
    rows += [
        (
            _code(r.check_id),
            _code(r.target),
            Span("not configured", tone="warn"),
            backticks(withheld(r.configure or "")),
        )
        for r in run.not_configured
    ]
    if not rows:
        return Section(title, (Paragraph(Span("Every check of the latest audit ran.", tone="good")),))
    cols = (
        Column("Check", wrap=False),
        Column("Target", wrap=False),
        Column("Status", wrap=False),
        Column("Why / what to add"),
    )
    return Section(
        title, (Table(cols, tuple(rows)),), lead="Nothing is known about these: they are neither passes nor risks."
    )


# -- backlog ----------------------------------------------------------------------------------------------------


def _backlog(facts: HandoverFacts, run: AuditRun | None) -> Section:
    title = "Next steps (ranked)"
    rows: list[tuple[Text, Text, Text]] = []
    todo = Span("CONFIGURE", tone="warn")
    if run is None:
        rows.append((Span("AUDIT", tone="warn"), "No audit stored yet", _code(f"launchready audit {facts.domain}")))
    else:
        for action in actions(run):
            targets = ", ".join(withheld(t) for t in action.targets[:3]) + (" …" if len(action.targets) > 3 else "")
            rows.append(
                (_severity(action.severity), f"{withheld(action.title)} ({targets})", backticks(withheld(action.fix)))
            )
        for result in run.not_run:
            what = f"{result.check_id} on {withheld(result.target)} could not run: {withheld(result.reason or '')}"
            rows.append((Span("VERIFY", tone="warn"), what, "Fix what stopped it, then audit again."))
        for result in run.not_configured:
            rows.append((todo, f"{result.check_id} is not configured", backticks(withheld(result.configure or ""))))
    for env in facts.deploy.environments:
        if env.configured and not env.rollback:
            rows.append(
                (todo, f"No rollback command for {env.name}", _code(f'[smoke.deploy.{env.name}] rollback = "..."'))
            )
    if not any(e.configured for e in facts.deploy.environments):
        rows.append((todo, "The deploy gate is not configured", _code("[smoke.deploy.production]")))
    if not facts.monitor.configured:
        rows.append((todo, "Nothing watches the product after launch", _code("[monitor]")))
    elif not facts.monitor.alerts:
        rows.append((todo, "The monitor alerts nobody", _code("[[monitor.alerts]]")))
    if not facts.env.configured:
        rows.append((todo, "The environment contract is not declared", _code("[secrets.env]")))
    if not rows:
        done = Span("Nothing left to do: keep the monitor running and audit after each change.", tone="good")
        return Section(title, (Paragraph(done),))
    numbered = tuple((str(i), kind, what, how) for i, (kind, what, how) in enumerate(rows, start=1))
    cols = (Column("#", numeric=True, wrap=False), Column("Kind", wrap=False), Column("What"), Column("How"))
    return Section(
        title,
        (Table(cols, numbered),),
        lead="Open risks worst first, then what could not be verified, then what is not set up yet.",
    )

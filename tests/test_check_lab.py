"""Every built-in check against the lab over real loopback DNS/TLS/HTTP: caught with its fault, clean without.

Each fault gets a lab of its own, so a finding can only come from that fault; the clean lab is
shared by the "no findings" tests. Checks are run the way the runner fans them out (every target
of their scope), but directly, so a CouldNotRun or NotApplicable shows up as itself.
"""

from __future__ import annotations

import asyncio
import socket
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from netutil import closed_port
from perfutil import FEED_URL, SEARCH_URL, perf_config

from launchready.config.model import Config, Environment
from launchready.core.check import Check, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.net import ConnectTo, Nameserver, NetSettings
from launchready.core.registry import load_registry
from launchready.engine.context import AuditContext, Probes
from launchready.engine.discovery import discover
from launchready.lab.assets import site_assets
from launchready.lab.faults import FAULTS, LAB_DOMAIN
from launchready.lab.lab import Lab
from launchready.perf.chromium import find_chromium

APEX = LAB_DOMAIN
WWW, APP, ADMIN, API = (f"{label}.{LAB_DOMAIN}" for label in ("www", "app", "admin", "api"))
# A name the lab's DNS does not serve, routed by --connect-to to a port nobody listens on.
DEAD = f"down.{LAB_DOMAIN}"

Outcome = list[Finding] | CouldNotRun | NotApplicable


def net_for(lab: Lab, *, extra: tuple[ConnectTo, ...] = (), timeout: float = 5.0) -> NetSettings:
    # Specific routes first: NetSettings.route takes the first rule that matches.
    return lab.net_settings(first=extra, timeout=timeout)


def lab_config(lab: Lab, **changes: object) -> Config:
    """The configuration the lab itself publishes, optionally changed (e.g. more environments).

    Guessing common subdomain names is turned off: the lab's hosts are all declared in its
    configuration, and fifty extra lookups per test would only make the suite slower.
    """
    data = tomllib.loads(lab.config_toml())
    data.setdefault("audit", {})["discover"] = False
    data.update(changes)
    return Config.model_validate(data)


async def _run_check(
    check: Check, net: NetSettings, config: Config, targets: tuple[str, ...] | None
) -> dict[str, Outcome]:
    probes = Probes.open(net)
    try:
        site = await discover(APEX, config, probes.dns)
        repo = Path(config.secrets.repo) if config.secrets.repo else None  # the lab's app repository
        ctx = AuditContext(domain=APEX, config=config, net=net, probes=probes, site=site, repo=repo)
        if targets is None:
            scope = check.meta.scope
            if scope is Scope.DOMAIN:
                targets = (APEX,)
            elif scope is Scope.WEB_HOST:
                targets = site.web_hosts
            elif scope is Scope.REPO:
                targets = (str(repo),) if repo else ()
            else:
                targets = tuple(config.environments)
        outcomes: dict[str, Outcome] = {}
        for target in targets:
            try:
                outcomes[target] = list(await check.run(ctx, target))
            except (CouldNotRun, NotApplicable) as exc:
                outcomes[target] = exc
        return outcomes
    finally:
        await probes.close()


def run_check(
    check_id: str,
    lab: Lab,
    *,
    config: Config | None = None,
    targets: tuple[str, ...] | None = None,
    extra: tuple[ConnectTo, ...] = (),
    timeout: float = 5.0,
) -> dict[str, Outcome]:
    check = load_registry().get(check_id)
    net = net_for(lab, extra=extra, timeout=timeout)
    return asyncio.run(_run_check(check, net, config or lab_config(lab), targets))


def findings_of(outcomes: dict[str, Outcome]) -> list[Finding]:
    for target, outcome in outcomes.items():
        assert isinstance(outcome, list), f"{target}: {type(outcome).__name__}: {outcome}"
    return [f for outcome in outcomes.values() if isinstance(outcome, list) for f in outcome]


# -- clean: every check, every target, no finding and no "could not run" --------------------

ALL_CHECKS = tuple(c.id for c in load_registry().checks)
OPT_IN = frozenset({"perf.load", "perf.growth", "perf.pageload"})


@pytest.mark.parametrize("check_id", ALL_CHECKS)
def test_clean_lab_passes(lab: Lab, check_id: str) -> None:
    outcomes = run_check(check_id, lab)
    if check_id in OPT_IN:
        # Load and growth tests only run when the config opts in (tests/test_check_perf_*.py run them
        # on a clean lab); the page load only where Chromium is installed.
        if all(isinstance(o, NotApplicable) for o in outcomes.values()) and (
            check_id != "perf.pageload" or not find_chromium()
        ):
            return
    assert outcomes, f"{check_id} had no target in the lab"
    assert findings_of(outcomes) == []
    if load_registry().get(check_id).meta.scope is Scope.WEB_HOST:
        assert set(outcomes) == {APEX, WWW, APP, ADMIN, API}


# -- caught: each fault alone makes exactly its finding(s) appear ---------------------------


@dataclass(frozen=True)
class Caught:
    fault: str
    check_id: str
    expected: frozenset[tuple[str, str]]  # (finding id, finding target)
    # For checks that need the config to opt in (perf load/growth): the config for the running lab.
    config: Callable[[Lab], Config] | None = None


CAUGHT = (
    Caught("apex-no-address", "dns.apex", frozenset({("dns.apex.no-address", APEX)})),
    Caught("cert-expired", "tls.certificate", frozenset({("tls.certificate.expired", ADMIN)})),
    Caught("cert-expiring-soon", "tls.certificate", frozenset({("tls.certificate.expires-soon", APP)})),
    Caught("cert-wrong-host", "tls.certificate", frozenset({("tls.certificate.hostname-mismatch", API)})),
    Caught("cert-self-signed", "tls.certificate", frozenset({("tls.certificate.untrusted", WWW)})),
    Caught("http-no-redirect", "web.https-redirect", frozenset({("web.https-redirect.missing", APEX)})),
    Caught("no-hsts", "web.hsts", frozenset({("web.hsts.missing", h) for h in (APEX, WWW, APP, ADMIN, API)})),
    Caught(
        "public-cache-private-page",
        "web.private-cache",
        frozenset({("web.private-cache.shared-cacheable", f"https://{APP}/dashboard")}),
    ),
    Caught("spf-missing", "email.spf", frozenset({("email.spf.missing", APEX)})),
    Caught("spf-plus-all", "email.spf", frozenset({("email.spf.permissive-all", APEX)})),
    Caught("dmarc-missing", "email.dmarc", frozenset({("email.dmarc.missing", APEX)})),
    Caught("health-down", "app.health", frozenset({("app.health.down", f"https://{APP}/health")})),
    # The public surface (issue 4)
    Caught(
        "tls-legacy",
        "tls.protocols",
        frozenset({("tls.protocols.legacy-accepted", h) for h in (APEX, WWW, APP, ADMIN, API)}),
    ),
    Caught("cert-weak-key", "tls.key-strength", frozenset({("tls.key-strength.weak-key", API)})),
    Caught(
        "caa-forbids-issuer",
        "tls.caa",
        frozenset({("tls.caa.issuer-not-permitted", h) for h in (APEX, WWW, APP, ADMIN, API)}),
    ),
    Caught(
        "http-redirect-drops-path",
        "web.https-redirect",
        frozenset({("web.https-redirect.drops-path", h) for h in (APEX, WWW, APP, ADMIN, API)}),
    ),
    Caught("hsts-short", "web.hsts", frozenset({("web.hsts.short-max-age", h) for h in (APEX, WWW, APP, ADMIN, API)})),
    Caught("hsts-http-only", "web.hsts", frozenset({("web.hsts.http-only", h) for h in (APEX, WWW, APP, ADMIN, API)})),
    Caught("hsts-no-subdomains", "web.hsts", frozenset({("web.hsts.no-include-subdomains", APEX)})),
    Caught("hsts-subdomain-no-https", "web.hsts", frozenset({("web.hsts.subdomain-not-https", APEX)})),
    Caught("www-serves-content", "web.canonical-host", frozenset({("web.canonical-host.both-serve", APEX)})),
    Caught("redirect-chain", "web.links", frozenset({("web.links.redirect-chain", APEX)})),
    Caught("redirect-loop", "web.links", frozenset({("web.links.redirect-loop", APEX)})),
    Caught("temporary-move", "web.links", frozenset({("web.links.temporary-redirect", APEX)})),
    Caught("lost-query", "web.links", frozenset({("web.links.lost-query", APEX)})),
    Caught("broken-link", "web.links", frozenset({("web.links.broken", APEX)})),
    Caught("redirect-map-broken", "web.redirect-map", frozenset({("web.redirect-map.broken", APEX)})),
    Caught("mixed-content", "web.mixed-content", frozenset({("web.mixed-content.passive", APEX)})),
    Caught(
        "missing-headers",
        "web.headers",
        frozenset(
            {
                (f"web.headers.{p}", h)
                for p in ("csp-missing", "framing-missing", "referrer-missing", "nosniff-missing", "version-leak")
                for h in (APEX, APP, ADMIN)
            }
            | {("web.headers.version-leak", WWW), ("web.headers.version-leak", API)}
        ),
    ),
    Caught("external-script-no-sri", "web.headers", frozenset({("web.headers.sri-missing", APEX)})),
    Caught("cors-wildcard-credentials", "web.headers", frozenset({("web.headers.cors-credentials", APP)})),
    Caught(
        "assets-uncacheable",
        "web.caching",
        frozenset({("web.caching.asset-uncacheable", h) for h in (APEX, APP, ADMIN)}),
    ),
    Caught(
        "vary-cookie-public",
        "web.private-cache",
        frozenset({("web.private-cache.personalised-shared-cacheable", f"https://{APEX}/pricing")}),
    ),
    Caught("html-cache-stale", "web.caching", frozenset({("web.caching.html-stale", APEX)})),
    Caught("no-cdn", "web.edge", frozenset({("web.edge.no-cdn", h) for h in (APEX, WWW, APP)})),
    Caught("exposed-origin", "web.edge", frozenset({("web.edge.exposed-origin", APEX)})),
    Caught("open-admin", "web.admin-surface", frozenset({("web.admin-surface.open", ADMIN)})),
    # Performance (issue 7)
    Caught("feed-n-plus-one", "perf.growth", frozenset({("perf.growth.latency-grows", FEED_URL)}), perf_config),
    Caught("search-no-index", "perf.growth", frozenset({("perf.growth.latency-grows", SEARCH_URL)}), perf_config),
    Caught(
        "etag-ignored",
        "perf.cache",
        frozenset(
            ("perf.cache.no-revalidation", f"https://{host}{asset.path}")
            for host in (APEX, APP)
            for asset in site_assets().all
        ),
    ),
    Caught("heavy-page", "perf.pageload", frozenset({("perf.pageload.lcp-over-budget", f"https://{APP}/")})),
    Caught(
        "session-drops-under-load",
        "perf.load",
        frozenset(
            {
                ("perf.load.auth-lost", f"https://{APP}/feed"),
                ("perf.load.error-rate-over-budget", f"https://{APP}/feed"),
            }
        ),
        lambda lab: perf_config(lab, endpoints=[{"name": "member-feed", "path": "/feed", "login_flow": "login"}]),
    ),
    Caught(
        "invite-accept-500", "app.smoke", frozenset({("app.smoke.signup-flow-failed", f"https://{APP} flow:invite")})
    ),
    Caught(
        "verification-email-missing",
        "app.smoke",
        frozenset({("app.smoke.signup-flow-failed", f"https://{APP} flow:signup")}),
    ),
    Caught(
        "webhook-rejects-valid",
        "app.smoke",
        frozenset({("app.smoke.payments-flow-failed", f"https://{APP} flow:checkout")}),
    ),
    Caught(
        "dashboard-loses-auth", "app.smoke", frozenset({("app.smoke.login-flow-failed", f"https://{APP} flow:login")})
    ),
    # DNS and email authentication (issue 3)
    Caught("spf-multiple", "email.spf", frozenset({("email.spf.multiple", APEX)})),
    Caught(
        "spf-too-many-lookups",
        "email.spf",
        frozenset({("email.spf.too-many-lookups", APEX), ("email.spf.undeclared-include", APEX)}),
    ),
    Caught("dmarc-none-no-rua", "email.dmarc", frozenset({("email.dmarc.none-no-rua", APEX)})),
    Caught("dkim-weak-key", "email.dkim", frozenset({("email.dkim.weak-key", f"lab._domainkey.{APEX}")})),
    Caught("dkim-revoked", "email.dkim", frozenset({("email.dkim.revoked", f"lab._domainkey.{APEX}")})),
    Caught(
        "dkim-missing-selector", "email.dkim", frozenset({("email.dkim.selector-missing", f"lab._domainkey.{APEX}")})
    ),
    Caught("mx-cname", "email.mx", frozenset({("email.mx.cname-target", APEX)})),
    Caught("dangling-cname", "dns.cname", frozenset({("dns.cname.takeover-risk", f"shop.{APEX}")})),
    Caught("ns-serial-mismatch", "dns.ns", frozenset({("dns.ns.serial-mismatch", APEX)})),
    Caught("ns-down", "dns.ns", frozenset({("dns.ns.not-answering", f"ns2.{APEX}")})),
    Caught("subdomain-missing", "dns.hosts", frozenset({("dns.hosts.declared-missing", f"status.{APEX}")})),
    Caught("cname-unclaimed-bucket", "dns.cname", frozenset({("dns.cname.takeover-risk", f"assets.{APEX}")})),
    Caught(
        "mta-sts-bad-policy",
        "email.mta-sts",
        frozenset(
            {
                (f"email.mta-sts.{p}", f"https://mta-sts.{APEX}/.well-known/mta-sts.txt")
                for p in ("testing-mode", "mx-mismatch")
            }
        ),
    ),
    Caught("tls-rpt-missing", "email.tls-rpt", frozenset({("email.tls-rpt.missing", APEX)})),
    Caught(
        "dmarc-sender-unaligned",
        "email.dmarc",
        frozenset({("email.dmarc.sender-cannot-align", f"{APEX} sender:postmark")}),
    ),
    # The app's repository and deploy configuration (issue 5): lab/repo.py
    Caught("repo-secret-in-tree", "repo.secrets", frozenset({("repo.secrets.exposed", "app/payments.py:4")})),
    Caught("repo-secret-in-history", "repo.secrets", frozenset({("repo.secrets.in-history", "app/storage.py:4")})),
    Caught(
        "repo-env-committed",
        "repo.env-files",
        frozenset({("repo.env-files.tracked", ".env:1"), ("repo.env-files.not-ignored", ".gitignore:1")}),
    ),
    Caught("repo-deploy-secret", "repo.deploy-secrets", frozenset({("repo.deploy-secrets.hardcoded", "Dockerfile:5")})),
    Caught(
        "env-production-missing-var",
        "env.contract",
        frozenset({("env.contract.flow-variable-missing", "production:POSTMARK_TOKEN")}),
    ),
)


def test_every_fault_has_a_caught_case() -> None:
    assert {c.fault for c in CAUGHT} == {f.name for f in FAULTS}
    for case in CAUGHT:
        [fault] = [f for f in FAULTS if f.name == case.fault]
        assert {fid for fid, _ in case.expected} == set(fault.triggers), case.fault


@pytest.mark.parametrize("case", CAUGHT, ids=lambda c: c.fault)
def test_fault_is_caught(case: Caught) -> None:
    if case.check_id == "perf.pageload" and find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): page loads cannot be measured")
    with Lab(faults=[case.fault]) as lab:
        outcomes = run_check(case.check_id, lab, config=case.config(lab) if case.config else None)
    # A busy machine may make the load generator flag itself (info); that is not the fault's finding.
    found = {(f.id, f.target) for f in findings_of(outcomes) if f.id != "perf.load.generator-bound"}
    assert found == case.expected


# -- what the lab findings say: the evidence and the exact fix ------------------------------


def test_caught_findings_carry_evidence_and_concrete_fixes() -> None:
    faults = ["apex-no-address", "spf-missing", "cert-expired", "public-cache-private-page", "health-down"]
    with Lab(faults=faults) as lab:
        [no_address] = findings_of(run_check("dns.apex", lab))
        [spf] = findings_of(run_check("email.spf", lab))
        [expired] = findings_of(run_check("tls.certificate", lab, targets=(ADMIN,)))
        [cache] = findings_of(run_check("web.private-cache", lab, targets=(APP,)))
        [health] = findings_of(run_check("app.health", lab))
    # www still resolves, so the fix names the exact record with its address.
    assert f"`{APEX}. 300 IN A 127.0.0.1`" in no_address.remediation
    # The lab's configuration lists its sender, so the SPF record is exact.
    assert f'`{APEX}. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`' in spf.remediation
    assert "verification error: certificate has expired" in expired.evidence
    assert any(e.startswith("expired ") and e.endswith("day(s) ago") for e in expired.evidence)
    assert "sets cookie(s): session" in cache.evidence
    assert "Cache-Control: public, max-age=600" in cache.evidence
    assert f"GET https://{APP}/health -> 503" in health.evidence


# -- failures of the network: findings where the site is at fault, "could not run" otherwise --


def test_dead_environment_is_unreachable(lab: Lab) -> None:
    config = lab_config(lab)
    config = config.model_copy(
        update={"environments": {**config.environments, "edge": Environment(base_url=f"https://{DEAD}")}}
    )
    dead = ConnectTo(DEAD, 443, "127.0.0.1", closed_port())
    outcomes = run_check("app.health", lab, config=config, extra=(dead,))
    assert findings_of({"production": outcomes["production"]}) == []
    [finding] = findings_of({"edge": outcomes["edge"]})
    assert finding.id == "app.health.unreachable"
    assert "error: connection refused" in finding.evidence


def test_nothing_on_443_is_unreachable(lab: Lab) -> None:
    dead = ConnectTo(DEAD, 443, "127.0.0.1", closed_port())
    outcomes = run_check("tls.certificate", lab, targets=(DEAD,), extra=(dead,))
    [finding] = findings_of(outcomes)
    assert finding.id == "tls.certificate.unreachable"
    assert finding.target == DEAD


def test_port_80_refused_is_not_a_finding(lab: Lab) -> None:
    refused = ConnectTo(APP, 80, "127.0.0.1", closed_port())
    assert run_check("web.https-redirect", lab, targets=(APP,), extra=(refused,)) == {APP: []}


def test_nothing_on_443_makes_hsts_could_not_run(lab: Lab) -> None:
    dead = ConnectTo(APP, 443, "127.0.0.1", closed_port())
    outcomes = run_check("web.hsts", lab, targets=(APP,), extra=(dead,))
    assert isinstance(outcomes[APP], CouldNotRun)


def test_name_missing_from_the_zone_is_nxdomain(lab: Lab) -> None:
    [finding] = findings_of(run_check("dns.apex", lab, targets=(DEAD,)))
    assert finding.id == "dns.apex.nxdomain"


def test_silent_nameserver_is_unresolvable_and_email_checks_could_not_run(lab: Lab) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives queries, never answers
        net = NetSettings(nameservers=(Nameserver("127.0.0.1", silent.getsockname()[1]),), timeout=0.3)
        config = lab_config(lab, subdomains=[])
        registry = load_registry()

        async def outcome(ctx: AuditContext, check_id: str) -> Outcome:
            try:
                return list(await registry.get(check_id).run(ctx, APEX))
            except (CouldNotRun, NotApplicable) as exc:
                return exc

        async def run_all() -> dict[str, Outcome]:
            probes = Probes.open(net)
            try:
                site = await discover(APEX, config, probes.dns)
                ctx = AuditContext(domain=APEX, config=config, net=net, probes=probes, site=site)
                ids = ("dns.apex", "email.spf", "email.dmarc")
                return dict(zip(ids, await asyncio.gather(*(outcome(ctx, i) for i in ids)), strict=True))
            finally:
                await probes.close()

        outcomes = asyncio.run(run_all())
    [finding] = findings_of({"dns.apex": outcomes["dns.apex"]})
    assert finding.id == "dns.apex.unresolvable"
    assert any("TIMEOUT" in e for e in finding.evidence)
    assert isinstance(outcomes["email.spf"], CouldNotRun)
    assert isinstance(outcomes["email.dmarc"], CouldNotRun)

"""Every built-in check against the lab over real loopback DNS/TLS/HTTP: caught with its fault, clean without.

Each fault gets a lab of its own, so a finding can only come from that fault; the clean lab is
shared by the "no findings" tests. Checks are run the way the runner fans them out (every target
of their scope), but directly, so a CouldNotRun or NotApplicable shows up as itself.
"""

from __future__ import annotations

import asyncio
import re
import socket
import tomllib
from pathlib import Path

import pytest
from netutil import closed_port
from perfutil import perf_table

from launchready.config.model import Config, Environment
from launchready.core.check import Check, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.labfault import LabFault
from launchready.core.net import ConnectTo, Nameserver, NetSettings
from launchready.core.registry import load_registry
from launchready.engine.context import AuditContext, Probes
from launchready.engine.discovery import discover
from launchready.lab.assets import site_assets
from launchready.lab.faults import LAB_DOMAIN, faults
from launchready.lab.lab import Lab
from launchready.mailtest.run import mail_tester
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
        # The mail test is a feature the CLI hands the audit; handed here the same way.
        tester = mail_tester(config, net) if config.email.test else None
        ctx = AuditContext(domain=APEX, config=config, net=net, probes=probes, site=site, repo=repo, mail_test=tester)
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

REGISTRY = load_registry()
ALL_CHECKS = tuple(c.id for c in REGISTRY.checks)


def check_of(fault: LabFault) -> Check:
    meta, _ = REGISTRY.find_spec(fault.triggers[0])
    return REGISTRY.get(meta.id)


def opts_in(check_id: str) -> bool:
    """Checks that run only when the configuration opts in: every fault of theirs changes the config."""
    own = [f for f in faults() if check_of(f).id == check_id]
    return bool(own) and all(f.lab_config for f in own)


# Checks whose verdicts rest on measured timings (latency budgets, growth factors, page loads):
# their lab tests run alone under pytest-xdist (tests/conftest.py), as other tests' load would
# distort what they measure.
TIMED_CHECKS = frozenset({"perf.growth", "perf.load", "perf.pageload"})


def timed(check_id: str) -> tuple[pytest.MarkDecorator, ...]:
    return (pytest.mark.alone,) if check_id in TIMED_CHECKS else ()


def timed_last(params: list[pytest.ParameterSet]) -> list[pytest.ParameterSet]:
    """The ``alone`` cases after the others, one after another: they wait once for the rest to stop."""
    return sorted(params, key=lambda param: any(mark.name == "alone" for mark in param.marks))


def needs_missing_tool(check: Check) -> bool:
    # The page load is measured in headless Chromium; without it the check has nothing to run.
    return "chromium" in check.meta.probes and find_chromium() is None


@pytest.mark.parametrize("check_id", timed_last([pytest.param(c, marks=timed(c)) for c in ALL_CHECKS]))
def test_clean_lab_passes(lab: Lab, check_id: str) -> None:
    check = REGISTRY.get(check_id)
    outcomes = run_check(check_id, lab)
    if opts_in(check_id) or needs_missing_tool(check):
        # Load and growth tests only run when the config opts in (tests/test_check_perf_*.py run them
        # on a clean lab); the page load only where Chromium is installed.
        if all(isinstance(o, NotApplicable) for o in outcomes.values()):
            return
    assert outcomes, f"{check_id} had no target in the lab"
    assert findings_of(outcomes) == []
    if check.meta.scope is Scope.WEB_HOST:
        assert set(outcomes) == {APEX, WWW, APP, ADMIN, API}


# -- caught: each fault alone makes exactly its finding(s) appear ---------------------------
# What each fault trips is declared beside its check (checks/<area>/lab_faults.py).


def expected_findings(fault: LabFault) -> frozenset[tuple[str, str]]:
    """The fault's declared (finding id, target) pairs with the lab's domain and asset paths filled in."""
    expanded: set[tuple[str, str]] = set()
    for finding_id, template in fault.caught:
        paths = [asset.path for asset in site_assets().all] if "{asset}" in template else [""]
        expanded.update((finding_id, template.format(domain=LAB_DOMAIN, asset=path)) for path in paths)
    return frozenset(expanded)


def config_for(fault: LabFault, lab: Lab) -> Config | None:
    """The lab's configuration with the fault's declared tables merged in (None: unchanged)."""
    if not fault.lab_config:
        return None
    data = tomllib.loads(lab.config_toml())
    data.setdefault("audit", {})["discover"] = False
    for table, changes in fault.lab_config.items():
        # perf: the tests' short, opted-in load settings (tests/perfutil.py) plus the fault's changes.
        data[table] = perf_table(lab, **changes) if table == "perf" else {**data.get(table, {}), **changes}
    return Config.model_validate(data)


def test_fault_targets_name_the_lab_and_fit_their_check_scope() -> None:
    """Each declared target is where the check's scope says a finding lands (domain checks on the
    domain's names, web-host checks on a host or its URLs, repo checks on file:line)."""
    for fault in faults():
        scope = check_of(fault).meta.scope
        for finding_id, target in expected_findings(fault):
            if scope is Scope.REPO:
                assert re.fullmatch(r"[\w./-]+:\d+", target), (fault.name, finding_id, target)
            elif scope is Scope.ENVIRONMENT and "//" not in target:
                assert re.fullmatch(r"[a-z][\w-]*:[A-Z][A-Z0-9_]*", target), (fault.name, finding_id, target)
            else:
                host = target.split("//", 1)[-1].split("/", 1)[0].split(" ", 1)[0]
                assert host == APEX or host.endswith("." + APEX), (fault.name, finding_id, target)


@pytest.mark.parametrize(
    "fault", timed_last([pytest.param(f, marks=timed(check_of(f).id), id=f.name) for f in faults()])
)
def test_fault_is_caught(fault: LabFault) -> None:
    check = check_of(fault)
    if needs_missing_tool(check):
        pytest.skip("Chromium is not installed (apt-get install chromium): page loads cannot be measured")
    with Lab(faults=[fault.name], **fault.lab_settings) as lab:
        outcomes = run_check(check.id, lab, config=config_for(fault, lab))
    # A busy machine may make the load generator flag itself (info); that is not the fault's finding.
    found = {(f.id, f.target) for f in findings_of(outcomes) if f.id != "perf.load.generator-bound"}
    assert found == expected_findings(fault)


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

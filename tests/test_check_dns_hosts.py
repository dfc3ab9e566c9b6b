"""dns.hosts: www and the declared names resolve (judged on DNS answers)."""

from __future__ import annotations

import pytest

from launchready.checks.dns.hosts import NameFacts, judge
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Severity
from launchready.probes.dns import DnsAnswer, DnsStatus

DOMAIN = "shop.test"
APEX = (DnsAnswer(DOMAIN, "A", "ok", ("192.0.2.10",)), DnsAnswer(DOMAIN, "AAAA", "nodata"))


def facts(
    name: str, role: str, status: DnsStatus = "ok", *, envs: tuple[str, ...] = (), alias: bool = False
) -> NameFacts:
    a = DnsAnswer(name, "A", status, ("192.0.2.10",) if status == "ok" else ())
    aaaa = DnsAnswer(name, "AAAA", "nodata" if status == "ok" else status)
    cname = DnsAnswer(name, "CNAME", "ok", ("gone.example.",)) if alias else DnsAnswer(name, "CNAME", "nxdomain")
    return NameFacts(name, role, a, aaaa, None if status == "ok" else cname, envs)  # type: ignore[arg-type]


def test_everything_resolving_passes() -> None:
    names = (facts(f"www.{DOMAIN}", "www"), facts(f"app.{DOMAIN}", "environment", envs=("production",)))
    assert judge(DOMAIN, APEX, names) == []


def test_declared_name_missing_is_medium_and_environment_host_missing_is_high() -> None:
    [status] = judge(DOMAIN, APEX, (facts(f"status.{DOMAIN}", "declared", "nxdomain"),))
    assert status.id == "dns.hosts.declared-missing" and status.severity is Severity.MEDIUM
    assert status.target == f"status.{DOMAIN}"
    assert f"`status.{DOMAIN}. 300 IN A <server IP>`" in status.remediation and "remove 'status'" in status.remediation
    [app] = judge(DOMAIN, APEX, (facts(f"app.{DOMAIN}", "environment", "nodata", envs=("production",)),))
    assert app.id == "dns.hosts.declared-missing" and app.severity is Severity.HIGH
    assert any("production" in e for e in app.evidence)


def test_www_missing_while_apex_serves() -> None:
    [f] = judge(DOMAIN, APEX, (facts(f"www.{DOMAIN}", "www", "nxdomain"),))
    assert f.id == "dns.hosts.www-missing" and f.severity is Severity.MEDIUM
    assert f"`www.{DOMAIN}. 300 IN CNAME {DOMAIN}.`" in f.remediation
    no_apex = (DnsAnswer(DOMAIN, "A", "nodata"), DnsAnswer(DOMAIN, "AAAA", "nodata"))
    assert judge(DOMAIN, no_apex, (facts(f"www.{DOMAIN}", "www", "nxdomain"),)) == []  # dns.apex's finding


def test_a_dangling_alias_is_left_to_dns_cname() -> None:
    assert judge(DOMAIN, APEX, (facts(f"shop.{DOMAIN}", "declared", "nxdomain", alias=True),)) == []


def test_dns_failures_could_not_run_unless_something_was_found() -> None:
    with pytest.raises(CouldNotRun):
        judge(DOMAIN, APEX, (facts(f"app.{DOMAIN}", "declared", "timeout"),))
    found = judge(
        DOMAIN, APEX, (facts(f"app.{DOMAIN}", "declared", "timeout"), facts(f"x.{DOMAIN}", "declared", "nxdomain"))
    )
    assert [f.target for f in found] == [f"x.{DOMAIN}"]

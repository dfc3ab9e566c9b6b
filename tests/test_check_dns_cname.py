"""dns.cname: judging CNAME chains, and the takeover fingerprints shipped in the package."""

from __future__ import annotations

from launchready.checks.dns.cname import fingerprints, judge, service_for
from launchready.core.severity import Impact, Severity
from launchready.probes.cname import CnameChain

DOMAIN = "shop.test"


def test_plain_names_and_resolving_aliases_pass() -> None:
    chains = (
        CnameChain(DOMAIN, (DOMAIN,), "not-alias"),
        CnameChain(f"www.{DOMAIN}", (f"www.{DOMAIN}", "edge.cdn.example"), "resolves"),
    )
    assert judge(DOMAIN, chains) == []


def test_alias_to_an_unclaimed_hosting_name_is_a_takeover_risk() -> None:
    chain = CnameChain(f"docs.{DOMAIN}", (f"docs.{DOMAIN}", "old-docs.us-east-1.elasticbeanstalk.com"), "nxdomain")
    [f] = judge(DOMAIN, (chain,))
    assert f.id == "dns.cname.takeover-risk" and f.severity is Severity.HIGH and f.impact is Impact.DATA_EXPOSURE
    assert "AWS/Elastic Beanstalk" in " ".join(f.evidence)
    assert f"`docs.{DOMAIN}. CNAME old-docs.us-east-1.elasticbeanstalk.com.`" in f.remediation


def test_alias_to_a_missing_unknown_name_is_dangling() -> None:
    [f] = judge(DOMAIN, (CnameChain(f"x.{DOMAIN}", (f"x.{DOMAIN}", "nothing.example.org"), "nxdomain"),))
    assert f.id == "dns.cname.dangling"


def test_loop_and_apex_cname() -> None:
    loop = CnameChain(f"a.{DOMAIN}", (f"a.{DOMAIN}", f"b.{DOMAIN}", f"a.{DOMAIN}"), "loop", "a -> b -> a")
    [f] = judge(DOMAIN, (loop,))
    assert f.id == "dns.cname.loop"
    apex = CnameChain(DOMAIN, (DOMAIN, "host.platform.example"), "resolves")
    [g] = judge(DOMAIN, (apex,))
    assert g.id == "dns.cname.apex"


def test_fingerprints_are_bundled_and_match_by_suffix() -> None:
    assert len(fingerprints()) > 10
    assert service_for("a.b.elasticbeanstalk.com") is not None
    assert service_for("notelasticbeanstalk.com") is None

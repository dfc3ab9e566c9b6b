"""dns.cname: judging CNAME chains, and the takeover fingerprints shipped in the package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def test_a_name_whose_query_failed_is_not_verified_while_the_others_are_judged() -> None:
    chains = (
        CnameChain(DOMAIN, (DOMAIN,), "not-alias"),
        CnameChain(f"app.{DOMAIN}", (f"app.{DOMAIN}",), "dns-error", f"CNAME app.{DOMAIN}: servfail"),
        CnameChain(f"x.{DOMAIN}", (f"x.{DOMAIN}", "nothing.example.org"), "nxdomain"),
    )
    findings = judge(DOMAIN, chains)
    assert [(f.id, f.target) for f in findings] == [
        ("dns.cname.not-verified", f"app.{DOMAIN}"),
        ("dns.cname.dangling", f"x.{DOMAIN}"),
    ]
    assert "query failed: CNAME app.shop.test: servfail" in findings[0].evidence
    assert findings[0].severity is Severity.MEDIUM


def test_many_names_whose_queries_failed_are_one_finding_for_the_domain() -> None:
    failed = tuple(
        CnameChain(f"mx{n}.{DOMAIN}", (f"mx{n}.{DOMAIN}",), "dns-error", f"CNAME mx{n}.{DOMAIN}: timeout")
        for n in range(1000)
    )
    [finding] = judge(DOMAIN, (CnameChain(DOMAIN, (DOMAIN,), "not-alias"), *failed))
    assert (finding.id, finding.target) == ("dns.cname.not-verified", DOMAIN)
    assert finding.title.startswith("The CNAMEs of 1000 names could not be looked up")
    assert finding.evidence[0] == f"mx0.{DOMAIN}: query failed: CNAME mx0.{DOMAIN}: timeout"
    assert finding.evidence[-1].endswith("more evidence line(s) not shown")


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


# -- an alias that resolves, to a hosting page saying the resource is unclaimed --------------

from launchready.checks.dns.cname import page_candidates, services_for  # noqa: E402
from launchready.probes.http import HttpExchange  # noqa: E402

BUCKET = "old-assets.s3.amazonaws.com"


def test_resolving_alias_to_a_known_service_is_fetched_and_its_unclaimed_page_is_a_takeover_risk() -> None:
    chain = CnameChain(f"assets.{DOMAIN}", (f"assets.{DOMAIN}", BUCKET), "resolves")
    assert page_candidates((chain, CnameChain(DOMAIN, (DOMAIN,), "not-alias"))) == (chain,)
    body = b"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"
    page = HttpExchange(f"http://assets.{DOMAIN}/", "GET", status=404, body=body)
    [f] = judge(DOMAIN, (chain,), {chain.name: page})
    assert f.id == "dns.cname.takeover-risk" and f.target == f"assets.{DOMAIN}" and f.severity is Severity.HIGH
    assert any("The specified bucket does not exist" in e for e in f.evidence)
    assert f"`assets.{DOMAIN}. CNAME {BUCKET}.`" in f.remediation


def test_claimed_resource_or_failed_fetch_is_no_finding() -> None:
    chain = CnameChain(f"assets.{DOMAIN}", (f"assets.{DOMAIN}", BUCKET), "resolves")
    ok = HttpExchange(f"http://assets.{DOMAIN}/", "GET", status=200, body=b"<html>our assets</html>")
    failed = HttpExchange(f"http://assets.{DOMAIN}/", "GET", error="connection refused", error_kind="refused")
    assert judge(DOMAIN, (chain,), {chain.name: ok}) == []
    assert judge(DOMAIN, (chain,), {chain.name: failed}) == []
    assert judge(DOMAIN, (chain,)) == []


def test_page_fingerprints_use_the_lists_patterns_and_skip_generic_ones() -> None:
    [wordpress] = [fp for fp in services_for("blog.wordpress.com") if fp.page]
    assert wordpress.page_match("Do you want to register shop.wordpress.com?") is not None
    assert wordpress.page_match("Welcome to my blog") is None
    # Entries without a page text, or with only a status code, never match a body.
    assert all(not fp.page for fp in services_for("x.elasticbeanstalk.com"))


def test_cname_and_owners_say_which_mx_hosts_they_did_not_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cliutil import run_cli
    from mailzone import ZoneServer

    from launchready.core.dns import MAX_MX_TARGETS

    count = MAX_MX_TARGETS + 5
    records: dict[str, list[tuple[str, object]]] = {
        "shop.test": [("A", "127.0.0.1"), *(("MX", (n, f"mx{n}.shop.test")) for n in range(count))],
        **{f"mx{n}.shop.test": [("A", "127.0.0.1")] for n in range(count)},
    }
    config = tmp_path / "launchready.toml"
    config.write_text('domain = "shop.test"\n[audit]\ndiscover = false\n', encoding="utf-8")
    zone = ZoneServer(records)
    try:
        args = ["audit", "-c", str(config), "--only", "dns.cname", "--only", "dns.owners", "--format", "json"]
        code, out, err = run_cli([*args, "--no-history", "-q", "--nameserver", f"127.0.0.1:{zone.port}"], capsys)
    finally:
        zone.stop()
    report = json.loads(out)
    assert {r["check_id"]: r["status"] for r in report["results"]} == {"dns.cname": "passed", "dns.owners": "passed"}, (
        err
    )
    facts = {f["check_id"]: f for f in report["host_facts"] if f["check_id"] in ("dns.cname", "dns.owners")}
    assert set(facts) == {"dns.cname", "dns.owners"}
    for fact in facts.values():
        assert fact["host"] == "shop.test"
        assert fact["detail"] == ["5 more MX host(s) not checked (only the 20 most preferred)"]

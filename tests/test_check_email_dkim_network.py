"""A DKIM lookup the network did not answer is "could not run", never "no DKIM key found"."""

from __future__ import annotations

import pytest

from launchready.checks.email.dkim import SelectorFacts, judge
from launchready.core.errors import CouldNotRun
from launchready.probes.dns import DnsAnswer, DnsStatus

DOMAIN = "example.com"


def common(selector: str, status: DnsStatus) -> SelectorFacts:
    return SelectorFacts(selector, False, DnsAnswer(f"{selector}._domainkey.{DOMAIN}", "TXT", status))


@pytest.mark.parametrize("status", ["timeout", "servfail", "error"])
def test_unanswered_common_selectors_are_not_a_missing_key(status: DnsStatus) -> None:
    facts = (common("google", "nxdomain"), common("selector1", status), common("default", "nxdomain"))
    with pytest.raises(CouldNotRun, match=rf"1 selector lookup\(s\) failed: selector1 \({status}\)"):
        judge(DOMAIN, facts)


def test_every_common_selector_answered_empty_is_still_none_found() -> None:
    facts = (common("google", "nxdomain"), common("selector1", "nxdomain"), common("default", "nodata"))
    [finding] = judge(DOMAIN, facts)
    assert finding.id == "email.dkim.none-found"

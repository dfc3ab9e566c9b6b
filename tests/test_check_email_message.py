"""email.message: delivery judged from the mail test's facts, and every finding the message judge and
its extra checks can give, by its full id, from verdicts and messages built here (no network)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

import pytest
from mailzone import message

from launchready.checks.email.message import CHECK, META, judge
from launchready.config.model import Config
from launchready.core.errors import CouldNotRun, NotApplicable, NotConfigured
from launchready.core.facts import FactBook
from launchready.core.mail_test import MailTestFacts, SentMessage
from launchready.core.net import NetSettings
from launchready.core.severity import Severity
from launchready.mailtest.auth import ArcVerdict, AuthVerdict, DkimVerdict, DmarcVerdict, SpfVerdict
from launchready.mailtest.content import ContentPolicy, judge_content
from launchready.mailtest.extended import ExtendedOptions, extend_judgements, link_findings, spam_findings
from launchready.mailtest.judge import FINDING_RULES, Judgement, auth_findings, content_findings, finding
from launchready.mailtest.links import LinkCheck, LinkReport
from launchready.mailtest.mailbox import FoundMessage
from launchready.mailtest.message import parse_message
from launchready.mailtest.spam import SpamRule, SpamScore
from launchready.probes.dns import DnsProbe

TARGET = "https://app.shop.test flow:signup email:confirmation email"
POLICY = ContentPolicy(product_domains=("shop.test",), staging_hosts=("staging.shop.test",))


def sent(**changes: Any) -> SentMessage:
    base: dict[str, Any] = {
        "flow": "signup",
        "step": "confirmation email",
        "where": "smoke.yaml:28",
        "target": TARGET,
        "to": "member@inbox.test",
        "trigger": "POST https://app.shop.test/signup",
        "arrived": True,
        "delivery_s": 0.4,
        "waited_s": 0.4,
        "message_id": "<m1@shop.test>",
    }
    return SentMessage(**{**base, **changes})


def facts(*messages: SentMessage, **changes: Any) -> MailTestFacts:
    base: dict[str, Any] = {
        "environment": "production",
        "base_url": "https://app.shop.test",
        "delivery_budget_s": 60.0,
        "wait_s": 120.0,
        "messages": messages,
    }
    return MailTestFacts(**{**base, **changes})


# -- delivery ---------------------------------------------------------------------------------


def test_a_message_in_time_with_no_verdicts_is_clean() -> None:
    assert judge(facts(sent())) == []


def test_a_late_message_is_slow_delivery_with_its_trigger_and_budget() -> None:
    [late] = judge(facts(sent(delivery_s=92.5, waited_s=92.0)))
    assert late.id == "email.message.slow-delivery"
    assert late.target == TARGET
    assert "triggered by POST https://app.shop.test/signup" in late.evidence
    assert "arrived 92.5s after the request (budget: 60s, [email] delivery_s)" in late.evidence


def test_a_message_that_never_came_is_not_delivered() -> None:
    [lost] = judge(facts(sent(arrived=False, delivery_s=None, waited_s=120.0, message_id=None)))
    assert lost.id == "email.message.not-delivered"
    assert "no message to member@inbox.test within 120.0s" in lost.evidence


def test_the_judges_findings_pass_through_after_delivery() -> None:
    dkim = finding("dkim-fail", TARGET, ["d=shop.test s=s1: signature did not verify"])
    found = judge(facts(sent(delivery_s=61.0, findings=(dkim,))))
    assert [f.id for f in found] == ["email.message.slow-delivery", "email.message.dkim-fail"]


# -- the check: configuration and facts -------------------------------------------------------


class _Tester:
    def __init__(self, answer: MailTestFacts) -> None:
        self.answer = answer
        self.asked: list[str] = []
        self.domains: list[str | None] = []

    async def test(self, environment: str, *, domain: str | None = None) -> MailTestFacts:
        self.asked.append(environment)
        self.domains.append(domain)
        return self.answer


class _Ctx:
    def __init__(self, *, test: bool, tester: _Tester | None) -> None:
        self.config = Config.model_validate(
            {"environments": {"production": {"base_url": "https://app.shop.test"}}, "email": {"test": test}}
        )
        self.domain = "shop.test"  # the audited domain: the flows' redirects may reach it
        self.mail_test = tester
        self.facts = FactBook()


def run(ctx: _Ctx) -> list[Any]:
    return list(asyncio.run(CHECK.run(ctx, "production")))  # type: ignore[arg-type]


def test_off_unless_the_config_opts_in() -> None:
    tester = _Tester(facts(sent()))
    with pytest.raises(NotApplicable, match=r"\[email\] test = true") as raised:
        run(_Ctx(test=False, tester=tester))
    assert not isinstance(raised.value, NotConfigured)
    assert tester.asked == []  # no flow ran


def test_flows_that_cannot_run_are_could_not_run() -> None:
    tester = _Tester(facts(problem="smoke.yaml:3: ${env:SECRET} is not set in the environment"))
    with pytest.raises(CouldNotRun, match="SECRET"):
        run(_Ctx(test=True, tester=tester))
    with pytest.raises(CouldNotRun, match="no mail test"):
        run(_Ctx(test=True, tester=None))


def test_no_email_step_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="no smoke flow waits for mail"):
        run(_Ctx(test=True, tester=_Tester(facts())))


def test_each_message_is_a_host_fact_with_its_verdicts() -> None:
    tester = _Tester(
        facts(sent(authentication_results="Authentication-Results: x; spf=pass", subject="Bienvenue, Zoë 🎉"))
    )
    ctx = _Ctx(test=True, tester=tester)
    assert run(ctx) == []
    [fact] = ctx.facts.collected()
    assert (fact.host, fact.name, fact.value) == (
        "app.shop.test",
        "Mail: signup / confirmation email",
        "arrived in 0.4s (budget 60s)",
    )
    assert "Authentication-Results: x; spf=pass" in fact.detail
    assert "Subject: Bienvenue, Zoë 🎉" in fact.detail
    # The mail test is asked with the audited domain, as app.smoke plans its flows with it.
    assert tester.domains == ["shop.test"]


def test_the_judges_rules_are_the_checks_declared_findings() -> None:
    declared = {s.id for s in META.findings}
    assert {f"email.message.{kind}" for kind in FINDING_RULES} <= declared
    assert declared - {f"email.message.{kind}" for kind in FINDING_RULES} == {
        "email.message.not-delivered",
        "email.message.slow-delivery",
    }


# -- authentication verdicts -> findings ------------------------------------------------------

SPF_PASS = SpfVerdict("pass", "shop.test", "bounce@shop.test", "mta.shop.test", "192.0.2.1")
GOOD_SIG = DkimVerdict("pass", "shop.test", "s1", "rsa-sha256", 2048, None, ("from", "subject", "to"))
DMARC_PASS = DmarcVerdict("pass", "shop.test", "shop.test", "reject", "shop.test", "dkim")
ARC_NONE = ArcVerdict("none")


def auth_ids(**changes: Any) -> set[str]:
    base: dict[str, Any] = {"spf": SPF_PASS, "dkim": (GOOD_SIG,), "dmarc": DMARC_PASS, "arc": ARC_NONE}
    return {f.id for f in auth_findings(AuthVerdict(**{**base, **changes}), TARGET)}


def test_passing_verdicts_give_no_finding() -> None:
    assert auth_ids() == set()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"spf": SpfVerdict("fail", "shop.test", "b@shop.test", "", "192.0.2.9")}, "email.message.spf-fail"),
        ({"spf": SpfVerdict("softfail", "shop.test", "b@shop.test", "", "192.0.2.9")}, "email.message.spf-fail"),
        ({"spf": SpfVerdict("permerror", "shop.test", "b@shop.test", "", "192.0.2.9")}, "email.message.spf-error"),
        ({"spf": SpfVerdict("none", "shop.test", "b@shop.test", "", "192.0.2.9")}, "email.message.spf-none"),
        ({"dkim": ()}, "email.message.dkim-none"),
        ({"dkim": (DkimVerdict("fail", "shop.test", "s1", "rsa-sha256", 2048, None, ("from", "subject", "to")),)},
         "email.message.dkim-fail"),
        ({"dkim": (DkimVerdict("temperror", "shop.test", "s1", "rsa-sha256"),)}, "email.message.dkim-error"),
        ({"dkim": (DkimVerdict("pass", "shop.test", "s1", "rsa-sha256", 1024, None, ("from", "subject", "to")),)},
         "email.message.dkim-weak-key"),
        ({"dkim": (DkimVerdict("pass", "shop.test", "s1", "rsa-sha256", 2048, 100, ("from", "subject", "to")),)},
         "email.message.dkim-body-length"),
        ({"dkim": (DkimVerdict("pass", "shop.test", "s1", "rsa-sha256", 2048, None, ("from",)),)},
         "email.message.dkim-headers-unsigned"),
        ({"signatures_skipped": 3}, "email.message.dkim-too-many-signatures"),
        ({"dmarc": DmarcVerdict("fail", "shop.test", "shop.test", "reject")}, "email.message.dmarc-fail"),
        ({"dmarc": DmarcVerdict("none", "shop.test")}, "email.message.dmarc-none"),
        ({"dmarc": DmarcVerdict("permerror", "shop.test", reason="two records")}, "email.message.dmarc-error"),
        ({"arc": ArcVerdict("fail", "seal does not verify")}, "email.message.arc-fail"),
    ],
)  # fmt: skip
def test_each_failing_verdict_is_its_finding(changes: dict[str, Any], expected: str) -> None:
    assert expected in auth_ids(**changes)


def test_spf_not_evaluated_without_an_address_is_no_finding() -> None:
    assert auth_ids(spf=SpfVerdict("none", "shop.test", "b@shop.test", "", None)) == set()


# -- content -> findings -----------------------------------------------------------------------


def content_ids(raw: bytes, policy: ContentPolicy = POLICY) -> set[str]:
    return {f.id for f in content_findings(judge_content(parse_message(raw), policy), TARGET)}


def test_a_clean_message_has_no_content_finding() -> None:
    assert content_ids(message()) == set()


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<a href="http://localhost:3000/reset?t=1">Reset</a>', "email.message.local-link"),
        ('<a href="https://staging.shop.test/reset">Reset</a>', "email.message.staging-link"),
        ('<a href="http://shop.test/reset">Reset</a>', "email.message.http-link"),
        ('<a href="/reset?t=1">Reset</a>', "email.message.relative-link"),
        ('<a href="https://evil.example/reset">Reset</a>', "email.message.undeclared-link-host"),
        ('<a href="https://[::1/reset">Reset</a>', "email.message.bad-link"),
        ('<img src="https://10.0.0.5/logo.png">', "email.message.local-image"),
        ('<img src="https://staging.shop.test/logo.png">', "email.message.staging-image"),
        ('<img src="http://shop.test/logo.png">', "email.message.http-image"),
        ('<img src="/logo.png">', "email.message.relative-image"),
        ('<img src="https://cdn.example/logo.png">', "email.message.undeclared-image-host"),
        ('<img src="https://[::1/logo.png">', "email.message.bad-image"),
        ("<p>" + "x" * (110 * 1024) + "</p>", "email.message.html-clipped"),
    ],
)
def test_each_content_issue_is_its_finding(html: str, expected: str) -> None:
    assert expected in content_ids(message(html=html, text="See the HTML part."))


def test_message_level_content_findings() -> None:
    assert "email.message.no-text-part" in content_ids(message(text=None))
    off = message(sender="noreply@mailer.example", extra=[("Reply-To", "help@other.example")])
    assert {"email.message.from-off-domain", "email.message.reply-to-off-domain"} <= content_ids(off)
    bulk = ContentPolicy(product_domains=("shop.test",), transactional=False)
    assert "email.message.no-list-unsubscribe" in content_ids(message(), bulk)
    mailto_only = message(extra=[("List-Unsubscribe", "<mailto:u@shop.test>")])
    assert "email.message.no-one-click-unsubscribe" in content_ids(mailto_only, bulk)
    huge = message(text="x" * (11 * 1024 * 1024), html=None)
    assert "email.message.too-large" in content_ids(huge)
    broken = b"From: a@shop.test\r\nContent-Type: multipart/alternative\r\n\r\nno boundary at all\r\n"
    assert "email.message.mime-defects" in content_ids(broken)


# -- the extra checks' findings (mailtest/extended.py) ---------------------------------------


NO_SPAMASSASSIN = ExtendedOptions(spamassassin=False)


def extended_ids(raw: bytes, found: FoundMessage | None, options: ExtendedOptions = NO_SPAMASSASSIN) -> set[str]:
    """The extra checks' findings through their one entry point, our own verdicts passing. Nothing
    is dialled here (SpamAssassin off, links only the flow's answers): both are also judged below
    from their results, and against the lab in test_email_test_lab.py."""

    async def go() -> set[str]:
        # Our own verdicts pass: what is found here is the extra checks' alone.
        ours = Judgement(TARGET, AuthVerdict(SPF_PASS, (GOOD_SIG,), DMARC_PASS, ARC_NONE), ())
        net = NetSettings(timeout=1.0)
        dns = DnsProbe(net)  # not asked: links are not checked here
        try:
            (extended,) = await extend_judgements([(ours, raw, found)], net=net, dns=dns, options=options)
        finally:
            await dns.close()
        return {f.id for f in extended.findings}

    return asyncio.run(go())


def found_in(placement: Literal["inbox", "junk", "other"], raw: bytes) -> FoundMessage:
    folder = "Junk" if placement == "junk" else "INBOX"
    return FoundMessage(folder, placement, "special-use", raw, ("INBOX", "Junk"))


def test_a_message_in_the_junk_folder_is_landed_in_junk() -> None:
    raw = message()
    assert extended_ids(raw, found_in("inbox", raw)) == set()
    assert extended_ids(raw, found_in("junk", raw)) == {"email.message.landed-in-junk"}
    assert extended_ids(raw, None) == set()  # no mailbox (SMTP, a file): nothing to say about folders


def test_the_providers_failing_verdict_is_provider_auth_fail() -> None:
    passing = message(extra=[("Authentication-Results", "mx.inbox.test; spf=pass smtp.mailfrom=shop.test")])
    assert extended_ids(passing, found_in("inbox", passing)) == set()
    failing = message(
        extra=[
            ("Authentication-Results", "mx.inbox.test; dkim=fail header.d=shop.test; dmarc=fail header.from=shop.test")
        ]
    )
    assert extended_ids(failing, found_in("inbox", failing)) == {"email.message.provider-auth-fail"}


def test_a_spammy_score_is_spam_score_high_at_the_threshold_medium_near_it() -> None:
    rules = (SpamRule("MIME_HTML_ONLY", 2.5, "Message only has text/html MIME parts"),)
    assert spam_findings(SpamScore(1.0, 5.0, rules), TARGET) == []
    [near] = spam_findings(SpamScore(3.5, 5.0, rules), TARGET)
    [spam] = spam_findings(SpamScore(6.0, 5.0, rules), TARGET)
    assert near.id == spam.id == "email.message.spam-score"
    assert (near.severity, spam.severity) == (Severity.MEDIUM, Severity.HIGH)
    assert any("MIME_HTML_ONLY" in line and "text/plain" in line for line in spam.evidence)


def test_links_and_images_that_do_not_answer_are_dead_link_and_dead_image() -> None:
    report = LinkReport(
        (
            LinkCheck("https://shop.test/verify?token=abc", False, True, 200, "200"),
            LinkCheck("https://shop.test/reset", False, False, 404, "404"),
            LinkCheck("https://cdn.shop.test/logo.png", True, False, None, "connection refused"),
        ),
        (),
    )
    assert {f.id for f in link_findings(report, TARGET)} == {"email.message.dead-link", "email.message.dead-image"}
    assert link_findings(LinkReport(report.checks[:1], ()), TARGET) == []


def test_a_link_the_flow_followed_is_judged_by_the_flows_answer_not_dialled_again() -> None:
    raw = message()  # one link, https://shop.test/verify?token=abc, in both parts
    followed = ExtendedOptions(
        spamassassin=False, check_links=True, followed={"https://shop.test/verify?token=abc": 404}
    )
    assert extended_ids(raw, None, followed) == {"email.message.dead-link"}
    answered = ExtendedOptions(
        spamassassin=False, check_links=True, followed={"https://shop.test/verify?token=abc": 302}
    )
    assert extended_ids(raw, None, answered) == set()


def test_docs_describe_every_finding_of_the_check() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "email.md").read_text(encoding="utf-8")
    table = [line for line in docs.splitlines() if line.startswith("| `")]
    documented = {kind.strip(" `") for line in table for kind in line.split("|")[1].split(",")}
    declared = {s.id.removeprefix("email.message.") for s in META.findings}
    assert declared <= documented, declared - documented

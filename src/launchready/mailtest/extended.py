"""The judgements that need more than the message: which folder of a real mailbox it landed in,
the mailbox provider's own Authentication-Results next to ours, SpamAssassin's score, and whether
its links answer. They add findings to a message's ``Judgement``; ``judge.judge_message`` stays
the judgement of the message alone.

``extend_judgements`` is the one entry point (``email verify``, ``email receive`` and ``email
test`` call it): it takes every message of a run at once so one SpamAssassin process scores them all.
``judge_from_mailbox`` waits for a message in a real IMAP mailbox and judges it whole;
``ExtendingReceiver`` is the SMTP receiver with the same extra checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from launchready.core.finding import Finding
from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.core.severity import Severity
from launchready.email.authres import AuthResults
from launchready.mailtest.content import ContentPolicy, links_of
from launchready.mailtest.judge import Judgement, finding, judge_message
from launchready.mailtest.links import BUDGET_S, MAX_LINKS, LinkCheck, LinkReport, answers, check_links
from launchready.mailtest.mailbox import Criteria, FoundMessage, ImapMailbox
from launchready.mailtest.message import parse_message
from launchready.mailtest.receiver import Receiver
from launchready.mailtest.spam import DEFAULT_TIMEOUT, WARN_SCORE, SpamScore, score_messages

_FAILING = {
    "spf": ("fail", "softfail", "permerror", "temperror"),
    "dkim": ("fail", "permerror", "temperror"),
    "dmarc": ("fail", "permerror", "temperror"),
}


@dataclass(frozen=True)
class ExtendedOptions:
    spamassassin: bool = True  # scored when spamassassin is installed; skipped with a reason otherwise
    check_links: bool = False  # dials every link: opt in (it is network traffic to the product)
    max_links: int = MAX_LINKS
    link_budget_s: float = BUDGET_S
    spam_timeout_s: float = DEFAULT_TIMEOUT
    # Links a smoke flow already followed (the mail test), with the final status the flow got: not
    # dialled again, since a one-time link (verification, reset, invitation) answers once; the
    # flow's own answer is the link's.
    followed: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtendedJudgement:
    judgement: Judgement
    found: FoundMessage | None = None  # where a real mailbox filed it (IMAP), None for SMTP or a file
    provider: AuthResults | None = None
    spam: SpamScore | None = None
    spam_skipped: str | None = None
    links: LinkReport | None = None
    extra_findings: tuple[Finding, ...] = field(default=())

    @property
    def subject(self) -> str:
        return self.judgement.subject

    @property
    def findings(self) -> tuple[Finding, ...]:
        merged = [*self.judgement.findings, *self.extra_findings]
        merged.sort(key=lambda f: (-f.severity.rank, -f.impact.weight, f.id))
        return tuple(merged)

    def to_json(self) -> dict[str, Any]:
        data = self.judgement.to_json()
        if self.found is not None:
            data["mailbox"] = {
                "folder": self.found.folder,
                "placement": self.found.placement,
                "junk_found_by": self.found.junk_found_by or None,
                "searched": list(self.found.searched),
            }
            data["provider_authentication_results"] = (
                None
                if self.provider is None
                else {
                    "authserv_id": self.provider.authserv_id,
                    "results": [
                        {"method": r.method, "result": r.result, "reason": r.reason, "properties": dict(r.properties)}
                        for r in self.provider.results
                    ],
                }
            )
        if self.spam is not None:
            data["spamassassin"] = self.spam.to_json()
        elif self.spam_skipped is not None:
            data["spamassassin"] = {"skipped": self.spam_skipped}
        if self.links is not None:
            data["links"] = self.links.to_json()
        data["findings"] = [f.model_dump(mode="json", exclude_none=True) for f in self.findings]
        return data

    def summary_lines(self) -> list[str]:
        """What to print under our Authentication-Results line, before the findings."""
        lines: list[str] = []
        if self.found is not None:
            how = ""
            if self.found.placement == "junk":
                how = " (spam: flagged \\Junk)" if self.found.junk_found_by == "special-use" else " (spam: by its name)"
            lines.append(f"Mailbox folder: {self.found.folder}{how}")
            lines.append(
                "Provider's Authentication-Results: "
                + (self.provider.summary() if self.provider is not None else "none (the provider added no such field)")
            )
        if self.spam is not None:
            lines.append(f"SpamAssassin: {self.spam.score:.1f} (spam at {self.spam.required:.1f})")
            if self.spam.score < WARN_SCORE:  # otherwise the spam-score finding lists the rules
                fired = sorted((r for r in self.spam.rules if r.points > 0), key=lambda r: -r.points)
                lines.extend(f"    {r.explained()}" for r in fired)
        elif self.spam_skipped is not None:
            lines.append(f"SpamAssassin: skipped: {self.spam_skipped}")
        if self.links is not None:
            lines.append(
                f"Links: {len(self.links.checks) - len(self.links.dead)} of {len(self.links.checks)} answered"
                + (f"; not checked: {self.links.reason_not_checked}" if self.links.reason_not_checked else "")
            )
        return lines


def placement_findings(found: FoundMessage, target: str) -> list[Finding]:
    if found.placement != "junk":
        return []
    how = "flagged \\Junk (RFC 6154)" if found.junk_found_by == "special-use" else "named like a spam folder"
    return [
        finding("landed-in-junk", target, [f"found in {found.folder!r}, {how}; searched {', '.join(found.searched)}"])
    ]


def provider_findings(provider: AuthResults, ours: Judgement) -> list[Finding]:
    failing = [r for r in provider.results if r.result in _FAILING.get(r.method, ())]
    if not failing:
        return []
    evidence = [f"provider {provider.summary()}"]
    evidence += [
        f"{r.method}={r.result}"
        + (f" ({r.comment})" if r.comment else "")
        + "".join(f" {k}={v}" for k, v in r.properties)
        for r in failing
    ]
    auth = ours.auth
    evidence.append(
        f"ours: spf={auth.spf.result} "
        + " ".join(f"dkim={s.result} (d={s.domain})" for s in auth.dkim)
        + f" dmarc={auth.dmarc.result}"
    )
    return [finding("provider-auth-fail", ours.subject, evidence)]


def spam_findings(score: SpamScore, target: str) -> list[Finding]:
    if score.score < WARN_SCORE and not score.is_spam:
        return []
    fired = sorted((r for r in score.rules if r.points > 0), key=lambda r: -r.points)
    verdict = "spam" if score.is_spam else f"not yet spam, but {WARN_SCORE:g} or more"
    evidence = [f"score {score.score:.1f}, spam at {score.required:.1f}: {verdict}", *(r.explained() for r in fired)]
    made = finding("spam-score", target, evidence)
    if not score.is_spam:
        made = made.model_copy(update={"severity": Severity.MEDIUM})
    return [made]


def link_findings(report: LinkReport, target: str) -> list[Finding]:
    out = []
    dead_links = [c.evidence() for c in report.dead if not c.image]
    dead_images = [c.evidence() for c in report.dead if c.image]
    if dead_links:
        out.append(finding("dead-link", target, dead_links))
    if dead_images:
        out.append(finding("dead-image", target, dead_images))
    return out


async def extend_judgements(
    items: Sequence[tuple[Judgement, bytes, FoundMessage | None]],
    *,
    net: NetSettings,
    dns: DnsLookup,
    options: ExtendedOptions,
) -> list[ExtendedJudgement]:
    """Each (judgement, raw message, where a mailbox filed it or None) with the extra checks' findings."""
    spam_scores: list[SpamScore | None] = [None] * len(items)
    spam_skipped: list[str | None] = [None] * len(items)
    if options.spamassassin and items:
        run = await score_messages([raw for _, raw, _ in items], timeout=options.spam_timeout_s)
        spam_scores = list(run.scores)
        spam_skipped = [run.reason(index) for index in range(len(items))]
    http = None
    if options.check_links:
        from launchready.probes.http import HttpProbe

        http = HttpProbe(net, dns)
    out: list[ExtendedJudgement] = []
    try:
        for (judgement, raw, found), spam, skipped in zip(items, spam_scores, spam_skipped, strict=True):
            target = judgement.subject
            extra: list[Finding] = []
            provider = None
            if found is not None:
                extra += placement_findings(found, target)
                provider = found.provider_results()
                if provider is not None:
                    extra += provider_findings(provider, judgement)
            if spam is not None:
                extra += spam_findings(spam, target)
            links = None
            if http is not None:
                page_links, images = links_of(parse_message(raw))
                followed = [
                    LinkCheck(url, False, answers(status), status, f"{status} when the smoke flow followed it")
                    for url in page_links
                    if (status := options.followed.get(url)) is not None
                ]
                links = await check_links(
                    http,
                    net,
                    [url for url in page_links if url not in options.followed],
                    images,
                    max_links=options.max_links,
                    budget_s=options.link_budget_s,
                )
                if followed:
                    links = replace(links, checks=(*followed, *links.checks))
                extra += link_findings(links, target)
            out.append(
                ExtendedJudgement(
                    judgement,
                    found,
                    provider,
                    spam,
                    skipped,
                    links,
                    tuple(extra),
                )
            )
    finally:
        if http is not None:
            await http.close()
    return out


async def judge_from_mailbox(
    mailbox: ImapMailbox,
    criteria: Criteria,
    policy: ContentPolicy,
    *,
    net: NetSettings,
    options: ExtendedOptions,
    wait_s: float,
    poll_seconds: float = 2.0,
) -> ExtendedJudgement | None:
    """Wait for the message under test in a real mailbox (Inbox or Junk), then judge it whole.

    SPF is left to the provider (we did not see the connection: its Authentication-Results says);
    DKIM, DMARC and the content are ours. None when no matching message arrived within ``wait_s``.
    """
    from launchready.probes.dns import DnsProbe

    found = await mailbox.wait(criteria, wait_s, poll_seconds=poll_seconds)
    if found is None:
        return None
    dns = DnsProbe(net)
    try:
        judgement = await judge_message(dns, found.raw, policy, name=f"{criteria.describe()} in {found.folder}")
        (extended,) = await extend_judgements([(judgement, found.raw, found)], net=net, dns=dns, options=options)
    finally:
        await dns.close()
    return extended


class ExtendingReceiver(Receiver):
    """The SMTP receiver, each message also through ``extend_judgements``; ``on_extended`` gets the result."""

    def __init__(
        self,
        net: NetSettings,
        policy: ContentPolicy,
        on_extended: Callable[[ExtendedJudgement], None],
        options: ExtendedOptions,
        **listen: Any,
    ) -> None:
        self._extended: dict[int, ExtendedJudgement] = {}
        self._on_extended = on_extended
        self._options = options
        super().__init__(net, policy, self._deliver, **listen)

    async def judge(self, raw: bytes, *, client_ip: str | None, helo: str, mail_from: str) -> Judgement:
        from launchready.probes.dns import DnsProbe

        judgement = await super().judge(raw, client_ip=client_ip, helo=helo, mail_from=mail_from)
        dns = DnsProbe(self._net)
        try:
            (extended,) = await extend_judgements(
                [(judgement, raw, None)], net=self._net, dns=dns, options=self._options
            )
        finally:
            await dns.close()
        self._extended[id(judgement)] = extended
        return judgement

    def _deliver(self, judgement: Judgement) -> None:
        extended = self._extended.pop(id(judgement), None)
        self._on_extended(extended if extended is not None else ExtendedJudgement(judgement))

"""The mail test: run the smoke flows that wait for mail, time each message from the request that
triggered it to its arrival, and judge it (``judge.py``).

Messages are read where the flows read them: the ``[smoke.mailbox]`` (Mailpit's API, whose
``/raw`` gives the message as received, or IMAP), or the test's own SMTP receiver
(``inbox.py``, ``email test --listen``). Only the receiver sees the connection; from a mailbox the
connecting address and HELO name come from the topmost ``Received:`` field, which the mailbox's
own server added. An email step is tested in the flow that writes it, so a sign-up included by
three other flows is one message, not four.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from launchready.config.model import Config
from launchready.core.finding import Finding
from launchready.core.mail_test import MailTestFacts, SentMessage, UnreachedStep
from launchready.core.net import NetSettings
from launchready.mailtest.content import ContentPolicy, links_of
from launchready.mailtest.extended import ExtendedJudgement, ExtendedOptions, extend_judgements
from launchready.mailtest.inbox import SmtpInbox
from launchready.mailtest.judge import Judgement, MessageCheck, judge_message
from launchready.mailtest.mailbox import FoundMessage
from launchready.mailtest.message import parse_message
from launchready.probes.dns import DnsProbe
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError
from launchready.smoke.mail import MailWait
from launchready.smoke.model import Flow
from launchready.smoke.plan import execute, load_flows, plan_smoke
from launchready.smoke.results import SmokeRun
from launchready.smoke.secrets import Masker

# Judging a handful of messages (DNS lookups for SPF, DKIM keys, DMARC) after the flows end.
JUDGING_MARGIN_S = 30.0
# "from HELO (rdns [192.0.2.1])" or Mailpit's "from HELO ([192.0.2.1])"; IPv6 as [IPv6:2001:db8::1].
_RECEIVED_FROM = re.compile(r"^\s*from\s+(\S+)\s.*?\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Connection:
    client_ip: str | None
    helo: str
    mail_from: str | None  # None: the judge reads Return-Path


def received_connection(raw: bytes) -> Connection:
    """Where the message came from, as the topmost Received field (the mailbox's server) says."""
    received = parse_message(raw).first("received")
    match = _RECEIVED_FROM.match(received or "")
    if match is None:
        return Connection(None, "", None)
    return Connection(match.group(2), match.group(1).strip("[]"), None)


def owns_email_step(flow: Flow) -> bool:
    return any(s.kind == "email" and (s.origin or flow.name) == flow.name for s in flow.steps)


def message_target(base_url: str, flow: str, step: str) -> str:
    return f"{base_url} flow:{flow} email:{step}"


def _retarget(findings: tuple[Finding, ...], target: str, message_id: str | None) -> tuple[Finding, ...]:
    """The judge aims at the Message-ID, new on every send; a stable target keeps history's delta."""
    shown = [f"Message-ID: {message_id}"] if message_id else []
    return tuple(f.model_copy(update={"target": target, "evidence": (*shown, *f.evidence)[:20]}) for f in findings)


def _unreached(run: SmokeRun) -> tuple[UnreachedStep, ...]:
    return tuple(
        UnreachedStep(flow.name, step.name, flow.reason)
        for flow in run.flows
        for step in flow.steps
        if step.kind == "email" and step.skipped and (step.origin or flow.name) == flow.name
    )


def _followed(run: SmokeRun, masker: Masker) -> Callable[[str], int | None]:
    """The final status a flow's GET of ``url`` got, None when no flow asked for it. The runner
    reports requests masked, so the link is masked the same way before it is looked up."""
    answered = {
        step.request.removeprefix("GET "): step.status
        for flow in run.flows
        for step in flow.steps
        if step.kind != "email" and step.request.startswith("GET ") and step.status is not None
    }

    def status(url: str) -> int | None:
        return answered.get(masker.text(url))

    return status


def _unread(run: SmokeRun, waited: set[tuple[str, str]]) -> list[str]:
    """Email steps that failed without a wait being heard: the mailbox failed, not the mail."""
    return [
        f"{flow.name}: step {step.name!r} ({step.where}): {step.failure}"
        for flow in run.flows
        for step in flow.steps
        if step.kind == "email" and not step.skipped and not step.passed and (flow.name, step.where) not in waited
    ]


class MailTest:
    """A ``MailTester`` (core/protocols.py) over the configured flows, mailbox or ``inbox``."""

    def __init__(
        self,
        config: Config,
        net: NetSettings,
        policy: ContentPolicy,
        *,
        inbox: SmtpInbox | None = None,
        flow_names: tuple[str, ...] = (),
        extra_checks: Sequence[MessageCheck] = (),
        options: ExtendedOptions | None = None,
    ) -> None:
        self._extra_checks = tuple(extra_checks)  # more judges per message (judge.py MessageCheck)
        # The checks that need more than each message (extended.py): SpamAssassin over the run's
        # messages at once, the folder and provider verdicts of an IMAP mailbox, links (opt in).
        self._options = options if options is not None else ExtendedOptions()
        self._config = config
        self._net = net
        self._policy = policy
        self._inbox = inbox
        self._flow_names = flow_names

    def _facts(
        self,
        environment: str,
        base_url: str = "",
        *,
        messages: tuple[SentMessage, ...] = (),
        problem: str | None = None,
        unreached: tuple[UnreachedStep, ...] = (),
    ) -> MailTestFacts:
        email = self._config.email
        return MailTestFacts(
            environment=environment,
            base_url=base_url,
            delivery_budget_s=email.delivery_s,
            wait_s=email.mail_wait_s,
            messages=messages,
            problem=problem,
            unreached=unreached,
        )

    async def test(self, environment: str, *, domain: str | None = None) -> MailTestFacts:
        try:
            names = [f.name for f in load_flows(self._config) if owns_email_step(f)]
            if self._flow_names:
                names = [n for n in self._flow_names if n in names] or list(self._flow_names)
            if not names:
                return self._facts(environment)
            plan = plan_smoke(
                self._config, environment, flow_names=names, mailbox_provided=self._inbox is not None, domain=domain
            )
        except (SmokeError, SecretsError) as exc:
            return self._facts(environment, problem=str(exc))
        wait = self._config.email.mail_wait_s
        # Each email step waits the test's own wait; the flow gets that much more time to finish.
        options = replace(plan.options, mail_wait=wait, flow_timeout=plan.options.flow_timeout + wait)
        plan = replace(plan, options=options)
        waits: list[MailWait] = []
        heard_steps: set[tuple[str, str]] = set()

        def heard(event: MailWait) -> None:
            heard_steps.add((event.flow, event.where))
            if event.origin == event.flow:
                waits.append(event)

        run = await execute(plan, self._net, on_mail=heard, mail=self._inbox)
        unread = _unread(run, heard_steps)
        if unread:
            # The mailbox itself failed (API down, IMAP login refused): nothing is known of the mail.
            return self._facts(environment, plan.base_url, problem="the mailbox could not be read: " + unread[0])
        messages = await self._judge_all(plan.base_url, waits, _followed(run, plan.masker))
        return self._facts(environment, plan.base_url, messages=messages, unreached=_unreached(run))

    async def _judge_all(
        self, base_url: str, waits: list[MailWait], followed: Callable[[str], int | None]
    ) -> tuple[SentMessage, ...]:
        """Every message judged alone, then all of them through the extra checks at once (one
        SpamAssassin process). The flows have ended: a link is dialled only after the flow used it,
        so a one-time token is spent by the flow, not by the test."""
        dns = DnsProbe(self._net)
        try:
            judged = [await self._judge_one(dns, base_url, w) for w in waits]
            arrived = [item for item in judged if item is not None]
            options = self._options
            if options.check_links:
                links = [url for _, raw, _ in arrived for url in links_of(parse_message(raw))[0]]
                answered = {url: followed(url) for url in links}
                options = replace(options, followed={u: s for u, s in answered.items() if s is not None})
            extended = iter(await extend_judgements(arrived, net=self._net, dns=dns, options=options))
        finally:
            await dns.close()
        return tuple(
            self._sent(base_url, wait, None if item is None else next(extended))
            for wait, item in zip(waits, judged, strict=True)
        )

    async def _judge_one(
        self, dns: DnsProbe, base_url: str, wait: MailWait
    ) -> tuple[Judgement, bytes, FoundMessage | None] | None:
        """The message's own judgement (authentication, content, ``extra_checks``); None: it never came."""
        message = wait.message
        if message is None:
            return None
        raw = message.raw
        if raw is None:  # a mailbox that gives no source: judge what it showed
            raw = "".join(f"{k}: {v}\r\n" for k, v in message.headers).encode() + b"\r\n" + message.text.encode()
        connection = received_connection(raw)
        delivered = self._inbox.envelope_of(raw) if self._inbox is not None else None
        if delivered is not None:
            connection = Connection(delivered.client_ip, delivered.helo, delivered.mail_from)
        judgement = await judge_message(
            dns,
            raw,
            self._policy,
            name=message_target(base_url, wait.origin, wait.step),
            client_ip=connection.client_ip,
            helo=connection.helo,
            mail_from=connection.mail_from,
            extra=self._extra_checks,
        )
        return judgement, raw, message.found

    def _sent(self, base_url: str, wait: MailWait, extended: ExtendedJudgement | None) -> SentMessage:
        target = message_target(base_url, wait.origin, wait.step)
        message = wait.message
        start = wait.trigger_started if wait.trigger_started is not None else wait.wait_started
        # What is known of every email step, whether its message arrived or not.
        missing = SentMessage(
            flow=wait.origin,
            step=wait.step,
            where=wait.where,
            target=target,
            to=wait.to,
            trigger=wait.trigger,
            arrived=False,
            delivery_s=None,
            waited_s=round(wait.found_at - wait.wait_started, 2),
        )
        if message is None or extended is None:
            return missing
        arrived_at = message.arrived_at if message.arrived_at is not None else wait.found_at
        judgement = extended.judgement
        message_id = judgement.subject if judgement.subject != target else None
        return replace(
            missing,
            arrived=True,
            delivery_s=round(max(0.0, arrived_at - start), 2),
            message_id=message_id,
            subject=dict(judgement.shown).get("Subject"),
            authentication_results=judgement.auth.authentication_results(),
            findings=_retarget(extended.findings, target, message_id),
            spam_score=None if extended.spam is None else extended.spam.score,
            checked=tuple(extended.summary_lines()),
        )


def mail_tester(config: Config, net: NetSettings) -> MailTest:
    """The mail test `launchready audit` hands the engine when [email] test is on."""
    from launchready.mailtest.policy import config_policy

    return MailTest(config, net, config_policy(config))


def mail_test_seconds(config: Config, options: ExtendedOptions | None = None) -> float:
    """How long one environment's mail test may take: its flows (each email step waits up to
    ``wait_s`` more), then judging, scoring and (opted in) dialling links; what a check timeout must allow."""
    options = options if options is not None else ExtendedOptions()
    extra = (options.spam_timeout_s if options.spamassassin else 0.0) + (
        options.link_budget_s if options.check_links else 0.0
    )
    return config.smoke.flow_timeout + config.email.mail_wait_s + JUDGING_MARGIN_S + extra

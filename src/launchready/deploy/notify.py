"""Deploy notifications: ``[[smoke.notify]]`` targets sent through the providers in ``notify/``.

A notification that cannot be delivered is reported (and the deploy goes on): the deploy's
outcome must never depend on a chat service being up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from launchready.config.sections.smoke import NotifyTarget
from launchready.core.net import NetSettings
from launchready.notify.base import Delivery, Message, Provider
from launchready.notify.email import EmailProvider
from launchready.notify.slack import SlackProvider
from launchready.notify.transport import Transport
from launchready.notify.webhook import LEGACY_SIGNATURE_HEADER, WebhookProvider
from launchready.smoke.secrets import Masker

SIGNATURE_HEADER = LEGACY_SIGNATURE_HEADER

__all__ = ["Delivery", "DeployEvent", "Notifier", "SIGNATURE_HEADER", "describe", "provider_for"]


@dataclass(frozen=True)
class DeployEvent:
    # deploy.started, deploy.finished, rollback.started, rollback.finished; notify.test (a check's test message)
    event: str
    environment: str
    version: str
    who: str
    outcome: str | None = None  # for *.finished
    lines: tuple[str, ...] = ()  # what happened, masked

    @property
    def headline(self) -> str:
        what = {
            "deploy.started": "Deploy started",
            "deploy.finished": "Deploy finished",
            "rollback.started": "Rollback started",
            "rollback.finished": "Rollback finished",
            "notify.test": "Test notification (nothing was deployed)",
        }.get(self.event, self.event)
        outcome = f": {self.outcome}" if self.outcome else ""
        return f"{what}{outcome} — {self.environment} {self.version} by {self.who}"

    def as_text(self) -> str:
        return "\n".join([self.headline, *self.lines])

    def as_json(self) -> dict[str, object]:
        return {
            "event": self.event,
            "environment": self.environment,
            "version": self.version,
            "who": self.who,
            "outcome": self.outcome,
            "details": list(self.lines),
            "test": self.event == "notify.test",
        }

    def as_message(self) -> Message:
        return Message(title=self.headline, lines=self.lines, payload=self.as_json(), event=self.event)


def provider_for(
    target: NotifyTarget, index: int, env: Mapping[str, str], transport: Transport, masker: Masker
) -> Provider:
    """The provider sending to one ``[[smoke.notify]]`` entry."""
    name = f"{target.kind}-{index + 1}"
    if target.kind == "slack":
        return SlackProvider(name, url=target.url, env=env, transport=transport, masker=masker)
    if target.kind == "webhook":
        return WebhookProvider(name, url=target.url, secret=target.secret, env=env, transport=transport, masker=masker)
    host, _, port = (target.smtp or ":0").rpartition(":")
    return EmailProvider(
        name,
        host=host,
        port=int(port),
        sender=target.sender,
        to=target.to,
        starttls=target.starttls,
        username=target.username,
        password=target.password,
        env=env,
        transport=transport,
        masker=masker,
    )


def describe(target: NotifyTarget, masker: Masker) -> str:
    return provider_for(target, 0, {}, Transport(NetSettings()), masker).target


class Notifier:
    def __init__(
        self, targets: Sequence[NotifyTarget], env: Mapping[str, str], net: NetSettings, masker: Masker
    ) -> None:
        self._targets = tuple(targets)
        self._transport = Transport(net)
        # Building the providers registers every resolved secret (and the whole Slack URL) with the masker.
        self._providers = [provider_for(t, i, env, self._transport, masker) for i, t in enumerate(self._targets)]

    @property
    def targets(self) -> tuple[NotifyTarget, ...]:
        return self._targets

    def problems(self) -> list[str]:
        """Every target's configuration problems, one line each, prefixed with where it sends."""
        return [f"{p.target}: {problem}" for p in self._providers for problem in p.validate()]

    async def send(self, event: DeployEvent) -> list[Delivery]:
        if not self._providers:
            return []
        message = event.as_message()
        try:
            return list(await asyncio.gather(*(p.send(message) for p in self._providers)))
        finally:
            for provider in self._providers:
                await provider.close()
            await self._transport.close()

"""Deploy notifications: Slack incoming webhook, a generic (optionally signed) webhook, SMTP email.

A notification that cannot be delivered is reported (and the deploy goes on): the deploy's
outcome must never depend on a chat service being up.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from launchready.config.sections.smoke import ENV_REFERENCE, NotifyTarget
from launchready.core.net import NetSettings
from launchready.probes.tls import verifying_context
from launchready.smoke.http import FlowHttp
from launchready.smoke.secrets import Masker
from launchready.smoke.signing import signature_header

SIGNATURE_HEADER = "X-Launchready-Signature-256"


@dataclass(frozen=True)
class DeployEvent:
    event: str  # deploy.started, deploy.finished, rollback.started, rollback.finished
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
        }


@dataclass(frozen=True)
class Delivery:
    target: str  # described, masked
    ok: bool
    error: str | None = None


def _resolve(value: str | None, env: Mapping[str, str]) -> str | None:
    if value is None:
        return None
    match = ENV_REFERENCE.match(value)
    if match is None:
        return value
    return env.get(match.group(1))


def describe(target: NotifyTarget, masker: Masker) -> str:
    if target.kind == "email":
        return f"email to {', '.join(target.to)} via {target.smtp}"
    # A Slack webhook URL is itself the credential: show only where it points.
    url = target.url or ""
    shown = url if ENV_REFERENCE.match(url) else masker.text(url.split("?")[0].rsplit("/", 2)[0] + "/…")
    return f"{target.kind} {shown}"


class Notifier:
    def __init__(
        self, targets: Sequence[NotifyTarget], env: Mapping[str, str], net: NetSettings, masker: Masker
    ) -> None:
        self._targets = tuple(targets)
        self._env = env
        self._net = net
        self._masker = masker
        for target in self._targets:
            for value in (target.url, target.secret, target.password):
                resolved = _resolve(value, env)
                if resolved and value and ENV_REFERENCE.match(value):
                    masker.add(resolved)
            if target.kind == "slack" and target.url:
                # The whole Slack URL is a secret (anyone holding it can post).
                resolved = _resolve(target.url, env)
                if resolved:
                    masker.add(resolved)

    @property
    def targets(self) -> tuple[NotifyTarget, ...]:
        return self._targets

    async def send(self, event: DeployEvent) -> list[Delivery]:
        if not self._targets:
            return []
        http = FlowHttp(self._net)
        try:
            return list(await asyncio.gather(*(self._one(t, event, http) for t in self._targets)))
        finally:
            await http.close()

    async def _one(self, target: NotifyTarget, event: DeployEvent, http: FlowHttp) -> Delivery:
        shown = describe(target, self._masker)
        try:
            if target.kind == "email":
                await asyncio.to_thread(self._email, target, event)
                return Delivery(shown, True)
            url = _resolve(target.url, self._env)
            if not url:
                return Delivery(shown, False, f"{target.url} is not set in the environment")
            if target.kind == "slack":
                body = json.dumps({"text": event.as_text()}).encode()
                headers = {"Content-Type": "application/json"}
            else:
                body = json.dumps(event.as_json()).encode()
                headers = {"Content-Type": "application/json", "X-Launchready-Event": event.event}
                secret = _resolve(target.secret, self._env)
                if target.secret and not secret:
                    return Delivery(shown, False, f"{target.secret} is not set in the environment")
                if secret:
                    name, value = signature_header("github", secret, body, header=SIGNATURE_HEADER)
                    headers[name] = value
            async with http.session() as session:
                response = await http.send(session, "POST", url, headers=headers, data=body)
            if response.status is None:
                return Delivery(shown, False, self._masker.text(response.error or "no response"))
            if not 200 <= response.status < 300:
                return Delivery(shown, False, f"answered {response.status}")
            return Delivery(shown, True)
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            return Delivery(shown, False, self._masker.text(f"{type(exc).__name__}: {exc}"))

    def _email(self, target: NotifyTarget, event: DeployEvent) -> None:
        assert target.smtp is not None and target.sender is not None
        host, _, port = target.smtp.rpartition(":")
        message = EmailMessage()
        message["From"] = target.sender
        message["To"] = ", ".join(target.to)
        message["Subject"] = f"[launchready] {event.headline}"
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain="launchready.invalid")
        message.set_content(event.as_text() + "\n")
        with smtplib.SMTP(host.strip("[]"), int(port), timeout=self._net.timeout) as smtp:
            if target.starttls:
                smtp.starttls(context=verifying_context(self._net))
            username = _resolve(target.username, self._env)
            password = _resolve(target.password, self._env)
            if username and password:
                smtp.login(username, password)
            smtp.send_message(message)

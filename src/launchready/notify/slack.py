"""Slack incoming webhooks: one JSON POST with the message as ``text``.

The webhook URL is itself the credential (anyone holding it can post), so it is masked
everywhere and only its host and first path segments are ever shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from launchready.notify.base import Delivery, Message, resolve_env
from launchready.notify.transport import Transport
from launchready.notify.webhook import check_http_url, described_url
from launchready.smoke.secrets import Masker


class SlackProvider:
    kind = "slack"

    def __init__(
        self, name: str, *, url: str | None, env: Mapping[str, str], transport: Transport, masker: Masker
    ) -> None:
        self._name = name
        self._raw_url = url
        self._url, self._url_problem = resolve_env(url, env)
        self._transport = transport
        self._masker = masker
        if self._url:
            masker.add(self._url)

    @property
    def name(self) -> str:
        return self._name

    @property
    def target(self) -> str:
        return f"slack {described_url(self._raw_url, self._masker)}"

    def validate(self) -> list[str]:
        if self._raw_url is None:
            return ["url: expected the Slack incoming-webhook URL"]
        if self._url_problem:
            return [f"url: {self._url_problem}"]
        problem = check_http_url(self._url or "")
        return [f"url: {problem}"] if problem else []

    async def send(self, message: Message) -> Delivery:
        problems = self.validate()
        if problems:
            return Delivery(self.target, False, problems[0], permanent=True)
        assert self._url is not None
        text = message.text()
        if message.idempotency_key:
            text += f"\n(alert key {message.idempotency_key})"
        body = json.dumps({"text": text}).encode()
        result = await self._transport.post(self._url, body, {"Content-Type": "application/json"})
        if result.status is None:
            return Delivery(self.target, False, self._masker.text(result.error or "no response"))
        if not 200 <= result.status < 300:
            return Delivery(self.target, False, f"answered {result.status}", retry_after=result.retry_after)
        return Delivery(self.target, True)

    async def close(self) -> None:
        return None

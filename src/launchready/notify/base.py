"""The provider interface, the message providers render, and what a send reports.

A provider never raises for a network failure: a dead endpoint is a :class:`Delivery` with
``ok=False`` and a masked reason, so a caller can retry, report it and carry on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from launchready.config.sections.smoke import ENV_REFERENCE

if TYPE_CHECKING:
    from launchready.smoke.secrets import Masker


@dataclass(frozen=True)
class Message:
    """One notification, in the shapes the providers need.

    ``title`` is one line (Slack's first line, the e-mail subject); ``lines`` follow it in text
    renderings; ``payload`` is the generic webhook's JSON body; ``event`` names the kind of
    message for receivers (``X-Launchready-Event``); ``idempotency_key`` is repeated by every
    delivery of the same message so receivers can drop retries.
    """

    title: str
    lines: tuple[str, ...] = ()
    payload: Mapping[str, object] = field(default_factory=dict)
    event: str = "message"
    idempotency_key: str | None = None

    def text(self) -> str:
        return "\n".join([self.title, *self.lines])


@dataclass(frozen=True)
class Delivery:
    """What one send did. ``target`` describes where it went, masked; ``error`` is masked too.

    ``permanent`` marks failures a retry cannot fix (the configuration is incomplete, e.g. an
    environment variable is unset): the monitor's worker gives up on those at once.
    ``retry_after`` is the receiver's own wish (HTTP 429/503 ``Retry-After``, in seconds): the
    worker waits at least that long before the next attempt.
    """

    target: str
    ok: bool
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


class Provider(Protocol):
    """An alert provider: Slack incoming webhook, generic webhook or SMTP e-mail."""

    @property
    def name(self) -> str:
        """The provider's name in the config (the outbox routes rows by it)."""
        ...

    @property
    def kind(self) -> str:
        """``slack``, ``webhook`` or ``email``."""
        ...

    @property
    def target(self) -> str:
        """Where it sends, described for people and masked (a Slack URL is itself a secret)."""
        ...

    def validate(self) -> list[str]:
        """Configuration problems, each one line naming the field; empty when it can send."""
        ...

    async def send(self, message: Message) -> Delivery:
        """Deliver ``message``; never raises for network failures."""
        ...

    async def close(self) -> None:
        """Release what the provider holds (threads); the shared transport is closed by its owner."""
        ...


def resolve_env(value: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(value, problem) for a config value that may be ``${env:NAME}``.

    A reference to an unset variable yields ``(None, "${env:NAME} is not set in the environment")``.
    """
    if value is None:
        return None, None
    match = ENV_REFERENCE.match(value)
    if match is None:
        return value, None
    resolved = env.get(match.group(1))
    if not resolved:
        return None, f"{value} is not set in the environment"
    return resolved, None


def is_env_reference(value: str | None) -> bool:
    return value is not None and ENV_REFERENCE.match(value) is not None


def resolve_secret(value: str | None, env: Mapping[str, str], masker: Masker) -> tuple[str | None, str | None]:
    """``resolve_env``, and a value read from ``${env:NAME}`` is masked wherever the run prints:
    a credential kept out of the config file must not come back in a report."""
    resolved, problem = resolve_env(value, env)
    if resolved and is_env_reference(value):
        masker.add(resolved)
    return resolved, problem

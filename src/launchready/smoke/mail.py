"""Where ``email`` steps wait for mail: a Mailpit-style HTTP API or a real mailbox over IMAP.

Both poll until a message to the address (and with the subject, if given) arrives or the step's
timeout passes. The Mailpit API (``GET /api/v1/search?query=to:"ADDR"`` then
``GET /api/v1/message/ID``) is what Mailpit serves in staging setups and what the lab speaks.
IMAP goes through the mail tests' reader (``mailtest/mailbox.py``: imaplib in a worker thread,
the same trust as every other TLS connection), searching only the configured folder.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Protocol
from urllib.parse import quote

from launchready.config.sections.smoke import MailboxSettings
from launchready.core.net import NetSettings
from launchready.mailtest.errors import MailboxError
from launchready.mailtest.mailbox import Criteria, FoundMessage, ImapAccount, ImapMailbox
from launchready.smoke.http import FlowHttp


@dataclass(frozen=True)
class MailMessage:
    to: tuple[str, ...]
    subject: str
    text: str
    headers: tuple[tuple[str, str], ...] = ()
    # The message as received (RFC 5322 bytes), when the source was asked for it (the mail test).
    raw: bytes | None = None
    # When it arrived (time.perf_counter()), when the source saw it arrive; else it was found by polling.
    arrived_at: float | None = None
    # Where a real IMAP mailbox filed it (Inbox or Junk), when the source was asked to look there too.
    found: FoundMessage | None = None


@dataclass(frozen=True)
class MailWait:
    """One email step's wait, for a caller timing and judging the product's mail (the mail test)."""

    flow: str  # the flow being run
    origin: str  # the flow the email step is written in
    step: str  # the step's name (masked)
    where: str  # file:line of the step
    to: str
    subject: str | None
    trigger: str | None  # the last request before the step ("POST https://app.example.com/signup", masked)
    trigger_started: float | None  # time.perf_counter() when that request was sent
    wait_started: float  # time.perf_counter() when the wait began
    found_at: float  # time.perf_counter() when the wait ended
    timeout: float
    message: MailMessage | None  # None: nothing arrived within ``timeout``


MailCallback = Callable[[MailWait], None]


class MailError(Exception):
    """The mailbox itself could not be read (as opposed to: no message yet)."""


class MailSource(Protocol):
    async def find(self, to: str, subject: str | None) -> MailMessage | None: ...

    @property
    def poll_seconds(self) -> float: ...

    async def close(self) -> None: ...


async def wait_for_mail(source: MailSource, to: str, subject: str | None, timeout: float) -> MailMessage | None:
    deadline = time.monotonic() + timeout
    while True:
        found = await source.find(to, subject)
        if found is not None:
            return found
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        await asyncio.sleep(min(source.poll_seconds, remaining))


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, ValueError):
        return ""


def from_email(message: EmailMessage, raw: bytes | None = None) -> MailMessage:
    to = tuple(a.strip() for a in str(message.get("To", "")).split(",") if a.strip())
    headers = tuple((k.lower(), str(v)) for k, v in message.items())
    return MailMessage(to, str(message.get("Subject", "")), _text_of(message), headers, raw=raw)


class MailpitSource:
    def __init__(self, base_url: str, http: FlowHttp, poll_seconds: float = 0.5, *, fetch_raw: bool = False) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._session = http.session()
        self._poll = poll_seconds
        # The mail test judges the message as sent: Mailpit's GET /api/v1/message/ID/raw.
        self._fetch_raw = fetch_raw

    @property
    def poll_seconds(self) -> float:
        return self._poll

    async def _get_raw(self, ident: str) -> bytes:
        url = f"{self._base}/api/v1/message/{quote(ident)}/raw"
        response = await self._http.send(self._session, "GET", url)
        if response.status != 200:
            raise MailError(f"mailbox API {url} answered {response.status or response.error}")
        return response.body

    async def _get_json(self, url: str) -> object:
        response = await self._http.send(self._session, "GET", url)
        if response.status != 200:
            raise MailError(f"mailbox API {url.split('?')[0]} answered {response.status or response.error}")
        try:
            return json.loads(response.body)
        except ValueError as exc:
            raise MailError(f"mailbox API {url.split('?')[0]} did not answer JSON: {exc}") from None
        except RecursionError:
            raise MailError(f"mailbox API {url.split('?')[0]} answered JSON nested too deeply to read") from None

    async def find(self, to: str, subject: str | None) -> MailMessage | None:
        query = f'to:"{to}"' + (f' subject:"{subject}"' if subject else "")
        listing = await self._get_json(f"{self._base}/api/v1/search?query={quote(query)}")
        messages = listing.get("messages") if isinstance(listing, dict) else None
        if not isinstance(messages, list):
            raise MailError("mailbox API search answer has no 'messages' list")
        for summary in messages:
            if not isinstance(summary, dict) or "ID" not in summary:
                continue
            if subject and subject not in str(summary.get("Subject", "")):
                continue
            detail = await self._get_json(f"{self._base}/api/v1/message/{quote(str(summary['ID']))}")
            if not isinstance(detail, dict):
                continue
            recipients = tuple(str(a.get("Address", "")) for a in detail.get("To") or () if isinstance(a, dict))
            if to.lower() not in (r.lower() for r in recipients):
                continue
            text = str(detail.get("Text") or detail.get("HTML") or "")
            raw = await self._get_raw(str(summary["ID"])) if self._fetch_raw else None
            return MailMessage(recipients, str(detail.get("Subject", "")), text, raw=raw)
        return None

    async def close(self) -> None:
        await self._session.close()


class ImapSource:
    """The smoke flows' IMAP mailbox, through the mail tests' reader: the configured folder only,
    or (``search_junk``, the mail test) its Junk folders too, keeping where the message was found."""

    def __init__(
        self, settings: MailboxSettings, net: NetSettings, env: Mapping[str, str], *, search_junk: bool = False
    ) -> None:
        self._search_junk = search_junk
        try:
            account = ImapAccount.from_settings(settings, env, "[smoke.mailbox]")
        except MailboxError as exc:
            raise MailError(str(exc)) from None
        self._settings = settings
        self._mailbox = ImapMailbox(account, net)

    @property
    def poll_seconds(self) -> float:
        return self._settings.poll_seconds

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._mailbox.secrets

    async def find(self, to: str, subject: str | None) -> MailMessage | None:
        try:
            found = await self._mailbox.find(Criteria(to=to, subject=subject), junk=self._search_junk)
        except MailboxError as exc:
            raise MailError(str(exc)) from None
        if found is None:
            return None
        message = BytesParser(policy=policy.default).parsebytes(found.raw)
        if not isinstance(message, EmailMessage):
            return None
        # The message as fetched (raw): the mail test judges exactly what the mailbox holds.
        return replace(from_email(message, found.raw), found=found if self._search_junk else None)

    async def close(self) -> None:
        return None

"""E-mail over SMTP, upgraded with STARTTLS against the run's trust (system store + ``--ca-bundle``).

The connection is planned like every other one (``--connect-to``, else the run's DNS through
``--nameserver``) and the certificate is checked against the configured host name, not the
address dialled. smtplib does the protocol; it blocks, so each provider sends on its own small
thread pool: a dead mail server ties up only its own threads, never the event loop or the
threads other providers and the store use.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from launchready.core.net import format_peer
from launchready.notify.base import Delivery, Message, resolve_secret
from launchready.notify.transport import Transport
from launchready.probes.tls import verifying_context
from launchready.smoke.secrets import Masker

SMTP_THREADS = 2


class _RoutedSMTP(smtplib.SMTP):
    """smtplib.SMTP dialling planned endpoints while keeping the host name for STARTTLS checks."""

    def __init__(self, endpoints: Sequence[tuple[str, int]], timeout: float) -> None:
        self._endpoints = tuple(endpoints)
        super().__init__(timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # smtplib takes the STARTTLS server_hostname from _host, which only __init__ sets.
        self._host = host
        last: OSError | None = None
        for address, dial_port in self._endpoints:
            try:
                return socket.create_connection((address, dial_port), timeout)
            except OSError as exc:
                last = exc
        raise last or OSError(f"{host} has no address to dial")


def message_id(idempotency_key: str | None) -> str:
    """A Message-ID stable across retries of one alert, so mail clients can fold duplicates."""
    if idempotency_key is None:
        return make_msgid(domain="launchready.invalid")
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@launchready.invalid>"


class EmailProvider:
    kind = "email"

    def __init__(
        self,
        name: str,
        *,
        host: str | None,
        port: int,
        sender: str | None,
        to: Sequence[str],
        starttls: bool,
        username: str | None,
        password: str | None,
        env: Mapping[str, str],
        transport: Transport,
        masker: Masker,
    ) -> None:
        self._name = name
        self._host = (host or "").strip("[]")
        self._port = port
        self._sender = sender
        self._to = tuple(to)
        self._starttls = starttls
        self._username, self._username_problem = resolve_secret(username, env, masker)
        self._password, self._password_problem = resolve_secret(password, env, masker)
        self._transport = transport
        self._masker = masker
        self._executor: ThreadPoolExecutor | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def target(self) -> str:
        return f"email to {', '.join(self._to)} via {format_peer(self._host, self._port)}"

    def validate(self) -> list[str]:
        problems: list[str] = []
        if not self._host:
            problems.append("host: expected the SMTP server's host name")
        if not 0 < self._port < 65536:
            problems.append(f"port: expected a port from 1 to 65535, got {self._port}")
        if not self._sender:
            problems.append("from: expected the sender address")
        if not self._to:
            problems.append("to: expected at least one recipient")
        if self._username_problem:
            problems.append(f"username: {self._username_problem}")
        if self._password_problem:
            problems.append(f"password: {self._password_problem}")
        return problems

    def _compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = ", ".join(self._to)
        mail["Subject"] = f"[launchready] {message.title}"
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message_id(message.idempotency_key)
        lines = list(message.lines)
        if message.idempotency_key:
            mail["X-Launchready-Idempotency-Key"] = message.idempotency_key
            lines.append(f"(alert key {message.idempotency_key})")
        mail.set_content("\n".join([message.title, *lines]) + "\n")
        return mail

    def _send_blocking(self, endpoints: Sequence[tuple[str, int]], mail: EmailMessage) -> None:
        net = self._transport.net
        with _RoutedSMTP(endpoints, net.timeout) as smtp:
            smtp.connect(self._host, self._port)
            if self._starttls:
                smtp.starttls(context=verifying_context(net))
            if self._username and self._password:
                smtp.login(self._username, self._password)
            smtp.send_message(mail)

    async def send(self, message: Message) -> Delivery:
        problems = self.validate()
        if problems:
            return Delivery(self.target, False, problems[0], permanent=True)
        plan = await self._transport.plan(self._host, self._port)
        if not plan.endpoints:
            return Delivery(self.target, False, self._masker.text(plan.error or f"{self._host} has no address"))
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=SMTP_THREADS, thread_name_prefix=f"smtp-{self._name}")
        mail = self._compose(message)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._send_blocking, plan.endpoints, mail)
        except (OSError, smtplib.SMTPException, ssl.SSLError, ValueError) as exc:
            detail = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            return Delivery(self.target, False, self._masker.text(" ".join(detail.split())))
        return Delivery(self.target, True)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            # A send stuck on a dead server ends by its own socket timeout; nobody waits for it.
            executor.shutdown(wait=False, cancel_futures=True)

"""An SMTP receiver (aiosmtpd, optional STARTTLS) that judges every message as it arrives.

A staging environment's relay, or a test subdomain's MX, points here. Unlike a saved .eml, the
receiver sees the connecting address, the HELO name and the envelope sender, so SPF is judged
on what the sending server really presented.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Callable

from aiosmtpd.smtp import SMTP, Envelope, Session

from launchready.core.net import NetSettings
from launchready.mailtest.content import ContentPolicy
from launchready.mailtest.judge import Judgement, judge_message
from launchready.mailtest.smtp_listener import SmtpListener, TrackedSMTP
from launchready.probes.dns import DnsProbe

# A message larger than this is refused at DATA (552): see content.MAX_BYTES for why 10 MB matters.
DATA_SIZE_LIMIT = 32 * 1024 * 1024
_IDLE_SECONDS = 300


def peer_address(peer: object) -> str | None:
    """The connecting address; an IPv4 client of a dual-stack socket (::ffff:a.b.c.d) as IPv4,
    which is what its SPF record lists."""
    if not isinstance(peer, tuple) or not peer:
        return None
    try:
        address = ipaddress.ip_address(str(peer[0]).partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


class _JudgingHandler:
    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        client_ip = peer_address(session.peer)
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        judgement = await self._receiver.judge(
            raw, client_ip=client_ip, helo=session.host_name or "", mail_from=envelope.mail_from or ""
        )
        self._receiver.delivered(judgement)
        return "250 Message accepted and judged"


class Receiver(SmtpListener):
    """Listens on ``host:port`` on the running loop; ``on_judgement`` gets each message's verdicts."""

    def __init__(
        self,
        net: NetSettings,
        policy: ContentPolicy,
        on_judgement: Callable[[Judgement], None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_context: ssl.SSLContext | None = None,
        hostname: str = "launchready",
    ) -> None:
        self._net = net
        self._policy = policy
        super().__init__(host, port)
        self._on_judgement = on_judgement
        self._tls = tls_context
        self._hostname = hostname
        self.received = 0  # messages whose DATA arrived
        self.judged = 0  # messages judged and handed to on_judgement
        self._count_changed = asyncio.Condition()

    async def judge(self, raw: bytes, *, client_ip: str | None, helo: str, mail_from: str) -> Judgement:
        self.received += 1
        dns = DnsProbe(self._net)
        try:
            return await judge_message(
                dns,
                raw,
                self._policy,
                name=f"message {self.received} from {client_ip or 'unknown'}",
                client_ip=client_ip,
                helo=helo,
                mail_from=mail_from,
            )
        finally:
            await dns.close()

    def delivered(self, judgement: Judgement) -> None:
        self.judged += 1
        self._on_judgement(judgement)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._count_changed:
            self._count_changed.notify_all()

    async def wait_for(self, count: int) -> None:
        """Return once ``count`` messages have been judged."""
        async with self._count_changed:
            await self._count_changed.wait_for(lambda: self.judged >= count)

    def _protocol(self) -> SMTP:
        return TrackedSMTP(
            _JudgingHandler(self),
            connections=self._connections,
            hostname=self._hostname,
            tls_context=self._tls,
            require_starttls=False,
            data_size_limit=DATA_SIZE_LIMIT,
            timeout=_IDLE_SECONDS,
        )

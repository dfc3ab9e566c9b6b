"""Real mailboxes over IMAP: find the message under test in the Inbox or the Spam/Junk folder.

One reader for every IMAP use in the project: the smoke flows' ``email`` steps (one folder) and
the mail tests (the Inbox and every folder the server flags ``\\Junk``, RFC 6154). It is the
standard library's imaplib in a worker thread (imaplib blocks), over TLS with the same trust as
every other connection of the run (system store plus ``--ca-bundle``). Folders are only ever
opened read-only (EXAMINE) and messages fetched with ``BODY.PEEK``, so nothing in the mailbox
changes, not even the \\Seen flag.

The Junk folder is found by its special-use attribute (``\\Junk`` in the LIST answer, asking with
``LIST (SPECIAL-USE)`` when the server announces the extension); only a server that flags no
folder is searched by the usual names (Junk, Spam, Junk E-mail, [Gmail]/Spam), and the result
says which way the folder was found.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from launchready.config.sections.smoke import ENV_REFERENCE, MailboxSettings
from launchready.core.net import NetSettings
from launchready.email.authres import AuthResults, parse_authentication_results
from launchready.mailtest.errors import MailboxError
from launchready.mailtest.message import ParsedMessage
from launchready.probes.tls import verifying_context

# Larger messages are not fetched whole (content.MAX_BYTES explains why 10 MB matters); a fetch
# that comes back this long was cut and is reported as such.
MAX_FETCH_BYTES = 32 * 1024 * 1024
# Names a server without RFC 6154 support commonly gives its spam folder (Gmail's under [Gmail]/,
# Outlook's "Junk E-mail" in older Exchange, "Courrier indésirable" etc. are not guessed).
JUNK_NAMES = ("junk", "spam", "junk e-mail", "junk email", "bulk mail", "[gmail]/spam", "inbox/junk", "inbox/spam")
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\)\s+(?P<sep>"(?:[^"\\]|\\.)*"|NIL)\s+(?P<name>.*)$', re.IGNORECASE)


@dataclass(frozen=True)
class ImapAccount:
    host: str
    username: str
    password: str
    port: int | None = None
    tls: bool = True
    folder: str = "INBOX"

    @classmethod
    def from_settings(cls, settings: MailboxSettings, env: Mapping[str, str], where: str) -> ImapAccount:
        """The account ``[smoke.mailbox]`` (``where`` names the table) describes, its ``${env:NAME}``
        references read from ``env``."""
        if settings.kind != "imap" or not settings.host or not settings.username or not settings.password:
            raise MailboxError(f'{where}: expected kind = "imap" with host, username and password')
        return cls(
            host=settings.host,
            username=env_value(settings.username, env, where),
            password=env_value(settings.password, env, where),
            port=settings.port,
            tls=settings.tls,
            folder=settings.folder,
        )


def env_value(value: str, env: Mapping[str, str], where: str) -> str:
    match = ENV_REFERENCE.match(value)
    if match is None:
        return value
    name = match.group(1)
    if name not in env:
        raise MailboxError(f"{where}: ${{env:{name}}} is not set in the environment")
    return env[name]


@dataclass(frozen=True)
class Folder:
    name: str  # as the server spells it (modified UTF-7), what SELECT takes
    attributes: tuple[str, ...]  # lower-cased: "\\junk", "\\noselect", ...

    @property
    def shown(self) -> str:
        return decode_mailbox_name(self.name)

    @property
    def is_junk(self) -> bool:
        return "\\junk" in self.attributes

    @property
    def selectable(self) -> bool:
        return "\\noselect" not in self.attributes and "\\nonexistent" not in self.attributes


@dataclass(frozen=True)
class Criteria:
    """What identifies the message under test; every given field must match."""

    to: str | None = None
    subject: str | None = None  # a part of the Subject, case-insensitive
    message_id: str | None = None

    def describe(self) -> str:
        parts = [f"{k} {v!r}" for k, v in (("to", self.to), ("subject", self.subject), ("Message-ID", self.message_id))]
        return ", ".join(p for p in parts if not p.endswith("None")) or "any message"


@dataclass(frozen=True)
class FoundMessage:
    folder: str  # decoded for people
    placement: Literal["inbox", "junk", "other"]
    junk_found_by: Literal["special-use", "name", ""]  # how the Junk folder was recognised
    raw: bytes
    searched: tuple[str, ...]  # every folder searched, decoded

    def provider_results(self, authserv_id: str | None = None) -> AuthResults | None:
        return provider_authentication_results(self.raw, authserv_id)


def provider_authentication_results(raw: bytes, authserv_id: str | None = None) -> AuthResults | None:
    """The receiving provider's own verdicts: the topmost Authentication-Results field (the last
    server to add one is the mailbox's), or the first with ``authserv_id`` when one is given.
    Fields further down were written before the provider (or forged by the sender) and are not
    the provider's word."""
    from launchready.mailtest.message import parse_message

    message: ParsedMessage = parse_message(raw)
    for value in message.all("authentication-results"):
        parsed = parse_authentication_results(value)
        if authserv_id is None or parsed.authserv_id == authserv_id.lower():
            return parsed
    return None


def decode_mailbox_name(name: str) -> str:
    """RFC 3501 5.1.3 modified UTF-7 (``Courrier ind&AOk-sirable``) to text; undecodable runs kept as sent."""

    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if not body:
            return "&"
        try:
            data = base64.b64decode(body.replace(",", "/") + "=" * (-len(body) % 4))
            return data.decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return match.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", one, name)


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_list(lines: list[object]) -> list[Folder]:
    """Folders from imaplib's LIST data: ``b'(\\HasNoChildren \\Junk) "/" Junk'``, or a tuple when
    the name came as a literal."""
    folders: list[Folder] = []
    for item in lines:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[0], bytes) and isinstance(item[1], bytes):
            head, name_raw = item[0], b'"' + item[1].replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
            head = re.sub(rb"\{\d+\}$", b"", head.rstrip()).rstrip()
            line = head + b" " + name_raw
        elif isinstance(item, bytes):
            line = item
        else:
            continue
        match = _LIST_LINE.match(line.strip())
        if match is None:
            continue
        attributes = tuple(a.lower() for a in match.group("flags").decode("ascii", errors="replace").split())
        folders.append(Folder(_unquote(match.group("name")), attributes))
    return folders


class ImapMailbox:
    """One account; each call logs in, reads and logs out (a poll every few seconds needs no idle connection)."""

    def __init__(self, account: ImapAccount, net: NetSettings) -> None:
        self.account = account
        self._net = net

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.account.password,)

    def _where(self) -> str:
        a = self.account
        return f"IMAP {a.host}:{a.port or (993 if a.tls else 143)}"

    def _connect(self) -> imaplib.IMAP4:
        a = self.account
        timeout = self._net.timeout
        try:
            if a.tls:
                context = verifying_context(self._net)
                client: imaplib.IMAP4 = imaplib.IMAP4_SSL(a.host, a.port or 993, ssl_context=context, timeout=timeout)
            else:
                client = imaplib.IMAP4(a.host, a.port or 143, timeout=timeout)
        except (OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{self._where()}: cannot connect: {exc}") from None
        try:
            client.login(a.username, a.password)
        except imaplib.IMAP4.error as exc:
            _logout(client)
            raise MailboxError(f"{self._where()}: login as {a.username} refused: {_text(exc)}") from None
        except OSError as exc:
            raise MailboxError(f"{self._where()}: connection failed during login: {exc}") from None
        return client

    def folders(self, client: imaplib.IMAP4) -> list[Folder]:
        status, data = client.list()
        if status != "OK":
            raise MailboxError(f"{self._where()}: LIST refused: {_text(data)}")
        found = parse_list(list(data or ()))
        if not any(f.is_junk for f in found) and "SPECIAL-USE" in client.capabilities:
            # Some servers return special-use attributes only when asked (RFC 6154 LIST-EXTENDED form).
            status, data = client.list('(SPECIAL-USE) ""', "*")
            if status == "OK":
                flagged = {f.name: f for f in parse_list(list(data or ()))}
                found = [flagged.get(f.name, f) for f in found] + [
                    f for n, f in flagged.items() if n not in {x.name for x in found}
                ]
        return found

    def junk_folders(self, folders: list[Folder]) -> tuple[list[Folder], Literal["special-use", "name", ""]]:
        flagged = [f for f in folders if f.is_junk and f.selectable]
        if flagged:
            return flagged, "special-use"
        named = [f for f in folders if f.selectable and f.shown.lower() in JUNK_NAMES]
        return named, ("name" if named else "")

    def _search(self, client: imaplib.IMAP4, folder: str, criteria: Criteria) -> list[bytes]:
        status, _ = client.select(quoted(folder), readonly=True)
        if status != "OK":
            raise MailboxError(f"{self._where()}: cannot open folder {decode_mailbox_name(folder)!r}")
        # imaplib sends ASCII only; a non-ASCII value is matched here after the fetch instead.
        terms: list[str] = []
        if criteria.to and criteria.to.isascii():
            terms += ["TO", quoted(criteria.to)]
        if criteria.message_id and criteria.message_id.isascii():
            terms += ["HEADER", "Message-ID", quoted(criteria.message_id)]
        if criteria.subject and criteria.subject.isascii():
            terms += ["SUBJECT", quoted(criteria.subject)]
        status, data = client.search(None, *(terms or ["ALL"]))
        if status != "OK" or not data or not data[0]:
            return []
        return list(data[0].split())

    def _fetch(self, client: imaplib.IMAP4, number: bytes) -> bytes | None:
        status, fetched = client.fetch(number.decode(), f"(BODY.PEEK[]<0.{MAX_FETCH_BYTES}>)")
        if status != "OK":
            return None
        for item in fetched or ():
            if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
                if len(item[1]) >= MAX_FETCH_BYTES:
                    raise MailboxError(f"{self._where()}: message {number.decode()} is over {MAX_FETCH_BYTES} bytes")
                return item[1]
        return None

    def _internaldate(self, client: imaplib.IMAP4, number: bytes) -> float:
        status, fetched = client.fetch(number.decode(), "(INTERNALDATE)")
        for item in fetched or ():
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes):
                parsed = imaplib.Internaldate2tuple(line)
                if parsed is not None:
                    return time.mktime(parsed)
        return 0.0

    def _newest_match(self, client: imaplib.IMAP4, folder: str, criteria: Criteria) -> tuple[float, bytes] | None:
        """The newest message in ``folder`` matching ``criteria``: (arrival time, raw)."""
        numbers = self._search(client, folder, criteria)
        # Newest first; a few candidates at most when the subject is filtered here (non-ASCII).
        for number in reversed(numbers[-20:]):
            raw = self._fetch(client, number)
            if raw is None:
                continue
            if not _matches_locally(raw, criteria):
                continue
            return self._internaldate(client, number), raw
        return None

    def find_blocking(self, criteria: Criteria, *, junk: bool = True) -> FoundMessage | None:
        """The newest message matching ``criteria`` in the account's folder and (``junk``) its Junk folders."""
        client = self._connect()
        try:
            inbox = Folder(self.account.folder, ())
            targets: list[tuple[Folder, Literal["inbox", "junk", "other"]]] = [
                (inbox, "inbox" if self.account.folder.upper() == "INBOX" else "other")
            ]
            found_by: Literal["special-use", "name", ""] = ""
            if junk:
                junk_folders, found_by = self.junk_folders(self.folders(client))
                targets += [(f, "junk") for f in junk_folders if f.name != inbox.name]
            hits: list[tuple[float, Folder, Literal["inbox", "junk", "other"], bytes]] = []
            for folder, placement in targets:
                match = self._newest_match(client, folder.name, criteria)
                if match is not None:
                    hits.append((match[0], folder, placement, match[1]))
            if not hits:
                return None
            _, folder, placement, raw = max(hits, key=lambda h: h[0])
            return FoundMessage(folder.shown, placement, found_by, raw, tuple(f.shown for f, _ in targets))
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"{self._where()}: {_text(exc)}") from None
        except OSError as exc:
            raise MailboxError(f"{self._where()}: connection failed: {exc}") from None
        finally:
            _logout(client)

    async def find(self, criteria: Criteria, *, junk: bool = True) -> FoundMessage | None:
        return await asyncio.to_thread(self.find_blocking, criteria, junk=junk)

    async def wait(
        self, criteria: Criteria, timeout: float, *, poll_seconds: float = 2.0, junk: bool = True
    ) -> FoundMessage | None:
        """Poll until the message arrives or ``timeout`` seconds pass (None then)."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.find(criteria, junk=junk)
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(poll_seconds, remaining))


def _decoded(value: str) -> str:
    import email.header

    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError):
        return value


def _matches_locally(raw: bytes, criteria: Criteria) -> bool:
    """The criteria the server could not be asked (non-ASCII values), checked on the message itself.

    The header section is read as UTF-8 (RFC 6532 allows raw UTF-8 in headers), then RFC 2047
    encoded words are decoded, so both ways of writing a non-ASCII subject or address match."""
    import email.parser
    import email.policy

    pending = [v for v in (criteria.to, criteria.subject, criteria.message_id) if v and not v.isascii()]
    if not pending:
        return True
    end = raw.find(b"\r\n\r\n")
    head = raw[: end if end >= 0 else len(raw)].decode("utf-8", errors="replace")
    headers = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(head)

    def values(name: str) -> str:
        return " ".join(_decoded(" ".join(str(v).split())) for v in headers.get_all(name) or ())

    if criteria.subject and not criteria.subject.isascii():
        if criteria.subject.lower() not in values("subject").lower():
            return False
    if criteria.to and not criteria.to.isascii():
        if criteria.to.lower() not in f"{values('to')} {values('cc')}".lower():
            return False
    if criteria.message_id and not criteria.message_id.isascii():
        if criteria.message_id.strip() != values("message-id").strip():
            return False
    return True


def _text(value: object) -> str:
    if isinstance(value, BaseException):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return " ".join(str(value).split())[:300]


def _logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        pass

"""One received message, parsed leniently: hostile input becomes defects, never an exception.

The standard library's compat32 parser records malformed MIME and bad transfer encodings as
``defects`` instead of raising, so a judge can always look at what arrived. Header values are read
as UTF-8, which RFC 6532 allows raw in headers (a byte sequence that is not UTF-8 becomes U+FFFD),
and kept as written otherwise: an address is parsed from the field as sent, never from its decoded
display text, where an encoded word could hide a second address. What a reader sees (RFC 2047
encoded words decoded) is :meth:`ParsedMessage.shown`. DKIM and ARC read ``raw``, never these.
"""

from __future__ import annotations

import email.errors
import email.parser
import email.policy
import email.utils
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser


@dataclass(frozen=True)
class Part:
    content_type: str
    text: str  # the decoded body (text parts only; "" for others)
    defects: tuple[str, ...]


@dataclass(frozen=True)
class ParsedMessage:
    raw: bytes
    headers: tuple[tuple[str, str], ...]  # (name as sent, value as UTF-8 with folding removed), in order
    parts: tuple[Part, ...]
    defects: tuple[str, ...]  # defects of the message and of every part

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def addresses(self, name: str) -> list[str]:
        """The addr-specs of every address in every ``name`` field ("" for an unparseable one)."""
        return [addr for _, addr in email.utils.getaddresses(self.all(name))]

    def shown(self, name: str) -> str | None:
        """The first ``name`` field as a mail client shows it (encoded words decoded), or None."""
        value = self.first(name)
        return None if value is None else readable_header(name, value)

    def has_part(self, content_type: str) -> bool:
        return any(p.content_type == content_type for p in self.parts)

    @property
    def size(self) -> int:
        return len(self.raw)


def domain_of(address: str) -> str:
    """The domain of ``local@domain`` (lower-cased), or "" when it has none."""
    _, at, domain = address.rpartition("@")
    return domain.strip().strip(">").lower().rstrip(".") if at else ""


# What the email package's header parser may raise on a hostile field; it is a display, so the
# field's text is shown as it is instead.
_HEADER_PARSE_ERRORS = (email.errors.MessageError, ValueError, IndexError, TypeError, AttributeError, LookupError)


def _header_text(value: str) -> str:
    """A value as the parser kept it (bytes that are not ASCII as surrogates), read as UTF-8."""
    return " ".join(value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").split())


def readable_header(name: str, value: str) -> str:
    """``value`` of field ``name`` with RFC 2047 encoded words decoded, by the email package's
    RFC 6532 policy (``email.policy.SMTPUTF8``): "=?utf-8?q?Zo=C3=AB?=" and raw "Zoë" both read "Zoë"."""
    try:
        shown = str(email.policy.SMTPUTF8.header_fetch_parse(name, value))
    except _HEADER_PARSE_ERRORS:
        return value
    return " ".join(shown.split())


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name: read it as UTF-8 rather than not at all
        return payload.decode("utf-8", errors="replace")


def parse_message(raw: bytes) -> ParsedMessage:
    parsed = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    # raw_items: the values as parsed, not compat32's Header objects (which show UTF-8 as U+FFFD).
    headers = tuple((str(k), _header_text(str(v))) for k, v in parsed.raw_items())
    parts: list[Part] = []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        # Decoding records bad transfer encodings (invalid base64) as defects of the part.
        text = _decode_part(part) if part.get_content_maintype() == "text" else ""
        if part.get_content_maintype() != "text":
            part.get_payload(decode=True)
        parts.append(Part(content_type, text, tuple(type(d).__name__ for d in part.defects)))
    defects = [type(d).__name__ for part in parsed.walk() for d in part.defects]
    return ParsedMessage(raw, headers, tuple(parts), tuple(dict.fromkeys(defects)))


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]).strip())
        elif tag == "img" and values.get("src"):
            self.images.append(str(values["src"]).strip())


def html_links(html: str) -> tuple[list[str], list[str]]:
    """(every <a href>, every <img src>) of an HTML body."""
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    return collector.links, collector.images

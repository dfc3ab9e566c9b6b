"""One received message, parsed leniently: hostile input becomes defects, never an exception.

The standard library's compat32 parser records malformed MIME and bad transfer encodings as
``defects`` instead of raising; header values are read as plain text (undecodable bytes kept as
surrogates replaced), so a judge can always look at what arrived.
"""

from __future__ import annotations

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
    headers: tuple[tuple[str, str], ...]  # (name as sent, value with folding removed), in order
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

    def has_part(self, content_type: str) -> bool:
        return any(p.content_type == content_type for p in self.parts)

    @property
    def size(self) -> int:
        return len(self.raw)


def domain_of(address: str) -> str:
    """The domain of ``local@domain`` (lower-cased), or "" when it has none."""
    _, at, domain = address.rpartition("@")
    return domain.strip().strip(">").lower().rstrip(".") if at else ""


def _header_text(value: object) -> str:
    return " ".join(str(value).split())


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
    headers = tuple((str(k), _header_text(v)) for k, v in parsed.items())
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

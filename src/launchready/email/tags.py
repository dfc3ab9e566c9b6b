"""Tag=value lists (RFC 6376 3.2), the syntax DKIM key records and DMARC records share."""

from __future__ import annotations


def parse_tags(text: str) -> tuple[tuple[str, str], ...]:
    """``"a=1; b = 2;"`` -> (("a", "1"), ("b", "2")): names lower-cased, whitespace trimmed.

    Lenient by design (never raises): records in the wild carry stray spaces and empty parts;
    a part without '=' is kept with an empty value so the judge can name it.
    """
    tags: list[tuple[str, str]] = []
    for part in text.split(";"):
        name, _, value = part.partition("=")
        name = name.strip()
        if not name and not value.strip():
            continue
        tags.append((name.lower(), value.strip()))
    return tuple(tags)

"""Tag=value lists (RFC 6376 3.2), the syntax DKIM key records and DMARC records share."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class TagList:
    """A tag list read strictly (RFC 6376 3.2): names exactly as written, since DKIM compares them
    case-sensitively, plus what makes the list invalid."""

    tags: tuple[tuple[str, str], ...]  # (name as written, trimmed value), parts without '=' left out
    duplicates: tuple[str, ...]  # names that appear more than once ("tags MUST NOT be duplicated")
    without_equals: tuple[str, ...]  # non-empty parts that are not name=value (a syntax error)

    def get(self, name: str) -> str | None:
        """The first value of tag ``name`` (exact, case-sensitive match)."""
        for key, value in self.tags:
            if key == name:
                return value
        return None

    @property
    def problem(self) -> str | None:
        if self.without_equals:
            part = self.without_equals[0]
            shown = part if len(part) <= 40 else part[:37] + "..."
            return f"{shown!r} is not a tag=value pair (a syntax error: receivers reject the whole record)"
        if self.duplicates:
            return f"tag {self.duplicates[0]}= appears more than once (receivers reject a record with a duplicated tag)"
        return None


def read_tag_list(text: str) -> TagList:
    """Split ``text`` on ';' and '=' without folding case; a trailing ';' and empty parts are allowed."""
    tags: list[tuple[str, str]] = []
    without_equals: list[str] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        name, equals, value = part.partition("=")
        if not equals:
            without_equals.append(part.strip())
            continue
        name = name.strip()
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
        tags.append((name, value.strip()))
    return TagList(tuple(tags), tuple(duplicates), tuple(without_equals))

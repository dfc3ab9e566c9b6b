"""HTTP header parsers every judge shares: Cache-Control (RFC 9111) and Strict-Transport-Security (RFC 6797).

They sit below the checks so that a check never imports another check for a parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CacheControl:
    directives: dict[str, str | None]

    @classmethod
    def parse(cls, values: tuple[str, ...]) -> CacheControl:
        """Parse one or more Cache-Control header values (RFC 9111 5.2: a comma-separated list)."""
        out: dict[str, str | None] = {}
        for value in values:
            for item in _split_commas(value):
                name, sep, arg = item.partition("=")
                name = name.strip().lower()
                if not name:
                    continue
                arg = arg.strip()
                if arg.startswith('"') and arg.endswith('"') and len(arg) >= 2:
                    arg = arg[1:-1]
                # RFC 9111 4.2.1: with duplicates the first occurrence is the one to trust.
                out.setdefault(name, arg if sep else None)
        return cls(out)

    def seconds(self, name: str) -> int | None:
        value = self.directives.get(name)
        if value is None or not (value.isascii() and value.isdigit()):
            return None
        return int(value)

    @property
    def shared_cacheable(self) -> bool:
        """Whether a shared cache may store the response and reuse it (RFC 9111 3 and 5.2.2)."""
        d = self.directives
        if "no-store" in d or "private" in d:
            return False
        if "public" in d:
            return True
        s_maxage = self.seconds("s-maxage")
        if s_maxage is not None:
            return s_maxage > 0  # s-maxage overrides max-age for shared caches
        max_age = self.seconds("max-age")
        return max_age is not None and max_age > 0


def _split_commas(value: str) -> list[str]:
    """Split on commas outside quoted strings (private="set-cookie, x" is one directive)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class HstsPolicy:
    max_age: int
    include_subdomains: bool
    preload: bool


_DIRECTIVE = re.compile(r'^\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^\s";]*)\s*)?$')


def parse_hsts(value: str) -> HstsPolicy | str:
    """Parse a header value per RFC 6797 6.1; returns the policy or why a browser would ignore it."""
    seen: dict[str, str | None] = {}
    for part in value.split(";"):
        if not part.strip():
            continue  # RFC 6797 6.1 allows empty directives ("max-age=1;;")
        m = _DIRECTIVE.match(part)
        if m is None:
            return f"cannot parse directive {part.strip()!r}"
        name = m[1].lower()
        if name in seen:
            return f"directive {name!r} appears twice (RFC 6797 6.1: the whole header is ignored)"
        raw = m[2]
        seen[name] = raw[1:-1] if raw is not None and raw.startswith('"') else raw
    if "max-age" not in seen:
        return "no max-age directive"
    age = seen["max-age"]
    if age is None or not (age.isascii() and age.isdigit()):
        return f"max-age {age!r} is not a number of seconds"
    return HstsPolicy(
        max_age=int(age),
        include_subdomains="includesubdomains" in seen,
        preload="preload" in seen,
    )

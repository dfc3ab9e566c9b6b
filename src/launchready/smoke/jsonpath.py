"""A small JSON path subset: ``$``, ``.name``, ``['name']``, ``[N]`` and ``[-N]``.

Flows need to reach into API answers, not to query them: this subset covers what smoke tests
write (``$.data.items[0].id``) and parses up front, so a bad path is a file:line error before
any request. A full JSONPath library (filters, wildcards) would be a dependency for features a
smoke step should not depend on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r"""\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]""")

Part = str | int


class JsonPathError(ValueError):
    """The path text is not in the supported subset."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class JsonPath:
    text: str
    parts: tuple[Part, ...]

    def find(self, document: Any) -> Any:
        """The value at the path, or MISSING."""
        current = document
        for part in self.parts:
            if isinstance(part, int):
                if not isinstance(current, list) or not -len(current) <= part < len(current):
                    return MISSING
                current = current[part]
            else:
                if not isinstance(current, dict) or part not in current:
                    return MISSING
                current = current[part]
        return current

    def __str__(self) -> str:
        return self.text


def parse_json_path(text: str) -> JsonPath:
    if not isinstance(text, str) or not text.startswith("$"):
        raise JsonPathError(f"JSON path {text!r} must start with '$'")
    parts: list[Part] = []
    i = 1
    while i < len(text):
        if text[i] == ".":
            match = _NAME.match(text, i + 1)
            if match is None:
                raise JsonPathError(f"JSON path {text!r}: expected a name after '.' at position {i + 1}")
            parts.append(match.group(0))
            i = match.end()
            continue
        match = _INDEX.match(text, i)
        if match is not None:
            parts.append(int(match.group(1)))
            i = match.end()
            continue
        match = _QUOTED.match(text, i)
        if match is not None:
            raw = match.group(1) if match.group(1) is not None else match.group(2)
            parts.append(re.sub(r"\\(.)", r"\1", raw))
            i = match.end()
            continue
        raise JsonPathError(
            f"JSON path {text!r}: unexpected {text[i]!r} at position {i} "
            "(supported: $.name, $['name'], $.list[0], $.list[-1])"
        )
    return JsonPath(text, tuple(parts))

"""Which line of a TOML document a key path is written on.

tomllib returns plain values without positions, so error messages need a second, lenient pass
over the text. The text has already parsed, so this scanner only has to find keys, not judge
the document: it walks [table] and [[array]] headers, dotted and quoted keys, strings of every
kind, arrays (one path element per item) and inline tables, recording the line where each path
is first written.

Paths use the shapes pydantic reports: ("environments", "production", "base_url") for tables,
("redirects", 2, "status") for the third [[redirects]] table or the third item of an array.
"""

from __future__ import annotations

import bisect
import tomllib
from dataclasses import dataclass

Path = tuple[str | int, ...]

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\r\n")


@dataclass(frozen=True)
class KeyLines:
    """Line numbers (1-based) of every key path written in one TOML document."""

    lines: dict[Path, int]

    @classmethod
    def scan(cls, text: str) -> KeyLines:
        return cls(_Scanner(text).run())

    def exact(self, path: Path) -> int | None:
        return self.lines.get(tuple(path))

    def line_of(self, path: Path) -> int:
        """The key's line, else the nearest enclosing table's or key's line, else line 1."""
        probe = tuple(path)
        while probe:
            found = self.lines.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return 1


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.line_starts = [0] + [k + 1 for k, ch in enumerate(text) if ch == "\n"]
        self.lines: dict[Path, int] = {}
        # Array-of-tables path -> how many [[...]] headers have been seen for it.
        self.array_counts: dict[Path, int] = {}

    def line_at(self, pos: int) -> int:
        return bisect.bisect_right(self.line_starts, pos)

    def record(self, path: Path, line: int) -> None:
        self.lines.setdefault(path, line)

    def record_with_parents(self, base: Path, keys: Path, line: int) -> None:
        for k in range(1, len(keys) + 1):
            self.record(base + keys[:k], line)

    # -- document level -------------------------------------------------------------------

    def run(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank(newlines=True)
            if self.i >= self.n:
                return self.lines
            before = self.i
            line = self.line_at(self.i)
            if self.s.startswith("[[", self.i):
                self.i += 2
                keys = self.key()
                self.expect("]]")
                base = self.resolve(keys[:-1]) + (keys[-1],)
                index = self.array_counts.get(base, 0)
                self.array_counts[base] = index + 1
                table = base + (index,)
                self.record_with_parents((), base, line)
                self.record(table, line)
            elif self.s[self.i] == "[":
                self.i += 1
                keys = self.key()
                self.expect("]")
                table = self.resolve(keys)
                self.record_with_parents((), table, line)
            else:
                keys = self.key()
                self.expect("=")
                self.record_with_parents(table, keys, line)
                self.value(table + keys)
            if self.i == before:  # only on text tomllib would reject; never loop forever
                self.i += 1

    def resolve(self, keys: Path) -> Path:
        """A header's absolute path: a segment naming an array of tables means its last table."""
        path: Path = ()
        for key in keys:
            path += (key,)
            count = self.array_counts.get(path)
            if count:
                path += (count - 1,)
        return path

    # -- lexical pieces -------------------------------------------------------------------

    def skip_blank(self, *, newlines: bool) -> None:
        while self.i < self.n:
            ch = self.s[self.i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.i += 1
            elif ch == "#":
                end = self.s.find("\n", self.i)
                self.i = self.n if end < 0 else end
            else:
                return

    def expect(self, token: str) -> None:
        self.skip_blank(newlines=False)
        if self.s.startswith(token, self.i):
            self.i += len(token)
        self.skip_blank(newlines=False)

    def key(self) -> Path:
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            start = self.i
            if self.i < self.n and self.s[self.i] in "\"'":
                self.string()
                parts.append(_decode_quoted_key(self.s[start : self.i]))
            else:
                while self.i < self.n and self.s[self.i] in _BARE_KEY_CHARS:
                    self.i += 1
                parts.append(self.s[start : self.i])
            self.skip_blank(newlines=False)
            if self.i < self.n and self.s[self.i] == ".":
                self.i += 1
                continue
            return tuple(parts)

    def string(self) -> None:
        quote = self.s[self.i]
        if self.s.startswith(quote * 3, self.i):
            self.i += 3
            while self.i < self.n:
                if quote == '"' and self.s[self.i] == "\\":
                    self.i += 2
                elif self.s.startswith(quote * 3, self.i):
                    self.i += 3
                    # Up to two quotes may sit right before the closing delimiter.
                    while self.i < self.n and self.s[self.i] == quote:
                        self.i += 1
                    return
                else:
                    self.i += 1
            return
        self.i += 1
        while self.i < self.n:
            ch = self.s[self.i]
            if quote == '"' and ch == "\\":
                self.i += 2
            elif ch == quote or ch == "\n":
                self.i += 1
                return
            else:
                self.i += 1

    # -- values ---------------------------------------------------------------------------

    def value(self, path: Path) -> None:
        self.skip_blank(newlines=False)
        if self.i >= self.n:
            return
        ch = self.s[self.i]
        if ch in "\"'":
            self.string()
        elif ch == "[":
            self.array(path)
        elif ch == "{":
            self.inline_table(path)
        else:
            while self.i < self.n and self.s[self.i] not in _SCALAR_END:
                self.i += 1

    def array(self, path: Path) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_blank(newlines=True)
            if self.i >= self.n:
                return
            if self.s[self.i] == "]":
                self.i += 1
                return
            if self.s[self.i] == ",":
                self.i += 1
                continue
            before = self.i
            item = path + (index,)
            self.record(item, self.line_at(self.i))
            self.value(item)
            index += 1
            if self.i == before:
                self.i += 1

    def inline_table(self, path: Path) -> None:
        self.i += 1
        while True:
            self.skip_blank(newlines=True)
            if self.i >= self.n:
                return
            ch = self.s[self.i]
            if ch == "}":
                self.i += 1
                return
            if ch == ",":
                self.i += 1
                continue
            before = self.i
            line = self.line_at(self.i)
            keys = self.key()
            self.expect("=")
            self.record_with_parents(path, keys, line)
            self.value(path + keys)
            if self.i == before:
                self.i += 1


def _decode_quoted_key(raw: str) -> str:
    # tomllib already accepted the document, so the quoted key is valid TOML: let it decode escapes.
    try:
        return str(tomllib.loads(f"k = {raw}")["k"])
    except tomllib.TOMLDecodeError:
        return raw.strip("\"'")

"""A reader for RFC 8601 ``Authentication-Results`` fields, as mailbox providers write them.

Pure and lenient: it never raises; what it cannot read is left out and named in ``problem``.
The ``authres`` package does the same job but is a test-only dependency here, and the field's
grammar (an authserv-id, then ``;``-separated ``method=result`` items with ``reason=`` and
``ptype.property=value`` pairs, comments in parentheses anywhere) is small. Microsoft 365 writes
the field without an authserv-id (``Authentication-Results: spf=pass ...``); that form is read too,
with an empty ``authserv_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A provider's field is a few hundred characters; a hostile one is cut before it is read.
MAX_FIELD_CHARS = 16_384
_SPECIALS = frozenset(';=()"')
# RFC 8601 2.2: a method and a result are keywords (letters, digits, hyphens, underscores here too).
_KEYWORD = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class MethodResult:
    method: str  # lower-cased, without a version ("dkim", "spf", "dmarc", "arc", ...)
    result: str  # lower-cased RFC 8601 word: pass, fail, softfail, neutral, none, temperror, permerror, policy
    reason: str | None = None
    properties: tuple[tuple[str, str], ...] = ()  # ("header.d", "example.com"), in order
    comment: str | None = None  # the comment right after the result, e.g. Google's explanation

    def property(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.properties:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str  # "" when the field has none (Microsoft 365)
    results: tuple[MethodResult, ...]
    problem: str | None = None

    def of(self, method: str) -> tuple[MethodResult, ...]:
        return tuple(r for r in self.results if r.method == method)

    def summary(self) -> str:
        """One line: ``mx.google.com: spf=pass dkim=pass (header.d=example.com) dmarc=pass``."""
        parts = []
        for r in self.results:
            domain = r.property("header.d") or r.property("header.i") or r.property("header.from")
            parts.append(f"{r.method}={r.result}" + (f" ({domain})" if domain else ""))
        return f"{self.authserv_id or '(no authserv-id)'}: " + (" ".join(parts) or "none")


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "quoted", "comment", or the special character itself
    text: str


def _tokens(text: str) -> tuple[list[_Token], bool]:
    """The tokens, and whether a comment or quoted string ran to the end unclosed."""
    out: list[_Token] = []
    unclosed = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "(":
            depth, j, buf = 1, i + 1, []
            while j < n and depth:
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                depth += text[j] == "("
                depth -= text[j] == ")"
                if depth:
                    buf.append(text[j])
                j += 1
            unclosed = unclosed or depth > 0
            out.append(_Token("comment", " ".join("".join(buf).split())))
            i = j
        elif c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            unclosed = unclosed or j >= n
            out.append(_Token("quoted", "".join(buf)))
            i = j + 1
        elif c in _SPECIALS:
            out.append(_Token(c, c))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIALS:
                j += 1
            out.append(_Token("word", text[i:j]))
            i = j
    return out, unclosed


def _split(tokens: list[_Token]) -> list[list[_Token]]:
    groups: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind == ";":
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _resinfo(tokens: list[_Token]) -> MethodResult | None:
    """``method[/version] = result [(comment)] [reason=...] [ptype.property=value ...]``."""
    words = [t for t in tokens if t.kind != "comment"]
    if len(words) < 3 or words[0].kind != "word" or words[1].kind != "=" or words[2].kind not in ("word", "quoted"):
        return None
    method = words[0].text.split("/", 1)[0].lower()
    result = words[2].text.lower()
    if not _KEYWORD.match(method) or not _KEYWORD.match(result):
        return None
    comment = None
    for index, token in enumerate(tokens):
        if token is words[2] and index + 1 < len(tokens) and tokens[index + 1].kind == "comment":
            comment = tokens[index + 1].text
    reason = None
    properties: list[tuple[str, str]] = []
    rest = words[3:]
    i = 0
    while i + 2 < len(rest):
        key, eq, value = rest[i], rest[i + 1], rest[i + 2]
        if key.kind == "word" and eq.kind == "=" and value.kind in ("word", "quoted"):
            name = key.text.lower()
            if name == "reason":
                reason = value.text
            elif "." in name:
                properties.append((name, value.text))
            i += 3
        else:
            i += 1
    return MethodResult(method, result, reason, tuple(properties), comment)


def parse_authentication_results(value: str) -> AuthResults:
    """Read one field's value (the text after ``Authentication-Results:``; the name itself is accepted too)."""
    text = value[:MAX_FIELD_CHARS]
    if text[:23].lower() == "authentication-results:":
        text = text[23:]
    tokens, unclosed = _tokens(text)
    groups = _split(tokens)
    head = [t for t in groups[0] if t.kind != "comment"]
    authserv_id = ""
    items = groups[1:]
    if len(head) >= 2 and head[1].kind == "=":
        items = groups  # no authserv-id: the first group is already a result (Microsoft 365)
    elif head:
        authserv_id = head[0].text.lower()
    results = []
    skipped = 0
    for group in items:
        words = [t for t in group if t.kind != "comment"]
        if not words or (len(words) == 1 and words[0].text.lower() == "none"):
            continue
        parsed = _resinfo(group)
        if parsed is None:
            skipped += 1
        else:
            results.append(parsed)
    problem = None
    if not authserv_id and items is not groups:
        problem = "no authserv-id"
    if skipped:
        problem = f"{skipped} item(s) not of the form method=result"
    if unclosed:
        problem = "a comment or quoted string is not closed: the rest of the field was not read"
    if len(value) > MAX_FIELD_CHARS:
        problem = f"field over {MAX_FIELD_CHARS} characters: only the start was read"
    return AuthResults(authserv_id, tuple(results), problem)

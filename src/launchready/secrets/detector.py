"""Find secrets in a block of text: keyword prefilter, then rule regexes, then entropy and filters.

A block is a whole file (tree scan) or the added lines of one file in one commit (history and
staged scans), so rules whose credential spans lines (PEM keys, service-account JSON, an AWS key
id with its secret on the next line) see it whole. Line numbers come from a per-block mapping.
"""

from __future__ import annotations

import math
import os
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from launchready.core.severity import Severity
from launchready.secrets.allowlist import Allowlist
from launchready.secrets.formats import FileContext, file_context, find_credentials
from launchready.secrets.rules import (
    GENERIC_PLACEHOLDER_MARKERS,
    KNOWN_EXAMPLES,
    PLACEHOLDER_MARKERS,
    RULES,
    Kind,
    Rule,
)

INLINE_ALLOW = "launchready:allow"

# Values that are references to a secret held elsewhere, not the secret itself.
_REFERENCE = re.compile(
    r"^(?:\$|%|os\.|process\.|env\.|environ|getenv|settings\.|config\.|self\.|this\.|import|require)", re.I
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "db", "postgres", "mysql", "redis", "mongo"})
_AWS_SECRET_CANDIDATE = re.compile(r"(?<![A-Za-z0-9/+])(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
# URL schemes whose passwords the database-url rule reports (with its own rotation steps).
_DATABASE_SCHEMES = frozenset(
    "postgres postgresql mysql mariadb mongodb mongodb+srv redis rediss amqp amqps mssql sqlserver cockroachdb".split()
)
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
# Stand-ins written in documentation URLs (`https://user:pass@host`).
_URL_PLACEHOLDERS = frozenset(
    "pass password passwd pwd secret pw token apikey api_key key changeme xxx xxxx user username login "
    "mypassword yourpassword tiger".split()  # scott:tiger, every database driver's documentation
)
# Where a connection-string `password=` starts: after a separator, never inside a longer name.
_CONNECTION_STARTS = frozenset(";?& \t\"'(,")


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (0 for an empty string)."""
    if not value:
        return 0.0
    length = len(value)
    return -sum(n / length * math.log2(n / length) for n in Counter(value).values())


@dataclass(frozen=True)
class Match:
    """One credential in a block: which rule, the raw value (never printed), where."""

    rule: Rule
    secret: str
    line: int  # 1-based line in the file (or in the new side of the diff)
    severity_override: str | None = None  # "low" for e.g. a local-only database password, "blocker" in a .env


class Prefilter:
    """Which rules can possibly match a block, from the keywords it contains.

    Every keyword is searched with ``in`` on the lower-cased block: CPython's substring search is
    C code and skips ahead by whole windows, so ~50 of them over a block costs less than one pass
    of a combined regex alternation (which the ``re`` engine tries branch by branch at every
    position).
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        by_keyword: dict[str, list[Rule]] = {}
        for rule in rules:
            for keyword in rule.keywords:
                by_keyword.setdefault(keyword, []).append(rule)
        self._keywords = tuple(by_keyword)
        self._bytes = tuple((k.encode(), tuple(v)) for k, v in by_keyword.items())
        # Keywords that share a prefix (`ghp_`, `gho_`, `github_pat_`; `$2`, `$argon2`) are looked for only
        # when the prefix is in the block at all: one check instead of one per keyword for most blocks.
        groups: dict[str, list[str]] = {}
        for keyword in by_keyword:
            groups.setdefault(keyword[:1] if keyword[0] in _PUNCTUATION else keyword[:2], []).append(keyword)
        plain: list[tuple[str, tuple[Rule, ...]]] = []
        gated: list[tuple[str, tuple[tuple[str, tuple[Rule, ...]], ...]]] = []
        for members in groups.values():
            entries = tuple((k, tuple(by_keyword[k])) for k in members)
            gate = os.path.commonprefix(members)
            # A gate pays off only when it is rare in code: three letters or more, punctuation, or `gh`.
            if len(members) > 1 and (len(gate) >= 3 or gate[0] in _PUNCTUATION or gate == "gh"):
                gated.append((gate, entries))
            else:
                plain.extend(entries)
        self._text = tuple(plain)
        self._gated = tuple(gated)

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every keyword some rule needs in a block before its regex is tried (lower case)."""
        return self._keywords

    def rules_for(self, lowered: str) -> list[Rule]:
        found: dict[str, Rule] = {}
        for keyword, rules in self._text:
            if keyword in lowered:
                for rule in rules:
                    found[rule.id] = rule
        for gate, group in self._gated:
            if gate in lowered:
                for keyword, rules in group:
                    if keyword in lowered:
                        for rule in rules:
                            found[rule.id] = rule
        return list(found.values())

    def any_in_bytes(self, lowered: bytes) -> bool:
        return any(keyword in lowered for keyword, _ in self._bytes)


_PUNCTUATION = frozenset("$%{}[]()<>:;!~-_.")
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_NAME_CHARS = _IDENT | frozenset(".-")


def _fast_form(rule: Rule) -> tuple[re.Pattern[str], bool]:
    """The rule's regex without a leading ``\\b`` (checked in code instead), and whether it had one.

    A pattern that starts with a literal lets ``re`` jump between occurrences of it; a leading
    word boundary makes it try every position, several times slower on big files.
    """
    pattern = rule.regex.pattern
    if pattern.startswith("\\b"):
        return re.compile(pattern[2:], rule.regex.flags), True
    return rule.regex, False


class Detector:
    def __init__(self, allowlist: Allowlist | None = None, rules: Sequence[Rule] = RULES) -> None:
        self.rules = tuple(rules)
        self.prefilter = Prefilter(self.rules)
        self.allowlist = allowlist or Allowlist()
        self._fast = {rule.id: _fast_form(rule) for rule in self.rules}
        self._allowed_paths: dict[str, bool] = {}
        by_id = {rule.id: rule for rule in self.rules}
        # The format-aware readers report through these rules; a detector built without them skips the readers.
        self._config_rule = by_id.get("config-credential")
        self._framework_rule = by_id.get("framework-secret")
        self._file_rule = by_id.get("credential-file")

    def _matches(self, rule: Rule, text: str, lowered: str) -> list[re.Match[str]]:
        if rule.anchored:
            # Try the regex only where one of its keywords starts (found with C-speed str.find).
            out: list[re.Match[str]] = []
            starts: set[int] = set()
            for keyword in rule.keywords:
                pos = lowered.find(keyword)
                while pos >= 0:
                    if pos not in starts:
                        starts.add(pos)
                        m = rule.regex.match(text, pos)
                        if m is not None:
                            out.append(m)
                    pos = lowered.find(keyword, pos + 1)
            return out
        regex, boundary = self._fast[rule.id]
        if not boundary:
            return list(regex.finditer(text))
        return [m for m in regex.finditer(text) if m.start() == 0 or text[m.start() - 1] not in _IDENT]

    def scan(self, text: str, path: str, line_numbers: Sequence[int] | None = None) -> list[Match]:
        """Matches in ``text`` (the file ``path``); ``line_numbers[i]`` is the real number of line i."""
        allowed = self._allowed_paths.get(path)
        if allowed is None:
            # History scans the same paths in thousands of commits: match the globs once per path.
            allowed = self._allowed_paths[path] = self.allowlist.path_allowed(path)
        if allowed:
            return []
        lowered = text.lower()
        context = file_context(path)
        lines = _Lines(text, line_numbers)
        out = self._rule_matches(text, lowered, context, lines)
        out.extend(self._format_matches(text, lowered, context, lines, out))
        return out

    def _rule_matches(self, text: str, lowered: str, context: FileContext, lines: _Lines) -> list[Match]:
        candidates = self.prefilter.rules_for(lowered)
        if not candidates:
            return []
        out: list[Match] = []
        # A value is reported once per line it is on: the same key pasted twice is two places to clean.
        seen: set[tuple[str, str, int]] = set()
        aws_ids: list[Match] = []
        for rule in candidates:
            if rule.requires and not all(r.search(text) for r in rule.requires):
                continue
            for m in self._matches(rule, text, lowered):
                group = "secret" if m.group("secret") is not None else "token"
                secret = m.group(group)
                if not secret or not self._keep(rule, secret, m):
                    continue
                start = m.start(group)
                if lines.allowed_at(start):
                    continue
                number = lines.number_at(start)
                if (rule.id, secret, number) in seen:
                    continue
                seen.add((rule.id, secret, number))
                match = Match(rule, secret, number, _severity_in_context(rule, m, context))
                (aws_ids if rule.id == "aws-access-key-id" else out).append(match)
        if aws_ids:
            if any(m.rule.id == "aws-secret-access-key" for m in out):
                # The pair is reported through its secret; the id alone would be noise.
                pass
            else:
                out.extend(self._pair_aws(text, lines, aws_ids, {(r, s) for r, s, _ in seen}))
        return _without_generic_duplicates(out)

    def _format_matches(
        self, text: str, lowered: str, context: FileContext, lines: _Lines, found: list[Match]
    ) -> list[Match]:
        """Credentials under credential-named keys (formats.py), minus what a rule reported on the same line."""
        if self._config_rule is None or self._framework_rule is None:
            return []
        out: list[Match] = []
        taken = {(m.line, m.secret) for m in found}
        on_line: dict[int, list[Match]] = {}
        for m in found:
            on_line.setdefault(m.line, []).append(m)
        for credential in find_credentials(text, context, lowered):
            value = credential.value
            if value in KNOWN_EXAMPLES or self.allowlist.value_allowed(value):
                continue
            index = credential.line - 1
            if lines.allowed_index(index):
                continue
            number = lines.number_of_index(index)
            here = on_line.get(number, ())
            if len(here) > 50:  # a dump's one-line INSERT: the same value only (a scan of all would be quadratic)
                same = [m for m in here if m.secret == value] if (number, value) in taken else []
            else:
                same = [m for m in here if m.secret in value or value in m.secret]
            if credential.framework and same and all(m.rule.kind is Kind.GENERIC for m in same):
                # A framework's signing key is named for what it is, not as "a random-looking value".
                for m in same:
                    found.remove(m)
                    on_line[number].remove(m)
                    taken.discard((m.line, m.secret))
                same = []
            if (number, value) in taken or same:
                continue
            taken.add((number, value))
            rule = self._framework_rule if credential.framework else self._config_rule
            base = Severity.MEDIUM if context.format.value == "code" and not credential.framework else rule.severity
            severity = Severity.LOW if credential.local_default else context.severity(base)
            out.append(Match(rule, value, number, severity.value))
        inside = out + [m for m in found if m.rule.kind is not Kind.GENERIC]
        if inside and context.credential_file and self._file_rule is not None:
            # The file itself is the finding (it should not be in the repository at all), reported at its
            # first credential line, alongside each credential in it.
            first = min(inside, key=lambda m: m.line)
            quiet = context.test or context.example
            out.append(
                Match(self._file_rule, first.secret, first.line, (Severity.LOW if quiet else Severity.HIGH).value)
            )
        return out

    def _keep(self, rule: Rule, secret: str, m: re.Match[str]) -> bool:
        if secret in KNOWN_EXAMPLES or self.allowlist.value_allowed(secret):
            return False
        lowered = secret.lower()
        if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
            return False
        if rule.id == "database-url" and (lowered in _URL_PLACEHOLDERS or secret[0] in "{$%<["):
            return False  # `postgres://user:pass@host` in documentation, `:{password}@` in a template
        if rule.id == "url-password":
            return _url_password_ok(m)
        if rule.id == "connection-string-password":
            return _connection_password_ok(secret, m)
        # The cheap shape checks before the entropy: most candidates are `os.environ...` references.
        if rule.anchored and rule.kind is Kind.GENERIC and not _generic_value_ok(secret, _name_at(m)):
            return False
        return rule.entropy is None or shannon_entropy(secret) >= rule.entropy

    def _pair_aws(self, text: str, lines: _Lines, ids: list[Match], seen: set[tuple[str, str]]) -> list[Match]:
        """An AWS key id with a 40-character secret near it is a usable pair: report the secret, a blocker."""
        secret_rule = next((r for r in self.rules if r.id == "aws-secret-access-key"), None)
        paired: list[Match] = []
        for m in _AWS_SECRET_CANDIDATE.finditer(text):
            value = m.group("secret")
            if (
                secret_rule is None
                or ("aws-secret-access-key", value) in seen
                or value in KNOWN_EXAMPLES
                or shannon_entropy(value) < 4.0
                or not any(c.isdigit() for c in value)
                or lines.allowed_at(m.start())
                or self.allowlist.value_allowed(value)
            ):
                continue
            near = any(abs(lines.number_at(m.start()) - key.line) <= 5 for key in ids)
            if near:
                seen.add(("aws-secret-access-key", value))
                paired.append(Match(secret_rule, value, lines.number_at(m.start())))
        if paired:
            return paired  # the pair is reported through its secret; the id alone would be noise
        return ids


def _severity_in_context(rule: Rule, m: re.Match[str], context: FileContext) -> str | None:
    """How bad this hit is where it is: a local-only database password is low; a password in a committed
    .env or a production file a blocker, in a test fixture low. Provider keys keep their own severity
    (a live key is live wherever it is)."""
    if rule.id in ("database-url", "url-password") and m.group("host").lower() in _LOCAL_HOSTS:
        return Severity.LOW.value
    if rule.id == "database-url" and (context.test or context.example):
        return Severity.LOW.value  # a test database's password
    if rule.id == "password-hash-dump" and not (context.data_file or context.credential_file):
        # A hash in code or documentation is an example more often than a user's: worth a look, not a page.
        quiet: Severity = Severity.LOW if context.test or context.example else Severity.MEDIUM
        return quiet.value
    if rule.kind in (Kind.GENERIC, Kind.CREDENTIAL):
        severity = context.severity(rule.severity)
        return None if severity is rule.severity else severity.value
    return None


def _url_password_ok(m: re.Match[str]) -> bool:
    text = m.string
    start = m.start()
    while start > 0 and text[start - 1] in _SCHEME_CHARS and m.start() - start < 30:
        start -= 1
    scheme = text[start : m.start()].lower()
    if not scheme or not scheme[0].isalpha() or scheme.startswith("jdbc"):
        return False
    if scheme in _DATABASE_SCHEMES or scheme.partition("+")[0] in _DATABASE_SCHEMES:
        return False  # the database-url rule's (`mssql+pyodbc://`)
    secret = m.group("secret")
    lowered = secret.lower()
    if "," in secret or ":" in secret or len(secret) < 4:
        return False  # `https://host:123,host2:456@...`, `cvs://:pserver:anoncvs@`: no password there
    if secret.isalpha() and lowered.endswith(("pass", "password", "passwd", "secret")):
        return False  # `proxyuser:proxypass@`, `user:mypassword@`: documentation
    if lowered in _URL_PLACEHOLDERS or lowered.strip("*x") == "" or secret.isdigit():
        return False  # a doc example, or a port after an empty user (`http://:8080@`)
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS) or secret[0] in "$%{[(":
        return False
    return not (m.group("user").startswith(("$", "%", "{")) or "…" in secret)


def _connection_password_ok(secret: str, m: re.Match[str]) -> bool:
    start = m.start()
    if start > 0 and m.string[start - 1] not in _CONNECTION_STARTS:
        return False  # DB_PASSWORD=..., a longer name: the config readers judge it
    before = m.string[m.string.rfind("\n", 0, start) + 1 : start]
    if not any(c in before for c in ";?&"):
        return False  # `password = x` on a line of its own is a config key (the readers'), not a connection string
    lowered = secret.lower()
    if (
        len(secret) < 4
        or _REFERENCE.match(secret)
        or lowered in _URL_PLACEHOLDERS
        or lowered in ("****", "null", "none")
    ):
        return False
    return not any(marker in lowered for marker in PLACEHOLDER_MARKERS) and not secret.startswith(("{", "("))


def _name_at(m: re.Match[str]) -> str:
    """The whole variable name around the keyword the match starts at (``STRIPE_SECRET_KEY``)."""
    text = m.string
    start = m.start()
    while start > 0 and text[start - 1] in _NAME_CHARS:
        start -= 1
    if text[max(0, start - 2) : start] == "::":
        return "::" + text[start : m.end("suffix")]  # `AWS::IAM::AccessKey`: a type name, see _generic_value_ok
    return text[start : m.end("suffix")]


def _without_generic_duplicates(matches: list[Match]) -> list[Match]:
    """A value a provider rule recognised is reported once, by that rule, not again as generic."""
    specific = [m.secret for m in matches if m.rule.kind is not Kind.GENERIC]
    if not specific:
        return matches
    exact = set(specific)

    def overlaps(secret: str) -> bool:
        if secret in exact:
            return True
        # Containment is checked pairwise only where that stays cheap (not a bundle with thousands of keys).
        return len(specific) <= 200 and any(s in secret or secret in s for s in specific)

    return [m for m in matches if m.rule.kind is not Kind.GENERIC or not overlaps(m.secret)]


def _generic_value_ok(value: str, name: str) -> bool:
    if name.startswith("::"):
        return False  # a qualified type name (`AWS::SecretsManager::Secret`) keys a table, not a credential
    lowered = value.lower()
    if _REFERENCE.match(value) or _UUID.match(value) or lowered.startswith(("data:", "http", "sha", "md5")):
        return False
    if any(marker in lowered for marker in GENERIC_PLACEHOLDER_MARKERS):
        return False
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return False
    # A name like "token_url" or "password_field" holds a setting, not a credential.
    return not re.search(r"(?i)(?:url|uri|path|file|name|field|type|len|length|count|id|header|prefix|env|var)$", name)


class _Lines:
    """Maps offsets in a block to line numbers and line text, computed only when a hit needs them."""

    def __init__(self, text: str, numbers: Sequence[int] | None) -> None:
        self._text = text
        self._numbers = numbers
        self._starts: list[int] | None = None
        self._allowed: dict[int, bool] = {}

    def _index(self, offset: int) -> int:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        return bisect_right(self._starts, offset) - 1

    def number_at(self, offset: int) -> int:
        index = self._index(offset)
        if self._numbers is not None and index < len(self._numbers):
            return self._numbers[index]
        return index + 1

    def allowed_at(self, offset: int) -> bool:
        return self.allowed_index(self._index(offset))

    def allowed_index(self, index: int) -> bool:
        """Does line ``index`` carry the inline allow marker? (Once per line: a minified line or an
        extended INSERT holds thousands of hits, and copying it for each would be quadratic.)"""
        known = self._allowed.get(index)
        if known is None:
            known = self._allowed[index] = INLINE_ALLOW in self.text_of_index(index)
        return known

    def number_of_index(self, index: int) -> int:
        if self._numbers is not None and index < len(self._numbers):
            return self._numbers[index]
        return index + 1

    def text_of(self, offset: int) -> str:
        return self.text_of_index(self._index(offset))

    def text_of_index(self, index: int) -> str:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        if index >= len(self._starts):
            return ""
        start = self._starts[index]
        end = self._text.find("\n", start)
        return self._text[start : end if end >= 0 else len(self._text)]

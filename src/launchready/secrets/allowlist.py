"""What the scanner must not report: paths, value patterns, exact values.

Sources, merged: built-in paths (lock files, vendored code), the config's ``[secrets]`` lists,
and a ``.launchready-allowlist`` file at the repository root, one entry a line::

    # comment
    path: tests/fixtures/**
    regex: ^sk_test_
    value: not-a-real-secret-123

Inline ``launchready:allow`` on the offending line silences that line only (see detector).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launchready.secrets.errors import SecretsError

ALLOWLIST_FILE = ".launchready-allowlist"

# Files whose long random-looking strings are hashes and ids, never credentials.
DEFAULT_PATHS: tuple[str, ...] = (
    "**/package-lock.json",
    "**/npm-shrinkwrap.json",
    "**/yarn.lock",
    "**/pnpm-lock.yaml",
    "**/poetry.lock",
    "**/Pipfile.lock",
    "**/uv.lock",
    "**/Cargo.lock",
    "**/go.sum",
    "**/composer.lock",
    "**/Gemfile.lock",
    "**/requirements*.txt",
    "**/*.min.js",
    "**/*.map",
    "**/node_modules/**",
    "**/vendor/**",
    "**/.git/**",
    "**/*.svg",
)

# The stdlib's own pattern parser (no public API reads a pattern's structure).
_parser: Any = importlib.import_module("re._parser")


def _glob_to_regex(glob: str) -> re.Pattern[str]:
    """``**`` spans directories, ``*`` stays within one; a leading ``**/`` also matches at the root."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class Allowlist:
    paths: tuple[str, ...] = DEFAULT_PATHS
    regexes: tuple[re.Pattern[str], ...] = ()
    values: frozenset[str] = frozenset()
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(_glob_to_regex(p) for p in self.paths))

    def path_allowed(self, path: str) -> bool:
        posix = path.replace("\\", "/")
        posix = posix[2:] if posix.startswith("./") else posix
        return any(p.match(posix) for p in self._compiled)

    def value_allowed(self, value: str) -> bool:
        return value in self.values or any(r.search(value) for r in self.regexes)

    def merged(self, other: Allowlist) -> Allowlist:
        return Allowlist(
            paths=tuple(dict.fromkeys(self.paths + other.paths)),
            regexes=self.regexes + other.regexes,
            values=self.values | other.values,
        )


_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT"})


def _backtracking_trap(items: Any, inside_repeat: bool = False) -> str | None:
    """What in a parsed pattern can backtrack exponentially: a repeat or an alternation under a repeat.

    ``(a+)+``, ``(a*)*``, ``(\\w+\\s?)+`` and ``(a|aa)+`` take exponential time on a string that
    almost matches. Atomic groups and possessive repeats never give back what they took, so
    nothing under them is a trap.
    """
    for op, arg in items:
        name = str(op)
        if name in _REPEATS:
            _, high, body = arg
            if inside_repeat and high > 1:
                return "a repeat inside a repeat"
            # Only an unbounded outer repeat multiplies the ways to split a run without limit.
            found = _backtracking_trap(body, inside_repeat or high == _parser.MAXREPEAT)
            if found:
                return found
        elif name == "BRANCH":
            if inside_repeat:
                return "an alternation inside a repeat"
            for branch in arg[1]:
                found = _backtracking_trap(branch, inside_repeat)
                if found:
                    return found
        elif name == "SUBPATTERN":
            found = _backtracking_trap(arg[-1], inside_repeat)
            if found:
                return found
        elif name in ("ASSERT", "ASSERT_NOT"):
            found = _backtracking_trap(arg[1], inside_repeat)
            if found:
                return found
    return None


def compile_regex(pattern: str, where: str) -> re.Pattern[str]:
    """Compile a user's (or a scanned repository's) pattern, refusing the ones that can hang the scan."""
    try:
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise SecretsError(f"{where}: invalid regex {pattern!r}: {exc}") from None
    trap = _backtracking_trap(_parser.parse(pattern))
    if trap is not None:
        raise SecretsError(
            f"{where}: regex {pattern!r} has {trap}, which can take exponential time; "
            "use a character class, a bounded repeat or an atomic group (?>...)"
        )
    return compiled


def build_allowlist(
    paths: Iterable[str] = (), regexes: Iterable[str] = (), values: Iterable[str] = (), where: str = "config"
) -> Allowlist:
    return Allowlist(
        paths=DEFAULT_PATHS + tuple(paths),
        regexes=tuple(compile_regex(r, f"{where}: secrets.allow_regexes") for r in regexes),
        values=frozenset(values),
    )


def read_allowlist_file(path: Path) -> Allowlist:
    """Parse a ``.launchready-allowlist``; a bad line is a SecretsError naming file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SecretsError(f"{path}: not UTF-8 text") from None
    paths: list[str] = []
    regexes: list[re.Pattern[str]] = []
    values: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, sep, rest = line.partition(":")
        rest = rest.strip()
        kind = kind.strip().lower()
        if not sep or not rest or kind not in ("path", "regex", "value"):
            raise SecretsError(
                f"{path}:{number}: expected 'path: GLOB', 'regex: PATTERN' or 'value: TEXT', got {line!r}"
            )
        if kind == "path":
            paths.append(rest)
        elif kind == "regex":
            regexes.append(compile_regex(rest, f"{path}:{number}"))
        else:
            values.add(rest)
    return Allowlist(paths=tuple(paths), regexes=tuple(regexes), values=frozenset(values))


def repo_allowlist(root: Path, base: Allowlist) -> Allowlist:
    """``base`` plus the repository's own ``.launchready-allowlist`` when it has one."""
    candidate = root / ALLOWLIST_FILE
    if candidate.is_file():
        return base.merged(read_allowlist_file(candidate))
    return base

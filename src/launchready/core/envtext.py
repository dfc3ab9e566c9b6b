"""Dotenv text: ``KEY=VALUE`` lines as written in .env files and exported from hosting platforms.

Pure (no I/O): the secret scanner's env contract (``secrets/envfile.py`` reads the files) and the
``app.errors`` check (which reads them through the git probe) parse the same way. Values are kept
only to judge them (empty? a placeholder? a DSN?); nothing here prints one. python-dotenv's
parser reads the text (quotes, escapes, ``export``, inline comments, multi-line quoted values);
its bindings carry their original text and line, which is how a malformed line is named by number
without ever echoing it. No ``${VAR}`` expansion: a value written as ``${STRIPE_KEY}`` is a
placeholder to judge, not a reference to resolve.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dotenv.parser import Binding

# Environment names that mean production.
PRODUCTION_NAMES = frozenset({"production", "prod", "live"})


class EnvTextError(ValueError):
    """A line that is not KEY=VALUE; the message names the file and line, never the value."""


def is_production(environment: str) -> bool:
    return environment.lower() in PRODUCTION_NAMES


# What counts as a variable name: a shell-style name, plus the dots and dashes some platforms export.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
# A name alone on its line (as in some .env.example files): declared, no value.
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A malformed binding whose value opens a quote that nothing closes, matched without reading the value out.
_UNCLOSED_QUOTE = re.compile(
    r"""\s*(?:export\s+)?[^=\s#]+\s*=\s*(?:"(?!(?:\\.|[^"\\])*")|'(?!(?:\\.|[^'\\])*'))""", re.S
)

# Values written as stand-ins for the real one.
_PLACEHOLDER = re.compile(
    r"^(?:|x+|\.\.\.|-|todo|tbd|fixme|none|null|nil|undefined|changeme|change[-_]me|replace[-_]?me|placeholder|"
    r"dummy|example|secret|password|your[-_ ].*|<.*>|\$\{.*\}|\{\{.*\}\}|.*(?:changeme|change_me|placeholder|"
    r"replace_me|your_key|your-key|xxxxx).*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EnvFile:
    name: str  # where the variables came from, as shown to the user
    values: dict[str, str]
    lines: Mapping[str, int] = field(default_factory=dict)  # the line that set each name (files only)
    # Names that stood alone on their line, with no ``=``: in a file of values such a line is as
    # likely a pasted secret as a declaration, so reports mask it unless the contract declares it.
    bare: frozenset[str] = frozenset()

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.values)


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip()))


def _first_line(binding: Binding) -> int:
    """The line a binding starts on: dotenv counts from the blank lines and spaces read before it."""
    text = binding.original.string
    skipped = text[: len(text) - len(text.lstrip())]
    return binding.original.line + skipped.count("\n") + skipped.count("\r") - skipped.count("\r\n")


# The line a dotenv binding starts on, for other readers of dotenv text.
first_line_of = _first_line


def parse_env_text(text: str, name: str) -> EnvFile:
    from dotenv.parser import parse_stream  # imported here: most commands never read a dotenv file

    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    bare: set[str] = set()
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None and not binding.error:
            continue  # a comment or blank lines
        number = _first_line(binding)
        key = binding.key
        if binding.error and _UNCLOSED_QUOTE.match(binding.original.string):
            raise EnvTextError(f"{name}:{number}: expected KEY=VALUE, but the quoted value is never closed")
        if binding.error or key is None or not _NAME.fullmatch(key):
            # Never echo the line: it may hold a secret.
            raise EnvTextError(f"{name}:{number}: expected KEY=VALUE")
        if binding.value is None:
            if not _BARE_NAME.fullmatch(key):
                raise EnvTextError(f"{name}:{number}: expected KEY=VALUE")
            values[key] = ""
            bare.add(key)
        else:
            values[key] = binding.value
        lines[key] = number
    return EnvFile(name=name, values=values, lines=lines, bare=frozenset(bare))

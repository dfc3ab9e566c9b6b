"""Read variables from a dotenv file, ``KEY=VALUE`` lines exported from a hosting platform, or the process.

Values are kept only to judge them (empty? a placeholder?); nothing here or downstream prints
one. The grammar is small (optional ``export``, ``KEY=VALUE``, single or double quotes, ``#``
comments), so it is parsed here rather than pulling in python-dotenv for forty lines.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from launchready.secrets.errors import SecretsError

_LINE = re.compile(r"^(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*(?P<value>.*)$")

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

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.values)


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip()))


def _unquote(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        return inner.replace('\\"', '"').replace("\\n", "\n") if value[0] == '"' else inner
    if value[:1] in "'\"":
        # An opening quote without its close: keep what is there (a multi-line value's first line).
        return value[1:]
    # Unquoted: a " #" starts a comment.
    hash_at = value.find(" #")
    return value[:hash_at].rstrip() if hash_at >= 0 else value


def parse_env_text(text: str, name: str) -> EnvFile:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            if "=" not in line and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", line):
                values[line] = ""  # a bare name (as in some .env.example files): declared, no value
                continue
            # Never echo the line: it may hold a secret.
            raise SecretsError(f"{name}:{number}: expected KEY=VALUE")
        values[m["key"]] = _unquote(m["value"])
    return EnvFile(name=name, values=values)


def read_env_file(path: Path) -> EnvFile:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SecretsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SecretsError(f"{path}: is a directory, expected a dotenv or KEY=VALUE file") from None
    except OSError as exc:
        raise SecretsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SecretsError(f"{path}: not UTF-8 text") from None
    return parse_env_text(text, str(path))


def read_env_source(source: str) -> EnvFile:
    """``-`` reads KEY=VALUE lines from stdin, ``env`` the current process environment, else a file."""
    if source == "env":
        return EnvFile(name="the process environment", values=dict(os.environ))
    if source == "-":
        return parse_env_text(sys.stdin.read(), "<stdin>")
    return read_env_file(Path(source))

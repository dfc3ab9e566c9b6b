"""``KEY=VALUE`` files (``.env`` style) for the secrets flows read as ``${env:NAME}``.

Deliberately small: comments, blank lines, an optional ``export``, single or double quotes.
No interpolation or multi-line values: a secrets file should mean exactly what it says.
"""

from __future__ import annotations

import re
from pathlib import Path

from launchready.core.errors import UsageError

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"[smoke] env_file {path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"[smoke] env_file {path}: not UTF-8 text") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            # Never echo the line: it may hold a secret.
            raise UsageError(f"{path}:{number}: expected NAME=VALUE")
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[match.group(1)] = value
    return values

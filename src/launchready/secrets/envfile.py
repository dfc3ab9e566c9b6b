"""Read variables from a dotenv file, ``KEY=VALUE`` lines exported from a hosting platform, or the process.

The parsing itself is ``core/envtext.py`` (shared with the ``app.errors`` check); here are the
readers, which turn its errors into ``SecretsError``. Values are kept only to judge them; nothing
here or downstream prints one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from launchready.core.envtext import EnvFile, EnvTextError, first_line_of, is_placeholder
from launchready.core.envtext import parse_env_text as parse_core_env_text
from launchready.core.limits import InputTooLarge, read_limited
from launchready.secrets.errors import SecretsError

__all__ = ["EnvFile", "first_line_of", "is_placeholder", "parse_env_text", "read_env_file", "read_env_source"]


def parse_env_text(text: str, name: str) -> EnvFile:
    try:
        return parse_core_env_text(text, name)
    except EnvTextError as exc:
        raise SecretsError(str(exc)) from None


def read_env_file(path: Path) -> EnvFile:
    try:
        text = read_limited(path).decode("utf-8-sig")
    except InputTooLarge as exc:
        raise SecretsError(f"{path}: {exc}") from None
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

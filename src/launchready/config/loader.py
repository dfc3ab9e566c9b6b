"""Find and load launchready.toml (or [tool.launchready] in pyproject.toml) into a Config.

Every problem becomes one line, ``FILE:LINE: key.path: expected X, got Y``, so the CLI can print
it and exit 2. tomllib gives values without positions; KeyLines finds the line of each key.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from launchready.config.errors import ConfigError, ConfigProblem
from launchready.config.locator import KeyLines
from launchready.config.messages import describe, format_key, loader_keys_written
from launchready.config.model import Config
from launchready.config.redirects_csv import read_redirects_csv
from launchready.core.limits import InputTooLarge, read_limited

__all__ = ["CONFIG_NAME", "ConfigError", "LoadedConfig", "find_config", "load_config"]

CONFIG_NAME = "launchready.toml"
PYPROJECT_NAME = "pyproject.toml"
_PYPROJECT_PREFIX: tuple[str, ...] = ("tool", "launchready")
_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column \d+|at end of document)\)\s*$")


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    path: Path | None  # None when no file was found (zero-config)
    base_dir: Path  # directory relative paths in the config resolve against


def find_config(start: Path) -> Path | None:
    """The nearest config from ``start`` upwards, stopping at a git checkout's root or ``/``.

    In each directory launchready.toml wins over a pyproject.toml with [tool.launchready]; a
    pyproject.toml without that table is not a config and the search goes on.
    """
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    while True:
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT_NAME
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def _has_tool_table(pyproject: Path) -> bool:
    try:
        text = read_limited(pyproject).decode("utf-8")
    except (OSError, UnicodeDecodeError, InputTooLarge):
        return False
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        # A broken pyproject.toml that mentions our table is meant for us: load it and say why
        # it is broken rather than silently auditing with no config.
        return "tool.launchready" in text
    tool = data.get("tool")
    return isinstance(tool, dict) and "launchready" in tool


def load_config(path: Path | None = None, *, start: Path | None = None) -> LoadedConfig:
    """Load ``path`` (an explicit --config), else the config found from ``start`` (default: cwd).

    With no explicit path and nothing found, the result is the zero-config default.
    Raises ConfigError with a one-line message on any problem.
    """
    if path is None:
        origin = (start or Path.cwd()).resolve()
        found = find_config(origin)
        if found is None:
            return LoadedConfig(Config(), None, origin if origin.is_dir() else origin.parent)
        path = found
    shown = _shown_name(path)
    if not path.exists():
        raise ConfigError.single(shown, None, "", "no such file")
    if path.is_dir():
        raise ConfigError.single(shown, None, "", "is a directory, expected a TOML file")
    text = _read_text(path, shown)
    document = _parse(text, shown)
    lines = KeyLines.scan(text)
    base_dir = path.resolve().parent

    prefix: tuple[str, ...] = ()
    data: Any = document
    if path.name == PYPROJECT_NAME:
        prefix = _PYPROJECT_PREFIX
        tool = document.get("tool")
        if not isinstance(tool, dict) or "launchready" not in tool:
            raise ConfigError.single(shown, None, "", "no [tool.launchready] table")
        data = tool["launchready"]
        if not isinstance(data, dict):
            line = lines.line_of(prefix)
            raise ConfigError.single(shown, line, "tool.launchready", "expected a table")

    return LoadedConfig(_validate(data, _Where(shown, path.name, lines, prefix, base_dir)), path, base_dir)


@dataclass(frozen=True)
class _Where:
    """Everything needed to turn a key path inside the config into ``file:line``."""

    shown: str  # the file as errors name it
    name: str  # the file's own name, for redirect sources that stay stable across working dirs
    lines: KeyLines
    prefix: tuple[str, ...]  # ("tool", "launchready") inside pyproject.toml
    base_dir: Path

    def line(self, key: tuple[str | int, ...]) -> int:
        return self.lines.line_of(self.prefix + key)

    def problem(
        self, key: tuple[str | int, ...], message: str, *, line_key: tuple[str | int, ...] | None = None
    ) -> ConfigProblem:
        """A problem shown under ``key``, placed on the line of ``line_key`` (default ``key``)."""
        line = self.line(key if line_key is None else line_key)
        return ConfigProblem(self.shown, line, format_key(key), message)


def _validate(data: dict[str, Any], where: _Where) -> Config:
    problems: list[ConfigProblem] = []
    data = dict(data)

    # Keys the loader fills in are not the user's to write.
    for key in loader_keys_written(data):
        problems.append(where.problem(key[:-1], f"unknown key {str(key[-1])!r}", line_key=key))
    data.pop("redirects_file", None)

    redirects = data.get("redirects")
    if isinstance(redirects, str):
        entries, csv_path = _redirects_from_csv(redirects, where)
        data["redirects"] = entries
        data["redirects_file"] = csv_path
    elif isinstance(redirects, list):
        data["redirects"] = [_with_source(entry, index, where) for index, entry in enumerate(redirects)]

    try:
        # base_dir lets sections resolve paths relative to the config file ([smoke] files).
        config = Config.model_validate(data, context={"base_dir": where.base_dir})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            key, message = describe(error)
            problems.append(where.problem(key, message, line_key=loc))
    if problems:
        raise ConfigError.of(problems)
    return config


def _with_source(entry: Any, index: int, where: _Where) -> Any:
    if not isinstance(entry, dict):
        return entry
    entry = {k: v for k, v in entry.items() if k != "source"}
    return {**entry, "source": f"{where.name}:{where.line(('redirects', index))}"}


def _redirects_from_csv(reference: str, where: _Where) -> tuple[Any, Path]:
    csv_path = (where.base_dir / reference).resolve()
    if not reference.strip() or not csv_path.is_file():
        problem = where.problem(("redirects",), f"no such file {reference!r} (looked in {where.base_dir})")
        raise ConfigError.of([problem])
    # Named as written (relative to the config) so sources do not change with the working dir.
    shown = Path(reference).as_posix()
    return read_redirects_csv(csv_path, shown), csv_path


def _read_text(path: Path, shown: str) -> str:
    try:
        raw = read_limited(path)
    except InputTooLarge as exc:
        raise ConfigError.single(shown, None, "", f"cannot read: {exc}") from None
    except OSError as exc:
        raise ConfigError.single(shown, None, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError.single(shown, line, "", "invalid TOML: the file is not UTF-8 text") from None


def _parse(text: str, shown: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: 500 levels exhaust the stack.
        raise ConfigError.single(shown, None, "", "invalid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        # Python 3.14 exposes msg/lineno; older versions only append "(at line L, column C)".
        message = str(getattr(exc, "msg", None) or exc)
        line = getattr(exc, "lineno", None)
        match = _TOML_POSITION.search(message)
        if match:
            message = message[: match.start()]
            if line is None:
                line = int(match.group(1)) if match.group(1) else text.count("\n") + 1
        raise ConfigError.single(shown, line or 1, "", f"invalid TOML: {message}") from None


def _shown_name(path: Path) -> str:
    """How errors name the file: relative to the working directory when it is below it or in a
    parent directory (found by the upward search, "../launchready.toml"), else as given."""
    try:
        resolved, cwd = path.resolve(), Path.cwd().resolve()
    except OSError:
        return str(path)
    if resolved.is_relative_to(cwd):
        return str(resolved.relative_to(cwd))
    if cwd.is_relative_to(resolved.parent):
        return os.path.relpath(resolved, cwd)
    return str(path)

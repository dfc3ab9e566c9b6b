"""``${...}`` templates in flow files: variables, ``${env:NAME}`` secrets and ``${gen:...}`` values.

``${name}`` is a flow variable (from ``vars`` or a capture), ``${env:NAME}`` an environment
variable (a secret: it is remembered so every output masks it), ``${gen:email}``,
``${gen:email:inbox@example.com}``, ``${gen:uuid}``, ``${gen:timestamp}`` and ``${gen:token}``
fresh values, so each run creates a new member. ``$${`` writes a literal ``${``.
A string that is exactly one variable reference keeps the variable's type (a captured number
stays a number in a JSON body).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

REFERENCE = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
GENERATORS = ("email", "uuid", "timestamp", "token")


class TemplateError(ValueError):
    """A reference that is malformed or names something unknown."""


@dataclass(frozen=True)
class Reference:
    kind: str  # "var", "env" or "gen"
    name: str
    argument: str | None = None


def parse_reference(inner: str) -> Reference:
    text = inner.strip()
    if text.startswith("env:"):
        match = _ENV.match(text)
        if match is None:
            raise TemplateError(f"${{{inner}}}: expected ${{env:NAME}} with NAME made of letters, digits and _")
        return Reference("env", match.group(1))
    if text.startswith("gen:"):
        name, _, argument = text[4:].partition(":")
        if name not in GENERATORS:
            raise TemplateError(f"${{{inner}}}: unknown generator {name!r} (known: {', '.join(GENERATORS)})")
        if argument and name != "email":
            raise TemplateError(f"${{{inner}}}: the {name} generator takes no argument")
        if argument and "@" not in argument:
            raise TemplateError(f"${{{inner}}}: expected an address like inbox@example.com after gen:email:")
        return Reference("gen", name, argument or None)
    if not _VARIABLE.match(text):
        raise TemplateError(f"${{{inner}}}: expected a variable name, env:NAME or gen:GENERATOR")
    return Reference("var", text)


def references(value: Any) -> Iterator[Reference]:
    """Every reference inside a template value (strings, mappings, lists), in order."""
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            if match.group(0) != "$${":
                yield parse_reference(match.group(1))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from references(key)
            yield from references(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from references(item)


def _unique() -> str:
    return f"{int(time.time())}-{secrets.token_hex(4)}"


def generate(name: str, argument: str | None) -> str:
    if name == "email":
        local, _, domain = (argument or "smoke@example.com").partition("@")
        tag = f"smoke-{_unique()}"
        return f"{local}+{tag}@{domain}" if argument else f"{tag}@{domain}"
    if name == "uuid":
        return str(uuid.uuid4())
    if name == "timestamp":
        return str(int(time.time()))
    if name == "token":
        return secrets.token_urlsafe(18)
    raise TemplateError(f"unknown generator {name!r}")


@dataclass
class Scope:
    """The values templates render with, for one flow run. ``secrets`` grows as env values are used."""

    variables: dict[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    on_secret: Callable[[str], None] | None = None

    def lookup(self, ref: Reference) -> Any:
        if ref.kind == "env":
            if ref.name not in self.env:
                raise TemplateError(f"${{env:{ref.name}}} is not set in the environment")
            value = self.env[ref.name]
            if value:
                self.secrets.add(value)
                if self.on_secret is not None:
                    self.on_secret(value)
            return value
        if ref.kind == "gen":
            return generate(ref.name, ref.argument)
        if ref.name not in self.variables:
            raise TemplateError(f"${{{ref.name}}} is not defined")
        return self.variables[ref.name]

    def render(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = REFERENCE.fullmatch(value)
            if whole is not None and whole.group(0) != "$${":
                ref = parse_reference(whole.group(1))
                return self.lookup(ref)

            def substitute(match: re.Match[str]) -> str:
                if match.group(0) == "$${":
                    return "${"
                found = self.lookup(parse_reference(match.group(1)))
                return _as_text(found)

            return REFERENCE.sub(substitute, value)
        if isinstance(value, Mapping):
            return {str(self.render(k)): self.render(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.render(v) for v in value]
        return value

    def text(self, value: Any) -> str:
        return _as_text(self.render(value))


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)

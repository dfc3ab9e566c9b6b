"""Turn pydantic's validation errors into the "key: expected X, got Y" text a founder can act on."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from launchready.config.model import Config, set_by_loader

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

# What each pydantic error type means in TOML words.
_EXPECTED: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "tuple_type": "an array",
    "list_type": "an array",
    "url_type": "an http(s) URL",
    "url_parsing": "an http(s) URL",
    "url_scheme": "an http(s) URL",
    "url_syntax_violation": "an http(s) URL",
    "url_too_long": "a shorter http(s) URL",
    "path_type": "a file path",
}

_BOUNDS: dict[str, str] = {
    "greater_than": "a number greater than {gt}",
    "greater_than_equal": "a number of at least {ge}",
    "less_than": "a number less than {lt}",
    "less_than_equal": "a number of at most {le}",
}

# Keys whose "expected" wording is clearer than the generic type name.
_EXPECTED_AT: dict[KeyPath, str] = {
    ("redirects",): "an array of [[redirects]] tables or the name of a CSV file",
}


def format_key(path: KeyPath) -> str:
    """environments.production.base_url, redirects[2].status, owners."on call"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.match(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
            out += f".{text}" if out else text
    return out


def show_value(value: Any) -> str:
    """A value the way it is written in TOML, shortened; never a multi-line dump."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def allowed_keys(path: KeyPath) -> tuple[str, ...]:
    """The keys the model accepts in the table at ``path`` (empty when any key is allowed)."""
    model = _model_at(path)
    if model is None:
        return ()
    return tuple(name for name, field in model.model_fields.items() if not set_by_loader(field))


def loader_keys_written(data: dict[str, Any]) -> list[KeyPath]:
    """Paths in raw config data that name fields only the loader may set (redirects_file, ...)."""
    found: list[KeyPath] = []

    def walk(value: Any, annotation: Any, path: KeyPath) -> None:
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(value, dict):
                return
            for key, item in value.items():
                field = annotation.model_fields.get(key)
                if field is None:
                    continue
                if set_by_loader(field):
                    found.append(path + (key,))
                else:
                    walk(item, field.annotation, path + (key,))
        elif get_origin(annotation) is dict and isinstance(value, dict):
            for key, item in value.items():
                walk(item, get_args(annotation)[1], path + (key,))
        elif get_origin(annotation) in (tuple, list) and isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, get_args(annotation)[0], path + (index,))

    walk(data, Config, ())
    return found


def _model_at(path: KeyPath) -> type[BaseModel] | None:
    current: Any = Config
    for part in path:
        current = _unwrap_optional(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) in (tuple, list):
            current = get_args(current)[0]
        else:
            return None
    current = _unwrap_optional(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def unknown_key_message(path: KeyPath) -> str:
    key = str(path[-1])
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed_keys(path[:-1]), n=1, cutoff=0.6)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message


def describe(error: Mapping[str, Any]) -> tuple[KeyPath, str]:
    """(key path to show, message) for one entry of ``ValidationError.errors()``."""
    loc: KeyPath = tuple(error["loc"])
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")

    if kind == "extra_forbidden":
        return loc[:-1], unknown_key_message(loc)
    if kind == "missing":
        return loc, "required key is missing"
    if kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error") or error["msg"])
        return loc, message
    expected = _EXPECTED_AT.get(loc)
    if expected is None:
        if kind == "enum":
            expected = f"one of {ctx.get('expected', '')}"
        elif kind in _BOUNDS:
            expected = _BOUNDS[kind].format(**{k: _number(v) for k, v in ctx.items()})
        elif kind == "string_pattern_mismatch":
            expected = f"a value matching {ctx.get('pattern')}"
        else:
            expected = _EXPECTED.get(kind)
    if expected is None:
        return loc, f"{error['msg']}, got {show_value(value)}"
    return loc, f"expected {expected}, got {show_value(value)}"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

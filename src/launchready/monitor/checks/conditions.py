"""Gatus-style conditions: ``[STATUS] == 200``, ``[RESPONSE_TIME] < 300``, ``[BODY].status == ok``,
``[CERTIFICATE_EXPIRATION] > 336h``, ``[CONNECTED] == true``.

Pure (no I/O): the config validates every condition at load time with :func:`parse_condition`
(errors are one line naming the condition), and the check runner evaluates parsed conditions over
the facts one probe call produced. ``[BODY]`` paths use the smoke flows' JSON path subset
(``[BODY].data.items[0].id``), so users learn one path syntax.

Units: ``[RESPONSE_TIME]`` is milliseconds (a bare number, or a duration such as ``2s``);
``[CERTIFICATE_EXPIRATION]`` needs a duration with a unit (``336h``, ``14d``) since a bare number
would be ambiguous between Gatus' milliseconds and everyone else's seconds.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from launchready.monitor.durations import format_duration, parse_duration
from launchready.smoke.jsonpath import MISSING, JsonPath, JsonPathError, parse_json_path

Placeholder = Literal["STATUS", "RESPONSE_TIME", "BODY", "CERTIFICATE_EXPIRATION", "CONNECTED"]
PLACEHOLDERS: tuple[Placeholder, ...] = ("STATUS", "RESPONSE_TIME", "BODY", "CERTIFICATE_EXPIRATION", "CONNECTED")

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_SHAPE = re.compile(r"^\s*\[(?P<name>[A-Za-z_]+)\](?P<path>\S*?)\s*(?P<op>==|!=|<=|>=|<|>)\s*(?P<value>.*?)\s*$")


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message is one line and quotes the condition."""


@dataclass(frozen=True)
class Condition:
    text: str
    placeholder: Placeholder
    op: str
    # STATUS/RESPONSE_TIME (ms)/CERTIFICATE_EXPIRATION (seconds): a number; CONNECTED: a bool;
    # BODY: the text written (quotes removed), compared as a number when both sides are numbers.
    expected: float | bool | str
    path: JsonPath | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Observation:
    """What one check run saw; None where the check kind has no such fact."""

    connected: bool
    status: int | None = None
    response_time_ms: float | None = None
    body: bytes | None = None
    certificate_expires_in_s: float | None = None


def parse_condition(text: str) -> Condition:
    match = _SHAPE.match(text)
    if match is None:
        raise ConditionError(
            f"condition {text!r}: expected '[PLACEHOLDER] OPERATOR VALUE' such as '[STATUS] == 200' "
            "(operators ==, !=, <, <=, >, >=)"
        )
    name = match.group("name").upper()
    if name not in PLACEHOLDERS:
        raise ConditionError(f"condition {text!r}: unknown placeholder [{name}] (known: {_known()})")
    placeholder: Placeholder = name
    path_text, op, raw = match.group("path"), match.group("op"), match.group("value")
    if not raw:
        raise ConditionError(f"condition {text!r}: nothing to compare with after {op!r}")
    path: JsonPath | None = None
    if path_text:
        if placeholder != "BODY":
            raise ConditionError(f"condition {text!r}: only [BODY] takes a path, got {path_text!r}")
        try:
            path = parse_json_path("$" + path_text)
        except JsonPathError as exc:
            raise ConditionError(f"condition {text!r}: {exc}") from None
    return Condition(text.strip(), placeholder, op, _expected(text, placeholder, op, raw), path)


def _known() -> str:
    return ", ".join(f"[{p}]" for p in PLACEHOLDERS)


def _expected(text: str, placeholder: Placeholder, op: str, raw: str) -> float | bool | str:
    if placeholder == "STATUS":
        if not re.fullmatch(r"\d{3}", raw):
            raise ConditionError(f"condition {text!r}: expected a 3-digit HTTP status, got {raw!r}")
        return float(raw)
    if placeholder == "RESPONSE_TIME":
        try:
            return float(raw)
        except ValueError:
            pass
        try:
            return parse_duration(raw) * 1000.0
        except ValueError:
            raise ConditionError(
                f"condition {text!r}: expected milliseconds or a duration like '300ms', got {raw!r}"
            ) from None
    if placeholder == "CERTIFICATE_EXPIRATION":
        if re.fullmatch(r"[\d.]+", raw):
            raise ConditionError(
                f"condition {text!r}: expected a duration with a unit like '336h' or '14d', got {raw!r}"
            )
        try:
            return parse_duration(raw)
        except ValueError:
            raise ConditionError(f"condition {text!r}: expected a duration like '336h' or '14d', got {raw!r}") from None
    if placeholder == "CONNECTED":
        if raw.lower() not in ("true", "false") or op not in ("==", "!="):
            raise ConditionError(f"condition {text!r}: expected '[CONNECTED] == true' or '== false'")
        return raw.lower() == "true"
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


def parse_conditions(texts: Sequence[str]) -> tuple[Condition, ...]:
    return tuple(parse_condition(t) for t in texts)


def evaluate(conditions: Sequence[Condition], seen: Observation) -> str | None:
    """None when every condition holds, else why the first one does not (one line)."""
    parsed_body: Any = MISSING
    body_parsed = False
    for condition in conditions:
        actual: Any
        if condition.placeholder == "BODY":
            if seen.body is None:
                return f"{condition}: no body was received"
            if condition.path is None:
                actual = seen.body.decode("utf-8", "replace").strip()
            else:
                if not body_parsed:
                    body_parsed = True
                    try:
                        parsed_body = json.loads(seen.body)
                    except ValueError:
                        parsed_body = MISSING
                if parsed_body is MISSING:
                    return f"{condition}: the body is not JSON"
                actual = condition.path.find(parsed_body)
                if actual is MISSING:
                    return f"{condition}: the body has no {condition.path}"
        elif condition.placeholder == "CONNECTED":
            actual = seen.connected
        elif condition.placeholder == "STATUS":
            actual = seen.status
        elif condition.placeholder == "RESPONSE_TIME":
            actual = seen.response_time_ms
        else:
            actual = seen.certificate_expires_in_s
        if actual is None:
            return f"{condition}: no {condition.placeholder.lower().replace('_', ' ')} was observed"
        failure = _compare(condition, actual)
        if failure is not None:
            return failure
    return None


def _compare(condition: Condition, actual: Any) -> str | None:
    compare = _OPERATORS[condition.op]
    expected = condition.expected
    if condition.placeholder == "BODY":
        left, right = _as_number(actual), _as_number(expected)
        if left is not None and right is not None:
            held = compare(left, right)
        elif condition.op in ("==", "!="):
            held = compare(_as_text(actual), str(expected))
        else:
            return f"{condition}: cannot order {_as_text(actual)[:40]!r} against {expected!r}"
    else:
        held = compare(actual, expected)
    if held:
        return None
    return f"{condition}: got {_show(condition, actual)}"


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _show(condition: Condition, actual: Any) -> str:
    if condition.placeholder == "CERTIFICATE_EXPIRATION":
        return (
            format_duration(round(float(actual))) if actual >= 0 else f"expired {format_duration(round(-actual))} ago"
        )
    if condition.placeholder == "RESPONSE_TIME":
        return f"{float(actual):.0f}ms"
    if condition.placeholder == "STATUS":
        return str(int(actual))
    return _as_text(actual)[:80]

"""Which group an event belongs to, and the title and culprit people see for it.

In order, the first rule that has something to say decides:

1. the SDK's explicit ``fingerprint`` (``{{ default }}`` inside it stands for what the rules
   below would have produced);
2. the in-app stack frames of every exception in the chain, as ``module:function`` (or the
   templated file name when there is no module), with the exception types, never line numbers,
   so a deploy that only shifts lines keeps the group;
3. the exception type and its message, templated (see ``templating``);
4. the log message: a ``logentry``'s format string when it has parameters, else the message
   templated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from launchready.intake.templating import template_of

_DEFAULT_MARKERS = frozenset({"{{ default }}", "{{default}}"})
TITLE_MAX = 200


@dataclass(frozen=True)
class Grouping:
    fingerprint: str  # SHA-1 hex of the components
    basis: str  # fingerprint | stack | exception | message | log
    components: tuple[str, ...]
    title: str
    culprit: str | None
    stack_top: str | None


def exceptions_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    raw = event.get("exception")
    values = raw.get("values") if isinstance(raw, dict) else raw
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, dict)]


def frames_of(exception: dict[str, Any]) -> list[dict[str, Any]]:
    stack = exception.get("stacktrace")
    frames = stack.get("frames") if isinstance(stack, dict) else None
    if not isinstance(frames, list):
        return []
    return [f for f in frames if isinstance(f, dict)]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def frame_label(frame: dict[str, Any]) -> str:
    where = _text(frame.get("module")) or template_of(
        _text(frame.get("filename") or frame.get("abs_path")).rsplit("/", 1)[-1]
    )
    return f"{where}:{_text(frame.get('function')) or '?'}"


def _in_app_frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for exc in exceptions_of(event) for f in frames_of(exc) if f.get("in_app") is True]


def message_of(event: dict[str, Any]) -> tuple[str, str | None]:
    """(the message as written, its format string when the SDK sent one with parameters)."""
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        formatted = _text(logentry.get("formatted")) or _text(logentry.get("message"))
        fmt = _text(logentry.get("message")) if logentry.get("params") else None
        return formatted, fmt
    message = event.get("message")
    if isinstance(message, dict):  # the legacy store format allows {"message": ..., "formatted": ...}
        formatted = _text(message.get("formatted")) or _text(message.get("message"))
        fmt = _text(message.get("message")) if message.get("params") else None
        return formatted, fmt
    return _text(message), None


def _default_components(event: dict[str, Any]) -> tuple[str, list[str]]:
    exceptions = exceptions_of(event)
    frames = _in_app_frames(event)
    if frames:
        types = [_text(e.get("type")) for e in exceptions]
        return "stack", ["stack", *types, *(frame_label(f) for f in frames)]
    if exceptions:
        primary = exceptions[-1]
        return "exception", ["exception", _text(primary.get("type")), template_of(_text(primary.get("value")))]
    formatted, fmt = message_of(event)
    return "message", ["message", fmt if fmt is not None else template_of(formatted)]


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1] + "…"


def _synthetic(exception: dict[str, Any]) -> bool:
    """An exception the SDK made up to carry a stack trace (JavaScript's captureMessage does)."""
    mechanism = exception.get("mechanism")
    return isinstance(mechanism, dict) and mechanism.get("synthetic") is True


def title_of(event: dict[str, Any]) -> str:
    exceptions = exceptions_of(event)
    formatted, _ = message_of(event)
    if exceptions and not (_synthetic(exceptions[-1]) and formatted.strip()):
        primary = exceptions[-1]
        kind, value = _text(primary.get("type")) or "Error", _text(primary.get("value"))
        return _first_line(f"{kind}: {value}" if value else kind)
    return _first_line(formatted) or "<no message>"


def stack_top_of(event: dict[str, Any]) -> str | None:
    """``module in function`` of the innermost in-app frame (or innermost frame) of the primary exception."""
    exceptions = exceptions_of(event)
    if not exceptions:
        return None
    frames = frames_of(exceptions[-1])
    in_app = [f for f in frames if f.get("in_app") is True]
    chosen = (in_app or frames)[-1:] if frames else []
    if not chosen:
        return None
    frame = chosen[0]
    where = _text(frame.get("module")) or _text(frame.get("filename"))
    line = frame.get("lineno")
    suffix = f":{line}" if isinstance(line, int) else ""
    return f"{where}{suffix} in {_text(frame.get('function')) or '?'}"


def group_event(event: dict[str, Any]) -> Grouping:
    basis, components = _default_components(event)
    explicit = event.get("fingerprint")
    if isinstance(explicit, list) and explicit and all(isinstance(p, str | int | float) for p in explicit):
        expanded: list[str] = []
        for part in explicit:
            if isinstance(part, str) and part.strip() in _DEFAULT_MARKERS:
                expanded.extend(components)
            else:
                expanded.append(str(part))
        basis, components = "fingerprint", ["fingerprint", *expanded]
    digest = hashlib.sha1(json.dumps(components, ensure_ascii=False).encode(), usedforsecurity=False).hexdigest()
    stack_top = stack_top_of(event)
    culprit = _text(event.get("transaction")) or _text(event.get("culprit")) or (stack_top or None)
    return Grouping(digest, basis, tuple(components), title_of(event), culprit or None, stack_top)


def group_log_template(template: str, logger: str | None = None) -> Grouping:
    components = ["log", logger or "", template]
    digest = hashlib.sha1(json.dumps(components, ensure_ascii=False).encode(), usedforsecurity=False).hexdigest()
    return Grouping(digest, "log", tuple(components), _first_line(template) or "<empty log line>", logger, None)

"""Flow files (YAML) -> validated flows. Every mistake is ``file:line: message`` before any request.

Checked up front: YAML syntax, unknown keys and step types, wrong value types, bad JSON paths and
regular expressions, unknown generators, variables used before they are defined (``vars`` and
earlier captures), included flows that do not exist or include themselves, and (``require_env``)
``${env:NAME}`` values missing from the environment.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from launchready.core.severity import Impact, Severity
from launchready.smoke.errors import SmokeError
from launchready.smoke.jsonpath import JsonPathError, parse_json_path
from launchready.smoke.model import (
    OPERATORS,
    Assertion,
    Capture,
    EmailSpec,
    Flow,
    RequestSpec,
    Retry,
    Step,
    WebhookSpec,
    Where,
)
from launchready.smoke.template import TemplateError, references
from launchready.smoke.yamldoc import LMap, LSeq, YamlError, load_located

STEP_TYPES = ("request", "email", "webhook", "flow")
_STEP_COMMON = ("name", "expect", "capture", "retry")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_SUBJECTS_HTTP = ("status", "duration_ms", "body", "headers", "cookies", "json")
_SUBJECTS_EMAIL = ("subject", "body", "headers")
_SOURCES_HTTP = ("status", "duration_ms", "body", "header", "cookie", "json")
_SOURCES_EMAIL = ("subject", "body", "header")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BUILTIN_VARIABLES = ("base_url",)
MAX_ATTEMPTS = 60
MAX_DELAY_MS = 30_000
MAX_EMAIL_TIMEOUT = 600.0


@dataclass(frozen=True)
class FlowProblem:
    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class FlowFileError(SmokeError):
    """Bad flow files: ``str()`` is the first problem (file:line) and how many more there are."""

    def __init__(self, problems: Sequence[FlowProblem]) -> None:
        ordered = tuple(sorted(problems, key=lambda p: (p.where.file, p.where.line)))
        message = str(ordered[0]) if ordered else "bad flow file"
        if len(ordered) > 1:
            message += f" (+{len(ordered) - 1} more)"
        super().__init__(" ".join(message.split()))
        self.problems = ordered


class _Stop(Exception):
    """One problem that makes the rest of the current item meaningless."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


@dataclass(frozen=True)
class _Include:
    flow: str
    where: Where


@dataclass(frozen=True)
class _RawFlow:
    flow: Flow
    items: tuple[Step | _Include, ...]


def shown_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def find_flow_files(patterns: Iterable[str]) -> list[Path]:
    """Expand the configured globs; a pattern matching nothing is an error (a typo would hide flows)."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if not matches:
            raise SmokeError(f"[smoke] files: {pattern!r} matches no flow file")
        for match in matches:
            path = Path(match)
            if path.is_file():
                found[path] = None
    return list(found)


def load_flow_files(paths: Sequence[Path]) -> tuple[Flow, ...]:
    raws: dict[str, tuple[_RawFlow, Where]] = {}
    problems: list[FlowProblem] = []
    for path in paths:
        name = shown_name(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(FlowProblem(Where(name, 1), f"cannot read the flow file: {exc}"))
            continue
        for raw in _parse_file(name, text, problems):
            if raw.flow.name in raws:
                first = raws[raw.flow.name][1]
                problems.append(FlowProblem(raw.flow.where, f"flow {raw.flow.name!r} is already defined at {first}"))
                continue
            raws[raw.flow.name] = (raw, raw.flow.where)
    if problems:
        raise FlowFileError(problems)
    flows = [_expand(name, {k: v[0] for k, v in raws.items()}, (), problems) for name in raws]
    if problems:
        raise FlowFileError(problems)
    for flow in flows:
        _check_names(flow, problems)
    if problems:
        raise FlowFileError(problems)
    return tuple(flows)


def select_flows(flows: Sequence[Flow], names: Sequence[str]) -> tuple[Flow, ...]:
    if not names:
        return tuple(flows)
    known = {f.name: f for f in flows}
    missing = [n for n in names if n not in known]
    if missing:
        raise SmokeError(f"--flow {missing[0]}: no such flow (known: {', '.join(sorted(known)) or 'none'})")
    return tuple(known[n] for n in dict.fromkeys(names))


def require_env(flows: Iterable[Flow], env: Mapping[str, str]) -> None:
    """Every ``${env:NAME}`` the flows use is set; else a file:line error before any request."""
    problems: list[FlowProblem] = []
    for flow in flows:
        for template, where in _all_templates(flow):
            for ref in references(template):
                if ref.kind == "env" and ref.name not in env:
                    problems.append(FlowProblem(where, f"${{env:{ref.name}}} is not set in the environment"))
    if problems:
        raise FlowFileError(problems)


# -- parsing ----------------------------------------------------------------------------------


def _parse_file(name: str, text: str, problems: list[FlowProblem]) -> list[_RawFlow]:
    try:
        document = load_located(text)
    except YamlError as exc:
        problems.append(FlowProblem(Where(name, exc.line), exc.message))
        return []
    if not isinstance(document, LMap):
        problems.append(FlowProblem(Where(name, 1), "expected a mapping with a 'flows' key"))
        return []
    for key in document:
        if key not in ("vars", "flows"):
            problems.append(
                FlowProblem(Where(name, document.key_lines[key]), f"unknown key {key!r} (expected vars, flows)")
            )
    file_vars = _variables(name, document, "vars", problems)
    flows = document.get("flows")
    if not isinstance(flows, LMap) or not flows:
        line = document.key_lines.get("flows", document.line)
        problems.append(FlowProblem(Where(name, line), "expected 'flows:' mapping flow names to flows"))
        return []
    out: list[_RawFlow] = []
    for flow_name, body in flows.items():
        where = Where(name, flows.key_lines[flow_name])
        if not _NAME.match(flow_name):
            problems.append(FlowProblem(where, f"flow name {flow_name!r}: use letters, digits, _ and -"))
            continue
        raw = _parse_flow(name, flow_name, body, where, file_vars, problems)
        if raw is not None:
            out.append(raw)
    return out


def _variables(name: str, table: LMap, key: str, problems: list[FlowProblem]) -> list[tuple[str, Any, Where]]:
    value = table.get(key)
    if value is None:
        return []
    if not isinstance(value, LMap):
        problems.append(FlowProblem(Where(name, table.key_lines[key]), f"{key}: expected a mapping of names to values"))
        return []
    out: list[tuple[str, Any, Where]] = []
    for var, template in value.items():
        where = Where(name, value.key_lines[var])
        if not _VAR.match(var):
            problems.append(FlowProblem(where, f"variable name {var!r}: use letters, digits and _"))
            continue
        if var in BUILTIN_VARIABLES:
            problems.append(FlowProblem(where, f"variable {var!r} is built in and cannot be set"))
            continue
        out.append((var, template, where))
    return out


def _parse_flow(
    name: str,
    flow_name: str,
    body: Any,
    where: Where,
    file_vars: list[tuple[str, Any, Where]],
    problems: list[FlowProblem],
) -> _RawFlow | None:
    if not isinstance(body, LMap):
        problems.append(FlowProblem(where, f"flow {flow_name!r}: expected a mapping with 'steps'"))
        return None
    allowed = ("description", "impact", "severity", "vars", "steps")
    for key in body:
        if key not in allowed:
            problems.append(
                FlowProblem(
                    Where(name, body.key_lines[key]), f"unknown key {key!r} in flow (expected {', '.join(allowed)})"
                )
            )
    impact = Impact.AVAILABILITY
    severity: Severity | None = None
    if "impact" in body:
        try:
            impact = Impact(str(body["impact"]))
        except ValueError:
            known = ", ".join(i.value for i in Impact)
            problems.append(
                FlowProblem(
                    Where(name, body.key_lines["impact"]), f"impact {body['impact']!r}: expected one of {known}"
                )
            )
    if "severity" in body:
        try:
            severity = Severity(str(body["severity"]))
        except ValueError:
            known = ", ".join(s.value for s in Severity)
            problems.append(
                FlowProblem(
                    Where(name, body.key_lines["severity"]), f"severity {body['severity']!r}: expected one of {known}"
                )
            )
    steps = body.get("steps")
    if not isinstance(steps, LSeq) or not steps:
        problems.append(
            FlowProblem(
                Where(name, body.key_lines.get("steps", where.line)), "expected 'steps:' with at least one step"
            )
        )
        return None
    items: list[Step | _Include] = []
    for index, raw_step in enumerate(steps):
        step_where = Where(name, steps.item_lines[index])
        try:
            items.append(_parse_step(name, raw_step, step_where))
        except _Stop as stop:
            problems.append(FlowProblem(Where(name, stop.line), stop.message))
    variables = tuple(file_vars + _variables(name, body, "vars", problems))
    flow = Flow(
        name=flow_name,
        where=where,
        severity=severity or _DEFAULT_SEVERITY.get(impact, Severity.HIGH),
        impact=impact,
        description=str(body.get("description") or ""),
        variables=variables,
    )
    return _RawFlow(flow, tuple(items))


_DEFAULT_SEVERITY = {Impact.SIGNUP: Severity.BLOCKER, Impact.PAYMENTS: Severity.BLOCKER, Impact.LOGIN: Severity.BLOCKER}


def _parse_step(name: str, raw: Any, where: Where) -> Step | _Include:
    if not isinstance(raw, LMap):
        raise _Stop(where.line, f"a step must be a mapping with one of {', '.join(STEP_TYPES)}")
    types = [k for k in raw if k in STEP_TYPES]
    unknown = [k for k in raw if k not in STEP_TYPES and k not in _STEP_COMMON]
    if unknown and not types:
        raise _Stop(raw.key_lines[unknown[0]], f"unknown step type {unknown[0]!r} (expected {', '.join(STEP_TYPES)})")
    if unknown:
        raise _Stop(
            raw.key_lines[unknown[0]], f"unknown key {unknown[0]!r} in step (expected {', '.join(_STEP_COMMON)})"
        )
    if not types:
        raise _Stop(where.line, f"the step has no type (expected one of {', '.join(STEP_TYPES)})")
    if len(types) > 1:
        raise _Stop(raw.key_lines[types[1]], f"a step has exactly one type; got {' and '.join(types)}")
    kind = types[0]
    line = raw.key_lines[kind]
    if kind == "flow":
        extra = [k for k in raw if k != "flow"]
        if extra:
            raise _Stop(raw.key_lines[extra[0]], f"a 'flow' step takes no {extra[0]!r}")
        if not isinstance(raw["flow"], str) or not _NAME.match(raw["flow"]):
            raise _Stop(line, "flow: expected the name of another flow")
        return _Include(raw["flow"], Where(name, line))
    templates: list[tuple[Any, Where]] = []
    spec: RequestSpec | EmailSpec | WebhookSpec
    if kind == "request":
        spec = _request(name, raw["request"], line, templates)
        default_name = f"{spec.method} {spec.url}"
    elif kind == "email":
        spec = _email(name, raw["email"], line, templates)
        default_name = f"email to {spec.to}"
    else:
        spec = _webhook(name, raw["webhook"], line, templates)
        default_name = f"webhook ({spec.scheme}) to {spec.url}"
    email = kind == "email"
    expect = _expect(name, raw, email, templates) if "expect" in raw else ()
    captures = _captures(name, raw, email) if "capture" in raw else ()
    retry = _retry(raw) if "retry" in raw else None
    step_name = raw.get("name", default_name)
    if not isinstance(step_name, str) or not step_name.strip():
        raise _Stop(raw.key_lines.get("name", where.line), "name: expected a non-empty string")
    if kind == "request" and not isinstance(spec, RequestSpec):  # pragma: no cover - type narrowing
        raise AssertionError
    return Step(
        name=step_name,
        kind=kind,  # type: ignore[arg-type]
        spec=spec,
        where=where,
        expect=expect,
        captures=captures,
        retry=retry,
        templates=tuple(templates),
    )


def _mapping(value: Any, line: int, what: str, allowed: Sequence[str]) -> LMap:
    if not isinstance(value, LMap):
        raise _Stop(line, f"{what}: expected a mapping")
    for key in value:
        if key not in allowed:
            raise _Stop(value.key_lines[key], f"unknown key {key!r} in {what} (expected {', '.join(allowed)})")
    return value


def _pairs(
    value: Any, line: int, what: str, name: str, templates: list[tuple[Any, Where]]
) -> tuple[tuple[str, Any], ...]:
    if not isinstance(value, LMap):
        raise _Stop(line, f"{what}: expected a mapping of names to values")
    out = []
    for key, item in value.items():
        if isinstance(item, (LMap, LSeq)):
            raise _Stop(value.key_lines[key], f"{what}.{key}: expected a single value")
        templates.append((item, Where(name, value.key_lines[key])))
        out.append((key, item))
    return tuple(out)


def _template(value: Any, line: int, what: str, name: str, templates: list[tuple[Any, Where]]) -> Any:
    _check_template_syntax(value, line)
    templates.append((value, Where(name, line)))
    return value


def _check_template_syntax(value: Any, line: int) -> None:
    try:
        list(references(value))
    except TemplateError as exc:
        raise _Stop(line, str(exc)) from None


def _body(spec: LMap, name: str, templates: list[tuple[Any, Where]]) -> tuple[Any, Any, bool]:
    given = [k for k in ("json", "form", "body") if k in spec]
    if len(given) > 1:
        raise _Stop(spec.key_lines[given[1]], f"give one of json, form or body, not {' and '.join(given)}")
    json_value = spec.get("json")
    if "json" in spec:
        _template(json_value, spec.key_lines["json"], "json", name, templates)
    raw_body = spec.get("body")
    if "body" in spec:
        if not isinstance(raw_body, str):
            raise _Stop(spec.key_lines["body"], "body: expected a string (use json: for structured bodies)")
        _template(raw_body, spec.key_lines["body"], "body", name, templates)
    return json_value, raw_body, "json" in spec


def _request(name: str, value: Any, line: int, templates: list[tuple[Any, Where]]) -> RequestSpec:
    if isinstance(value, str):
        method, _, url_text = value.strip().partition(" ")
        value = LMap({"method": method, "url": url_text.strip()})
        value.line = line
        value.key_lines = {"method": line, "url": line}
    allowed = ("method", "url", "headers", "query", "json", "form", "body", "follow_redirects")
    spec = _mapping(value, line, "request", allowed)
    method = str(spec.get("method", "GET")).upper()
    if method not in _METHODS:
        raise _Stop(
            spec.key_lines.get("method", line), f"method {spec.get('method')!r}: expected one of {', '.join(_METHODS)}"
        )
    url = spec.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _Stop(spec.key_lines.get("url", line), "request: expected url: a path like /signup or a full URL")
    _template(url, spec.key_lines["url"], "url", name, templates)
    headers = (
        _pairs(spec["headers"], spec.key_lines["headers"], "headers", name, templates) if "headers" in spec else ()
    )
    query = _pairs(spec["query"], spec.key_lines["query"], "query", name, templates) if "query" in spec else ()
    form = _pairs(spec["form"], spec.key_lines["form"], "form", name, templates) if "form" in spec else None
    json_value, raw_body, has_json = _body(spec, name, templates)
    follow = spec.get("follow_redirects", False)
    if not isinstance(follow, bool):
        raise _Stop(spec.key_lines["follow_redirects"], "follow_redirects: expected true or false")
    return RequestSpec(method, url, headers, query, json_value, form, raw_body, has_json, follow)


def _number(value: Any, line: int, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _Stop(line, f"{what}: expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _email(name: str, value: Any, line: int, templates: list[tuple[Any, Where]]) -> EmailSpec:
    spec = _mapping(value, line, "email", ("to", "subject", "timeout"))
    to = spec.get("to")
    if not isinstance(to, str) or not to.strip():
        raise _Stop(
            spec.key_lines.get("to", line), "email: expected to: the address (usually a variable like ${email})"
        )
    _template(to, spec.key_lines["to"], "to", name, templates)
    subject = spec.get("subject")
    if subject is not None:
        _template(str(subject), spec.key_lines["subject"], "subject", name, templates)
    timeout = 30.0
    if "timeout" in spec:
        timeout = _number(spec["timeout"], spec.key_lines["timeout"], "timeout", 0.1, MAX_EMAIL_TIMEOUT)
    return EmailSpec(to, None if subject is None else str(subject), timeout)


def _webhook(name: str, value: Any, line: int, templates: list[tuple[Any, Where]]) -> WebhookSpec:
    allowed = ("url", "scheme", "secret", "header", "json", "body", "headers")
    spec = _mapping(value, line, "webhook", allowed)
    url = spec.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _Stop(spec.key_lines.get("url", line), "webhook: expected url: the receiver's path or URL")
    _template(url, spec.key_lines["url"], "url", name, templates)
    scheme = spec.get("scheme", "stripe")
    if scheme not in ("stripe", "hmac", "github"):
        raise _Stop(spec.key_lines.get("scheme", line), f"scheme {scheme!r}: expected stripe, hmac or github")
    secret = spec.get("secret")
    if not isinstance(secret, str) or not secret:
        raise _Stop(spec.key_lines.get("secret", line), "webhook: expected secret: (use ${env:NAME}, never the value)")
    _template(secret, spec.key_lines["secret"], "secret", name, templates)
    header = spec.get("header")
    if header is not None and (not isinstance(header, str) or not re.match(r"^[A-Za-z0-9-]+$", header)):
        raise _Stop(spec.key_lines["header"], "header: expected an HTTP header name")
    if scheme == "hmac" and header is None:
        raise _Stop(line, "webhook: the hmac scheme needs header: (e.g. X-Signature)")
    headers = (
        _pairs(spec["headers"], spec.key_lines["headers"], "headers", name, templates) if "headers" in spec else ()
    )
    json_value, raw_body, has_json = _body(spec, name, templates)
    if not has_json and raw_body is None:
        raise _Stop(line, "webhook: expected json: or body: (the payload that is signed)")
    return WebhookSpec(url, scheme, secret, header, json_value, raw_body, has_json, headers)


def _operators(
    name: str, value: Any, line: int, what: str, default_op: str, templates: list[tuple[Any, Where]]
) -> list[tuple[str, Any, int]]:
    """``{op: expected, ...}`` or a bare value meaning ``default_op``."""
    if isinstance(value, LMap):
        out = []
        for op, expected in value.items():
            op_line = value.key_lines[op]
            if op not in OPERATORS:
                raise _Stop(op_line, f"{what}: unknown comparison {op!r} (expected {', '.join(OPERATORS)})")
            _check_operand(op, expected, op_line, what)
            _template(expected, op_line, what, name, templates)
            out.append((op, expected, op_line))
        if not out:
            raise _Stop(line, f"{what}: expected at least one comparison")
        return out
    if isinstance(value, LSeq):
        if default_op != "equals":
            raise _Stop(line, f"{what}: expected a value or a mapping of comparisons")
        _template(list(value), line, what, name, templates)
        return [("in", list(value), line)]
    _template(value, line, what, name, templates)
    return [(default_op, value, line)]


def _check_operand(op: str, expected: Any, line: int, what: str) -> None:
    if op == "exists" and not isinstance(expected, bool):
        raise _Stop(line, f"{what}: exists takes true or false")
    if op == "length" and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise _Stop(line, f"{what}: length takes a whole number")
    if op in ("lt", "le", "gt", "ge") and (isinstance(expected, bool) or not isinstance(expected, (int, float))):
        if not (isinstance(expected, str) and expected.startswith("${")):
            raise _Stop(line, f"{what}: {op} takes a number")
    if op == "in" and not isinstance(expected, list):
        raise _Stop(line, f"{what}: in takes a list")
    if op == "matches":
        _regex(expected, line, what)


def _regex(pattern: Any, line: int, what: str) -> str:
    if not isinstance(pattern, str):
        raise _Stop(line, f"{what}: expected a regular expression string")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _Stop(line, f"{what}: bad regular expression {pattern!r}: {exc}") from None
    return pattern


def _path(text: Any, line: int) -> Any:
    try:
        return parse_json_path(str(text))
    except JsonPathError as exc:
        raise _Stop(line, str(exc)) from None


def _expect(name: str, raw: LMap, email: bool, templates: list[tuple[Any, Where]]) -> tuple[Assertion, ...]:
    subjects = _SUBJECTS_EMAIL if email else _SUBJECTS_HTTP
    table = _mapping(raw["expect"], raw.key_lines["expect"], "expect", subjects)
    out: list[Assertion] = []
    for subject, value in table.items():
        line = table.key_lines[subject]
        if subject in ("headers", "cookies", "json"):
            if not isinstance(value, LMap):
                raise _Stop(
                    line,
                    f"expect.{subject}: expected a mapping of {'JSON paths' if subject == 'json' else 'names'} to comparisons",
                )
            single = {"headers": "header", "cookies": "cookie", "json": "json"}[subject]
            for argument, comparison in value.items():
                arg_line = value.key_lines[argument]
                path = _path(argument, arg_line) if subject == "json" else None
                for op, expected, op_line in _operators(
                    name, comparison, arg_line, f"{subject} {argument}", "equals", templates
                ):
                    out.append(Assertion(single, argument, op, expected, Where(name, op_line), path))  # type: ignore[arg-type]
            continue
        default_op = "contains" if subject in ("body", "subject") else "equals"
        if subject == "duration_ms" and not isinstance(value, LMap):
            raise _Stop(line, "expect.duration_ms: expected a comparison like {lt: 800}")
        if subject == "status" and isinstance(value, int) and not 100 <= value <= 599:
            raise _Stop(line, f"expect.status: {value} is not an HTTP status")
        for op, expected, op_line in _operators(name, value, line, subject, default_op, templates):
            out.append(Assertion(subject, None, op, expected, Where(name, op_line)))  # type: ignore[arg-type]
    return tuple(out)


def _captures(name: str, raw: LMap, email: bool) -> tuple[Capture, ...]:
    table = raw["capture"]
    if not isinstance(table, LMap):
        raise _Stop(raw.key_lines["capture"], "capture: expected a mapping of variable names to sources")
    sources = _SOURCES_EMAIL if email else _SOURCES_HTTP
    out: list[Capture] = []
    for var, spec in table.items():
        line = table.key_lines[var]
        if not _VAR.match(var) or var in BUILTIN_VARIABLES:
            raise _Stop(line, f"capture name {var!r}: use letters, digits and _ (base_url is built in)")
        spec = _mapping(spec, line, f"capture {var}", (*sources, "regex"))
        given = [k for k in spec if k in sources]
        regex = spec.get("regex")
        if regex is not None:
            _regex(regex, spec.key_lines["regex"], f"capture {var}")
        if not given:
            if regex is None:
                raise _Stop(line, f"capture {var}: expected one of {', '.join(sources)} (or regex: on the body)")
            given = ["body"]
        if len(given) > 1:
            raise _Stop(spec.key_lines[given[1]], f"capture {var}: one source only, got {' and '.join(given)}")
        source = given[0]
        argument = spec.get(source)
        path = None
        if source in ("header", "cookie"):
            if not isinstance(argument, str) or not argument:
                raise _Stop(spec.key_lines[source], f"capture {var}: {source} takes a name")
        elif source == "json":
            path = _path(argument, spec.key_lines[source])
        else:
            argument = None
        out.append(Capture(var, source, None if argument is None else str(argument), regex, Where(name, line), path))
    return tuple(out)


def _retry(raw: LMap) -> Retry:
    spec = _mapping(raw["retry"], raw.key_lines["retry"], "retry", ("attempts", "delay_ms"))
    attempts = spec.get("attempts", 5)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS:
        raise _Stop(
            spec.key_lines.get("attempts", raw.key_lines["retry"]), f"retry.attempts: expected 1 to {MAX_ATTEMPTS}"
        )
    delay = _number(
        spec.get("delay_ms", 1000),
        spec.key_lines.get("delay_ms", raw.key_lines["retry"]),
        "retry.delay_ms",
        0,
        MAX_DELAY_MS,
    )
    return Retry(attempts, delay / 1000)


# -- includes and names ------------------------------------------------------------------------


def _expand(name: str, raws: dict[str, _RawFlow], stack: tuple[str, ...], problems: list[FlowProblem]) -> Flow:
    raw = raws[name]
    variables: list[tuple[str, Any, Where]] = []
    steps: list[Step] = []
    for item in raw.items:
        if isinstance(item, Step):
            steps.append(replace(item, origin=name))
            continue
        if item.flow not in raws:
            problems.append(FlowProblem(item.where, f"flow: no flow named {item.flow!r}"))
            continue
        if item.flow in (*stack, name):
            problems.append(
                FlowProblem(
                    item.where, f"flow: {item.flow!r} includes itself ({' -> '.join((*stack, name, item.flow))})"
                )
            )
            continue
        included = _expand(item.flow, raws, (*stack, name), problems)
        variables.extend(included.variables)
        steps.extend(replace(s, name=f"{item.flow}: {s.name}") for s in included.steps)  # origin kept
    # The flow's own variables override an included flow's of the same name (parameters).
    own = {v[0] for v in raw.flow.variables}
    merged = [v for v in variables if v[0] not in own] + list(raw.flow.variables)
    return replace(raw.flow, variables=tuple(_dedupe(merged)), steps=tuple(steps))


def _dedupe(variables: list[tuple[str, Any, Where]]) -> list[tuple[str, Any, Where]]:
    seen: dict[str, tuple[str, Any, Where]] = {}
    for item in variables:
        seen.setdefault(item[0], item)
    return list(seen.values())


def _all_templates(flow: Flow) -> Iterable[tuple[Any, Where]]:
    for _, template, where in flow.variables:
        yield template, where
    for step in flow.steps:
        yield from step.templates


def _check_names(flow: Flow, problems: list[FlowProblem]) -> None:
    defined = set(BUILTIN_VARIABLES)
    for var, template, where in flow.variables:
        _check_refs(template, where, defined, problems, flow.name)
        defined.add(var)
    for step in flow.steps:
        for template, where in step.templates:
            _check_refs(template, where, defined, problems, flow.name)
        defined.update(c.name for c in step.captures)


def _check_refs(template: Any, where: Where, defined: set[str], problems: list[FlowProblem], flow: str) -> None:
    try:
        refs = list(references(template))
    except TemplateError as exc:
        problems.append(FlowProblem(where, str(exc)))
        return
    for ref in refs:
        if ref.kind == "var" and ref.name not in defined:
            problems.append(
                FlowProblem(
                    where,
                    f"${{{ref.name}}} is not defined in flow {flow!r} (define it under vars: or capture it in an earlier step)",
                )
            )

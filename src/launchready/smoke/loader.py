"""Flow files (YAML) -> validated flows. Every mistake is ``file:line: message`` before any request.

Checked up front: YAML syntax, unknown keys and step types, wrong value types, bad JSON paths and
regular expressions (the pydantic models in ``smoke/schema.py``; each error's location is mapped
back to its YAML line), unknown generators, variables used before they are defined (``vars`` and
earlier captures), included flows that do not exist or include themselves, and (``require_env``)
``${env:NAME}`` values missing from the environment.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from launchready.core.limits import InputTooLarge, read_limited
from launchready.core.severity import Impact, Severity
from launchready.smoke import schema
from launchready.smoke.errors import SmokeError
from launchready.smoke.jsonpath import parse_json_path
from launchready.smoke.model import (
    Assertion,
    Capture,
    EmailSpec,
    ErrorSpec,
    Flow,
    Operator,
    RequestSpec,
    Retry,
    Step,
    StepKind,
    WebhookSpec,
    Where,
)
from launchready.smoke.schema import BUILTIN_VARIABLES, FLOW_ERROR, validate_flow_file
from launchready.smoke.template import TemplateError, references
from launchready.smoke.yamldoc import LMap, LSeq, YamlError, line_at, load_located


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
            text = read_limited(path).decode("utf-8")
        except InputTooLarge as exc:
            problems.append(FlowProblem(Where(name, 1), f"cannot read the flow file: {exc}"))
            continue
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
    try:
        validated = validate_flow_file(document)
    except ValidationError as exc:
        problems.extend(_problem(name, document, error) for error in exc.errors())
        return []
    at = _Locator(name, document)
    return [
        _flow(at, flow_name, flow, validated.vars, frozenset(validated.secret_vars))
        for flow_name, flow in validated.flows.items()
    ]


def _problem(name: str, document: Any, error: ErrorDetails) -> FlowProblem:
    """One validation error as ``file:line: label: text``, the line found from the error's location."""
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if error["type"] == FLOW_ERROR:
        text, at, joint, fallback = str(ctx["text"]), tuple(ctx["at"]), str(ctx["joint"]), str(ctx["fallback"])
        label = (_label(loc) or fallback) if ctx["labelled"] else ""
    else:  # pydantic's own words, for a case no flow validator explains
        text, at, joint, label = error["msg"], (), ": ", _label(loc)
    line = line_at(document, loc + at)
    return FlowProblem(Where(name, line), f"{label}{joint}{text}" if label else text)


def _label(loc: tuple[str | int, ...]) -> str:
    """The key path a founder reads: from the step (``retry.attempts``, ``headers.Accept``) or the
    flow (``impact``); a bad mapping key is labelled with its mapping."""
    parts = list(loc)
    if "[key]" in parts:
        parts = parts[: parts.index("[key]") - 1]
    if parts[:1] == ["flows"] and len(parts) > 1:
        parts = parts[2:]
    if parts[:1] == ["steps"] and len(parts) > 1:
        parts = parts[2:]
    if parts[:1] in (["request"], ["email"], ["webhook"], ["error"]) and len(parts) > 1:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


@dataclass(frozen=True)
class _Locator:
    """``Where`` a key path of one flow file is written."""

    file: str
    document: Any

    def __call__(self, *path: str | int) -> Where:
        return Where(self.file, line_at(self.document, path))

    def keys(self, *path: str | int) -> list[str]:
        """The keys of the mapping at ``path`` in the order they are written (none for a bare value)."""
        node = self.document
        for part in path:
            if isinstance(node, LSeq) and isinstance(part, int):
                node = node[part]
            else:
                node = node.get(str(part)) if isinstance(node, LMap) else None
        return list(node) if isinstance(node, LMap) else []


_DEFAULT_SEVERITY = {Impact.SIGNUP: Severity.BLOCKER, Impact.PAYMENTS: Severity.BLOCKER, Impact.LOGIN: Severity.BLOCKER}


def _flow(
    at: _Locator, name: str, flow: schema.FlowDoc, file_vars: Mapping[str, Any], file_secrets: frozenset[str]
) -> _RawFlow:
    base = ("flows", name)
    variables = [(var, value, at("vars", var)) for var, value in file_vars.items()]
    variables += [(var, value, at(*base, "vars", var)) for var, value in flow.vars.items()]
    items = tuple(_step(at, (*base, "steps", index), step) for index, step in enumerate(flow.steps))
    return _RawFlow(
        Flow(
            name=name,
            where=at(*base),
            severity=flow.severity or _DEFAULT_SEVERITY.get(flow.impact, Severity.HIGH),
            impact=flow.impact,
            description=str(flow.description or ""),
            variables=tuple(variables),
            secret_vars=file_secrets | frozenset(flow.secret_vars),
        ),
        items,
    )


def _step(at: _Locator, path: tuple[str | int, ...], step: schema.Step) -> Step | _Include:
    if step.flow is not None:
        return _Include(step.flow, at(*path, "flow"))
    templates: list[tuple[Any, Where]] = []

    def template(value: Any, *key: str) -> Any:
        templates.append((value, at(*path, *key)))
        return value

    def pairs(values: Mapping[str, Any], *key: str) -> tuple[tuple[str, Any], ...]:
        return tuple((name, template(value, *key, name)) for name, value in values.items())

    def request(r: schema.Request, *at_key: str) -> RequestSpec:
        return RequestSpec(
            method=r.method,
            url=template(r.url, *at_key, "url"),
            headers=pairs(r.headers, *at_key, "headers"),
            query=pairs(r.query, *at_key, "query"),
            json=template(r.json_, *at_key, "json") if "json_" in r.model_fields_set else None,
            form=None if r.form is None else pairs(r.form, *at_key, "form"),
            body=None if r.body is None else template(r.body, *at_key, "body"),
            has_json="json_" in r.model_fields_set,
            follow_redirects=r.follow_redirects,
        )

    spec: RequestSpec | EmailSpec | WebhookSpec | ErrorSpec
    if step.request is not None:
        spec = request(step.request, "request")
        default_name = f"{spec.method} {spec.url}"
    elif step.error is not None:
        x = step.error
        spec = ErrorSpec(
            trigger=request(x.trigger, "error", "trigger"),
            monitor=template(x.monitor, "error", "monitor"),
            token=template(x.token, "error", "token"),
            title=template(x.title, "error", "title"),
            timeout=x.timeout,
        )
        default_name = f"error {spec.title} after {spec.trigger.method} {spec.trigger.url}"
    elif step.email is not None:
        e = step.email
        to = template(e.to, "email", "to")
        spec = EmailSpec(to, None if e.subject is None else template(str(e.subject), "email", "subject"), e.timeout)
        default_name = f"email to {spec.to}"
    else:
        w = step.webhook
        assert w is not None  # the schema admits exactly one step type
        spec = WebhookSpec(
            url=template(w.url, "webhook", "url"),
            scheme=w.scheme,
            secret=template(w.secret, "webhook", "secret"),
            header=w.header,
            headers=pairs(w.headers, "webhook", "headers"),
            json=template(w.json_, "webhook", "json") if "json_" in w.model_fields_set else None,
            body=None if w.body is None else template(w.body, "webhook", "body"),
            has_json="json_" in w.model_fields_set,
        )
        default_name = f"webhook ({spec.scheme}) to {spec.url}"
    return Step(
        name=step.name or default_name,
        kind=cast(StepKind, step.kind),
        spec=spec,
        where=at(*path),
        expect=_expect(at, path, step.expect, template),
        captures=_captures(at, path, step.capture or {}),
        retry=None if step.retry is None else Retry(step.retry.attempts, step.retry.delay_ms / 1000),
        templates=tuple(templates),
    )


_ONE_OF = {"headers": "header", "cookies": "cookie", "json": "json"}


def _expect(
    at: _Locator, path: tuple[str | int, ...], expect: schema.Expect | None, template: Callable[..., Any]
) -> tuple[Assertion, ...]:
    if expect is None:
        return ()
    out: list[Assertion] = []
    for subject in at.keys(*path, "expect"):
        written = getattr(expect, "json_" if subject == "json" else subject)
        named = written.items() if subject in _ONE_OF else [(None, written)]
        for argument, comparisons in named:
            key = (subject,) if argument is None else (subject, argument)
            order = {op: rank for rank, op in enumerate(at.keys(*path, "expect", *key))}
            for op, expected in sorted(comparisons.items(), key=lambda item: order.get(item[0], 0)):
                where = at(*path, "expect", *key, op)
                template(expected, "expect", *key, op)
                json_path = parse_json_path(str(argument)) if subject == "json" else None
                single = _ONE_OF.get(subject, subject)
                out.append(Assertion(single, argument, cast(Operator, op), expected, where, json_path))
    return tuple(out)


def _captures(at: _Locator, path: tuple[str | int, ...], captures: Mapping[str, schema.Capture]) -> tuple[Capture, ...]:
    out = []
    for var, capture in captures.items():
        source = capture.source
        argument = {"header": capture.header, "cookie": capture.cookie, "json": capture.json_}.get(source)
        json_path = None if capture.json_ is None or source != "json" else parse_json_path(capture.json_)
        out.append(Capture(var, source, argument, capture.regex, at(*path, "capture", var), json_path))
    return tuple(out)


# -- includes and names ------------------------------------------------------------------------


def _expand(name: str, raws: dict[str, _RawFlow], stack: tuple[str, ...], problems: list[FlowProblem]) -> Flow:
    raw = raws[name]
    variables: list[tuple[str, Any, Where]] = []
    steps: list[Step] = []
    secret_vars = set(raw.flow.secret_vars)
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
        secret_vars |= included.secret_vars
        steps.extend(replace(s, name=f"{item.flow}: {s.name}") for s in included.steps)  # origin kept
    # The flow's own variables override an included flow's of the same name (parameters).
    own = {v[0] for v in raw.flow.variables}
    merged = [v for v in variables if v[0] not in own] + list(raw.flow.variables)
    return replace(raw.flow, variables=tuple(_dedupe(merged)), steps=tuple(steps), secret_vars=frozenset(secret_vars))


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
    for var in sorted(flow.secret_vars - {v[0] for v in flow.variables}):
        problems.append(
            FlowProblem(flow.where, f"secret_vars: {var!r} is not defined under vars: in flow {flow.name!r}")
        )
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

"""The flow file format as pydantic models: what may be written where, and of which type.

Validation is strict (YAML's types are kept: ``"5"`` is not a number) and unknown keys are
errors. Every problem is raised as a ``flow`` error whose context holds the text to show and,
when the problem sits on a key below the value that failed, that key (``at``); the loader turns
the error's location into a line of the YAML file. The loader then builds the runtime model
(``smoke/model.py``) from these validated documents.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from launchready.config.messages import show_value
from launchready.core.severity import Impact, Severity
from launchready.smoke.jsonpath import JsonPathError, parse_json_path
from launchready.smoke.model import OPERATORS

STEP_TYPES = ("request", "email", "webhook", "error", "flow")
STEP_COMMON = ("name", "expect", "capture", "retry")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
SUBJECTS_HTTP = ("status", "duration_ms", "body", "headers", "cookies", "json")
SUBJECTS_EMAIL = ("subject", "body", "headers")
SOURCES_HTTP = ("status", "duration_ms", "body", "header", "cookie", "json")
SOURCES_EMAIL = ("subject", "body", "header")
BUILTIN_VARIABLES = ("base_url",)
MAX_ATTEMPTS = 60
MAX_DELAY_MS = 30_000
MAX_EMAIL_TIMEOUT = 600.0
FLOW_ERROR = "flow"


def flow_error(
    text: str, *, at: tuple[str, ...] = (), labelled: bool = True, joint: str = ": ", fallback: str = ""
) -> PydanticCustomError:
    """A problem to show as ``[label: ]text`` on the line of the failing value (or of its key ``at``).

    The label is the key path the loader derives from the error's location ("retry.attempts");
    ``labelled=False`` is for texts that already say where they are ("unknown key 'x' in step");
    ``joint`` goes between label and text (a space for "impact 'vibes': expected one of ...");
    ``fallback`` is the label where the location gives none (a step's ``request:`` itself).
    """
    # The text travels in the context, not the template: flow texts hold braces (``${email}``).
    return PydanticCustomError(
        FLOW_ERROR, "{text}", {"text": text, "at": at, "labelled": labelled, "joint": joint, "fallback": fallback}
    )


class Part(BaseModel):
    """A mapping in a flow file: strict, closed, and explained in flow-file words when wrong."""

    # defer_build: the validators are built on the first flow file, not when a command imports this.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True)
    what: ClassVar[str]  # how messages name the mapping ("request", "retry")
    shape: ClassVar[str] = "a mapping"  # what a value of another type should have been
    quiet: ClassVar[frozenset[str]] = frozenset()  # fields whose value a message must not show
    nullable: ClassVar[frozenset[str]] = frozenset()  # typed fields where an empty value (null) means something

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(field.alias or name for name, field in cls.model_fields.items())

    @classmethod
    def unknown_key(cls, key: str) -> PydanticCustomError:
        inside = f" in {cls.what}" if cls.what else ""
        return flow_error(f"unknown key {key!r}{inside} (expected {', '.join(cls.keys())})", at=(key,), labelled=False)

    @model_validator(mode="before")
    @classmethod
    def _closed_mapping(cls, data: Any) -> Any:
        return cls.check_keys(data)

    @classmethod
    def check_keys(cls, data: Any) -> Any:
        """Before the fields: a mapping, no unknown key, every required key."""
        if not isinstance(data, dict):
            raise flow_error(f"expected {cls.shape}", fallback=cls.what)
        for key in data:
            if key not in cls.keys():
                raise cls.unknown_key(str(key))
        for name, field in cls.model_fields.items():
            if field.is_required() and (field.alias or name) not in data:
                raise flow_error(f"expected {field.alias or name}: {field.description}", fallback=cls.what)
        return data

    @field_validator("*", mode="wrap")
    @classmethod
    def _in_flow_words(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        """A field's own type or range error becomes "expected <its description>"; errors from deeper
        mappings have already been explained there and pass through."""
        name = info.field_name or ""
        field = cls.model_fields[name]
        description = field.description or "a mapping"
        if value is None and field.annotation is not Any and name not in cls.nullable:
            # Optional keys are typed "X | None" for their default; written empty, they are a mistake.
            raise flow_error(f"expected {description}, got null")
        try:
            return handler(value)
        except ValidationError as exc:
            errors = exc.errors()
            if any(error["type"] == FLOW_ERROR for error in errors):
                raise
            if name in cls.quiet:
                raise flow_error(f"expected {description}") from None
            if errors[0]["type"] in ("enum", "literal_error"):
                raise flow_error(f"{_shown(value)}: expected {description}", joint=" ") from None
            raise flow_error(f"expected {description}, got {_shown(value)}") from None


def _shown(value: Any) -> str:
    """A value in YAML words, shortened."""
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        kind = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind}" if value else f"an empty {kind}"
    return show_value(value)


def _name_rule(kind: str, pattern: str, rule: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(name: str) -> str:
        if not compiled.match(name):
            raise flow_error(f"{kind} name {name!r}: {rule}", labelled=False)
        if name in BUILTIN_VARIABLES:
            raise flow_error(f"{kind} {name!r} is built in and cannot be set", labelled=False)
        return name

    return AfterValidator(check)


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise flow_error(f"bad regular expression {pattern!r}: {exc}") from None
    return pattern


def _json_path(text: str) -> str:
    try:
        parse_json_path(text)
    except JsonPathError as exc:
        raise flow_error(str(exc)) from None
    return text


FlowName = Annotated[str, _name_rule("flow", r"^[A-Za-z_][A-Za-z0-9_-]*$", "use letters, digits, _ and -")]
VarName = Annotated[str, _name_rule("variable", r"^[A-Za-z_][A-Za-z0-9_]*$", "use letters, digits and _")]
CaptureName = Annotated[str, _name_rule("capture", r"^[A-Za-z_][A-Za-z0-9_]*$", "use letters, digits and _")]
NonEmpty = Annotated[str, Field(min_length=1, pattern=r"\S")]
Regex = Annotated[str, AfterValidator(_regex)]
JsonPathText = Annotated[str, AfterValidator(_json_path)]
Variables = Annotated[dict[VarName, Any], BeforeValidator(lambda value: {} if value is None else value)]


def _single_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        raise flow_error("expected a single value")
    return value


Pairs = dict[str, Annotated[Any, AfterValidator(_single_value)]]


class _Payload(Part):
    """What json:, form: and body: share: at most one of them."""

    @model_validator(mode="after")
    def _one_body(self) -> _Payload:
        given = [key for key in _written(self) if key in ("json", "form", "body")]
        if len(given) > 1:
            raise flow_error(
                f"give one of json, form or body, not {' and '.join(given)}", at=(given[1],), labelled=False
            )
        return self


class Request(_Payload):
    what = "request"
    method: Annotated[
        Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], BeforeValidator(lambda v: str(v).upper())
    ] = Field("GET", description=f"one of {', '.join(METHODS)}")
    url: NonEmpty = Field(description="a path like /signup or a full URL")
    headers: Pairs = Field(default_factory=dict, description="a mapping of names to values")
    query: Pairs = Field(default_factory=dict, description="a mapping of names to values")
    json_: Any = Field(None, alias="json")
    form: Pairs | None = Field(None, description="a mapping of names to values")
    body: str | None = Field(None, description="a string (use json: for structured bodies)")
    follow_redirects: bool = Field(False, description="true or false")

    @classmethod
    def check_keys(cls, data: Any) -> Any:
        if isinstance(data, str):  # ``request: POST /signup`` is ``{method: POST, url: /signup}``
            method, _, url = data.strip().partition(" ")
            data = {"method": method, "url": url.strip()}
        return super().check_keys(data)


class Email(Part):
    what = "email"
    to: NonEmpty = Field(description="the address (usually a variable like ${email})")
    subject: Any = None
    timeout: float = Field(
        30.0, ge=0.1, le=MAX_EMAIL_TIMEOUT, description=f"a number from 0.1 to {MAX_EMAIL_TIMEOUT:g}"
    )


class Webhook(_Payload):
    what = "webhook"
    quiet = frozenset({"secret"})
    nullable = frozenset({"header"})
    url: NonEmpty = Field(description="the receiver's path or URL")
    scheme: Literal["stripe", "hmac", "github"] = Field("stripe", description="stripe, hmac or github")
    secret: NonEmpty = Field(description="the signing secret (use ${env:NAME}, never the value)")
    header: str | None = Field(None, pattern=r"^[A-Za-z0-9-]+$", description="an HTTP header name")
    json_: Any = Field(None, alias="json")
    body: str | None = Field(None, description="a string (use json: for structured bodies)")
    headers: Pairs = Field(default_factory=dict, description="a mapping of names to values")

    @model_validator(mode="after")
    def _signable(self) -> Webhook:
        if self.scheme == "hmac" and self.header is None:
            raise flow_error("webhook: the hmac scheme needs header: (e.g. X-Signature)", labelled=False)
        if "json_" not in self.model_fields_set and self.body is None:
            raise flow_error("webhook: expected json: or body: (the payload that is signed)", labelled=False)
        return self


class ErrorCheck(Part):
    """Trigger an error in the app, then wait until the launchready monitor shows it arrived."""

    what = "error"
    quiet = frozenset({"token"})
    trigger: Request = Field(description='the request that makes the app raise: "GET /debug/error" or a mapping')
    monitor: NonEmpty = Field(description="the launchready monitor's URL (where /api/v1/errors answers)")
    token: NonEmpty = Field(description="a monitor API token (use ${env:NAME}, never the value)")
    title: NonEmpty = Field(description="text the error group's title contains (e.g. ZeroDivisionError)")
    timeout: float = Field(
        30.0, ge=0.1, le=MAX_EMAIL_TIMEOUT, description=f"a number from 0.1 to {MAX_EMAIL_TIMEOUT:g}"
    )


_NUMBER_OR_REFERENCE = Annotated[float, Strict()] | Annotated[str, Field(pattern=r"^\$\{")]


class Comparisons(Part):
    """``{op: expected, ...}``; a bare value or a list is turned into one comparison first."""

    what = "comparison"
    equals: Any = None
    not_equals: Any = None
    contains: Any = None
    not_contains: Any = None
    matches: Regex | None = Field(None, description="a regular expression string")
    exists: bool | None = Field(None, description="true or false")
    length: int | None = Field(None, description="a whole number")
    lt: _NUMBER_OR_REFERENCE | None = Field(None, description="a number")
    le: _NUMBER_OR_REFERENCE | None = Field(None, description="a number")
    gt: _NUMBER_OR_REFERENCE | None = Field(None, description="a number")
    ge: _NUMBER_OR_REFERENCE | None = Field(None, description="a number")
    in_: list[Any] | None = Field(None, alias="in", description="a list")

    @classmethod
    def unknown_key(cls, key: str) -> PydanticCustomError:
        return flow_error(f"unknown comparison {key!r} (expected {', '.join(OPERATORS)})", at=(key,))

    shape = "a value or a mapping of comparisons"

    @model_validator(mode="after")
    def _at_least_one(self) -> Comparisons:
        if not self.model_fields_set:
            raise flow_error("expected at least one comparison")
        return self

    def items(self) -> list[tuple[str, Any]]:
        """(operator, expected) for each comparison written."""
        return [(op, getattr(self, "in_" if op == "in" else op)) for op in _written(self)]


def _comparisons(default_op: str) -> BeforeValidator:
    def normalise(value: Any) -> Any:
        if isinstance(value, dict):
            return value
        if isinstance(value, list):
            if default_op != "equals":
                raise flow_error("expected a value or a mapping of comparisons")
            return {"in": value}
        return {default_op: value}

    return BeforeValidator(normalise)


def _http_status(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not 100 <= value <= 599:
        raise flow_error(f"{value} is not an HTTP status")
    return value


def _a_comparison(value: Any) -> Any:
    if not isinstance(value, dict):
        raise flow_error("expected a comparison like {lt: 800}")
    return value


# Outside the "| None": a null written as the expected value becomes {equals: null}.
Equals = Annotated[Comparisons | None, _comparisons("equals")]
Contains = Annotated[Comparisons | None, _comparisons("contains")]


class Expect(Part):
    what = "expect"
    nullable = frozenset({"status", "body", "subject"})  # null is the value expected
    status: Annotated[Equals, BeforeValidator(_http_status)] = None
    duration_ms: Annotated[Comparisons, BeforeValidator(_a_comparison)] | None = Field(
        None, description="a comparison like {lt: 800}"
    )
    body: Contains = None
    subject: Contains = None
    headers: dict[str, Equals] | None = Field(None, description="a mapping of names to comparisons")
    cookies: dict[str, Equals] | None = Field(None, description="a mapping of names to comparisons")
    json_: dict[JsonPathText, Equals] | None = Field(
        None, alias="json", description="a mapping of JSON paths to comparisons"
    )


class Capture(Part):
    what = "capture"
    nullable = frozenset({"regex"})
    status: Any = None
    duration_ms: Any = None
    body: Any = None
    subject: Any = None
    header: NonEmpty | None = Field(None, description="a header name")
    cookie: NonEmpty | None = Field(None, description="a cookie name")
    json_: JsonPathText | None = Field(None, alias="json", description="a JSON path like $.id")
    regex: Regex | None = Field(None, description="a regular expression string")

    @property
    def sources(self) -> list[str]:
        return [key for key in _written(self) if key != "regex"]

    @model_validator(mode="after")
    def _one_source(self) -> Capture:
        given = self.sources
        if len(given) > 1:
            raise flow_error(f"one source only, got {' and '.join(given)}", at=(given[1],))
        return self

    @property
    def source(self) -> str:
        return (self.sources or ["body"])[0]


class Retry(Part):
    what = "retry"
    attempts: int = Field(5, ge=1, le=MAX_ATTEMPTS, description=f"a whole number from 1 to {MAX_ATTEMPTS}")
    delay_ms: float = Field(1000, ge=0, le=MAX_DELAY_MS, description=f"a number from 0 to {MAX_DELAY_MS}")


class Step(Part):
    what = "step"
    request: Request | None = None
    email: Email | None = None
    webhook: Webhook | None = None
    error: ErrorCheck | None = None
    flow: FlowName | None = Field(None, description="the name of another flow")
    name: NonEmpty | None = Field(None, description="a non-empty string")
    expect: Expect | None = None
    capture: dict[CaptureName, Capture] | None = Field(None, description="a mapping of variable names to sources")
    retry: Retry | None = None

    @classmethod
    def check_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise flow_error(f"a step must be a mapping with one of {', '.join(STEP_TYPES)}", labelled=False)
        types = [key for key in data if key in STEP_TYPES]
        unknown = [key for key in data if key not in STEP_TYPES and key not in STEP_COMMON]
        if unknown and not types:
            text = f"unknown step type {unknown[0]!r} (expected {', '.join(STEP_TYPES)})"
            raise flow_error(text, at=(unknown[0],), labelled=False)
        if unknown:
            text = f"unknown key {unknown[0]!r} in step (expected {', '.join(STEP_COMMON)})"
            raise flow_error(text, at=(unknown[0],), labelled=False)
        if not types:
            raise flow_error(f"the step has no type (expected one of {', '.join(STEP_TYPES)})", labelled=False)
        if len(types) > 1:
            raise flow_error(f"a step has exactly one type; got {' and '.join(types)}", at=(types[1],), labelled=False)
        if types[0] == "flow" and len(data) > 1:
            extra = next(key for key in data if key != "flow")
            raise flow_error(f"a 'flow' step takes no {extra!r}", at=(extra,), labelled=False)
        return super().check_keys(data)

    @property
    def kind(self) -> str:
        return next(kind for kind in STEP_TYPES if kind in self.model_fields_set)

    @model_validator(mode="after")
    def _fits_its_type(self) -> Step:
        email = self.kind == "email"
        subjects, sources = (SUBJECTS_EMAIL, SOURCES_EMAIL) if email else (SUBJECTS_HTTP, SOURCES_HTTP)
        for subject in _written(self.expect):
            if subject not in subjects:
                text = f"unknown key {subject!r} in expect (expected {', '.join(subjects)})"
                raise flow_error(text, at=("expect", subject), labelled=False)
        for var, capture in (self.capture or {}).items():
            if not capture.sources and capture.regex is None:
                text = f"capture {var}: expected one of {', '.join(sources)} (or regex: on the body)"
                raise flow_error(text, at=("capture", var), labelled=False)
            for source in capture.sources:
                if source not in sources:
                    text = f"unknown key {source!r} in capture {var} (expected {', '.join((*sources, 'regex'))})"
                    raise flow_error(text, at=("capture", var, source), labelled=False)
        return self


def _written(part: Part | None) -> list[str]:
    """The keys written in the file for ``part``, in the model's field order."""
    if part is None:
        return []
    return [field.alias or name for name, field in type(part).model_fields.items() if name in part.model_fields_set]


class FlowDoc(Part):
    what = "flow"
    description: Any = None
    impact: Annotated[Impact, Strict(False)] = Field(
        Impact.AVAILABILITY, description=f"one of {', '.join(i.value for i in Impact)}"
    )
    severity: Annotated[Severity, Strict(False)] | None = Field(
        None, description=f"one of {', '.join(s.value for s in Severity)}"
    )
    nullable = frozenset({"vars"})
    vars: Variables = Field(default_factory=dict, description="a mapping of names to values")
    secret_vars: list[VarName] = Field(
        default_factory=list, description="names of vars whose values are secrets: masked in every output"
    )
    steps: list[Step] = Field(min_length=1, description="a list of at least one step")

    shape = "a mapping with 'steps'"


class FlowFileDoc(Part):
    what = ""
    vars: Variables = Field(default_factory=dict, description="a mapping of names to values")
    secret_vars: list[VarName] = Field(
        default_factory=list, description="names of vars whose values are secrets: masked in every output"
    )
    flows: dict[FlowName, FlowDoc] = Field(min_length=1, description="a mapping of flow names to flows")

    shape = "a mapping with a 'flows' key"
    nullable = frozenset({"vars"})


def validate_flow_file(document: Any) -> FlowFileDoc:
    return FlowFileDoc.model_validate(document)

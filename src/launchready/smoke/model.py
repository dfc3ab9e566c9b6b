"""The validated flow model: what the loader produces and the runner executes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from launchready.core.severity import Impact, Severity
from launchready.smoke.jsonpath import JsonPath

StepKind = Literal["request", "email", "webhook", "error"]
SignatureScheme = Literal["stripe", "hmac", "github"]
Operator = Literal[
    "equals", "not_equals", "contains", "not_contains", "matches", "exists", "length", "lt", "le", "gt", "ge", "in"
]
OPERATORS: tuple[str, ...] = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "matches",
    "exists",
    "length",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
)


@dataclass(frozen=True)
class Where:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class RequestSpec:
    method: str
    url: Any  # template
    headers: tuple[tuple[str, Any], ...] = ()
    query: tuple[tuple[str, Any], ...] = ()
    json: Any = None
    form: tuple[tuple[str, Any], ...] | None = None
    body: Any = None
    has_json: bool = False
    follow_redirects: bool = False


@dataclass(frozen=True)
class EmailSpec:
    to: Any
    subject: Any = None
    timeout: float = 30.0


@dataclass(frozen=True)
class WebhookSpec:
    url: Any
    scheme: SignatureScheme
    secret: Any
    header: str | None = None
    json: Any = None
    body: Any = None
    has_json: bool = False
    headers: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ErrorSpec:
    """Send ``trigger``, then poll the monitor's error API until a group whose title contains
    ``title`` counts one more event than before the trigger (clock-independent), or ``timeout``."""

    trigger: RequestSpec
    monitor: Any
    token: Any
    title: Any
    timeout: float = 30.0


@dataclass(frozen=True)
class Assertion:
    subject: str  # status, duration_ms, body, header, cookie, json, subject
    argument: str | None  # header/cookie name or JSON path text
    op: Operator
    expected: Any  # template
    where: Where
    path: JsonPath | None = None

    def describe(self) -> str:
        target = self.subject if self.argument is None else f"{self.subject} {self.argument}"
        return f"{target} {self.op} {self.expected!r}"


@dataclass(frozen=True)
class Capture:
    name: str
    source: str  # status, duration_ms, body, header, cookie, json, subject
    argument: str | None
    regex: str | None
    where: Where
    path: JsonPath | None = None


@dataclass(frozen=True)
class Retry:
    attempts: int
    delay: float  # seconds


@dataclass(frozen=True)
class Step:
    name: str
    kind: StepKind
    spec: RequestSpec | EmailSpec | WebhookSpec | ErrorSpec
    where: Where
    expect: tuple[Assertion, ...] = ()
    captures: tuple[Capture, ...] = ()
    retry: Retry | None = None
    # Every template in the step with where it is written: checked for undefined names up front.
    templates: tuple[tuple[Any, Where], ...] = ()
    origin: str = ""  # the flow the step is written in (differs for steps of an included flow)


@dataclass(frozen=True)
class Flow:
    name: str
    where: Where
    severity: Severity
    impact: Impact
    description: str = ""
    # Ordered (name, template, where); included flows' variables come first.
    variables: tuple[tuple[str, Any, Where], ...] = ()
    steps: tuple[Step, ...] = field(default=())
    # Variables whose values are secrets (listed under secret_vars, here or in an included flow):
    # masked wherever the run prints them, whatever their names.
    secret_vars: frozenset[str] = frozenset()

    @property
    def uses_email(self) -> bool:
        return any(s.kind == "email" for s in self.steps)

"""The neutral view model every command hands the output layer.

A feature (secrets, smoke, load, history, later the monitor, error intake and handover) turns its
own results into one of three shapes and passes it to the one writer per format:

- ``Document`` (sections of paragraphs, lists, tables, code and line charts, with an optional
  verdict banner) for HTML (``report.html.write_html``), Markdown
  (``report.markdown.write_markdown``) and the terminal (``report.console.print_document``);
- ``TestReport`` (suites of test cases) for JUnit XML (``report.junit.write_junit``);
- ``SarifLog`` (rules, results, locations) for SARIF 2.1.0 (``report.sarif.write_sarif``).

The model knows no check, flow or endpoint: only text, tones and numbers. Text is plain; the
writers escape it for their format, so whatever a feature copies from an audited site or a
repository can never become markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import ClassVar

from launchready.core.severity import Confidence, Severity

# -- inline text ----------------------------------------------------------------------------

# Tones colour a span, a banner or a callout the same way in every writer: "good", "warn", "bad",
# "muted", or a severity name ("blocker", "high", "medium", "low", "info").
TONES: frozenset[str] = frozenset({"", "good", "warn", "bad", "muted", *(s.value for s in Severity)})


@dataclass(frozen=True)
class Span:
    """A run of text with a look: code (monospace), strong, and/or a tone."""

    text: str
    code: bool = False
    strong: bool = False
    tone: str = ""

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r}")


# A piece of text: plain, one span, or a sequence of both.
Text = str | Span | tuple[str | Span, ...]


def spans(text: Text) -> tuple[Span, ...]:
    """Any ``Text`` as a tuple of spans (plain strings become plain spans)."""
    if isinstance(text, str):
        return (Span(text),) if text else ()
    if isinstance(text, Span):
        return (text,)
    return tuple(Span(part) if isinstance(part, str) else part for part in text if part)


def backticks(text: str) -> tuple[Span, ...]:
    """Text whose backtick-quoted parts (commands, records, as remediations write them) are code."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick stays literal
        last = pieces.pop()
        pieces[-1] += "`" + last
    return tuple(Span(part, code=i % 2 == 1) for i, part in enumerate(pieces) if part)


def plain(text: Text) -> str:
    """The characters of ``text`` without any look."""
    return "".join(s.text for s in spans(text))


# -- blocks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: Text
    # A toned paragraph is a call-out ("warn": something the reader must know about the numbers).
    tone: str = ""


@dataclass(frozen=True)
class BulletList:
    kind: ClassVar[str] = "list"
    items: tuple[Text, ...]


@dataclass(frozen=True)
class CodeBlock:
    """Lines shown verbatim (evidence, a request as sent, a failure's detail)."""

    kind: ClassVar[str] = "code"
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False  # right-aligned
    wrap: bool = True  # False: never wrapped in the terminal (dates, ids, names)


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    columns: tuple[Column, ...]
    rows: tuple[tuple[Text, ...], ...]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table row has {len(row)} cells for {len(self.columns)} columns")


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[float, float], ...]  # (x, y) in data units
    # Dashed and drawn beneath the solid lines: a series that often equals another (max and p99
    # over a second with few requests) stays visible under it instead of hiding it.
    dashed: bool = False


@dataclass(frozen=True)
class Marker:
    """A point of note on the x axis (e.g. a second with errors), with its hover text."""

    x: float
    label: str


@dataclass(frozen=True)
class Threshold:
    """A horizontal line across the plot at ``y`` (a budget), named in the legend and on the line."""

    y: float
    label: str


@dataclass(frozen=True)
class LineChart:
    """Lines over a shared x axis, drawn as inline SVG in HTML (omitted from text formats)."""

    kind: ClassVar[str] = "chart"
    title: str
    x_label: str
    y_label: str
    x_range: tuple[float, float]
    series: tuple[Series, ...]
    x_ticks: tuple[tuple[float, str], ...] = ()
    markers: tuple[Marker, ...] = ()
    thresholds: tuple[Threshold, ...] = ()


Block = Paragraph | BulletList | CodeBlock | Table | LineChart


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...] = ()
    lead: str = ""  # one sentence under the title saying how to read the section


@dataclass(frozen=True)
class Banner:
    """The answer first: e.g. "Load: OVER BUDGET" with a plain sentence and its reasons."""

    label: str
    headline: str
    text: str
    tone: str  # "good", "warn" or "bad"
    points: tuple[Text, ...] = ()

    def __post_init__(self) -> None:
        if self.tone not in ("good", "warn", "bad"):
            raise ValueError(f"a banner's tone is good, warn or bad, not {self.tone!r}")


@dataclass(frozen=True)
class Document:
    """One report page: the same content in HTML, Markdown and the terminal."""

    title: str  # the browser tab / file title
    heading: str
    sections: tuple[Section, ...]
    meta: tuple[str, ...] = ()  # short facts under the heading: when, how long, which version
    banner: Banner | None = None
    footer: str = ""
    tool_version: str = ""


# -- JUnit ----------------------------------------------------------------------------------


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # could not run: not a pass
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TestCase:
    __test__: ClassVar[bool] = False  # not a pytest class, despite the name

    name: str
    classname: str
    seconds: float = 0.0
    outcome: Outcome = Outcome.PASSED
    message: str = ""  # failure/error/skipped message attribute
    type: str = ""  # failure/error type attribute
    detail: str = ""  # failure/error text
    output: str = ""  # <system-out>: notes that do not fail the case
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class TestSuite:
    __test__: ClassVar[bool] = False

    name: str
    cases: tuple[TestCase, ...]
    seconds: float = 0.0
    timestamp: datetime | None = None
    properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TestReport:
    __test__: ClassVar[bool] = False

    name: str
    suites: tuple[TestSuite, ...]
    seconds: float = 0.0


# -- SARIF ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SarifRule:
    id: str
    title: str  # shortDescription
    help: str  # what to do, as plain text
    severity: Severity  # the rule's default level and security-severity
    description: str = ""  # fullDescription; empty: none
    help_markdown: str = ""
    help_uri: str | None = None
    tags: tuple[str, ...] = ()
    precision: Confidence | None = None


@dataclass(frozen=True)
class SarifLocation:
    """Where a result is: a repository file and line, with an optional named resource (a host or
    URL anchored to a stand-in file, since code scanning refuses results without a file)."""

    path: str
    line: int = 1
    column: int | None = None
    resource: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class SarifResult:
    rule_id: str
    severity: Severity
    message: str
    location: SarifLocation
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, object] = field(default_factory=dict)
    # A justification when the result is accepted (written as an external suppression).
    suppressed: str | None = None


@dataclass(frozen=True)
class SarifNotification:
    """Something about the run itself (e.g. a check that could not run), not about the product."""

    descriptor: str
    message: str
    properties: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SarifInvocation:
    started: datetime
    finished: datetime
    notifications: tuple[SarifNotification, ...] = ()


@dataclass(frozen=True)
class SarifLog:
    tool: str
    version: str
    rules: tuple[SarifRule, ...]
    results: tuple[SarifResult, ...]
    # GitHub's analysis category: runs with different ids do not close each other's alerts.
    automation_id: str | None = None
    invocation: SarifInvocation | None = None
    properties: Mapping[str, object] = field(default_factory=dict)

"""The output layer: one writer per format for every command, one stylesheet for every HTML page.

The smoke regression runs a real flow against a loopback HTTP server whose error page carries NUL
and other control characters: the JUnit report must still parse and validate.
"""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from cliutil import run_cli
from report_samples import XSS, run_with_history

from launchready.checks.perf.load import judge
from launchready.core.severity import Impact, Severity
from launchready.perf.generator import EndpointStats, LoadResult, LoadSettings, SelfWatch
from launchready.perf.histogram import Histogram
from launchready.perf.plan import PlannedEndpoint
from launchready.perf.report import render_html as render_load_html
from launchready.report.html import render_html as render_audit_html
from launchready.report.html import stylesheet, write_html
from launchready.report.junit import write_junit
from launchready.report.markdown import write_markdown
from launchready.report.model import (
    Banner,
    CodeBlock,
    Column,
    Document,
    LineChart,
    Outcome,
    Paragraph,
    SarifLocation,
    SarifLog,
    SarifResult,
    SarifRule,
    Section,
    Series,
    Span,
    Table,
    TestCase,
    TestReport,
    TestSuite,
)
from launchready.report.sarif import write_sarif
from launchready.smoke.report import SmokeFormat, render_smoke
from launchready.smoke.results import FlowResult, SmokeRun, StepResult

SCHEMAS = Path(__file__).parent / "data" / "schemas"
# Every C0 control character XML 1.0 forbids, plus the two non-characters at the end of the BMP.
FORBIDDEN = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"
NUL_BODY = b"boom\x00 \x01\x02\x07\x08 \x0b\x0c\x1b[31m \x1f end"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMAS / "junit.xsd")


# -- JUnit: control characters never reach the file ------------------------------------------


class _ControlCharacterHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(NUL_BODY)))
        self.end_headers()
        self.wfile.write(NUL_BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def control_character_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ControlCharacterHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


FLOW = """\
flows:
  status-page:
    steps:
      - name: status page answers
        request: GET /status
        expect:
          status: 200
"""


def test_smoke_junit_with_control_characters_in_the_response_parses_and_validates(
    control_character_server: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    junit_schema: xmlschema.XMLSchema,
) -> None:
    (tmp_path / "flows.yaml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "launchready.toml").write_text(
        'domain = "example.test"\n'
        "[environments]\n"
        f'production = {{ base_url = "http://127.0.0.1:{control_character_server}" }}\n'
        "[smoke]\n"
        'files = ["flows.yaml"]\n',
        encoding="utf-8",
    )
    code, out, err = run_cli(["smoke", "-c", str(tmp_path / "launchready.toml"), "--format", "junit", "-q"], capsys)
    assert code == 1, err
    junit_schema.validate(out)
    root = ET.fromstring(out.encode("utf-8"))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    # The body reached the report (so the filter had something to do), minus what XML forbids.
    assert "boom" in failure.text and "end" in failure.text and "\ufffd" in failure.text
    assert not set(FORBIDDEN) & set(out)
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("file", "").endswith("flows.yaml") and case.get("line") == "4"


def test_smoke_flow_that_could_not_finish_is_a_valid_error_case(junit_schema: xmlschema.XMLSchema) -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    flow = FlowResult(
        name="signup",
        where="smoke/signup.yaml:3",
        severity=Severity.BLOCKER,
        impact=Impact.SIGNUP,
        passed=False,
        duration_ms=1500.0,
        steps=(
            StepResult("open the form", "request", "smoke/signup.yaml:5", True, 12.0, "GET https://x.test/"),
            StepResult("submit", "request", "smoke/signup.yaml:9", False, 0.0, "", skipped=True),
        ),
        error="flow timed out after 1s\x00",
    )
    run = SmokeRun("production", "https://x.test", started, started + timedelta(seconds=2), (flow,))
    text = render_smoke(run, SmokeFormat.JUNIT)
    junit_schema.validate(text)
    suite = ET.fromstring(text.encode("utf-8")).find("testsuite")
    assert suite is not None
    assert [suite.get(k) for k in ("tests", "failures", "errors", "skipped")] == ["3", "0", "1", "1"]
    error_case = suite.findall("testcase")[-1]
    error = error_case.find("error")
    assert error is not None and error.get("message") == "flow timed out after 1s\ufffd"
    assert (error_case.get("file"), error_case.get("line")) == ("smoke/signup.yaml", "3")
    markdown = render_smoke(run, SmokeFormat.MD)
    assert "## Smoke: FAILED" in markdown and "| signup | **FAILED** | blocker | signup | 1500 ms |" in markdown


def test_junit_writer_filters_every_forbidden_character_in_attributes_and_text(
    junit_schema: xmlschema.XMLSchema,
) -> None:
    dirty = f"a{FORBIDDEN}b\ud800"
    report = TestReport(
        name=dirty,
        suites=(
            TestSuite(
                name=dirty,
                properties=((dirty, dirty),),
                timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                cases=(
                    TestCase(dirty, dirty, outcome=Outcome.FAILED, message=dirty, type=dirty, detail=dirty),
                    TestCase(dirty, dirty, outcome=Outcome.ERROR, message=dirty, detail=dirty, file=dirty, line=3),
                    TestCase(dirty, dirty, outcome=Outcome.SKIPPED, message=dirty),
                    TestCase(dirty, dirty, output=dirty),
                ),
            ),
        ),
    )
    text = write_junit(report)
    text.encode("utf-8")  # no lone surrogate left either
    junit_schema.validate(text)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.get("name") == "a" + "\ufffd" * len(FORBIDDEN) + "b\ufffd"
    suite = root.find("testsuite")
    assert suite is not None
    assert [suite.get(k) for k in ("tests", "failures", "errors", "skipped")] == ["4", "1", "1", "1"]
    assert suite.get("timestamp") == "2026-01-02T03:04:05"


# -- SARIF: one writer for the audit and the secret scanner ----------------------------------


def test_sarif_writer_output_validates_and_encodes_file_paths() -> None:
    log = SarifLog(
        tool="launchready-test",
        version="0.1.0",
        rules=(SarifRule(id="a.rule_x", title="A rule", help="Do this.", severity=Severity.HIGH),),
        results=(
            SarifResult(
                rule_id="a.rule_x",
                severity=Severity.MEDIUM,
                message="found",
                location=SarifLocation(path="dir with space/f.py", line=0),
                fingerprints={"k/v1": "abc"},
                properties={"extra": 1},
            ),
        ),
    )
    doc = json.loads(write_sarif(log))
    jsonschema.validate(doc, json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")))
    [rule] = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"] == {"level": "error"} and rule["properties"]["security-severity"] == "8.0"
    [result] = doc["runs"][0]["results"]
    assert result["level"] == "warning" and result["properties"] == {"security-severity": "5.5", "extra": 1}
    physical = result["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "dir%20with%20space/f.py"}, "region": {"startLine": 1}}


def test_sarif_writer_refuses_results_of_undeclared_rules() -> None:
    log = SarifLog(
        tool="t",
        version="1",
        rules=(),
        results=(SarifResult("nope", Severity.LOW, "m", SarifLocation("f.py")),),
    )
    with pytest.raises(ValueError, match="nope"):
        write_sarif(log)


# -- HTML: one stylesheet for every page ------------------------------------------------------


def _load_result() -> tuple[LoadResult, list[PlannedEndpoint]]:
    planned = [
        PlannedEndpoint("feed", "https://example.test/feed", "GET", 1, p95_ms=5.0, error_rate=0.01),
        PlannedEndpoint("search <b>", "https://example.test/search", "GET", 1, p95_ms=500.0, error_rate=0.01),
    ]
    overall = Histogram()
    per_second = [Histogram() for _ in range(3)]
    endpoints = {p.name: EndpointStats(p.name, p.url) for p in planned}
    for i, p in enumerate(planned):
        stats = endpoints[p.name]
        for n in range(30):
            value = 2_000 + 1_000 * n * (i + 1)
            stats.latency.record(value)
            overall.record(value)
            per_second[n % 3].record(value)
        stats.ok = 30
        stats.statuses = {"200": 30}
    endpoints["feed"].errors = 2
    result = LoadResult(
        settings=LoadSettings(rate=20.0, duration_s=3.0, warmup_s=0.5),
        endpoints=endpoints,
        overall=overall,
        per_second=per_second,
        errors_per_second=[0, 2, 0],
        elapsed_s=3.5,
        watch=SelfWatch(),
        scheduled=62,
    )
    return result, planned


def _style_blocks(page: str) -> list[str]:
    return re.findall(r"<style>\n?(.*?)</style>", page, flags=re.S)


def test_load_report_and_audit_report_share_the_one_stylesheet() -> None:
    result, planned = _load_result()
    load_page = render_load_html(result, planned, judge(result, planned))
    audit_page = render_audit_html(run_with_history())
    css = stylesheet()
    assert len(css) > 1000
    for page in (load_page, audit_page):
        assert _style_blocks(page) == [css]
        assert "<link" not in page and "<script" not in page
    # The same building blocks on both pages: the verdict banner, the page header, tables.
    for fragment in ('<header class="top">', '<section class="banner ', "<table>", "<footer>"):
        assert fragment in load_page and fragment in audit_page


def test_load_report_shows_verdict_table_and_charts_escaped() -> None:
    result, planned = _load_result()
    findings = judge(result, planned)
    page = render_load_html(result, planned, findings)
    assert 'class="banner pause"' in page and '<p class="verdict">FAIL</p>' in page
    assert page.count("<svg") == 2 and "Latency over time" in page and "Latency by percentile" in page
    assert "search &lt;b&gt;" in page and "search <b>" not in page
    assert "2 errors" in page  # the second with errors is marked on the timeline
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags.count("table") == 1 and "script" not in parsed.tags


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


# -- Documents: every writer escapes what a feature copies in ----------------------------------

HOSTILE = Document(
    title=f"t {XSS}",
    heading=f"Heading {XSS}",
    meta=("when | who",),
    banner=Banner(label="Check", headline="FAILED", text=f"because {XSS}", tone="bad", points=(XSS,)),
    sections=(
        Section(
            "Table",
            (
                Table(
                    (Column("Name"), Column("Count", numeric=True)),
                    ((Span(f"x|y`z{XSS}", code=True), "3"), ((Span("bold *", strong=True), f" {XSS}"), "4")),
                ),
                Paragraph(f"Careful: {XSS}", tone="warn"),
                CodeBlock(("```", XSS)),
                LineChart("Chart <i>", "x", "y", (0.0, 1.0), (Series("s <b>", ((0.0, 1.0), (1.0, 2.0))),)),
            ),
        ),
    ),
    tool_version="0.1.0",
)


def test_html_writer_escapes_every_text() -> None:
    page = write_html(HOSTILE)
    assert XSS not in page and "<i>" not in page and "s <b>" not in page
    assert _style_blocks(page) == [stylesheet()]
    assert '<td class="num">3</td>' in page and '<p class="callout tone-warn">' in page


def test_markdown_writer_escapes_and_keeps_one_style() -> None:
    text = write_markdown(HOSTILE)
    escaped = XSS.replace("<", "\\<").replace(">", "\\>")
    assert text.startswith(f"# Heading {escaped}\n")
    assert f"> because {escaped}" in text and f"- {escaped}" in text and f"**bold \\*** {escaped}" in text
    assert "## Check: FAILED" in text and "|---|---:|" in text
    # Code is shown as code: a pipe in a table's code span is escaped, a fence outgrows ``` inside.
    assert "| ``x\\|y`z<script>" in text and f"````text\n```\n{XSS}\n````" in text
    assert "_Chart \\<i\\>: a chart in the HTML report._" in text


def test_model_rejects_unknown_tones_and_ragged_tables() -> None:
    with pytest.raises(ValueError, match="tone"):
        Span("x", tone="purple")
    with pytest.raises(ValueError, match="cells"):
        Table((Column("a"),), (("1", "2"),))

"""Smoke run reporters: terminal (plain text, CI-friendly), JSON, JUnit XML and Markdown.

Results are masked before they get here; reporters only arrange them. JUnit and Markdown are
written by the output layer (report/): this module turns a run into its view model
(``smoke_test_report``, ``smoke_document``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from enum import Enum
from typing import Any

from launchready import __version__
from launchready.report.controls import json_visible, visible
from launchready.report.model import (
    Banner,
    CodeBlock,
    Column,
    Document,
    Outcome,
    Paragraph,
    Section,
    Span,
    Table,
    TestCase,
    TestReport,
    TestSuite,
)
from launchready.report.view import human_utc
from launchready.smoke.formats import SmokeFormat
from launchready.smoke.results import FlowResult, SmokeRun, StepResult

SMOKE_REPORT_VERSION = "1.0"


def render_smoke(run: SmokeRun, fmt: SmokeFormat) -> str:
    if fmt is SmokeFormat.JSON:
        return render_json(run)
    if fmt is SmokeFormat.JUNIT:
        return render_junit(run)
    if fmt is SmokeFormat.MD:
        return render_markdown(run)
    return render_text(run)


def _summary(run: SmokeRun) -> str:
    failed = len(run.failed)
    verdict = "PASSED" if run.passed else "FAILED"
    return (
        f"smoke {verdict}: {len(run.flows)} flow(s), {len(run.flows) - failed} passed, {failed} failed "
        f"on {run.environment} ({run.base_url}) in {run.duration_ms / 1000:.1f}s"
    )


def step_line(step: StepResult, *, prefix: str = "") -> str:
    if step.skipped:
        return f"{prefix}- {step.name}  (not run)"
    mark = "ok  " if step.passed else "FAIL"
    status = f" -> {step.status}" if step.status is not None else ""
    tries = f"  ({step.attempts} attempts)" if step.attempts > 1 else ""
    return f"{prefix}{mark} {step.name}  {step.request}{status}  {step.duration_ms:.0f} ms{tries}"


def _failure_lines(step: StepResult, indent: str) -> list[str]:
    lines = [f"{indent}expected: {step.failure}"]
    if step.request_detail:
        lines.append(f"{indent}request:  {step.request_detail[0]}")
        lines += [f"{indent}          {d}" for d in step.request_detail[1:]]
    if step.response_excerpt:
        lines.append(f"{indent}response: {step.response_excerpt}")
    return lines


def render_text(run: SmokeRun) -> str:
    lines = [_summary(run), ""]
    for flow in run.flows:
        mark = "PASS" if flow.passed else "FAIL"
        lines.append(
            f"{mark} {flow.name}  [{flow.severity.value}, {flow.impact.value}]  {flow.duration_ms:.0f} ms  ({flow.where})"
        )
        for step in flow.steps:
            lines.append(step_line(step, prefix="    "))
            if not step.passed and not step.skipped:
                lines += _failure_lines(step, " " * 9)
        if flow.error:
            lines.append(f"    error: {flow.error}")
        lines.append("")
    # Response excerpts and failure messages come from the server: control characters are shown.
    return visible("\n".join(lines).rstrip() + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def run_dict(run: SmokeRun) -> dict[str, Any]:
    return {
        "version": SMOKE_REPORT_VERSION,
        "environment": run.environment,
        "base_url": run.base_url,
        "started": run.started.isoformat(),
        "finished": run.finished.isoformat(),
        "passed": run.passed,
        "flows": [{**_plain(asdict(f)), "passed": f.passed} for f in run.flows],
    }


def render_json(run: SmokeRun) -> str:
    return json_visible(json.dumps(run_dict(run), indent=2, ensure_ascii=False)) + "\n"


def _failure_text(step: StepResult) -> str:
    return "\n".join(_failure_lines(step, ""))


def render_junit(run: SmokeRun) -> str:
    # The writers load on use: the CLI imports this module for SmokeFormat at start-up.
    from launchready.report.junit import write_junit

    return write_junit(smoke_test_report(run))


def smoke_test_report(run: SmokeRun) -> TestReport:
    """One suite per flow, one case per step; a flow that could not finish adds an error case."""
    return TestReport(
        name=f"launchready smoke {run.environment}",
        suites=tuple(_flow_suite(run, flow) for flow in run.flows),
        seconds=run.duration_ms / 1000,
    )


def _flow_suite(run: SmokeRun, flow: FlowResult) -> TestSuite:
    cases = [_step_case(flow, step) for step in flow.steps]
    if flow.error:
        path, line = _file_line(flow.where)
        cases.append(
            TestCase(
                name="flow could not finish",
                classname=f"smoke.{flow.name}",
                outcome=Outcome.ERROR,
                message=flow.error,
                type="smoke",
                detail=flow.error,
                file=path,
                line=line,
            )
        )
    return TestSuite(name=flow.name, cases=tuple(cases), seconds=flow.duration_ms / 1000, timestamp=run.started)


def _file_line(where: str) -> tuple[str, int | None]:
    """``flows.yaml:12`` -> ("flows.yaml", 12); a place without a line keeps its whole text."""
    path, _, line = where.rpartition(":")
    return (path, int(line)) if path and line.isdigit() else (where, None)


def _step_case(flow: FlowResult, step: StepResult) -> TestCase:
    path, line = _file_line(step.where)
    case = TestCase(
        name=step.name,
        classname=f"smoke.{flow.name}",
        seconds=step.duration_ms / 1000,
        file=path,
        line=line,
    )
    if step.skipped:
        return replace(case, outcome=Outcome.SKIPPED, message="an earlier step of the flow failed")
    if not step.passed:
        return replace(
            case, outcome=Outcome.FAILED, message=step.failure or "failed", type="smoke", detail=_failure_text(step)
        )
    return case


def smoke_document(run: SmokeRun) -> Document:
    flows = Table(
        (Column("Flow"), Column("Result"), Column("Severity"), Column("Impact"), Column("Time", numeric=True)),
        tuple(
            (
                flow.name,
                "passed" if flow.passed else Span("FAILED", strong=True, tone="bad"),
                flow.severity.value,
                flow.impact.value,
                f"{flow.duration_ms:.0f} ms",
            )
            for flow in run.flows
        ),
    )
    sections = [Section("Flows", (flows,))]
    for flow in run.failed:
        blocks: list[Paragraph | CodeBlock] = []
        step = flow.failed_step
        if step is not None:
            blocks.append(Paragraph(("Step ", Span(step.name, strong=True), " (", Span(step.where, code=True), ")")))
            blocks.append(CodeBlock(tuple(_failure_lines(step, ""))))
        if flow.error:
            blocks.append(Paragraph(f"Error: {flow.error}", tone="bad"))
        sections.append(Section(f"{flow.name} failed", tuple(blocks)))
    return Document(
        title=f"Smoke: {run.environment}",
        heading=f"Smoke: {run.environment}",
        meta=(f"Ran {human_utc(run.started)}", f"launchready {__version__}"),
        banner=Banner(
            label="Smoke",
            headline="PASSED" if run.passed else "FAILED",
            text=_summary(run),
            tone="good" if run.passed else "bad",
        ),
        sections=tuple(sections),
        tool_version=__version__,
    )


def render_markdown(run: SmokeRun) -> str:
    from launchready.report.markdown import write_markdown

    return write_markdown(smoke_document(run))


def flow_failure_evidence(flow: FlowResult) -> list[str]:
    """Evidence lines for a finding about a failed flow."""
    out = [f"flow {flow.name} ({flow.where})"]
    step = flow.failed_step
    if step is not None:
        out.append(f"failed at step '{step.name}' ({step.where}): {step.failure}")
        if step.request:
            out.append(f"request: {step.request}")
        if step.response_excerpt:
            out.append(f"response: {step.response_excerpt}")
    if flow.error:
        out.append(f"error: {flow.error}")
    return out

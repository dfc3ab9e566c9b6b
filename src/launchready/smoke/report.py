"""Smoke run reporters: terminal (plain text, CI-friendly), JSON, JUnit XML and Markdown.

Results are masked before they get here; reporters only arrange them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict
from enum import Enum
from typing import Any

from launchready.smoke.results import FlowResult, SmokeRun, StepResult

SMOKE_REPORT_VERSION = "1.0"


class SmokeFormat(str, Enum):
    TERMINAL = "terminal"
    JSON = "json"
    JUNIT = "junit"
    MD = "md"


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
    return "\n".join(lines).rstrip() + "\n"


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
    return json.dumps(run_dict(run), indent=2, ensure_ascii=False) + "\n"


def _failure_text(step: StepResult) -> str:
    return "\n".join(_failure_lines(step, ""))


def render_junit(run: SmokeRun) -> str:
    root = ET.Element(
        "testsuites",
        name=f"launchready smoke {run.environment}",
        tests=str(sum(len(f.steps) for f in run.flows)),
        failures=str(sum(1 for f in run.flows for s in f.steps if not s.passed and not s.skipped)),
        time=f"{run.duration_ms / 1000:.3f}",
    )
    for flow in run.flows:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=flow.name,
            tests=str(len(flow.steps)),
            failures=str(sum(1 for s in flow.steps if not s.passed and not s.skipped)),
            errors="1" if flow.error else "0",
            skipped=str(sum(1 for s in flow.steps if s.skipped)),
            time=f"{flow.duration_ms / 1000:.3f}",
            timestamp=run.started.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        for step in flow.steps:
            case = ET.SubElement(
                suite, "testcase", classname=f"smoke.{flow.name}", name=step.name, time=f"{step.duration_ms / 1000:.3f}"
            )
            case.set("file", step.where.rsplit(":", 1)[0])
            case.set("line", step.where.rsplit(":", 1)[-1])
            if step.skipped:
                ET.SubElement(case, "skipped", message="an earlier step of the flow failed")
            elif not step.passed:
                failure = ET.SubElement(case, "failure", message=step.failure or "failed", type="smoke")
                failure.text = _failure_text(step)
        if flow.error:
            error = ET.SubElement(suite, "error", message=flow.error, type="smoke")
            error.text = flow.error
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def render_markdown(run: SmokeRun) -> str:
    lines = [
        f"# Smoke: {_md(run.environment)}",
        "",
        f"**{_md(_summary(run))}**",
        "",
        "| Flow | Result | Severity | Impact | Time |",
        "|---|---|---|---|---|",
    ]
    for flow in run.flows:
        result = "passed" if flow.passed else "**FAILED**"
        lines.append(
            f"| {_md(flow.name)} | {result} | {flow.severity.value} | {flow.impact.value} | {flow.duration_ms:.0f} ms |"
        )
    for flow in run.failed:
        lines += ["", f"## {_md(flow.name)} failed", ""]
        step = flow.failed_step
        if step is not None:
            lines.append(f"Step **{_md(step.name)}** (`{step.where}`)")
            lines += ["", "```text", *_failure_lines(step, ""), "```"]
        if flow.error:
            lines.append(f"Error: {_md(flow.error)}")
    return "\n".join(lines) + "\n"


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

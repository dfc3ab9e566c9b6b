"""``--format`` values and the one function the CLI calls to turn a run into a file's text."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from launchready.core.run import AuditRun


class ReportFormat(str, Enum):
    JSON = "json"
    MD = "md"
    HTML = "html"
    SARIF = "sarif"
    JUNIT = "junit"

    @property
    def suffix(self) -> str:
        """File extension for ``--output`` defaults (e.g. the demo's HTML file)."""
        return {"json": ".json", "md": ".md", "html": ".html", "sarif": ".sarif", "junit": ".xml"}[self.value]


def render(run: AuditRun, fmt: ReportFormat) -> str:
    return _renderer(fmt)(run)


def _renderer(fmt: ReportFormat) -> Callable[[AuditRun], str]:
    # Imported on demand so `--format json` never pays for Jinja2 and friends.
    if fmt is ReportFormat.JSON:
        from launchready.report.json_report import render_json

        return render_json
    if fmt is ReportFormat.MD:
        from launchready.report.markdown import render_markdown

        return render_markdown
    if fmt is ReportFormat.HTML:
        from launchready.report.html import render_html

        return render_html
    if fmt is ReportFormat.SARIF:
        from launchready.report.sarif import render_sarif

        return render_sarif
    if fmt is ReportFormat.JUNIT:
        from launchready.report.junit import render_junit

        return render_junit
    raise ValueError(f"unknown report format {fmt!r}")

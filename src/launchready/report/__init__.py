"""Renderers: turn an ``AuditRun`` into terminal output or a json/md/html/sarif/junit document.

Renderers know nothing about individual checks: they show whatever findings and results the run
carries. ``render(run, ReportFormat.X)`` returns the document text; ``render_terminal`` (in
``launchready.report.terminal``) prints to a rich console.
"""

from launchready.report.formats import ReportFormat, render

__all__ = ["ReportFormat", "render"]

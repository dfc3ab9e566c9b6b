"""The output layer: every command's report, one writer per format (see report/model.py).

Renderers know nothing about individual checks: they show whatever findings and results the run
carries. ``render(run, ReportFormat.X)`` returns the audit's document text; ``render_terminal``
(in ``launchready.report.terminal``) prints it to a rich console. Features hand the writers a
neutral model instead (``write_sarif``, ``write_junit``, ``write_markdown``, ``write_html``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from launchready.report.formats import ReportFormat, render

__all__ = ["ReportFormat", "render"]


def __getattr__(name: str) -> Any:
    # Resolved on first use: importing a writer (e.g. for `secrets scan`) must not pay for the
    # audit's run model.
    if name in __all__:
        from launchready.report import formats

        return getattr(formats, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

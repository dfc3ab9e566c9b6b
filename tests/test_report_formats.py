"""The dispatcher, and the rule that renderers never know about individual checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_samples import run_with_history, sample_run

import launchready.report
from launchready.core.registry import load_registry
from launchready.report import ReportFormat, render


def test_formats() -> None:
    assert [f.value for f in ReportFormat] == ["json", "md", "html", "sarif", "junit"]
    assert ReportFormat("junit").suffix == ".xml"


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_format_renders_full_and_empty_runs(fmt: ReportFormat) -> None:
    for run in (run_with_history(), sample_run(findings=(), results=())):
        out = render(run, fmt)
        assert out.endswith("\n") and "example.com" in out


def test_renderers_name_no_check() -> None:
    package = Path(launchready.report.__file__).parent
    sources = [p for p in package.rglob("*") if p.suffix in (".py", ".j2")]
    assert sources
    check_ids = {c.id for c in load_registry().checks}
    categories = {cid.split(".")[0] for cid in check_ids}
    alternatives = "|".join(sorted(categories))
    pattern = re.compile(rf"""["'](?:{alternatives})\.[a-z]""")
    for path in sources:
        text = path.read_text("utf-8")
        assert not pattern.search(text), f"{path.name} mentions a check id"

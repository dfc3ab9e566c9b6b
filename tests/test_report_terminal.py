"""Terminal: decision, ranked ids, fixes for blockers/highs, not-verified, history line, at 80 columns."""

from __future__ import annotations

from report_samples import (
    ALL_FINDINGS,
    CAA,
    CERT_EXPIRED,
    DMARC,
    HSTS,
    run_with_history,
    sample_run,
)
from rich.console import Console

from launchready.core.run import Decision, Verdict
from launchready.report.terminal import render_terminal


def _render(run, *, verbose: bool = False, width: int = 80) -> str:
    console = Console(record=True, width=width, force_terminal=False, color_system=None)
    render_terminal(run, console, verbose=verbose)
    return console.export_text()


def test_decision_ids_and_fixes() -> None:
    out = _render(sample_run())
    assert "PAUSE" in out
    assert "2 blockers: TLS certificate expired" in out
    assert "PAUSE when any blocker is found." in out
    for f in ALL_FINDINGS:
        assert f.id.split(".")[0] in out  # ids may wrap in narrow tables; their first part stays whole
    assert "tls.certificate.expired" in out
    assert "Fix: Renew the certificate" in out
    assert "notAfter=2024-04-01T00:00:00Z" in out


def test_fits_80_columns() -> None:
    out = _render(run_with_history())
    assert max(len(line) for line in out.splitlines()) <= 80


def test_only_blocker_and_high_detailed_unless_verbose() -> None:
    out = _render(sample_run())
    assert DMARC.remediation.split()[0] in out
    assert HSTS.remediation not in out
    assert CAA.remediation not in out
    verbose = _render(sample_run(), verbose=True, width=200)
    assert HSTS.remediation in verbose and CAA.remediation in verbose
    assert "References:" in verbose


def test_not_verified_section() -> None:
    out = _render(sample_run())
    assert "Not verified: 1 check(s) could not run" in out
    assert "web.https-redirect on admin.example.com" in out


def test_history_markers_and_fixed_line() -> None:
    out = _render(run_with_history())
    assert "NEW" in out and "still open" in out
    assert "Since audit #3: 1 fixed, 2 new, 5 still open (fixed: Health route returns 500)" in out
    assert "Since audit" not in _render(sample_run())


def test_markup_in_data_is_printed_literally() -> None:
    out = _render(sample_run(), width=200)
    assert "[and] *stars*" in out
    assert CERT_EXPIRED.evidence[2] in out


def test_ship_with_no_findings() -> None:
    run = sample_run(findings=(), results=(), decision=Decision(verdict=Verdict.SHIP, reasons=(), rules=()))
    out = _render(run)
    assert "SHIP" in out and "No risks found." in out and "every check ran" in out

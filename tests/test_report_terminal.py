"""Terminal: decision, ranked ids, fixes for blockers/highs, not-verified, history line, at 80 columns."""

from __future__ import annotations

from report_samples import (
    ALL_FINDINGS,
    CAA,
    CERT_EXPIRED,
    DMARC,
    HSTS,
    PRIVATE_CACHE,
    SECRET,
    run_with_history,
    sample_run,
)
from rich.console import Console

from launchready.core.run import Decision, Verdict
from launchready.core.severity import Impact
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


def test_only_the_first_three_actions_detailed_unless_verbose() -> None:
    out = _render(sample_run(), width=200)
    assert "Do these 3 first" in out
    for first in (CERT_EXPIRED, PRIVATE_CACHE, SECRET):
        assert first.remediation in out
    assert DMARC.remediation not in out  # the fourth: one line in the list, its card under -v
    assert HSTS.remediation not in out
    assert CAA.remediation not in out
    verbose = _render(sample_run(), verbose=True, width=200)
    assert HSTS.remediation in verbose and CAA.remediation in verbose and DMARC.remediation in verbose
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


def test_one_line_per_finding_id_with_its_targets() -> None:
    hosts = ("example.com", "www.example.com", "app.example.com", "api.example.com")
    same = tuple(HSTS.model_copy(update={"target": h}) for h in hosts)
    out = _render(sample_run(findings=(CERT_EXPIRED, *same)), width=120)
    assert "All risks: 5 finding(s) under 2 id(s)" in out
    assert out.count("web.hsts.missing") == 2  # its action card and its one row, not one per host
    assert "on example.com, www.example.com, app.example.com +1 more" in out  # the card
    assert "example.com +3 more" in out  # the row


def test_a_committed_credential_file_and_its_secret_are_one_action() -> None:
    env_file = SECRET.model_copy(
        update={
            "id": "repo.env-files.tracked",
            "check_id": "repo.env-files",
            "target": ".env",
            "title": ".env is committed",
            "impact": Impact.DATA_EXPOSURE,
            "remediation": "Remove .env from the repository.",
        }
    )
    secret = SECRET.model_copy(update={"target": ".env:3", "impact": Impact.DATA_EXPOSURE})
    out = _render(sample_run(findings=(secret, env_file)), width=200)
    assert "Do this first" in out
    assert "Rotate these credentials, then remove the file from the repository (.env)." in out
    assert "Live payment key committed + .env is committed" in out


def test_a_long_fix_is_cut_at_a_sentence_and_never_inside_a_command() -> None:
    from launchready.report.view import short_fix

    fix = (
        "Renew now. Certbot: `sudo certbot renew --cert-name admin.example.com` then `sudo systemctl reload nginx` "
        "(and check the timer: `systemctl list-timers | grep certbot`). Caddy renews by itself: read its log."
    )
    short = short_fix(fix)
    assert short.startswith("Renew now. Certbot: `sudo certbot renew --cert-name admin.example.com`")
    assert short.endswith(" …") and short.count("`") % 2 == 0 and len(short) <= 162
    assert short_fix("Short fix.") == "Short fix."

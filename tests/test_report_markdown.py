"""Markdown: the sections in order, the table intact, hostile text kept inert."""

from __future__ import annotations

from report_samples import (
    ALL_FINDINGS,
    CERT_EXPIRED,
    HSTS,
    OLD_HEALTH,
    XSS,
    run_with_history,
    sample_run,
)

from launchready.report import ReportFormat, render
from launchready.report.markdown import md_code, md_rich, md_text, render_markdown


def test_sections_in_order() -> None:
    md = render_markdown(run_with_history())
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Decision: PAUSE"
    assert headings[1:] == [
        "## Do these 3 first",
        "## Ranked risks",
        "## What to fix",
        "## Not verified",
        "## Fixed since last audit (run #3, 2024-04-29 14:03 UTC)",
    ]


def test_ranked_table_rows() -> None:
    md = render_markdown(run_with_history())
    rows = [line for line in md.splitlines() if line.startswith("| ") and "**" in line]
    assert len(rows) == len(ALL_FINDINGS)
    # Every row has the same number of unescaped cell separators as the header.
    header = next(line for line in md.splitlines() if line.startswith("| # |"))
    for row in rows:
        assert row.replace("\\|", "").count("|") == header.count("|")
    assert rows[0].startswith("| 1 | **BLOCKER** | TLS certificate expired")
    assert rows[0].endswith("| NEW |")


def test_each_finding_has_fix_and_evidence() -> None:
    md = render_markdown(sample_run())
    for f in ALL_FINDINGS:
        assert f"`{f.id}`" in md
    assert "**Fix:** Renew the certificate" in md
    assert "**Fix:** Send `Cache-Control: private, no-store` on every" in md
    assert "```text\nnotAfter=2024-04-01T00:00:00Z" in md
    assert XSS in md  # inside a fenced block, so rendered as text


def test_not_verified_and_fixed() -> None:
    md = render_markdown(run_with_history())
    assert "| `web.https-redirect` | `admin.example.com` | connection refused by 127.0.0.1:443 |" in md
    assert f"~~{OLD_HEALTH.title}~~" in md
    assert "Fixed since" not in render_markdown(sample_run())


def test_escaping() -> None:
    assert md_text(HSTS.title) == r"HSTS header missing \| pipes \[and\] \*stars\*"
    assert md_text("<b>x</b>") == r"\<b\>x\</b\>"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_rich("Send `a|b` to <x>") == r"Send `a|b` to \<x\>"
    assert md_rich("one ` tick") == r"one \` tick"


def test_no_findings() -> None:
    md = render_markdown(sample_run(findings=(), results=()))
    assert "No risks found." in md and "Every check ran." in md


def test_dispatcher() -> None:
    run = sample_run()
    assert render(run, ReportFormat.MD) == render_markdown(run)


def test_three_first_and_one_row_per_finding_id() -> None:
    hosts = ("example.com", "www.example.com", "app.example.com", "api.example.com", "a.example.com", "b.example.com")
    same = tuple(HSTS.model_copy(update={"target": h}) for h in hosts)
    md = render_markdown(sample_run(findings=(CERT_EXPIRED, *same)))
    assert "1. **BLOCKER** TLS certificate expired on app.example.com (`tls.certificate.expired`)" in md
    assert "   **Fix:** Renew the certificate" in md
    [row] = [line for line in md.splitlines() if line.startswith("| 2 |")]
    assert "`example.com`, `www.example.com`, `app.example.com`, `api.example.com`, `a.example.com` +1 more" in row
    assert not any(line.startswith("| 3 |") for line in md.splitlines())

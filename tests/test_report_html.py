"""HTML: one self-contained, script-free file with the verdict, every fix, and escaped evidence."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from report_samples import (
    ALL_FINDINGS,
    OLD_HEALTH,
    XSS,
    finding,
    run_with_history,
    sample_run,
)

from launchready.core.run import Decision, Verdict
from launchready.core.severity import Severity
from launchready.report import ReportFormat, render
from launchready.report.html import render_html


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") and value is not None:
                self.urls.append((tag, name, value))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def test_self_contained_no_scripts_no_external_resources() -> None:
    html = render_html(run_with_history())
    parsed = _parse(html)
    assert "script" not in parsed.tags
    assert not {"link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    references = {ref for f in ALL_FINDINGS for ref in f.references}
    for tag, attr, value in parsed.urls:
        assert (tag, attr) == ("a", "href"), (tag, attr, value)
        assert value in references
        assert value.startswith("https://")
    assert "@import" not in html and "url(" not in html


def test_decision_banner_and_reasons() -> None:
    html = render_html(sample_run())
    assert 'class="banner pause"' in html
    assert ">PAUSE<" in html
    assert "2 blockers: TLS certificate expired" in html


@pytest.mark.parametrize(
    ("verdict", "css"), [(Verdict.SHIP, "ship"), (Verdict.SHIP_WITH_FIXES, "fixes"), (Verdict.PAUSE, "pause")]
)
def test_banner_colour_follows_verdict(verdict: Verdict, css: str) -> None:
    run = sample_run(decision=Decision(verdict=verdict, reasons=("r",), rules=("rule",)))
    assert f'class="banner {css}"' in render_html(run)


def test_every_finding_shows_title_and_fix_in_rank_order() -> None:
    text = "".join(_parse(render_html(sample_run())).text)
    positions = []
    for f in ALL_FINDINGS:
        assert f.title in text
        assert f.remediation.replace("`", "") in text
        positions.append(text.index(f.title))
    assert positions == sorted(positions)


def test_evidence_is_escaped_and_folded() -> None:
    html = render_html(sample_run())
    assert XSS not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "<details>" in html and "<summary>" in html
    # Hostile evidence still reads correctly once the browser decodes it.
    assert XSS in "".join(_parse(html).text)


def test_fix_code_spans_become_code_elements_safely() -> None:
    hostile = finding(
        "web.hsts.missing",
        Severity.HIGH,
        "www.example.com",
        remediation="Send `Strict-Transport-Security: max-age=31536000` and never `<script>x</script>` <b>",
    )
    html = render_html(sample_run(findings=(hostile,)))
    assert "<code>Strict-Transport-Security: max-age=31536000</code>" in html
    assert "<code>&lt;script&gt;x&lt;/script&gt;</code> &lt;b&gt;" in html
    assert "<script>" not in html


def test_non_web_reference_is_not_a_link() -> None:
    html = render_html(sample_run())
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html  # shown as text


def test_not_verified_section() -> None:
    html = render_html(sample_run())
    assert "Not verified" in html
    assert "web.https-redirect" in html and "connection refused by 127.0.0.1:443" in html


def test_history_badges_and_fixed_section() -> None:
    html = render_html(run_with_history())
    assert 'class="badge new">New<' in html
    assert 'class="badge open">Still open<' in html
    assert "Fixed since the previous audit" in html and OLD_HEALTH.title in html
    plain = render_html(sample_run())
    assert "badge new" not in plain and "Fixed since the previous audit" not in plain


def test_counts_and_hosts() -> None:
    html = render_html(sample_run())
    assert '<li class="sev-blocker"><span class="n">2</span>Blocker</li>' in html
    assert "www.example.com" in html and "127.0.0.1, ::1" in html
    assert "@media print" in html


def test_empty_run() -> None:
    run = sample_run(findings=(), results=(), decision=Decision(verdict=Verdict.SHIP, reasons=(), rules=()))
    html = render_html(run)
    assert "No risks found." in html and 'class="banner ship"' in html


def test_dispatcher() -> None:
    run = sample_run()
    assert render(run, ReportFormat.HTML) == render_html(run)

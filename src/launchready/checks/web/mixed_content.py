"""web.mixed-content: HTTPS pages load nothing, and submit nothing, over plain http://."""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.checks.web.crawled import bounds_note, crawl_host, listed, require_answers
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.crawl import CrawlResult
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_MDN_MIXED = "https://developer.mozilla.org/en-US/docs/Web/Security/Mixed_content"
_W3C_MIXED = "https://www.w3.org/TR/mixed-content/"
_CSP_UPGRADE = (
    "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy/upgrade-insecure-requests"
)

# Browsers block these outright on an https page ("blockable" content): the page breaks.
ACTIVE_KINDS = frozenset({"script", "style", "iframe", "font", "form"})
# These load with a "Not secure" warning (or are auto-upgraded by recent browsers): trust erodes.
PASSIVE_KINDS = frozenset({"img", "media", "icon"})

META = CheckMeta(
    id="web.mixed-content",
    title="HTTPS pages load no scripts, styles, frames, forms or images over http://",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Reads every HTML page the bounded same-site crawl reached over https (see web.links) and lists "
            "the http:// URLs it references as scripts, stylesheets, fonts, iframes, form actions, images, "
            "audio or video, on any host."
        ),
        why=(
            "Browsers block http:// scripts, styles and frames on https pages, so the page renders broken or "
            "its buttons stop working; a form that posts to http:// sends passwords in clear text; http:// "
            "images turn the padlock into a 'Not secure' warning that makes sign-up forms look like a scam."
        ),
        fix=(
            "Reference every resource with https:// (or a relative URL), fix the template or CMS field that "
            "hard-codes http://, and add `Content-Security-Policy: upgrade-insecure-requests` as a safety net."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.mixed-content.active",
            title="HTTPS pages load scripts, styles, frames or forms over http://",
            severity=Severity.HIGH,
            impact=Impact.SIGNUP,
            remediation=(
                "Change each listed URL to https:// (or make it relative) in the template that emits it; add "
                "`Content-Security-Policy: upgrade-insecure-requests` meanwhile."
            ),
            references=(_MDN_MIXED, _W3C_MIXED),
        ),
        FindingSpec(
            id="web.mixed-content.passive",
            title="HTTPS pages load images or media over http://",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=(
                "Change each listed image/media URL to https:// (or relative); add "
                "`Content-Security-Policy: upgrade-insecure-requests` meanwhile."
            ),
            references=(_MDN_MIXED, _CSP_UPGRADE),
        ),
    ),
    references=(_MDN_MIXED, _W3C_MIXED),
    probes=("http", "crawl"),
)


def judge(host: str, result: CrawlResult) -> list[Finding]:
    active: list[str] = []
    passive: list[str] = []
    for link in result.links:
        if not link.page.startswith("https://") or not link.url.startswith("http://"):
            continue
        line = f"{link.page}: <{link.tag}> {link.url}"
        if link.kind in ACTIVE_KINDS:
            active.append(line)
        elif link.kind in PASSIVE_KINDS:
            passive.append(line)
    note = bounds_note(result)
    findings: list[Finding] = []
    if active:
        findings.append(META.finding("active", target=host, evidence=[*listed(sorted(set(active))), note]))
    if passive:
        findings.append(META.finding("passive", target=host, evidence=[*listed(sorted(set(passive))), note]))
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    result = await crawl_host(ctx, target)
    require_answers(result.visits, target)
    return judge(target, result)


CHECK = Check(meta=META, run=run)

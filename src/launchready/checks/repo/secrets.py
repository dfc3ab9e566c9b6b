"""repo.secrets: no live credential in the working tree or anywhere in the git history."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Impact, Severity
from launchready.secrets.errors import SecretsError
from launchready.secrets.model import Hit, ScanResult
from launchready.secrets.rules import Kind
from launchready.secrets.scan import Mode, scan_repository

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_OWASP = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"
_GITHUB_PURGE = "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/removing-sensitive-data-from-a-repository"

_ROTATE = (
    "Rotate the credential at its provider first (the finding says how), deploy the new one from the "
    "environment, then purge the old value from git history (git filter-repo --replace-text) and force-push."
)

META = CheckMeta(
    id="repo.secrets",
    title="No credentials in the repository or its history",
    scope=Scope.REPO,
    doc=CheckDoc(
        what=(
            "Scans the repository's working tree (the files git tracks or would add, binaries and huge files "
            "skipped with a note) and every commit of every ref for credentials: cloud keys (AWS, Google, Azure), "
            "code-host and package tokens, payment, email and AI provider keys, private keys, database URLs with "
            "passwords, and high-entropy values assigned to secret-looking names."
        ),
        why=(
            "A key in the code is a key in every clone, fork, CI log and laptop that ever saw the repository; "
            "bots harvest public pushes within minutes. A live Stripe or cloud key means stolen money or data, "
            "a leaked email-provider key gets your domain blocked for spam the week you launch. Deleting the line "
            "does not help: the value stays in git history."
        ),
        fix=(
            "Rotate the credential at its provider first (each finding names the exact steps), move it into the "
            "hosting platform's environment variables, then purge it from history with `git filter-repo "
            "--replace-text` and force-push. Accept deliberate test values with a `launchready:allow` comment, "
            "a `.launchready-allowlist` entry or `launchready secrets scan --update-baseline`."
        ),
    ),
    findings=(
        FindingSpec(
            id="repo.secrets.exposed",
            title="A live credential is committed in the repository",
            severity=Severity.BLOCKER,
            impact=Impact.DATA_EXPOSURE,
            remediation=_ROTATE,
            references=(_OWASP, _GITHUB_PURGE),
        ),
        FindingSpec(
            id="repo.secrets.in-history",
            title="A credential removed from the code is still in git history",
            severity=Severity.BLOCKER,
            impact=Impact.DATA_EXPOSURE,
            remediation=_ROTATE,
            references=(_GITHUB_PURGE, _OWASP),
        ),
        FindingSpec(
            id="repo.secrets.possible",
            title="A value that looks like a secret is committed",
            severity=Severity.MEDIUM,
            impact=Impact.DATA_EXPOSURE,
            confidence=Confidence.TENTATIVE,
            remediation="If it is a credential, rotate it and read it from the environment; if not, mark the line with `launchready:allow`.",
            references=(_OWASP,),
        ),
        FindingSpec(
            id="repo.secrets.low-risk",
            title="A test-mode or local-only credential is committed",
            severity=Severity.LOW,
            impact=Impact.DATA_EXPOSURE,
            remediation="Read it from the environment too, so the habit holds when the live key arrives; or allow it with `launchready:allow`.",
            references=(_OWASP,),
        ),
        FindingSpec(
            id="repo.secrets.not-scanned",
            title="Some files or history could not be scanned for secrets",
            severity=Severity.INFO,
            impact=Impact.DATA_EXPOSURE,
            remediation="Check the listed files by hand, or raise [secrets] max_file_mb; fetch full history with `git fetch --unshallow`.",
            references=(_OWASP,),
        ),
    ),
    references=(_OWASP, _GITHUB_PURGE),
    probes=("git",),
    needs_existing_domain=False,
)


def _evidence(hit: Hit) -> list[str]:
    out = [f"{hit.description}: {hit.masked} (rule {hit.rule_id})"]
    if hit.commit is not None:
        out.append(f"added in commit {hit.commit.short} by {hit.commit.author} on {hit.commit.date}")
    if hit.first_commit is not None and (hit.commit is None or hit.first_commit.sha != hit.commit.sha):
        out.append(f"first introduced in commit {hit.first_commit.short} ({hit.first_path}) on {hit.first_commit.date}")
    if hit.in_head is False:
        out.append("no longer in HEAD: only in git history")
    return out


def _finding(hit: Hit, finding_id: str, severity: Severity) -> Finding:
    finding = META.finding(
        finding_id,
        target=hit.location,
        evidence=_evidence(hit),
        severity=severity,
        remediation=f"{hit.rotate}",
    )
    return finding.model_copy(update={"impact": hit.impact})


def _judge_hit(hit: Hit, *, history_only: bool) -> Finding:
    # One severity rule with `secrets scan`: the scanner's (the rule's, judged in context); a live key
    # left in history is as usable as one in HEAD until it is rotated.
    if hit.severity is Severity.LOW or hit.kind is Kind.TEST:
        return _finding(hit, "low-risk", Severity.LOW)
    if hit.kind is Kind.GENERIC and hit.severity.rank <= Severity.MEDIUM.rank:
        return _finding(hit, "possible", hit.severity)
    if history_only:
        return _finding(hit, "in-history", hit.severity)
    return _finding(hit, "exposed", hit.severity)


def judge(tree: ScanResult, history: ScanResult | None) -> list[Finding]:
    """Tree hits are exposures as they stand; history hits gone from HEAD are 'in history'. Baselined: accepted."""
    findings: list[Finding] = []
    tree_prints = {h.fingerprint for h in tree.hits}
    # Only a commit of this very file is where a tree hit came from (an untracked file was never committed).
    first_seen = {(h.fingerprint, h.path): h for h in history.hits} if history else {}
    for hit in tree.new_hits:
        past = first_seen.get((hit.fingerprint, hit.path))
        if past is not None:
            hit = hit.with_(commit=past.commit, first_commit=past.first_commit, first_path=past.first_path)
        findings.append(_judge_hit(hit, history_only=False))
    if history is not None:
        for hit in history.new_hits:
            if hit.fingerprint in tree_prints:
                continue
            findings.append(_judge_hit(hit, history_only=not hit.in_head))
    notes = [*tree.notes, *(history.notes if history else [])]
    if notes:
        evidence = [f"{n.path}: {n.reason}" for n in notes[:20]]
        if len(notes) > 20:
            evidence.append(f"... and {len(notes) - 20} more")
        findings.append(META.finding("not-scanned", target=tree.root or ".", evidence=evidence))
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    root, settings = Path(target), ctx.config.secrets
    try:
        tree = await asyncio.to_thread(scan_repository, root, Mode.TREE, settings)
        history: ScanResult | None = None
        if settings.history:
            files = await ctx.git.files(root)
            if files.error is not None and not files.not_a_repository:
                raise CouldNotRun(files.error)
            if files.has_commits:
                history = await asyncio.to_thread(scan_repository, root, Mode.HISTORY, settings)
    except SecretsError as exc:
        raise CouldNotRun(str(exc)) from None
    return judge(tree, history)


CHECK = Check(meta=META, run=run)

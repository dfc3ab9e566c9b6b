"""repo.env-files: no .env or other credential file tracked by git, and .gitignore keeps them out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import NotApplicable
from launchready.core.finding import Finding
from launchready.core.repo import RepoFiles
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_GITIGNORE = "https://git-scm.com/docs/gitignore"
_OWASP = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"

# Files that hold credentials by their nature (whatever is inside them today).
_CREDENTIAL_FILE = re.compile(
    r"(?:^|/)(?:\.env(?:\.(?!example$|sample$|template$|dist$|defaults$|schema$)[^/]+)?|\.envrc|"
    r"id_(?:rsa|dsa|ecdsa|ed25519)|[^/]*\.(?:key|p12|pfx|jks|keystore|kdbx)|\.pypirc|\.htpasswd|\.netrc|"
    r"credentials\.json|service[-_]?account[^/]*\.json|terraform\.tfstate(?:\.backup)?)$"
)
_ENV_LIKE = re.compile(r"(?:^|/)\.env(?:\.[^/]+)?$")

META = CheckMeta(
    id="repo.env-files",
    title="Credential files stay out of git",
    scope=Scope.REPO,
    doc=CheckDoc(
        what=(
            "Lists the files git tracks and flags .env files (other than .env.example and friends), private "
            "keys, keystores, cloud credential JSON, .pypirc, .netrc and Terraform state; and, when the project "
            "uses .env files, asks git whether .gitignore keeps a new .env out of commits."
        ),
        why=(
            "A committed .env is every production secret at once, in every clone and in history forever. The "
            "usual cause is a .gitignore that does not list it, so the next `git add .` commits it again: both "
            "the file and the missing ignore rule have to be fixed before launch."
        ),
        fix=(
            "Rotate every value in the file, then `git rm --cached FILE`, add the file to .gitignore (`.env`, "
            "`.env.*`, `!.env.example`), commit, and purge it from history with `git filter-repo --path FILE "
            "--invert-paths`. Keep only a value-free `.env.example` in the repository."
        ),
    ),
    findings=(
        FindingSpec(
            id="repo.env-files.tracked",
            title="A credential file is committed to git",
            severity=Severity.HIGH,
            impact=Impact.DATA_EXPOSURE,
            remediation="Rotate its values, `git rm --cached <file>`, list it in .gitignore, and purge it with `git filter-repo --path <file> --invert-paths`.",
            references=(_OWASP, _GITIGNORE),
        ),
        FindingSpec(
            id="repo.env-files.not-ignored",
            title=".gitignore does not keep .env files out of commits",
            severity=Severity.MEDIUM,
            impact=Impact.DATA_EXPOSURE,
            remediation="Add these lines to .gitignore: `.env`, `.env.*`, `!.env.example`.",
            references=(_GITIGNORE,),
        ),
    ),
    references=(_OWASP, _GITIGNORE),
    probes=("git",),
    needs_existing_domain=False,
)


def judge(files: RepoFiles) -> list[Finding]:
    findings = [
        META.finding("tracked", target=f"{path}:1", evidence=[f"{path} is tracked by git"])
        for path in files.tracked
        if _CREDENTIAL_FILE.search(path)
    ]
    uses_env = any(_ENV_LIKE.search(p) for p in files.present)
    if uses_env and not files.env_ignored:
        findings.append(
            META.finding(
                "not-ignored",
                target=".gitignore:1",
                evidence=["`git check-ignore .env` says a new .env file would be committed"],
            )
        )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    files = await ctx.git.files(Path(target))
    if files.error is not None:
        raise NotApplicable(files.error)
    return judge(files)


CHECK = Check(meta=META, run=run)

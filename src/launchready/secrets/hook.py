"""A plain git pre-commit hook: refuse a commit whose staged changes add a secret."""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path

from launchready.secrets.errors import SecretsError
from launchready.secrets.git import git, repo_info

MARKER = "# launchready secrets hook"


def hook_script(python: str) -> str:
    # The interpreter launchready was installed with, so the hook works outside an activated venv.
    return (
        "#!/bin/sh\n"
        f"{MARKER}: refuse commits that add a secret (bypass once: git commit --no-verify)\n"
        f"exec {shlex.quote(python)} -m launchready secrets scan --staged\n"
    )


def install_hook(path: Path, *, force: bool = False, python: str | None = None) -> Path:
    info = repo_info(path)
    hooks_dir = Path(git(info.root, ["rev-parse", "--git-path", "hooks"]).strip())
    if not hooks_dir.is_absolute():
        hooks_dir = info.root / hooks_dir
    hooks_dir.mkdir(parents=True, exist_ok=True)
    hook = hooks_dir / "pre-commit"
    if hook.exists() and MARKER not in hook.read_text(encoding="utf-8", errors="replace") and not force:
        raise SecretsError(
            f"{hook}: a pre-commit hook already exists; add `launchready secrets scan --staged` to it, or use --force"
        )
    hook.write_text(hook_script(python or sys.executable), encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook

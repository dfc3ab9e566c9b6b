"""The few git questions the scanners ask, each answered by one git command (no git library)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from launchready.probes.git import GitFailed, git_env, run_git
from launchready.secrets.errors import SecretsError


class NotARepository(SecretsError):
    """The path is not inside a git working tree."""


def git(root: Path, args: Sequence[str], *, check: bool = True, timeout: float = 120) -> str:
    """One git command (the git probe's runner); its failure is a SecretsError for the scanners' callers."""
    try:
        return run_git(root, args, check=check, timeout=timeout)
    except GitFailed as exc:
        raise SecretsError(str(exc)) from None


@dataclass(frozen=True)
class RepoInfo:
    root: Path
    has_commits: bool
    shallow: bool


def repo_root(path: Path) -> Path:
    """The top of the repository containing ``path``: one git call (the pre-commit scan needs no more)."""
    if not path.exists():
        raise SecretsError(f"{path}: no such file or directory")
    directory = path if path.is_dir() else path.parent
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
            capture_output=True,
            env=git_env(),
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        raise SecretsError("git is not installed (needed for repository scans)") from None
    top = done.stdout.decode().strip()
    if done.returncode != 0 or not top:
        raise NotARepository(f"{path}: not a git repository (no .git found here or above)")
    return Path(top)


def repo_info(path: Path) -> RepoInfo:
    """Where the repository containing ``path`` is rooted, and what its history looks like."""
    root = repo_root(path)
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "HEAD"],
        capture_output=True,
        env=git_env(),
        timeout=30,
        check=False,
    )
    any_ref = head.returncode == 0 or bool(git(root, ["for-each-ref", "--count=1"], check=False).strip())
    shallow = git(root, ["rev-parse", "--is-shallow-repository"], check=False).strip() == "true"
    return RepoInfo(root=root, has_commits=any_ref, shallow=shallow)


def is_repository(path: Path) -> bool:
    try:
        repo_info(path)
    except SecretsError:
        return False
    return True

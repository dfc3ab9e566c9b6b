"""The few git questions the scanners ask, each answered by one git command (no git library)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from launchready.secrets.errors import SecretsError

# Never let a user's pager, colour or external diff tool change what we parse.
GIT_ENV_OVERRIDES = {"GIT_PAGER": "cat", "PAGER": "cat", "GIT_EXTERNAL_DIFF": "", "LC_ALL": "C"}


class NotARepository(SecretsError):
    """The path is not inside a git working tree."""


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_ENV_OVERRIDES)
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def git(root: Path, args: Sequence[str], *, check: bool = True, timeout: float = 120) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, env=git_env(), timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise SecretsError("git is not installed (needed for repository scans)") from None
    except subprocess.TimeoutExpired:
        raise SecretsError(f"git {' '.join(args[:2])} in {root} took longer than {timeout:g}s") from None
    if check and done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SecretsError(f"git {' '.join(args[:2])} in {root} failed: {message[-1] if message else done.returncode}")
    return done.stdout.decode("utf-8", "replace")


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

"""Git probe: what a repository's working tree holds, read with one git command per question.

The repo checks judge these facts; they never run git or open files themselves. Like every
probe it does not raise for what it observes: a path that is not a repository, or git missing
or failing, is a fact (``RepoFiles.error``). Commands run in a worker thread, so the event
loop keeps serving the other checks.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from launchready.core.repo import FileTexts, RepoFiles

# Never let a user's pager, colour or external diff tool change what we parse.
# Never let a user's pager, colour or external diff tool change what we parse.
GIT_ENV_OVERRIDES = {"GIT_PAGER": "cat", "PAGER": "cat", "GIT_EXTERNAL_DIFF": "", "LC_ALL": "C"}
# The name asked about: a new .env file would be committed unless .gitignore covers it.
_ENV_NAME = ".env"
_SNIFF_BYTES = 8192
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".tox"})


class GitFailed(Exception):
    pass


def git_env() -> dict[str, str]:
    """The environment every git command of the project runs with."""
    env = dict(os.environ)
    env.update(GIT_ENV_OVERRIDES)
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def run_git(root: Path, args: Sequence[str], *, check: bool = True, timeout: float = 120) -> str:
    """Run one git command in ``root`` and return its stdout; GitFailed with a one-line reason."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, env=git_env(), timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise GitFailed("git is not installed (needed for repository scans)") from None
    except subprocess.TimeoutExpired:
        raise GitFailed(f"git {' '.join(args[:2])} in {root} took longer than {timeout:g}s") from None
    if check and done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitFailed(f"git {' '.join(args[:2])} in {root} failed: {message[-1] if message else done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def _z_list(text: str) -> tuple[str, ...]:
    return tuple(n for n in text.split("\0") if n)


def repo_files(path: Path) -> RepoFiles:
    """The files of the working tree containing ``path`` (blocking; ``GitProbe.files`` runs it in a thread)."""
    if not path.exists():
        return RepoFiles(root=path, error=f"{path}: no such file or directory")
    directory = path if path.is_dir() else path.parent
    try:
        top = run_git(directory, ["rev-parse", "--show-toplevel"], check=False, timeout=30).strip()
        if not top:
            return RepoFiles(
                root=path, error=f"{path}: not a git repository (no .git found here or above)", not_a_repository=True
            )
        root = Path(top)
        has_commits = bool(run_git(root, ["rev-parse", "--verify", "--quiet", "HEAD"], check=False, timeout=30).strip())
        if not has_commits:
            has_commits = bool(run_git(root, ["for-each-ref", "--count=1"], check=False).strip())
        tracked = _z_list(run_git(root, ["ls-files", "-z"]))
        others = _z_list(run_git(root, ["ls-files", "-z", "--others", "--exclude-standard"]))
        # check-ignore prints the path when an ignore rule covers it (--no-index: even if it were tracked).
        ignored = run_git(root, ["check-ignore", "--no-index", _ENV_NAME], check=False).strip()
    except GitFailed as exc:
        return RepoFiles(root=path, error=str(exc))
    if (root / _ENV_NAME).exists():
        others += (_ENV_NAME,)  # an ignored .env on disk still says the project uses one
    return RepoFiles(
        root=root, tracked=tracked, present=tracked + others, env_ignored=bool(ignored), has_commits=has_commits
    )


def worktree_files(root: Path) -> tuple[str, ...]:
    """Paths git tracks or would add; every file (minus tool caches) when git does not know ``root``."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            env=git_env(),
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        proc = None
    if proc is not None and proc.returncode == 0:
        names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
        return tuple(dict.fromkeys(n for n in names if n))
    walked: list[str] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            walked.append(os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/"))
    return tuple(walked)


def _text(path: Path, max_bytes: int) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            return None
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            if b"\0" in head:
                return None  # binary
            data = head + fh.read()
    except OSError:
        return None
    return data.decode("utf-8", "replace")


def read_texts(root: Path, names: Sequence[str], max_bytes: int) -> FileTexts:
    texts = ((name, _text(root / name, max_bytes)) for name in names)
    return FileTexts(tuple((name, text) for name, text in texts if text is not None))


class GitProbe:
    """The run's view of repositories (``core.protocols.GitRepo``); each question asked once per root."""

    def __init__(self) -> None:
        self._files: dict[Path, RepoFiles] = {}

    async def files(self, root: Path) -> RepoFiles:
        if root not in self._files:
            self._files[root] = await asyncio.to_thread(repo_files, root)
        return self._files[root]

    async def worktree(self, root: Path) -> tuple[str, ...]:
        return await asyncio.to_thread(worktree_files, root)

    async def read_texts(self, root: Path, names: Sequence[str], max_bytes: int) -> FileTexts:
        return await asyncio.to_thread(read_texts, root, names, max_bytes)

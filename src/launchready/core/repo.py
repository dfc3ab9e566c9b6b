"""Repository facts: what git says about a working tree, as the git probe (probes/git.py) read them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RepoFiles:
    """The files of one working tree, or why git could not list them (``error`` set, lists empty)."""

    tracked: tuple[str, ...] = ()  # `git ls-files`, relative posix paths
    # Tracked plus untracked-but-not-ignored files (and a ".env" on disk even when ignored).
    present: tuple[str, ...] = ()
    env_ignored: bool = False  # `git check-ignore --no-index .env`: a new .env would be ignored
    root: Path | None = None  # the working tree's top level (the path asked, when git could not tell)
    has_commits: bool = False
    error: str | None = None
    not_a_repository: bool = False


@dataclass(frozen=True)
class FileTexts:
    """Text of the files asked for; binaries, unreadable files and files over the limit are left out."""

    texts: tuple[tuple[str, str], ...]  # (relative path, text)

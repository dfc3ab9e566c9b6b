"""The git probe: a repository's files as git sees them, read with real git in a temporary repository."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from launchready.probes.git import GitProbe


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _repo(root: Path) -> Path:
    _git(root, "init", "-q")
    _git(root, "config", "user.email", "t@example.com")
    _git(root, "config", "user.name", "t")
    (root / "app.py").write_text("print('hi')\n")
    (root / ".gitignore").write_text(".env\n")
    _git(root, "add", "app.py", ".gitignore")
    _git(root, "commit", "-q", "-m", "first")
    (root / "notes.md").write_text("untracked\n")
    (root / ".env").write_text("SECRET=1\n")
    return root


def test_files_of_a_repository(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    files = asyncio.run(GitProbe().files(root / "app.py"))
    assert files.error is None and files.root == root.resolve()
    assert set(files.tracked) == {"app.py", ".gitignore"}
    assert set(files.present) == {"app.py", ".gitignore", "notes.md", ".env"}
    assert files.env_ignored and files.has_commits


def test_a_repository_without_commits_or_ignore_rule(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a\n")
    files = asyncio.run(GitProbe().files(tmp_path))
    assert files.error is None and not files.has_commits and not files.env_ignored
    assert files.tracked == () and files.present == ("a.txt",)


def test_not_a_repository_and_missing_path_are_facts(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    files = asyncio.run(GitProbe().files(plain))
    assert files.not_a_repository and files.error is not None and "not a git repository" in files.error
    missing = asyncio.run(GitProbe().files(tmp_path / "nope"))
    assert not missing.not_a_repository and missing.error is not None and "no such file" in missing.error


def test_worktree_and_texts(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _repo(root)
    probe = GitProbe()
    assert set(asyncio.run(probe.worktree(root))) == {"app.py", ".gitignore", "notes.md"}  # .env is ignored
    plain = tmp_path / "plain"
    (plain / "node_modules").mkdir(parents=True)
    (plain / "node_modules" / "x.js").write_text("x")
    (plain / "Dockerfile").write_text("FROM scratch\n")
    assert asyncio.run(probe.worktree(plain)) == ("Dockerfile",)
    (root / "blob.bin").write_bytes(b"\0\1\2")
    (root / "big.txt").write_text("x" * 100)
    texts = asyncio.run(probe.read_texts(root, ["app.py", "blob.bin", "big.txt", "gone.txt"], 50))
    assert texts.texts == (("app.py", "print('hi')\n"),)

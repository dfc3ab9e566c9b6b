"""Where secrets are looked for: working tree, staged changes, full history, logs; and odd repositories."""

from __future__ import annotations

import io
import os
import resource
from pathlib import Path

import pytest
from secrets_corpus import AWS_ID, AWS_SECRET, GITHUB, SENDGRID, STRIPE_LIVE
from secrets_util import commit, git, init_repo

from launchready.config.sections.secrets import SecretsConfig
from launchready.secrets.baseline import read_baseline, write_baseline
from launchready.secrets.detector import Detector
from launchready.secrets.errors import SecretsError
from launchready.secrets.logs import scan_log_stream
from launchready.secrets.scan import Mode, scan_repository

SETTINGS = SecretsConfig()


def rules_at(hits: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(h.rule_id, h.location) for h in hits}


# -- working tree -------------------------------------------------------------------------------


def test_tree_respects_gitignore_and_scans_untracked(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {".gitignore": "ignored/\n", "app.py": f'KEY = "{STRIPE_LIVE}"\n'})
    (repo / "ignored").mkdir()
    (repo / "ignored" / "x.py").write_text(f'KEY = "{GITHUB}"\n')
    (repo / "new.py").write_text(f'KEY = "{GITHUB}"\n')  # untracked, not ignored: one `git add .` away
    result = scan_repository(repo, Mode.TREE, SETTINGS)
    assert rules_at(result.hits) == {("stripe-live-key", "app.py:1"), ("github-token", "new.py:1")}


def test_plain_directory_is_walked(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "settings.yaml").write_text(f"sendgrid: {SENDGRID}\n")
    result = scan_repository(tmp_path, Mode.TREE, SETTINGS)
    assert rules_at(result.hits) == {("sendgrid-api-key", "conf/settings.yaml:1")}


def test_binary_and_huge_files_are_skipped_with_a_note_not_read(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0" + STRIPE_LIVE.encode())
    huge = tmp_path / "dump.sql"
    with huge.open("wb") as fh:  # 200 MB, sparse: instant to create, and never read
        fh.truncate(200 * 1024 * 1024)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = scan_repository(tmp_path, Mode.TREE, SETTINGS)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    notes = {n.path: n.reason for n in result.notes}
    assert notes["logo.png"] == "skipped: binary file"
    assert notes["dump.sql"].startswith("skipped: 200 MiB is over the 8 MiB limit")
    assert result.hits == []
    assert grown_kib < 100 * 1024  # the 200 MB file never came into memory


def test_single_file_can_be_scanned(tmp_path: Path) -> None:
    path = tmp_path / "one.env"
    path.write_text(f"GITHUB_TOKEN={GITHUB}\n")
    assert rules_at(scan_repository(path, Mode.TREE, SETTINGS).hits) == {("github-token", "one.env:1")}


def test_repository_allowlist_file(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"tests/fixtures/keys.py": f'K = "{STRIPE_LIVE}"\n', "app.py": f'K = "{GITHUB}"\n'})
    (repo / ".launchready-allowlist").write_text("# fixtures\npath: tests/**\nvalue: " + GITHUB + "\n")
    assert scan_repository(repo, Mode.TREE, SETTINGS).hits == []
    (repo / ".launchready-allowlist").write_text("nonsense line\n")
    with pytest.raises(SecretsError, match=r"\.launchready-allowlist:1: expected 'path: GLOB'"):
        scan_repository(repo, Mode.TREE, SETTINGS)


# -- history ------------------------------------------------------------------------------------


def history_repo(root: Path) -> Path:
    """A history with the cases the issue names: deleted, renamed, merged, still present."""
    repo = init_repo(root)
    commit(repo, "start", {"README.md": "# app\n"})
    first = commit(repo, "add stripe", {"app/pay.py": f'KEY = "{STRIPE_LIVE}"\n'})
    commit(repo, "rename", {})
    git(repo, "mv", "app/pay.py", "app/payments.py")
    commit(repo, "rename pay.py", {})
    commit(repo, "delete it", {"app/payments.py": None})  # deleted: only history has it
    commit(repo, "aws", {"aws.cfg": f"aws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feature", {"f.py": "x = 1\n"})
    git(repo, "checkout", "-q", "main")
    commit(repo, "main side", {"f.py": "x = 2\n"})
    git(repo, "merge", "-q", "feature", "-m", "merge", check=False)
    (repo / "f.py").write_text(f'x = 3\nTOKEN = "{GITHUB}"\n')  # added while resolving the conflict
    git(repo, "add", "f.py")
    git(repo, "commit", "-q", "-m", "merge feature")
    (repo / "first.txt").write_text(first)
    return repo


def test_history_finds_deleted_renamed_and_merge_secrets(tmp_path: Path) -> None:
    repo = history_repo(tmp_path / "r")
    result = scan_repository(repo, Mode.HISTORY, SETTINGS)
    hits = {h.rule_id: h for h in result.hits}
    assert set(hits) == {"stripe-live-key", "aws-secret-access-key", "github-token"}
    stripe = hits["stripe-live-key"]
    assert stripe.in_head is False
    assert stripe.first_commit is not None and stripe.first_commit.sha == (repo / "first.txt").read_text()
    assert stripe.first_path == "app/pay.py" and stripe.location == "app/pay.py:1"  # a rename adds no line
    assert stripe.commit is not None and stripe.commit.author == "Dev <dev@example.test>"
    assert stripe.commit.date.startswith("20")
    merge = hits["github-token"]
    assert merge.in_head is True and merge.location == "f.py:2"
    assert hits["aws-secret-access-key"].in_head is True
    assert result.commits_scanned >= 9


def test_history_of_a_repository_without_commits(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "empty")
    result = scan_repository(repo, Mode.HISTORY, SETTINGS)
    assert result.hits == []
    assert [n.reason for n in result.notes] == ["the repository has no commits yet: no history to scan"]


def test_shallow_clone_is_scanned_with_a_note(tmp_path: Path) -> None:
    source = history_repo(tmp_path / "src")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{source}", str(clone))
    result = scan_repository(clone, Mode.HISTORY, SETTINGS)
    assert any("shallow clone" in n.reason for n in result.notes)
    assert result.commits_scanned == 1


def test_not_a_repository_is_one_clear_line(tmp_path: Path) -> None:
    for mode in (Mode.HISTORY, Mode.STAGED):
        with pytest.raises(SecretsError) as info:
            scan_repository(tmp_path, mode, SETTINGS)
        assert str(info.value) == f"{tmp_path}: not a git repository (no .git found here or above)"
    with pytest.raises(SecretsError, match="no such file or directory"):
        scan_repository(tmp_path / "nope", Mode.TREE, SETTINGS)


# -- staged -------------------------------------------------------------------------------------


def test_staged_sees_only_what_the_commit_adds(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "old", {"old.py": f'K = "{STRIPE_LIVE}"\n'})  # already committed: not this commit's doing
    (repo / "new.py").write_text(f'\n\nTOKEN = "{GITHUB}"\n')
    (repo / "unstaged.py").write_text(f'T = "{SENDGRID}"\n')
    git(repo, "add", "new.py")
    result = scan_repository(repo, Mode.STAGED, SETTINGS)
    assert rules_at(result.hits) == {("github-token", "new.py:3")}


def test_staged_before_the_first_commit(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    (repo / "a.py").write_text(f'K = "{STRIPE_LIVE}"\n')
    git(repo, "add", "a.py")
    assert rules_at(scan_repository(repo, Mode.STAGED, SETTINGS).hits) == {("stripe-live-key", "a.py:1")}


# -- logs ---------------------------------------------------------------------------------------


def test_logs_report_each_secret_once_at_its_first_line() -> None:
    lines = [f"INFO request {i} ok\n".encode() for i in range(5000)]
    lines[1234] = f"DEBUG calling stripe with {STRIPE_LIVE}\n".encode()
    lines[4000] = f"DEBUG retry with {STRIPE_LIVE}\n".encode()
    result = scan_log_stream(io.BytesIO(b"".join(lines)), "app.log", Detector())
    assert rules_at(result.hits) == {("stripe-live-key", "app.log:1235")}


# -- baseline -----------------------------------------------------------------------------------


def test_baseline_accepts_known_and_blocks_new(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"a.py": f'K = "{STRIPE_LIVE}"\n'})
    first = scan_repository(repo, Mode.TREE, SETTINGS)
    baseline = repo / ".launchready" / "secrets-baseline.json"
    assert write_baseline(baseline, first.hits) == 1
    text = baseline.read_text()
    assert STRIPE_LIVE not in text and "sk_l" in text
    assert read_baseline(baseline) == {first.hits[0].fingerprint}
    (repo / "b.py").write_text(f'T = "{GITHUB}"\n')
    second = scan_repository(repo, Mode.TREE, SETTINGS)
    assert {h.rule_id for h in second.new_hits} == {"github-token"}
    assert {h.rule_id for h in second.hits if h.baselined} == {"stripe-live-key"}
    baseline.write_text("{not json")
    with pytest.raises(SecretsError, match="secrets-baseline.json:1: the secrets baseline is not valid JSON"):
        scan_repository(repo, Mode.TREE, SETTINGS)


def test_git_environment_variables_do_not_redirect_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"a.py": f'K = "{STRIPE_LIVE}"\n'})
    other = init_repo(tmp_path / "other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert len(scan_repository(repo, Mode.HISTORY, SETTINGS).hits) == 1
    assert os.environ["GIT_DIR"]  # the process environment itself is left alone

"""Where a secret is reported, and which place a baseline accepts: every line it is on, never elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from cliutil import run_cli
from secrets_corpus import GITHUB, STRIPE_LIVE
from secrets_util import commit, git, init_repo

from launchready.config.sections.secrets import SecretsConfig
from launchready.secrets.baseline import read_accepted, write_baseline
from launchready.secrets.scan import Mode, scan_repository

SETTINGS = SecretsConfig()


def test_a_value_repeated_in_a_file_is_reported_on_every_line(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    text = f'PRIMARY = "{STRIPE_LIVE}"\nx = 1\nFALLBACK = "{STRIPE_LIVE}"\n'
    commit(repo, "twice", {"pay.py": text, "copy.py": text})
    tree = scan_repository(repo, Mode.TREE, SETTINGS)
    assert sorted(h.location for h in tree.hits) == ["copy.py:1", "copy.py:3", "pay.py:1", "pay.py:3"]
    history = scan_repository(repo, Mode.HISTORY, SETTINGS)
    assert sorted(h.location for h in history.hits) == ["copy.py:1", "copy.py:3", "pay.py:1", "pay.py:3"]


def test_baseline_never_accepts_a_new_commit_of_the_value_elsewhere(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"a.py": f'K = "{STRIPE_LIVE}"\n'})
    baseline = repo / ".launchready" / "secrets-baseline.json"
    write_baseline(baseline, scan_repository(repo, Mode.TREE, SETTINGS).hits)
    assert read_accepted(baseline) == {scan_repository(repo, Mode.TREE, SETTINGS).hits[0].fingerprint: {"a.py:1"}}
    # The accepted place stays accepted, in the tree and in history.
    assert scan_repository(repo, Mode.TREE, SETTINGS).new_hits == []
    assert scan_repository(repo, Mode.HISTORY, SETTINGS).new_hits == []
    # The same key committed to another file is new: the pre-commit scan blocks it.
    (repo / "b.py").write_text(f'K2 = "{STRIPE_LIVE}"\n')
    git(repo, "add", "b.py")
    staged = scan_repository(repo, Mode.STAGED, SETTINGS)
    assert [h.location for h in staged.new_hits] == ["b.py:1"]
    # ... and so is the key pasted on another line of the accepted file.
    git(repo, "reset", "-q", "b.py")
    (repo / "a.py").write_text(f'K = "{STRIPE_LIVE}"\nK_AGAIN = "{STRIPE_LIVE}"\n')
    git(repo, "add", "a.py")
    staged = scan_repository(repo, Mode.STAGED, SETTINGS)
    assert [h.location for h in staged.new_hits] == ["a.py:2"]
    # Rewriting the accepted line itself is the accepted finding at its place.
    (repo / "a.py").write_text(f'K = "{STRIPE_LIVE}"  # payments\n')
    git(repo, "add", "a.py")
    staged = scan_repository(repo, Mode.STAGED, SETTINGS)
    assert [h.location for h in staged.hits] == ["a.py:1"] and staged.new_hits == []


def test_hand_written_baseline_entry_without_a_location_accepts_the_value(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"a.py": f'K = "{GITHUB}"\n'})
    [hit] = scan_repository(repo, Mode.TREE, SETTINGS).hits
    baseline = repo / ".launchready" / "secrets-baseline.json"
    baseline.parent.mkdir()
    baseline.write_text('{"accepted": [{"fingerprint": "' + hit.fingerprint + '"}]}')
    assert scan_repository(repo, Mode.TREE, SETTINGS).new_hits == []


def test_staged_summary_counts_the_files_it_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"README.md": "# r\n"})
    (repo / "a.py").write_text(f'K = "{GITHUB}"\n')
    (repo / "b.py").write_text("x = 1\n")
    git(repo, "add", "a.py", "b.py")
    code, out, _ = run_cli(["secrets", "scan", str(repo), "--staged"], capsys)
    assert code == 1
    assert "1 secret(s) found in 2 file(s) (staged scan)" in out
    leaked = GITHUB in out  # not asserted on the value itself: a failure would print it
    assert not leaked


def test_history_judges_fragments_of_config_files_added_in_later_commits(tmp_path: Path) -> None:
    """A commit that adds one line to a YAML, JSON, INI or XML file shows only that line: still judged."""
    repo = init_repo(tmp_path / "r")
    commit(
        repo,
        "configs",
        {
            "config/database.yml": "production:\n  adapter: postgresql\n  database: shop\n",
            "config/app.json": '{\n  "db": {\n    "host": "db.internal"\n  }\n}\n',
            "config/app.ini": "[db]\nhost = db.internal\n",
            "conf/settings.xml": "<settings>\n  <servers>\n  </servers>\n</settings>\n",
        },
    )
    commit(
        repo,
        "credentials",
        {
            "config/database.yml": "production:\n  adapter: postgresql\n  database: shop\n  password: Prod2024x\n",
            "config/app.json": '{\n  "db": {\n    "host": "db.internal",\n    "password": "Json2024x"\n  }\n}\n',
            "config/app.ini": "[db]\nhost = db.internal\npassword = Ini2024x\n",
            "conf/settings.xml": "<settings>\n  <servers>\n    <password>Xml2024x</password>\n  </servers>\n</settings>\n",
        },
    )
    result = scan_repository(repo, Mode.HISTORY, SETTINGS)
    assert {(h.rule_id, h.location) for h in result.hits} == {
        ("config-credential", "config/database.yml:4"),
        ("config-credential", "config/app.json:4"),
        ("config-credential", "config/app.ini:3"),
        ("config-credential", "conf/settings.xml:3"),
    }


def test_history_line_numbers_hold_across_hunks_and_the_block_size_cap(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    filler = "".join(f"row_{i} = {i}  # {'x' * 60}\n" for i in range(20000))  # about 1.5 MB: cut in two blocks
    commit(repo, "big", {"data.py": filler + f'K = "{STRIPE_LIVE}"\n'})
    lines = filler.splitlines(keepends=True)
    lines.insert(10, f'EARLY = "{GITHUB}"\n')  # two hunks in the second commit
    lines.insert(15000, f'LATE = "{GITHUB}"\n')
    commit(repo, "more", {"data.py": "".join(lines) + f'K = "{STRIPE_LIVE}"\n'})
    result = scan_repository(repo, Mode.HISTORY, SETTINGS)
    assert sorted(h.location for h in result.hits) == ["data.py:11", "data.py:15001", "data.py:20001"]


def test_run_numbers() -> None:
    from launchready.secrets.diffscan import RunNumbers

    numbers = RunNumbers([(0, 10), (3, 50), (3, 70), (5, 90)], 7)
    assert list(numbers) == [10, 11, 12, 70, 71, 90, 91]
    assert len(numbers) == 7 and numbers[1:3] == [11, 12]
    with pytest.raises(IndexError):
        numbers[7]

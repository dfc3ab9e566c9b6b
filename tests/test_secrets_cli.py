"""`launchready secrets scan` / `install-hook` end to end; no output of any kind holds a planted secret in full."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from cliutil import run_cli
from secrets_corpus import AWS_ID, AWS_SECRET, GITHUB, SECRETS, STRIPE_LIVE, STRIPE_TEST
from secrets_util import GIT_ENV, commit, init_repo

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json"
PLANTED = [s.secret for s in SECRETS] + [STRIPE_TEST]


def assert_no_planted(text: str, planted: list[str] = PLANTED) -> None:
    for value in planted:
        for piece in value.split("\n"):  # a PEM body: no line of it either
            assert piece not in text, f"planted value {piece[:6]}... appears in full"


@pytest.fixture
def leaky_repo(tmp_path: Path) -> Path:
    """Every corpus secret committed, then some deleted again (history only)."""
    repo = init_repo(tmp_path / "leaky")
    files = {f"s{i}/{Path(s.path).name}": s.text for i, s in enumerate(SECRETS)}
    commit(repo, "everything", files)
    commit(repo, "remove half", {name: None for name in list(files)[::2]})
    return repo


@pytest.mark.parametrize("fmt", ["terminal", "json", "sarif", "md"])
@pytest.mark.parametrize("mode", ["tree", "history"])
def test_every_format_masks_every_planted_secret(
    fmt: str, mode: str, leaky_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--history"] if mode == "history" else []
    code, out, err = run_cli(["secrets", "scan", str(leaky_repo), "--format", fmt, *extra], capsys)
    assert code == 1, err
    assert_no_planted(out + err)
    if fmt == "json":
        report = json.loads(out)
        found = {f["rule"] for f in report["findings"]}
        expected = SECRETS if mode == "history" else SECRETS[1::2]  # the tree lost every other file
        assert {s.rule for s in expected} <= found
        assert all("…(" in f["secret"] for f in report["findings"])
    if fmt == "sarif":
        jsonschema.validate(json.loads(out), json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    if mode == "history" and fmt == "json":
        gone = [f for f in json.loads(out)["findings"] if f.get("in_head") is False]
        assert gone and all(f["first_commit"]["sha"] for f in gone)


def test_clean_tree_exits_zero_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = init_repo(tmp_path / "clean")
    commit(repo, "one", {"app.py": "import os\nKEY = os.environ['STRIPE_KEY']\n"})
    code, out, _ = run_cli(["secrets", "scan", str(repo)], capsys)
    assert code == 0 and "No new secrets" in out


def test_test_keys_are_reported_but_do_not_fail_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.py").write_text(f'K = "{STRIPE_TEST}"\n')
    code, out, _ = run_cli(["secrets", "scan", str(tmp_path)], capsys)
    assert code == 0 and "LOW" in out
    code, _, _ = run_cli(["secrets", "scan", str(tmp_path), "--fail-on", "low"], capsys)
    assert code == 1


def test_update_baseline_then_only_new_secrets_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"a.py": f'K = "{STRIPE_LIVE}"\n'})
    code, _, err = run_cli(["secrets", "scan", str(repo), "--update-baseline"], capsys)
    assert code == 0 and "1 finding(s) accepted" in err
    baseline = repo / ".launchready" / "secrets-baseline.json"
    assert_no_planted(baseline.read_text())
    assert run_cli(["secrets", "scan", str(repo)], capsys)[0] == 0
    (repo / "b.py").write_text(f'T = "{GITHUB}"\n')
    code, out, _ = run_cli(["secrets", "scan", str(repo)], capsys)
    assert code == 1 and "1 accepted by the baseline" in out


def test_logs_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    log = f"2025-01-01 INFO start\n2025-01-01 DEBUG stripe key {STRIPE_LIVE}\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(log)))
    code, out, _ = run_cli(["secrets", "scan", "--logs", "-", "--format", "json"], capsys)
    assert code == 1
    [finding] = json.loads(out)["findings"]
    assert finding["path"] == "<stdin>" and finding["line"] == 2
    assert_no_planted(out)


def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["secrets", "scan", str(tmp_path), "--history"], "not a git repository"),
        (["secrets", "scan", str(tmp_path), "--staged"], "not a git repository"),
        (["secrets", "scan", str(tmp_path / "missing")], "no such file or directory"),
        (["secrets", "scan", "--logs", str(tmp_path / "none.log")], "no such file"),
        (["secrets", "scan", "--staged", "--history"], "choose one of"),
    ]
    for args, message in cases:
        code, _, err = run_cli(args, capsys)
        assert code == 2, args
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_install_hook_refuses_a_commit_that_adds_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = init_repo(tmp_path / "r")
    commit(repo, "one", {"README.md": "# r\n"})
    code, out, _ = run_cli(["secrets", "install-hook", str(repo)], capsys)
    assert code == 0 and "pre-commit" in out
    (repo / "k.py").write_text(f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\nAWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n')
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run(["git", "add", "k.py"], cwd=repo, env=env, check=True)
    refused = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-m", "keys"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0
    assert "AWS secret access key" in refused.stdout + refused.stderr
    assert_no_planted(refused.stdout + refused.stderr, [AWS_SECRET])
    (repo / "k.py").write_text("import os\n")
    subprocess.run(["git", "add", "k.py"], cwd=repo, env=env, check=True)
    accepted = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-m", "env"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    # A hook of someone else's is not overwritten without --force.
    (repo / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    code, _, err = run_cli(["secrets", "install-hook", str(repo)], capsys)
    assert code == 2 and "already exists" in err


def test_pre_commit_framework_hook_definition() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "launchready-secrets"
    assert hook["entry"] == "launchready secrets scan --staged"
    assert hook["pass_filenames"] is False

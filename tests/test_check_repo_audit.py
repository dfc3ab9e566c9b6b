"""The audit scans the lab's app repository: findings in every report format and the history store,
with no planted secret in full anywhere; --no-git-history leaves history out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.lab.lab import Lab
from launchready.lab.repo import REPO_FAULTS

REPO_CHECKS = ["--only", "repo", "--only", "env"]


@pytest.fixture(scope="module")
def leaky_lab() -> Iterator[Lab]:
    with Lab(faults=sorted(REPO_FAULTS)) as lab:
        yield lab


def config_for(lab: Lab, directory: Path) -> Path:
    path = directory / "launchready.toml"
    path.write_text(lab.config_toml(), encoding="utf-8")
    return path


def test_audit_reports_every_repo_fault(leaky_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(leaky_lab, tmp_path)
    code, out, err = run_cli(
        [
            "audit",
            "-c",
            str(config),
            "--format",
            "json",
            "--quiet",
            "--no-history",
            *REPO_CHECKS,
            *leaky_lab.cli_args(),
        ],
        capsys,
    )
    report = json.loads(out)
    found = {(f["id"], f["target"]) for f in report["findings"]}
    planted = leaky_lab.app_repo.planted
    assert {
        ("repo.secrets.exposed", planted["repo-secret-in-tree"]),
        ("repo.secrets.in-history", planted["repo-secret-in-history"]),
        ("repo.env-files.tracked", planted["repo-env-committed"]),
        ("repo.env-files.not-ignored", ".gitignore:1"),
        ("repo.deploy-secrets.hardcoded", planted["repo-deploy-secret"]),
        ("env.contract.flow-variable-missing", planted["env-production-missing-var"]),
    } <= found
    assert report["decision"]["verdict"] == "PAUSE" and code == 1
    assert report["not_run"] == []


@pytest.mark.parametrize("fmt", ["terminal", "json", "md", "html", "sarif", "junit"])
def test_no_report_format_holds_a_planted_secret(
    fmt: str, leaky_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(leaky_lab, tmp_path)
    output = tmp_path / f"report.{fmt}"
    run_cli(
        [
            "audit",
            "-c",
            str(config),
            "--format",
            fmt,
            "-o",
            str(output),
            "--no-history",
            "--verbose",
            *REPO_CHECKS,
            *leaky_lab.cli_args(),
        ],
        capsys,
    )
    text = output.read_text(encoding="utf-8")
    assert "repo.secrets" in text
    for value in leaky_lab.app_repo.planted_values:
        assert value not in text


def test_history_store_holds_no_planted_secret(
    leaky_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(leaky_lab, tmp_path)
    run_cli(["audit", "-c", str(config), "--format", "json", "--quiet", *REPO_CHECKS, *leaky_lab.cli_args()], capsys)
    stores = list((tmp_path / ".launchready").glob("*"))
    assert stores, "the audit stored nothing"
    blob = b"".join(p.read_bytes() for p in stores if p.is_file())
    assert b"repo.secrets.exposed" in blob
    for value in leaky_lab.app_repo.planted_values:
        assert value.encode() not in blob


def test_no_git_history_skips_history(leaky_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(leaky_lab, tmp_path)
    _, out, _ = run_cli(
        [
            "audit",
            "-c",
            str(config),
            "--format",
            "json",
            "--quiet",
            "--no-history",
            "--no-git-history",
            "--only",
            "repo.secrets",
            *leaky_lab.cli_args(),
        ],
        capsys,
    )
    ids = {f["id"] for f in json.loads(out)["findings"]}
    assert ids == {"repo.secrets.exposed"}


def test_repo_option_wins_and_bad_config_repo_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text('domain = "example.test"\n[secrets]\nrepo = "no-such-dir"\n')
    code, _, err = run_cli(["audit", "-c", str(config), "--quiet", "--no-history"], capsys)
    assert code == 2 and "secrets.repo: no such directory" in err and len(err.strip().splitlines()) == 1

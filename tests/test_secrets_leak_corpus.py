"""The scanner against the labelled leak corpus: recall and false positives per class of file.

The figures are printed (run with -s) so a change that trades recall for noise shows in the test
output; the test fails when recall of any class drops under its floor or a line that holds no
credential is reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from secrets_leak_corpus import CLASSES, FILES, LeakFile
from secrets_util import commit, init_repo

from launchready.config.sections.secrets import SecretsConfig
from launchready.core.severity import Severity
from launchready.secrets.detector import Detector
from launchready.secrets.scan import Mode, scan_repository

# Every class is caught whole today; a rule change that loses a line fails here.
RECALL_FLOOR = 1.0


def reported_lines(leak: LeakFile) -> dict[int, list[Severity]]:
    out: dict[int, list[Severity]] = {}
    for m in Detector().scan(leak.text, leak.path):
        out.setdefault(m.line, []).append(Severity(m.severity_override or m.rule.severity.value))
    return out


def test_corpus_lines_are_inside_their_files() -> None:
    for leak in FILES:
        count = len(leak.text.splitlines())
        assert all(1 <= line <= count for line in leak.lines), leak.path


def test_recall_and_false_positives_per_class(capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[str] = []
    failures: list[str] = []
    for cls in CLASSES:
        files = [f for f in FILES if f.cls == cls]
        expected = sum(len(f.lines) for f in files)
        caught = 0
        false: list[str] = []
        for leak in files:
            found = reported_lines(leak)
            caught += len(leak.lines & found.keys())
            false += [f"{leak.path}:{line}" for line in sorted(found.keys() - leak.lines)]
            missed = sorted(leak.lines - found.keys())
            if missed:
                failures.append(f"{leak.path}: missed line(s) {missed}")
        recall = caught / expected if expected else 1.0
        rows.append(f"{cls:<16} recall {recall:6.1%} ({caught}/{expected})  false positives {len(false)}")
        if recall < RECALL_FLOOR:
            failures.append(f"{cls}: recall {recall:.1%} under {RECALL_FLOOR:.0%}")
        failures += [f"false positive at {where}" for where in false]
    with capsys.disabled():
        print("\nleak corpus:\n  " + "\n  ".join(rows))
    assert not failures, "\n".join(failures)


def test_fixture_credentials_are_low_and_committed_env_and_credential_files_blockers() -> None:
    for leak in FILES:
        found = reported_lines(leak)
        if leak.cls == "fixture":
            assert all(sev is Severity.LOW for sevs in found.values() for sev in sevs), leak.path
        if leak.path.endswith((".env", ".env.production", ".netrc", ".pgpass", ".git-credentials")):
            assert all(Severity.BLOCKER in found[line] for line in leak.lines), leak.path


def test_history_scan_reports_the_same_lines(tmp_path: Path) -> None:
    """The readers see an added file in a commit as they see it in the tree."""
    repo = init_repo(tmp_path / "r")
    commit(repo, "leaks", {leak.path: leak.text for leak in FILES})
    result = scan_repository(repo, Mode.HISTORY, SecretsConfig())
    got = {(h.path, h.line) for h in result.hits}
    want = {(leak.path, line) for leak in FILES for line in leak.lines}
    assert want <= got
    assert got - want == set()


@pytest.mark.parametrize("fmt", ["terminal", "json", "sarif", "md"])
def test_no_output_holds_a_corpus_credential_in_full(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cliutil import run_cli

    for leak in FILES:
        target = tmp_path / leak.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(leak.text, encoding="utf-8")
    values = {m.secret for leak in FILES for m in Detector().scan(leak.text, leak.path) if len(m.secret) >= 6}
    code, out, err = run_cli(["secrets", "scan", str(tmp_path), "--format", fmt], capsys)
    assert code == 1
    leaked = sum(1 for value in values if value in out + err)  # counted, never printed
    assert leaked == 0

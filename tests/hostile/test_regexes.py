"""Every pattern that reads hostile text is linear, and a hostile allowlist cannot hang the scan.

The fuzzing runs each pattern in a child process over long adversarial strings built from its own
literals (see regex_fuzz.py); a run that overruns its deadline names the pattern and the input.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.core import masking
from launchready.secrets import rules
from launchready.secrets.allowlist import build_allowlist, compile_regex
from launchready.secrets.errors import SecretsError

from .regex_fuzz import SIZE, adversarial_inputs, hangs


def _compiled_in(module: object) -> dict[str, re.Pattern[str]]:
    """Every compiled str pattern a module exposes: module-level ones and those inside its rules."""
    found: dict[str, re.Pattern[str]] = {}
    for name, value in vars(module).items():
        if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
            found[name] = value
    for rule in getattr(module, "RULES", ()):
        found[f"rule {rule.id}"] = rule.regex
        for index, extra in enumerate(rule.requires):
            found[f"rule {rule.id} requires[{index}]"] = extra
    return found


def test_masking_patterns_are_linear() -> None:
    patterns = _compiled_in(masking)
    assert len(patterns) >= 2
    assert hangs(patterns) == []


def test_every_secret_rule_is_linear() -> None:
    """Rules added later are covered too: the patterns are read from the rules module itself."""
    patterns = _compiled_in(rules)
    assert len(patterns) >= len(rules.RULES)
    # Each pattern's own literals (its keywords among them) seed its inputs.
    assert hangs(patterns) == []


def test_the_fuzzer_catches_a_quadratic_pattern() -> None:
    """The harness itself: the unbounded form the masking pattern had (minutes on 100 KB) is reported."""
    quadratic = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
    [hang] = hangs({"old url password": quadratic}, deadline=3)
    assert hang.name == "old url password"


def test_adversarial_inputs_are_long_and_built_from_the_pattern() -> None:
    texts = adversarial_inputs(r"sk_live_[0-9a-z]{20}")
    assert all(len(t) >= SIZE for t in texts)
    assert any(t.startswith("sk_live_sk_live_") for t in texts)


def test_masking_still_masks_after_the_bounds() -> None:
    assert masking.mask_credentials("postgres://app:hunter2hunter2@db/x") == "postgres://app:hunt…(14 chars)@db/x"
    assert "hunter2" not in masking.mask_credentials('{"db_password": "hunter2hunter2"}')
    assert "hunter2" not in masking.mask_credentials("x" * 50_000 + " api_key=hunter2hunter2")
    assert masking.mask_credentials("secret" * 20_000) == "secret" * 20_000


def test_the_detector_scans_a_repeated_keyword_file(tmp_path: Path) -> None:
    """120 KB of "secret" (and of every other keyword), end to end through `secrets scan`, in a child with a deadline."""
    for keyword in ("secret", "token", "twilio", "postmark", "password"):
        (tmp_path / f"{keyword}.txt").write_text(keyword * (120_000 // len(keyword)))
    done = subprocess.run(
        [sys.executable, "-m", "launchready", "secrets", "scan", "-f", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard, not a speed target: linear scanning takes well under a second
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["findings"] == []


@pytest.mark.parametrize(
    "pattern", [r"^(a+)+$", r"(a*)*b", r"(\w+\s?)+$", r"(a|aa)+$", r"^(([a-z])+.)+[A-Z]([a-z])+$", r"(x+x+)+y"]
)
def test_catastrophic_allowlist_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(SecretsError, match="exponential time"):
        compile_regex(pattern, ".launchready-allowlist:1")
    with pytest.raises(SecretsError, match=r"secrets.allow_regexes"):
        build_allowlist(regexes=[pattern], where="launchready.toml")


@pytest.mark.parametrize(
    "pattern",
    [r"^sk_test_", r"EXAMPLE[0-9A-F]{16}", r"(?>a+)+$", r"(a++)+$", r"(ab)+", r"x(a{1,3}){2}", "[a-z]+_(dev|test)_"],
)
def test_ordinary_allowlist_patterns_are_accepted(pattern: str) -> None:
    assert compile_regex(pattern, "f").pattern == pattern


@pytest.mark.parametrize("bad", ["(", "a{2,1}", "(?P<x>a)(?P<x>b)", "\\", "(" * 1000 + ")" * 1000])
def test_invalid_allowlist_patterns_are_one_line_errors(bad: str) -> None:
    with pytest.raises(SecretsError, match="invalid regex|exponential"):
        compile_regex(bad, "f:1")


def test_a_repository_allowlist_with_a_catastrophic_regex_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".launchready-allowlist").write_text("path: vendor/**\nregex: ^(a+)+$\n")
    (tmp_path / "app.py").write_text('API_TOKEN = "' + "a" * 40 + '!"\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["secrets", "scan"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("launchready: error: .launchready-allowlist:2: regex '^(a+)+$' has a repeat inside a repeat")

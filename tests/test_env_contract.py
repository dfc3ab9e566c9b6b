"""The environment contract: parsing exports, judging them, and `launchready env check` (names only)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.config.sections.secrets import EnvContract
from launchready.core.severity import Severity
from launchready.secrets.contract import Problem, evaluate, requirements
from launchready.secrets.envfile import is_placeholder, parse_env_text
from launchready.secrets.errors import SecretsError

SECRET_VALUE = "pm-" + "9f8e7d6c5b4a39281716"


def test_dotenv_and_export_lines() -> None:
    env = parse_env_text(
        "# comment\nexport A=1\nB = 'two words'\nC=\"quoted # not a comment\"\nD=plain # comment\nE=\nBARE\n", "f"
    )
    assert env.values == {"A": "1", "B": "two words", "C": "quoted # not a comment", "D": "plain", "E": "", "BARE": ""}
    with pytest.raises(SecretsError, match=r"^f:2: expected KEY=VALUE"):
        parse_env_text("A=1\n!!bad line\n", "f")


def test_quoted_value_then_inline_comment() -> None:
    assert parse_env_text("A=\"s\" # note\nB='t' # note\n", "f").values == {"A": "s", "B": "t"}


def test_multi_line_double_quoted_value_and_the_lines_after_it() -> None:
    env = parse_env_text('# key\nPEM="-----BEGIN KEY-----\nabc\n-----END KEY-----"\n\nNEXT=1\n', "f")
    assert env.values == {"PEM": "-----BEGIN KEY-----\nabc\n-----END KEY-----", "NEXT": "1"}
    assert env.lines == {"PEM": 2, "NEXT": 6}


def test_export_prefix_single_quotes_and_escapes() -> None:
    env = parse_env_text(
        "export A=1\nexport   B='lit\\nral'\nC='it\\'s'\nD=\"tab\\tnew\\nquote\\\"back\\\\\"\nE=${OTHER}\n", "f"
    )
    assert env.values == {
        "A": "1",
        "B": "lit\\nral",  # single quotes keep \n as the two characters
        "C": "it's",
        "D": 'tab\tnew\nquote"back\\',
        "E": "${OTHER}",  # never expanded: a reference is judged as written
    }


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        (f"A=1\n\nB {SECRET_VALUE}\n", 3, ""),
        (f'A=1\nB="{SECRET_VALUE}\nC=2\n', 2, ", but the quoted value is never closed"),
        (f"A=1\nB='{SECRET_VALUE}' {SECRET_VALUE}\n", 2, ""),
        (f"A=1\n{SECRET_VALUE[:2]}!={SECRET_VALUE}\n", 2, ""),
    ],
)
def test_malformed_line_is_named_never_echoed(text: str, line: int, hint: str) -> None:
    with pytest.raises(SecretsError) as raised:
        parse_env_text(text, "prod.env")
    message = str(raised.value)
    assert message == f"prod.env:{line}: expected KEY=VALUE{hint}"
    assert SECRET_VALUE[:6] not in message and "\n" not in message


@pytest.mark.parametrize(
    "value", ["", "changeme", "<your key>", "xxx", "TODO", "your-api-key", "${STRIPE_KEY}", "replace_me_later"]
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["sk_live_abc123def456", "postgres://u:p@h/db", "no-reply@example.com", "production"])
def test_real_values(value: str) -> None:
    assert not is_placeholder(value)


def contract(tmp_path: Path) -> EnvContract:
    (tmp_path / ".env.example").write_text("DATABASE_URL=\nPOSTMARK_TOKEN=pm-your-token\nAPP_NAME=Market\nDEBUG=\n")
    return EnvContract(
        example=".env.example",
        optional=("DEBUG",),
        required={"production": ("SENTRY_DSN",)},
        flows={"signup": ("DATABASE_URL",), "email": ("POSTMARK_TOKEN",)},
    )


def test_missing_flow_variable_in_production_is_a_blocker(tmp_path: Path) -> None:
    needs = requirements(contract(tmp_path), "production", tmp_path)
    assert set(needs.names) == {"DATABASE_URL", "POSTMARK_TOKEN", "APP_NAME", "SENTRY_DSN"}
    have = parse_env_text("DATABASE_URL=postgres://x\nAPP_NAME=Market\nSENTRY_DSN=\n", "prod")
    issues = {(i.problem, i.name): i for i in evaluate("production", have, needs)}
    assert set(issues) == {
        (Problem.MISSING, "POSTMARK_TOKEN"),
        (Problem.EMPTY, "SENTRY_DSN"),
        (Problem.PLACEHOLDER, "APP_NAME"),
    }
    assert issues[(Problem.MISSING, "POSTMARK_TOKEN")].severity is Severity.BLOCKER
    assert issues[(Problem.MISSING, "POSTMARK_TOKEN")].flows == ("email",)
    assert issues[(Problem.EMPTY, "SENTRY_DSN")].severity is Severity.HIGH
    # APP_NAME equals the .env.example value: a copy of the template, not a decision.
    assert issues[(Problem.PLACEHOLDER, "APP_NAME")].severity is Severity.HIGH


def test_staging_is_medium_and_drift_is_reported(tmp_path: Path) -> None:
    needs = requirements(contract(tmp_path), "staging", tmp_path)
    have = parse_env_text("DATABASE_URL=postgres://s\nPOSTMARK_TOKEN=real\nAPP_NAME=Market staging\n", "staging")
    production = parse_env_text("DATABASE_URL=x\nPOSTMARK_TOKEN=y\nAPP_NAME=z\nFEATURE_FLAGS_KEY=q\n", "prod")
    issues = evaluate("staging", have, needs, {"production": production})
    assert [(i.problem, i.name, i.severity) for i in issues] == [(Problem.DRIFT, "FEATURE_FLAGS_KEY", Severity.MEDIUM)]


def write_project(tmp_path: Path) -> Path:
    (tmp_path / ".env.example").write_text("DATABASE_URL=\nPOSTMARK_TOKEN=\n")
    (tmp_path / "launchready.toml").write_text(
        '[secrets.env]\nexample = ".env.example"\n[secrets.env.flows]\nemail = ["POSTMARK_TOKEN"]\n'
    )
    return tmp_path / "launchready.toml"


def test_env_check_from_file_prints_names_never_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    (tmp_path / "prod.env").write_text(f"DATABASE_URL=postgres://u:{SECRET_VALUE}@db/x\n")
    code, out, err = run_cli(
        ["env", "check", "--env", "production", "--from", str(tmp_path / "prod.env"), "-c", str(config)], capsys
    )
    assert code == 1, err
    assert "BLOCKER" in out and "POSTMARK_TOKEN is not set" in out
    assert SECRET_VALUE not in out + err
    (tmp_path / "prod.env").write_text(
        f"DATABASE_URL=postgres://u:{SECRET_VALUE}@db/x\nPOSTMARK_TOKEN={SECRET_VALUE}\n"
    )
    code, out, _ = run_cli(["env", "check", "--from", str(tmp_path / "prod.env"), "-c", str(config), "--json"], capsys)
    assert code == 0 and json.loads(out)["issues"] == []
    assert SECRET_VALUE not in out


def test_env_check_from_stdin_and_process_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_project(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"export DATABASE_URL={SECRET_VALUE}\nPOSTMARK_TOKEN=changeme\n"))
    code, out, _ = run_cli(["env", "check", "--from", "-", "-c", str(config)], capsys)
    assert code == 1 and "POSTMARK_TOKEN holds a placeholder" in out and SECRET_VALUE not in out
    monkeypatch.setenv("DATABASE_URL", SECRET_VALUE)
    monkeypatch.setenv("POSTMARK_TOKEN", SECRET_VALUE)
    code, out, _ = run_cli(["env", "check", "--from", "env", "-c", str(config)], capsys)
    assert code == 0 and "all 2 required variable(s) are set" in out and SECRET_VALUE not in out


def test_env_check_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    code, _, err = run_cli(["env", "check", "--from", str(tmp_path / "nope.env"), "-c", str(config)], capsys)
    assert code == 2 and "nope.env: no such file" in err
    code, _, err = run_cli(["env", "check", "-c", str(config)], capsys)
    assert code == 2 and "no --from given" in err
    (tmp_path / "bad.env").write_text("A=1\n%%%\n")
    code, _, err = run_cli(["env", "check", "--from", str(tmp_path / "bad.env"), "-c", str(config)], capsys)
    assert code == 2 and "bad.env:2: expected KEY=VALUE" in err
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    code, _, err = run_cli(["env", "check", "--from", str(tmp_path / "bad.env"), "-c", str(empty)], capsys)
    assert code == 2

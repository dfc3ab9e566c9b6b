"""The environment contract: parsing exports, judging them, and `launchready env check` (names only)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.config.sections.secrets import EnvContract
from launchready.core.severity import Impact, Severity
from launchready.secrets.contract import Problem, evaluate, read_source, requirements
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


# -- across environments ----------------------------------------------------------------------------

STAGING_DB = "postgres://app:" + "st4ging-pass-1234" + "@db.internal:5432/app_staging"
PROD_DB = "postgres://app:" + "pr0d-pass-98765" + "@db.internal:5432/app"
SHARED_SECRET = "sess-" + "0a1b2c3d4e5f60718293"


def across_contract() -> EnvContract:
    return EnvContract(
        required={"production": ("DATABASE_URL", "STRIPE_SECRET_KEY"), "staging": ("DATABASE_URL",)},
        flows={"payments": ("STRIPE_SECRET_KEY",)},
    )


def test_quoted_empty_or_placeholder_with_a_comment_is_caught(tmp_path: Path) -> None:
    contract = EnvContract(required={"production": ("SESSION_SECRET", "API_TOKEN")})
    have = parse_env_text('SESSION_SECRET="" # set me\nAPI_TOKEN="xxx" # todo\n', "prod.env")
    issues = {(i.problem, i.name) for i in evaluate("production", have, requirements(contract, "production", None))}
    assert issues == {(Problem.EMPTY, "SESSION_SECRET"), (Problem.PLACEHOLDER, "API_TOKEN")}


def test_test_and_sandbox_credentials_in_production() -> None:
    needs = requirements(across_contract(), "production", None)
    have = parse_env_text(
        f"DATABASE_URL={PROD_DB}\nSTRIPE_SECRET_KEY=sk_test_{'4eC39HqLyjWDarjtT1zdp7dc'}\n"
        "STRIPE_PUBLISHABLE_KEY=pk_test_TYooMQauvdEDq54NiTphI7jx\nPAYPAL_MODE=sandbox\n"
        "PAYPAL_API_BASE=https://api-m.sandbox.paypal.com\nTWILIO_FROM_NUMBER=+15005550006\n"
        "BRAINTREE_ENVIRONMENT=sandbox\nAPP_MODE=sandbox\n",
        "prod.env",
    )
    found = {i.name: i for i in evaluate("production", have, needs) if i.problem is Problem.TEST_KEY}
    assert set(found) == {
        "STRIPE_SECRET_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "PAYPAL_MODE",
        "PAYPAL_API_BASE",
        "TWILIO_FROM_NUMBER",
        "BRAINTREE_ENVIRONMENT",
    }
    # A flow's payment key in test mode blocks the launch; the others are high.
    assert found["STRIPE_SECRET_KEY"].severity is Severity.BLOCKER
    assert found["STRIPE_SECRET_KEY"].detail.startswith(
        "STRIPE_SECRET_KEY holds a Stripe test-mode key (sk_test_…) in production"
    )
    assert found["PAYPAL_MODE"].severity is Severity.HIGH
    assert found["PAYPAL_MODE"].impact is Impact.PAYMENTS and found["TWILIO_FROM_NUMBER"].impact is Impact.SIGNUP
    # The same test keys in staging are what staging is for.
    staging = requirements(across_contract(), "staging", None)
    assert not [i for i in evaluate("staging", have, staging) if i.problem is Problem.TEST_KEY]


def test_values_shared_between_production_and_staging_either_way() -> None:
    production = parse_env_text(
        f"DATABASE_URL={PROD_DB}\nSESSION_SECRET={SHARED_SECRET}\nLOG_LEVEL=info\nSTRIPE_SECRET_KEY=sk_live_x\n",
        "prod.env",
    )
    staging = parse_env_text(
        f"DATABASE_URL={STAGING_DB}\nSESSION_SECRET={SHARED_SECRET}\nLOG_LEVEL=info\n", "staging.env"
    )
    needs = requirements(across_contract(), "staging", None)
    issues = evaluate("staging", staging, needs, {"production": production})
    # The payments flow needs the Stripe key everywhere; staging lacks it.
    assert [(i.problem, i.name) for i in issues if i.problem is not Problem.SHARED] == [
        (Problem.MISSING, "STRIPE_SECRET_KEY")
    ]
    shared = {i.name: i for i in issues if i.problem is Problem.SHARED}
    assert set(shared) == {"DATABASE_URL", "SESSION_SECRET"}  # LOG_LEVEL=info is not a secret
    assert shared["DATABASE_URL"].problem is Problem.SHARED and shared["DATABASE_URL"].severity is Severity.HIGH
    assert shared["DATABASE_URL"].detail == (
        "staging reuses production's DATABASE_URL host: staging and production share one data store"
    )
    assert shared["SESSION_SECRET"].detail.startswith("staging reuses production's SESSION_SECRET (the same value)")
    # Seen from production: staging's values in production.
    needs = requirements(across_contract(), "production", None)
    prod_issues = [
        i for i in evaluate("production", production, needs, {"staging": staging}) if i.problem is Problem.SHARED
    ]
    assert {i.name for i in prod_issues} == {"DATABASE_URL", "SESSION_SECRET"}
    assert all(i.detail.startswith("production uses staging's") for i in prod_issues)
    # A production value pointing at a staging host, with no staging file to compare.
    pointed = parse_env_text("DATABASE_URL=postgres://app:pw@staging-db.example.com/app\n", "prod.env")
    [issue] = [i for i in evaluate("production", pointed, needs) if i.problem is Problem.SHARED]
    assert issue.detail == "DATABASE_URL points at a staging host in production"
    for issue in prod_issues + list(shared.values()):
        assert SHARED_SECRET not in issue.detail and "pr0d-pass" not in issue.detail


def test_duplicate_keys_are_reported_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "prod.env"
    path.write_text(f"A=1\nSESSION_SECRET={SHARED_SECRET}\n\nSESSION_SECRET=other-value-123\n", encoding="utf-8")
    source = read_source(path)
    assert source.duplicates == {"SESSION_SECRET": (2, 4)}
    needs = requirements(EnvContract(required={"production": ("A",)}), "production", None)
    [issue] = evaluate("production", source.env, needs, None, source.duplicates)
    assert issue.problem is Problem.DUPLICATE
    assert issue.detail == f"SESSION_SECRET is set 2 times in {path} (lines 2, 4); the last one wins"


def write_sources_project(tmp_path: Path) -> Path:
    (tmp_path / "broken.env").write_text("A=1\n%%% not a line\n")
    (tmp_path / "launchready.toml").write_text(
        '[secrets.env.required]\nproduction = ["DATABASE_URL", "TLS_KEY"]\nstaging = ["DATABASE_URL"]\n'
        '[secrets.env.sources]\nproduction = "broken.env"\nstaging = "broken.env"\n'
    )
    return tmp_path / "launchready.toml"


def test_env_check_reads_only_the_files_asked_for_and_multi_line_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_sources_project(tmp_path)
    (tmp_path / "prod.env").write_text(
        f'DATABASE_URL={PROD_DB}\nTLS_KEY="-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----"\n'
    )
    (tmp_path / "staging.env").write_text(f"DATABASE_URL={STAGING_DB}\n")
    args = ["env", "check", "-c", str(config), "--from", str(tmp_path / "prod.env")]
    code, out, err = run_cli([*args, "--compare", f"staging={tmp_path / 'staging.env'}"], capsys)
    assert code == 1, err  # the shared database host, not the broken file nobody asked for
    assert "HIGH     shared      production uses staging's DATABASE_URL host" in out
    assert "broken.env" not in out + err and "MIIEvQ" not in out and "pr0d-pass" not in out
    # Without --compare the configured sources are the comparison, and a broken one is named.
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "broken.env:2: expected KEY=VALUE" in err


def test_env_check_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_sources_project(tmp_path)
    (tmp_path / "prod.env").write_text(f"DATABASE_URL={PROD_DB}\nTLS_KEY=sk_test_abcdefghijklmnop\n")
    (tmp_path / "staging.env").write_text(f"DATABASE_URL={STAGING_DB}\n")
    args = ["env", "check", "-c", str(config), "--from", str(tmp_path / "prod.env")]
    args += ["--compare", f"staging={tmp_path / 'staging.env'}"]
    code, out, _ = run_cli([*args, "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 1 and {i["problem"] for i in data["issues"]} == {"shared", "test-key"}
    code, out, err = run_cli([*args, "--json"], capsys)
    assert json.loads(out) == data and "--json is deprecated; use --format json" in err
    code, out, _ = run_cli([*args, "--format", "md"], capsys)
    assert code == 1 and out.startswith("# Environment contract: production")
    assert "| HIGH | test-key | `TLS_KEY` |" in out and "compared with: staging" in out
    assert "pr0d-pass" not in out and "abcdefghijklmnop" not in out
    code, _, err = run_cli([*args, "--json", "--format", "md"], capsys)
    assert code == 2 and "--json and --format md" in err

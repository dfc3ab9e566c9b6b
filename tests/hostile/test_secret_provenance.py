"""Secrets are masked by where they came from (an env file, a var marked secret), not by their key's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.secrets.contract import Requirements, evaluate
from launchready.secrets.envfile import parse_env_text

PASTED = "sk_live_51HxYzAbCdEf1234567890"


@pytest.fixture
def contract_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env.example").write_text("API_KEY=\nDATABASE_URL=\n")
    (tmp_path / "launchready.toml").write_text('[secrets.env]\nexample = ".env.example"\n')
    (tmp_path / "ok.env").write_text("API_KEY=abcdefghijklmnop123456\nDATABASE_URL=postgres://db.prod/x\n")
    # A secret pasted on a line of its own: the dotenv parser reads it as a name with no value.
    (tmp_path / "s.env").write_text(f"API_KEY=zzzzyyyyxxxx987654321\n{PASTED}\nDATABASE_URL=postgres://db.stg/x\n")
    return tmp_path


@pytest.mark.parametrize("fmt", ["terminal", "md", "json"])
def test_env_check_masks_a_bare_line_of_a_compared_file(
    fmt: str, contract_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["env", "check", "--from", "ok.env", "--compare", "staging=s.env", "-f", fmt], capsys)
    assert "drift" in out, (code, out, err)
    assert PASTED not in out and PASTED not in err
    assert "sk_l" in out and "30 chars" in out


def test_a_bare_line_is_masked_unless_the_contract_declares_the_name() -> None:
    have = parse_env_text("API_KEY=abcdefghijklmnop\nFEATURE_FLAG\n", "prod.env")
    other = parse_env_text(f"API_KEY=zzzzzzzzzzzzzzzz\n{PASTED}\n", "staging.env")
    needs = Requirements(names={"API_KEY": "required", "FEATURE_FLAG": "required"}, flows={}, example=None)
    issues = evaluate("production", have, needs, {"staging": other})
    by_problem = {i.problem.value: i for i in issues}
    # Declared by the contract: a name, shown (set but empty).
    assert by_problem["empty"].name == "FEATURE_FLAG" and "FEATURE_FLAG is set but empty" in by_problem["empty"].detail
    # Not declared, alone on its line in a file of values: masked wherever the issue names it.
    drift = by_problem["drift"]
    assert drift.name == "sk_l…(30 chars)" and drift.detail == "sk_l…(30 chars) is set in staging but not in production"

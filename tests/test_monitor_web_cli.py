"""`launchready monitor user add` and `launchready monitor token add`, then using what they made."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from launchready.monitor.store.engine import open_store
from launchready.monitor.store.schema import api_tokens, users
from launchready.monitor.web import WebSettings, create_app
from tests.cliutil import run_cli
from tests.monitor_web_support import Browser, serve


def test_user_and_token_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path}/monitor.sqlite"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    code, out, err = run_cli(["monitor", "user", "add", "ada", "--store", store, "--password-stdin"], capsys)
    assert (code, err) == (0, "") and out.strip() == "added user ada"
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    code, out, _ = run_cli(["monitor", "user", "add", "ada", "--store", store, "--password-stdin"], capsys)
    assert code == 0 and out.strip() == "changed the password of user ada"

    code, out, err = run_cli(["monitor", "token", "add", "ci", "--store", store], capsys)
    assert code == 0 and err == ""
    token = out.split()[-1]
    assert token.startswith("lrm_") and len(token) > 40
    code, _, err = run_cli(["monitor", "token", "add", "ci", "--store", store], capsys)
    assert code == 2 and "token ci: a token with this name exists already" in err

    engine = open_store(store)
    try:
        with engine.connect() as conn:
            stored_hash = conn.execute(select(users.c.password_hash)).scalar_one()
            assert stored_hash.startswith("$argon2id$") and "another" not in stored_hash
            assert token not in conn.execute(select(api_tokens.c.token_hash)).scalar_one()
        with serve(create_app(engine, WebSettings())) as app:
            browser = Browser(app)
            assert browser.get("/api/v1/checks", headers={"Authorization": f"Bearer {token}"}).status == 200
            page = browser.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            form = {"csrf_token": csrf.group(1), "username": "ada", "password": "another long password"}
            assert browser.post("/login", form=form).status == 303
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["monitor", "user", "add", "ada", "--password-stdin"], "short\n", "at least 8 characters"),
        (["monitor", "user", "add", "ada", "--password-stdin"], "\n", "no password given"),
        (["monitor", "user", "add", "two words", "--password-stdin"], "a long enough password\n", "without spaces"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    stdin: str,
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code, out, err = run_cli([*args, "--store", f"sqlite:///{tmp_path}/m.sqlite"], capsys)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_unreachable_store_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The store creates missing folders, so a file where a folder should be is what cannot be opened.
    (tmp_path / "a-file").write_text("")
    code, _, err = run_cli(
        ["monitor", "token", "add", "ci", "--store", f"sqlite:///{tmp_path}/a-file/m.sqlite"], capsys
    )
    assert code == 2 and "store sqlite:///" in err and "cannot" in err and len(err.strip().splitlines()) == 1

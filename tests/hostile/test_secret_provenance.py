"""Secrets are masked by where they came from (an env file, a var marked secret), not by their key's name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class _Refuses(BaseHTTPRequestHandler):
    """Answers every request with 500, so the smoke report prints the request it sent."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(500)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"fail")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


PIN = "4711-9931"
# Neither name is a credential keyword: only secret_vars marks them.
PIN_FLOW = f"""
vars:
  account: acct-000123
secret_vars: [account]
flows:
  checkout:
    vars:
      pin: "{PIN}"
    secret_vars: [pin]
    steps:
      - name: pay
        request:
          method: POST
          url: /pay?account=${{account}}
          json: {{pin: "${{pin}}", note: plain words}}
        expect:
          status: 200
"""


def _smoke_config(tmp_path: Path, port: int, flows: str) -> Path:
    (tmp_path / "flows.yaml").write_text(flows, encoding="utf-8")
    config = tmp_path / "launchready.toml"
    config.write_text(
        'domain = "example.test"\n[environments]\n'
        f'production = {{ base_url = "http://127.0.0.1:{port}" }}\n[smoke]\nfiles = ["flows.yaml"]\n',
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("fmt", ["terminal", "json", "md", "junit"])
def test_smoke_masks_vars_marked_secret_whatever_their_name(
    fmt: str, failing_server: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _smoke_config(tmp_path, failing_server, PIN_FLOW)
    code, out, err = run_cli(["smoke", "-c", str(config), "--format", fmt, "-q"], capsys)
    assert code == 1, (out, err)
    assert "plain words" in out  # the request detail is in the report
    assert PIN not in out and PIN not in err
    assert "acct-000123" not in out and "acct-000123" not in err
    assert "4711…(9 chars)" in out


def test_secret_vars_naming_no_var_is_a_flow_error(
    failing_server: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _smoke_config(tmp_path, failing_server, PIN_FLOW.replace("secret_vars: [pin]", "secret_vars: [pni]"))
    code, _, err = run_cli(["smoke", "-c", str(config), "-q"], capsys)
    assert code == 2 and "secret_vars: 'pni' is not defined under vars: in flow 'checkout'" in err, err

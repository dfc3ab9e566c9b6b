"""Hostile files: deep nesting, alias bombs, control characters, devices and one-line giants.

Each is a one-line error naming the file (exit 2 through the CLI), or is read within the 8 MB
input limit; none is a traceback, a hang or a MemoryError.
"""

from __future__ import annotations

import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.config.errors import ConfigError
from launchready.config.loader import load_config
from launchready.core.limits import MAX_INPUT_BYTES, InputTooLarge, bounded_lines, read_limited
from launchready.secrets.detector import Detector
from launchready.secrets.envfile import read_env_file
from launchready.secrets.errors import SecretsError
from launchready.secrets.history import scan_history
from launchready.secrets.logs import scan_log_stream
from launchready.smoke.errors import SmokeError
from launchready.smoke.loader import load_flow_files

SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc9eC39HqLyjWD"

DEEP_TOML = {
    "arrays": "x = " + "[" * 500 + "]" * 500 + "\n",
    "inline tables": "x = " + "{a = " * 500 + "1" + "}" * 500 + "\n",
    "mixed": "x = " + "[{a = " * 300 + "1" + "}]" * 300 + "\n",
}


@pytest.mark.parametrize("name", sorted(DEEP_TOML))
def test_deeply_nested_toml_is_a_config_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "launchready.toml"
    path.write_text('domain = "shop.test"\n' + DEEP_TOML[name])
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)


def test_a_deep_pyproject_on_the_search_path_is_not_a_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.x]\ny = " + "[" * 600 + "]" * 600 + "\n")
    (tmp_path / "app.py").write_text("print('hello')\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["secrets", "scan"], capsys)
    assert code == 0 and "Traceback" not in err
    # Naming our table makes it ours: then its depth is the error.
    (tmp_path / "pyproject.toml").write_text("[tool.launchready]\ny = " + "[" * 600 + "]" * 600 + "\n")
    code, out, err = run_cli(["secrets", "scan"], capsys)
    assert code == 2 and err.count("\n") == 1 and "nested too deeply" in err


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["audit", "-c", "/dev/zero"], "/dev/zero: cannot read: a device, not a file"),
        (["secrets", "scan", "-c", "/dev/zero"], "/dev/zero: cannot read: a device, not a file"),
        (["secrets", "scan", "--logs", "/dev/zero"], "--logs /dev/zero: a device, not a file"),
        (["env", "check", "--env", "production", "--from", "/dev/zero"], "/dev/zero: a device, not a file"),
        (["audit", "-c", "big.toml"], "big.toml: cannot read: larger than 8 MB"),
        (["env", "check", "--env", "production", "--from", "big.env"], "big.env: larger than 8 MB"),
    ],
)
def test_devices_and_giant_files_are_one_line_errors(
    args: list[str], starts: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.toml").write_bytes(b"# " + b"x" * (MAX_INPUT_BYTES + 10) + b"\n")
    (tmp_path / "big.env").write_bytes(b"A=" + b"x" * (MAX_INPUT_BYTES + 10) + b"\n")
    code, out, err = run_cli(args, capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith(f"launchready: error: {starts}"), err


def test_env_file_setting_pointing_at_a_device(tmp_path: Path) -> None:
    with pytest.raises(SecretsError, match="a device, not a file"):
        read_env_file(Path("/dev/zero"))
    (tmp_path / "small.env").write_text(f"STRIPE_KEY={SECRET}\n")
    assert read_env_file(tmp_path / "small.env").values["STRIPE_KEY"] == SECRET


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


HOSTILE_FLOWS = {
    "billion laughs": (_bomb(9), "alias bomb"),
    "recursive alias": ("flows: &f\n  loop: [*f]\n", "recursive alias"),
    "recursive merge": ("base: &b\n  <<: *b\nflows: {}\n", None),
    "deep sequence": ("flows: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    "deep mapping": ("flows:" + "".join(f"\n{'  ' * (i + 1)}k{i}:" for i in range(100)) + " 1\n", "nested more than"),
    "NUL": ("flows:\n  signup:\n    steps: []\x00\n", "#x0000"),
    "escape sequence": ("flows:\n  \x1b]0;pwned\x07: {}\n", "#x001b"),
    "binary tag": ("flows: !!binary aGVsbG8=\n", "!!binary values are not supported"),
    "binary JSON body": (
        "flows:\n  a:\n    steps:\n      - request:\n          method: POST\n          url: /x\n"
        "          json: !!binary aGVsbG8=\n",
        "flows.yaml:7: !!binary values are not supported",
    ),
    "python tag": ("flows: !!python/object/apply:os.system ['true']\n", None),  # inert: a plain list
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FLOWS))
def test_hostile_flow_files_are_one_line_errors(tmp_path: Path, name: str) -> None:
    text, expected = HOSTILE_FLOWS[name]
    path = tmp_path / "flows.yaml"
    path.write_text(text)
    with pytest.raises(SmokeError) as caught:
        load_flow_files([path])
    message = str(caught.value)
    assert "\n" not in message and path.name in message
    if expected is not None:
        assert expected in message


def test_a_flow_file_that_is_a_device(tmp_path: Path) -> None:
    with pytest.raises(SmokeError, match="a device, not a file"):
        load_flow_files([Path("/dev/zero")])


class _EndlessZeros:
    """A pipe that never ends and has no newline (what `cat /dev/zero |` gives)."""

    def __init__(self) -> None:
        self.read = 0

    def readline(self, size: int = -1) -> bytes:
        assert size > 0, "an unbounded readline would hold the whole line"
        self.read += size
        return b"\0" * size


def test_bounded_lines_gives_up_on_an_endless_line() -> None:
    zeros = _EndlessZeros()
    with pytest.raises(InputTooLarge, match="line 1 is longer than"):
        list(bounded_lines(zeros, limit=1024, give_up=64 * 1024))  # type: ignore[arg-type]
    assert zeros.read < 2 * 1024 * 1024


def test_read_limited_refuses_devices_and_giants(tmp_path: Path) -> None:
    with pytest.raises(InputTooLarge, match="device"):
        read_limited(Path("/dev/zero"))
    (tmp_path / "x").write_bytes(b"x" * 101)
    with pytest.raises(InputTooLarge, match="larger than 100 bytes"):
        read_limited(tmp_path / "x", limit=100)
    assert read_limited(tmp_path / "x", limit=101) == b"x" * 101


@pytest.fixture
def one_line_giant(tmp_path: Path) -> Iterator[Path]:
    """40 MB on one line, a live key at its start and another on the next line."""
    path = tmp_path / "giant.log"
    with path.open("wb") as fh:
        fh.write(f'key="{SECRET}" '.encode())
        chunk = b"x" * (1024 * 1024)
        for _ in range(40):
            fh.write(chunk)
        fh.write(f'\nother="{SECRET[:-4]}ZZZZ"\n'.encode())
    yield path


def test_a_one_line_giant_log_is_streamed(one_line_giant: Path) -> None:
    tracemalloc.start()
    try:
        with one_line_giant.open("rb") as fh:
            result = scan_log_stream(fh, str(one_line_giant), Detector())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.hits) == 2  # the key before the cut and the one on the next line
    assert any("longer than 8 MB" in note.reason for note in result.notes)
    assert peak < 6 * MAX_INPUT_BYTES  # the 40 MB line is never held whole


def test_a_one_line_giant_in_git_history_is_streamed(one_line_giant: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.test")
    git("config", "user.name", "t")
    (repo / "giant.txt").write_bytes(one_line_giant.read_bytes())
    git("add", "giant.txt")
    git("commit", "-qm", "giant")
    (repo / "giant.txt").unlink()
    git("commit", "-qam", "remove")
    tracemalloc.start()
    try:
        result = scan_history(repo, Detector())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {hit.path for hit in result.hits} == {"giant.txt"}
    assert peak < 6 * MAX_INPUT_BYTES
    # The cut is said, naming the file, its line and the commit that added it.
    [note] = [n for n in result.notes if "longer than 8 MB" in n.reason]
    assert note.path == "giant.txt:1"
    assert note.reason.startswith("commit ") and "bytes after that not scanned" in note.reason


def test_a_smoke_response_of_deeply_nested_json_fails_the_step(tmp_path: Path) -> None:
    import asyncio

    from launchready.config.model import Config
    from launchready.core.net import NetSettings
    from launchready.smoke.plan import execute, plan_smoke

    from .rawserver import RawServer, response

    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "flows:\n  a:\n    steps:\n      - request: GET /api\n        expect:\n          json:\n            $.ok: true\n"
    )
    body = b"[" * 200_000 + b"]" * 200_000

    async def main() -> object:
        async with RawServer({"/api": response(200, body, ctype="application/json")}) as server:
            config = Config.model_validate(
                {
                    "environments": {"production": {"base_url": f"http://127.0.0.1:{server.port}"}},
                    "smoke": {"files": [str(flows)]},
                }
            )
            plan = plan_smoke(config, "production", environ={})
            return await execute(plan, NetSettings(timeout=5))

    run = asyncio.run(main())
    [flow] = run.flows  # type: ignore[attr-defined]
    assert not flow.passed
    failures = " ".join(step.failure or "" for step in flow.steps)
    assert "nested too deeply" in failures


def test_a_deeply_nested_secrets_baseline_is_a_one_line_error(tmp_path: Path) -> None:
    from launchready.secrets.baseline import read_baseline

    path = tmp_path / "baseline.json"
    path.write_text('{"accepted": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(SecretsError, match="nested too deeply"):
        read_baseline(path)
